package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/google/go-cmp/cmp"
)

// gitRepo is a repository made with the git CLI, commits dated by a clock
// the test moves.
type gitRepo struct {
	t    *testing.T
	root string
	when int64
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	g := &gitRepo{t: t, root: filepath.Join(dir, "repo"), when: 1700000000}
	if err := os.MkdirAll(g.root, 0o755); err != nil {
		t.Fatal(err)
	}
	g.run("init", "-q", "-b", "main")
	return g
}

func (g *gitRepo) run(args ...string) string {
	g.t.Helper()
	return g.runIn("", args...)
}

func (g *gitRepo) runIn(stdin string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Dir = g.root
	date := fmt.Sprintf("@%d +0000", g.when)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dana", "GIT_AUTHOR_EMAIL=d@example.com",
		"GIT_COMMITTER_NAME=Dana", "GIT_COMMITTER_EMAIL=d@example.com",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (g *gitRepo) commit(message string) string {
	g.t.Helper()
	g.when += 60
	g.run("commit", "-q", "--allow-empty", "-m", message)
	return g.run("rev-parse", "HEAD")
}

func (g *gitRepo) open() *gitrepo.Repo {
	g.t.Helper()
	repo, err := gitrepo.Open(g.root)
	if err != nil {
		g.t.Fatal(err)
	}
	return repo
}

// check compares the holds at HEAD, as kept in the state file, with a
// walk of all of history, checks that the state file is then at HEAD, and
// says how the holds were found.
func (g *gitRepo) check(ctx context.Context, repo *gitrepo.Repo, head, what string) string {
	g.t.Helper()
	s, how, err := headHolds(ctx, repo)
	if err != nil {
		g.t.Fatalf("%s: HeldAt: %v", what, err)
	}
	got := s.held()
	want, err := walkHolds(ctx, repo, "HEAD")
	if err != nil {
		g.t.Fatalf("%s: walk: %v", what, err)
	}
	if diff := cmp.Diff(want.held(), got); diff != "" {
		g.t.Fatalf("%s: holds from the state file differ from a walk (-walk +state):\n%s", what, diff)
	}
	st, err := readState(filepath.Join(repo.GitDir, StateFile))
	if err != nil {
		g.t.Fatalf("%s: state file: %v", what, err)
	}
	if head == "" {
		head = g.run("rev-parse", "HEAD")
	}
	if st.commit != head {
		g.t.Fatalf("%s: state file at %s, HEAD at %s", what, st.commit, head)
	}
	return how
}

// TestHoldsStateAgreesWithWalk makes random histories (holds, releases
// and rollbacks of a few images; plain commits; merges; branches that
// start from older commits, as a rewritten or force-pushed history does;
// commits dated before their parents), moves HEAD to each commit in turn,
// and compares the holds kept in the state file with a walk of all of
// history.
func TestHoldsStateAgreesWithWalk(t *testing.T) {
	images := []string{app, api, "r.example.com/acme/db"}
	seeds, steps := 2, 40
	if testing.Short() {
		seeds, steps = 1, 30
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			g := newGitRepo(t)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 7))
			trailers := func() string {
				var ts []string
				for range 1 + rng.IntN(3) {
					img := images[rng.IntN(len(images))]
					switch rng.IntN(5) {
					case 0:
						ts = append(ts, "Laminar-Hold: "+img)
					case 1:
						ts = append(ts, "Laminar-Release: "+img)
					case 2:
						ts = append(ts, "Laminar-Promote: "+img+" 2 -> 1", "Laminar-Rollback-Of: "+strings.Repeat("a", 40), "Laminar-Hold: "+img)
					case 3:
						return "Unrelated\n"
					default:
						ts = append(ts, "Laminar-Promote: "+img+" 1 -> 2")
					}
				}
				return msg(ts...)
			}
			// Commit i has mark i+1; parents are earlier commits.
			var stream strings.Builder
			var what []string
			when := int64(1700000000)
			for i := range steps {
				var parents []int
				switch op := rng.IntN(10); {
				case i == 0:
					what = append(what, "root")
				case op < 6:
					what = append(what, "commit")
					parents = []int{i - 1}
				case op == 6:
					what = append(what, "commit dated before its parent")
					parents = []int{i - 1}
					when -= 7200
				case op == 7 && i > 2:
					what = append(what, "merge")
					parents = []int{i - 1, rng.IntN(i - 1)}
				case op == 8:
					what = append(what, "on an older commit (rewritten history)")
					parents = []int{rng.IntN(i)}
				default:
					what = append(what, "a new root (unrelated history)")
				}
				when += int64(rng.IntN(600))
				m := trailers()
				fmt.Fprintf(&stream, "commit refs/heads/c%d\nmark :%d\ncommitter Dana <d@example.com> %d +0000\ndata %d\n%s\n",
					i, i+1, when, len(m), m)
				for j, p := range parents {
					verb := "from"
					if j > 0 {
						verb = "merge"
					}
					fmt.Fprintf(&stream, "%s :%d\n", verb, p+1)
				}
				stream.WriteString("\n")
			}
			g.runIn(stream.String(), "fast-import", "--quiet")
			repo := g.open()
			ids := strings.Fields(g.run("for-each-ref", "--sort=committerdate", "--format=%(refname:short) %(objectname)"))
			byRef := map[string]string{}
			for i := 0; i+1 < len(ids); i += 2 {
				byRef[ids[i]] = ids[i+1]
			}
			hows := map[string]int{}
			for i := range steps {
				id := byRef[fmt.Sprintf("c%d", i)]
				if err := os.WriteFile(filepath.Join(repo.GitDir, "HEAD"), []byte(id+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				hows[g.check(ctx, repo, id, fmt.Sprintf("commit %d (%s)", i, what[i]))]++
				if i%7 == 0 {
					hows[g.check(ctx, repo, id, fmt.Sprintf("commit %d again", i))]++
				}
			}
			// The cases must all have come up.
			if hows[stateExtended] == 0 || hows[stateRebuilt] == 0 || hows[stateReused] == 0 {
				t.Errorf("state file use %v: want each of extended, rebuilt and reused", hows)
			}
		})
	}
}

// TestHoldsStateRebuilt gives the state file wrong content of every kind:
// each is detected, the holds come from history, and the file is rewritten.
func TestHoldsStateRebuilt(t *testing.T) {
	g := newGitRepo(t)
	ctx := context.Background()
	g.commit("Initial")
	held := g.commit(msg("Laminar-Hold: " + app))
	g.commit(msg("Laminar-Hold: " + api))
	released := g.commit(msg("Laminar-Release: " + api))
	repo := g.open()
	path := filepath.Join(repo.GitDir, StateFile)
	g.check(ctx, repo, "", "first run")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(good), "hold "+held) || !strings.Contains(string(good), "release "+released) {
		t.Fatalf("state file:\n%s", good)
	}
	head := g.run("rev-parse", "HEAD")
	reseal := func(body string) string {
		return string(seal([]byte(body)))
	}
	body := func(s string) string { return s[:strings.LastIndex(s, "sha256 ")] }
	other := strings.Repeat("e", 40)
	for _, tt := range []struct {
		name, content string
	}{
		{"empty", ""},
		{"torn", string(good[:len(good)/2])},
		{"a flipped byte", strings.Replace(string(good), "hold ", "hokd ", 1)},
		{"hold dropped, checksum redone", reseal(strings.Replace(body(string(good)), "hold "+held, "release "+held, 1))},
		{"author changed, checksum redone", reseal(strings.Replace(body(string(good)), `"Dana"`, `"Eve"`, 1))},
		{"hold moved to a commit without it", reseal(strings.Replace(body(string(good)), "hold "+held, "hold "+released, 1))},
		{"unknown commit", reseal(strings.Replace(body(string(good)), "commit "+head, "commit "+other, 1))},
		{"unknown deciding commit", reseal(strings.Replace(body(string(good)), "hold "+held, "hold "+other, 1))},
		{"another version", reseal(strings.Replace(body(string(good)), stateMagic, "git-laminar holds 2", 1))},
		{"a directory", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(path)
			if tt.name == "a directory" {
				os.Mkdir(path, 0o755)
				defer os.RemoveAll(path)
			} else if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Holds(ctx, repo)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[app] == "" {
				t.Errorf("Holds = %v, want %s alone", got, app)
			}
			if tt.name == "a directory" {
				return
			}
			now, _ := os.ReadFile(path)
			if string(now) != string(good) {
				t.Errorf("state file not rebuilt:\n%s", now)
			}
		})
	}

	// A force-push: the state file is at a commit HEAD no longer descends
	// from, the hold of api was never released in the new history.
	g.check(ctx, repo, "", "before the rewrite")
	g.run("reset", "-q", "--hard", "HEAD~1")
	g.commit(msg("Laminar-Promote: " + api + " 1 -> 2"))
	g.check(ctx, repo, "", "after the rewrite")
	if got, _ := Holds(ctx, repo); got[api] == "" {
		t.Errorf("after the rewrite api is not held: %v", got)
	}
}

// TestHoldsStateConcurrent has runs of many processes' worth write the
// file at once: it is whole afterwards, whichever won.
func TestHoldsStateConcurrent(t *testing.T) {
	g := newGitRepo(t)
	ctx := context.Background()
	g.commit("Initial")
	g.commit(msg("Laminar-Hold: " + app))
	repo := g.open()
	path := filepath.Join(repo.GitDir, StateFile)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				os.Remove(path)
				if got, err := Holds(ctx, repo); err != nil || len(got) != 1 {
					t.Errorf("Holds = %v, %v", got, err)
				}
			}
		})
	}
	wg.Wait()
	g.check(ctx, repo, "", "after concurrent runs")
	left, _ := filepath.Glob(filepath.Join(repo.GitDir, StateFile+".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestStateRoundTrip(t *testing.T) {
	st := &savedState{commit: strings.Repeat("c", 64), holdState: holdState{decided: map[string]decision{
		app: {HoldInfo: HoldInfo{Image: app, Commit: strings.Repeat("1", 64), Author: "Dana \"D\" \n\xff", Rollback: true,
			Date: mustTime(t, "2026-11-02T10:00:00+01:00")}},
		api: {HoldInfo: HoldInfo{Image: api, Commit: strings.Repeat("2", 40)}, Released: true},
	}}}
	got, err := decodeState(st.encode())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st.encode(), got.encode()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.decided[app].Author != st.decided[app].Author || got.decided[app].Date.Format("-0700") != "+0100" {
		t.Errorf("decoded %+v", got.decided[app])
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// FuzzDecodeState: whatever the file holds, decoding does not panic, and
// what decodes encodes back to a file that decodes the same.
func FuzzDecodeState(f *testing.F) {
	st := &savedState{commit: strings.Repeat("c", 40), holdState: holdState{decided: map[string]decision{
		app: {HoldInfo: HoldInfo{Image: app, Commit: strings.Repeat("1", 40), Author: "Dana", Date: time.Unix(1700000000, 0).UTC()}},
		api: {HoldInfo: HoldInfo{Image: api, Commit: strings.Repeat("2", 40)}, Released: true},
	}}}
	f.Add(st.encode())
	f.Add(seal([]byte(stateMagic + "\ncommit " + strings.Repeat("d", 64) + "\n")))
	f.Add(seal([]byte(stateMagic + "\ncommit " + strings.Repeat("d", 40) + "\nhold " + strings.Repeat("1", 40) + " 2026-11-02T10:00:00+01:00 1 \"x\" \"\\xff\"\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data)
		if err != nil {
			return
		}
		again, err := decodeState(st.encode())
		if err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if string(again.encode()) != string(st.encode()) {
			t.Fatalf("round trip changed the state")
		}
	})
}
