package history

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/google/go-cmp/cmp"
)

const (
	app = "r.example.com/acme/app"
	api = "r.example.com/acme/api"
)

func commit(hash, msg string) gitrepo.Commit {
	when := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	return gitrepo.Commit{Hash: hash, Message: msg,
		Author:    gitrepo.Signature{Name: "Dana", Email: "dana@example.com", When: when},
		Committer: gitrepo.Signature{Name: "Dana", Email: "dana@example.com", When: when}}
}

func msg(trailers ...string) string {
	return "Subject\n\nBody.\n\n" + strings.Join(trailers, "\n") + "\n"
}

func TestHoldState(t *testing.T) {
	c1 := strings.Repeat("1", 40)
	c2 := strings.Repeat("2", 40)
	tests := []struct {
		name    string
		commits []gitrepo.Commit // newest first
		want    map[string]string
	}{
		{"nothing", []gitrepo.Commit{commit(c1, "Initial\n")}, map[string]string{}},
		{"rollback holds", []gitrepo.Commit{
			commit("c", msg("Laminar-Promote: "+app+" 2 -> 1", "Laminar-Rollback-Of: "+c1, "Laminar-Hold: "+app)),
			commit(c1, msg("Laminar-Promote: "+app+" 1 -> 2")),
		}, map[string]string{app: "rolled back in c"}},
		{"release after hold", []gitrepo.Commit{
			commit("r", msg("Laminar-Release: "+app)),
			commit("c", msg("Laminar-Promote: "+app+" 2 -> 1", "Laminar-Rollback-Of: "+c1, "Laminar-Hold: "+app)),
		}, map[string]string{}},
		{"set releases, a later rollback holds again", []gitrepo.Commit{
			commit("h2", msg("Laminar-Promote: "+app+" 3 -> 2", "Laminar-Rollback-Of: "+c2, "Laminar-Hold: "+app)),
			commit(c2, msg("Laminar-Promote: "+app+" 1 -> 3", "Laminar-Release: "+app)),
			commit("h1", msg("Laminar-Promote: "+app+" 2 -> 1", "Laminar-Rollback-Of: "+c1, "Laminar-Hold: "+app)),
		}, map[string]string{app: "rolled back in h2"}},
		{"each image on its own", []gitrepo.Commit{
			commit("r", msg("Laminar-Release: "+api)),
			commit("h", msg("Laminar-Hold: "+app, "Laminar-Hold: "+api)),
		}, map[string]string{app: "held in h"}},
		{"within one commit the last counts", []gitrepo.Commit{
			commit("x", msg("Laminar-Hold: "+app, "Laminar-Release: "+app, "Laminar-Release: "+api, "Laminar-Hold: "+api)),
		}, map[string]string{api: "held in x"}},
		{"keys in any case", []gitrepo.Commit{
			commit("r", msg("LAMINAR-RELEASE: "+api)),
			commit("h", msg("laminar-hold: "+app, "Laminar-HOLD: "+api)),
		}, map[string]string{app: "held in h"}},
		{"an old hold released long ago", []gitrepo.Commit{
			commit("n", "Unrelated\n"),
			commit("r", msg("Laminar-Release: "+app)),
			commit("h", msg("Laminar-Hold: "+app)),
			commit("r0", msg("Laminar-Release: "+app)),
		}, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s holdState
			for _, c := range tt.commits {
				s.add(c)
			}
			got := map[string]string{}
			for image, h := range s.held() {
				got[image] = h.Reason()
			}
			for image, w := range tt.want {
				tt.want[image] = w + " by Dana on 2026-11-02"
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRollbackTarget(t *testing.T) {
	c := func(n int) string { return strings.Repeat(string(rune('0'+n)), 40) }
	promo := func(commit, image, from, to string) Record {
		return Record{Kind: Promote, Commit: commit, Image: image, From: from, To: to}
	}
	rollback := func(commit, image, from, to, of string) Record {
		return Record{Kind: Rollback, Commit: commit, Image: image, From: from, To: to, RollbackOf: of}
	}
	tests := []struct {
		name    string
		recs    []Record // newest first
		current []string
		want    string // commit of the target, "" for none
		from    string
	}{
		{"last promotion", []Record{promo(c(2), app, "b", "c"), promo(c(1), app, "a", "b")}, []string{"c"}, c(2), "b"},
		{"other images ignored", []Record{promo(c(3), api, "1", "2"), promo(c(2), app, "b", "c")}, []string{"c"}, c(2), "b"},
		{"the promotion to the current tag", []Record{promo(c(2), app, "b", "c"), promo(c(1), app, "a", "b")}, []string{"b"}, c(1), "a"},
		{"twice walks further back", []Record{
			rollback(c(3), app, "c", "b", c(2)), promo(c(2), app, "b", "c"), promo(c(1), app, "a", "b"),
		}, []string{"b"}, c(1), "a"},
		{"a rollback of another image does not count", []Record{
			rollback(c(3), api, "2", "1", c(2)), promo(c(2), app, "b", "c"), promo(c(2), api, "1", "2"),
		}, []string{"c"}, c(2), "b"},
		{"promoted again after a rollback", []Record{
			promo(c(4), app, "b", "c"), rollback(c(3), app, "c", "b", c(2)), promo(c(2), app, "b", "c"),
		}, []string{"c"}, c(4), "b"},
		{"nothing recorded", []Record{promo(c(1), api, "1", "2")}, []string{"c"}, "", ""},
		{"current tag never promoted to", []Record{promo(c(1), app, "a", "b")}, []string{"z"}, "", ""},
		{"all undone", []Record{rollback(c(2), app, "b", "a", c(1)), promo(c(1), app, "a", "b")}, []string{"a"}, "", ""},
		{"from no tag", []Record{promo(c(1), app, "-", "b")}, []string{"b"}, "", ""},
		{"one of several current tags", []Record{promo(c(2), app, "1.0", "1.1"), promo(c(1), app, "d-1", "d-2")}, []string{"d-2", "1.1"}, c(2), "1.0"},
		{"holds and releases are not promotions", []Record{{Kind: Hold, Commit: c(3), Image: app}, promo(c(1), app, "a", "b")}, []string{"b"}, c(1), "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RollbackTarget(tt.recs, app, tt.current)
			if ok != (tt.want != "") || got.Commit != tt.want || got.From != tt.from {
				t.Errorf("RollbackTarget = %+v, %v; want commit %q from %q", got, ok, tt.want, tt.from)
			}
		})
	}
}

// TestHoldsFromGit reads holds and records from commits made by git itself.
func TestHoldsFromGit(t *testing.T) {
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
	root := filepath.Join(dir, "repo")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dana", "GIT_AUTHOR_EMAIL=d@example.com",
			"GIT_COMMITTER_NAME=Dana", "GIT_COMMITTER_EMAIL=d@example.com",
			"GIT_AUTHOR_DATE=2026-11-02T10:00:00Z", "GIT_COMMITTER_DATE=2026-11-02T10:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	run("init", "-q", "-b", "main")
	run("commit", "-q", "--allow-empty", "-m", "Initial")
	run("commit", "-q", "--allow-empty", "-m", msg("Laminar-Promote: "+app+" 1 -> 2", "Laminar-Promote: "+api+" 1 -> 2"))
	promoted := run("rev-parse", "HEAD")
	run("commit", "-q", "--allow-empty", "-m", msg("Laminar-Promote: "+app+" 2 -> 1", "Laminar-Rollback-Of: "+promoted, "Laminar-Hold: "+app))
	rolled := run("rev-parse", "HEAD")
	run("commit", "-q", "--allow-empty", "-m", msg("Laminar-Hold: "+api))
	run("commit", "-q", "--allow-empty", "-m", msg("Laminar-Release: "+api))

	repo, err := gitrepo.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	holds, err := Holds(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{app: "rolled back in " + rolled[:7] + " by Dana on 2026-11-02"}
	if diff := cmp.Diff(want, holds); diff != "" {
		t.Errorf("Holds (-want +got):\n%s", diff)
	}
	recs, err := Read(ctx, repo, "", Filter{Image: "app"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for _, r := range recs {
		kinds = append(kinds, r.Kind)
	}
	if diff := cmp.Diff([]Kind{Rollback, Hold, Promote}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	if recs[0].RollbackOf != promoted || recs[0].Commit != rolled {
		t.Errorf("rollback record %+v", recs[0])
	}
	if r, ok := RollbackTarget(recs, app, []string{"1"}); ok {
		t.Errorf("rolled back already, yet a target: %+v", r)
	}
}
