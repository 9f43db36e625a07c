package check

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var ctx = context.Background()

func newRegistry(t *testing.T) (*registrytest.Server, *registry.Client) {
	t.Helper()
	srv := registrytest.NewServer(registrytest.ServerOptions{})
	t.Cleanup(srv.Close)
	return srv, registry.New(registry.Options{Backoff: remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}})
}

func pushTags(t *testing.T, srv *registrytest.Server, repo string, tags ...string) map[string]string {
	t.Helper()
	m := map[string]time.Time{}
	for i, tag := range tags {
		m[tag] = time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)
	}
	d, err := registrytest.PushTags(ctx, srv.Repo(repo), m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ref(t *testing.T, path string, line int, s string) Reference {
	t.Helper()
	r, err := imageref.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return Reference{Path: path, Line: line, Ref: r}
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "dev/app.yaml", Line: 6, Image: "registry.example.com/acme/app", Tag: "develop-zzz", Kind: NotFound, Problem: "tag not found"},
			"dev/app.yaml:6: registry.example.com/acme/app:develop-zzz does not exist (tag not found)"},
		{Problem{File: "a.yaml", Line: 2, Image: "r.io/app", Tag: "1", Digest: "sha256:ab", Kind: DigestMismatch, Problem: "pinned digest is not ..."},
			"a.yaml:2: r.io/app:1@sha256:ab: pinned digest is not ..."},
		{Problem{Commit: "abc1234def", Kind: BadTrailer, Problem: `Laminar-Promote: malformed value "x": why`},
			`commit abc1234: Laminar-Promote: malformed value "x": why`},
		{Problem{File: "laminar.toml", Line: 3, Kind: BadConfig, Problem: "update \"dev\".pattern: bad"},
			`laminar.toml:3: update "dev".pattern: bad`},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("String() = %q\nwant        %q", got, tc.want)
		}
	}
}

func TestParsePrePush(t *testing.T) {
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	in := "refs/heads/main " + a + " refs/heads/main " + b + "\n\n(delete) " + ZeroID + " refs/heads/old " + a + "\r\n"
	got, err := ParsePrePush(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Update{{"refs/heads/main", a, "refs/heads/main", b}, {"(delete)", ZeroID, "refs/heads/old", a}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !got[1].Deletion() || got[0].Deletion() {
		t.Error("Deletion wrong")
	}
	a64, z64 := strings.Repeat("a", 64), strings.Repeat("0", 64)
	for _, bad := range []string{
		"refs/heads/main " + a + " refs/heads/main\n", "x y z w\n", "refs/heads/main " + strings.ToUpper(a) + " r " + b + "\n",
		"refs/heads/main " + a64 + " refs/heads/main " + b + "\n", // formats mixed
		"refs/heads/main " + a64[:50] + " refs/heads/main " + a64[:50] + "\n",
	} {
		if _, err := ParsePrePush(strings.NewReader(bad)); err == nil {
			t.Errorf("ParsePrePush(%q) succeeded", bad)
		}
	}

	// A SHA-256 repository's hook input: 64-digit ids, 64 zeros for none.
	got, err = ParsePrePush(strings.NewReader("refs/heads/main " + a64 + " refs/heads/main " + z64 + "\n(delete) " + z64 + " refs/heads/old " + a64 + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Deletion() || !got[1].Deletion() || got[0].LocalID != a64 {
		t.Errorf("SHA-256 input: %+v", got)
	}
}

func TestRegistry(t *testing.T) {
	srv, reg := newRegistry(t)
	d := pushTags(t, srv, "acme/app", "develop-1", "develop-2")
	host := srv.Host()
	missingDigest := "sha256:" + strings.Repeat("0", 64)
	refs := []Reference{
		ref(t, "a.yaml", 1, host+"/acme/app:develop-1"),
		ref(t, "b.yaml", 1, host+"/acme/app:develop-1"), // same question: asked once
		ref(t, "a.yaml", 2, host+"/acme/app:develop-2@"+d["develop-2"]),
		ref(t, "a.yaml", 3, host+"/acme/app:develop-zzz"),
		ref(t, "a.yaml", 4, host+"/acme/app:develop-2@"+d["develop-1"]),
		ref(t, "a.yaml", 5, host+"/acme/app:develop-1@"+missingDigest),
		ref(t, "a.yaml", 6, host+"/acme/gone:develop-1"),
		ref(t, "a.yaml", 7, host+"/acme/app@"+d["develop-1"]), // no tag: not checked
	}
	srv.ResetCounts()
	got := Registry(ctx, reg, refs)
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	want := []string{
		"a.yaml:3: " + host + "/acme/app:develop-zzz does not exist (tag not found)",
		"a.yaml:4: " + host + "/acme/app:develop-2@" + d["develop-1"] + ": pinned digest is not the digest of tag develop-2 (" + d["develop-2"] + ")",
		"a.yaml:5: " + host + "/acme/app:develop-1@" + missingDigest + ": pinned digest is not the digest of tag develop-1 (" + d["develop-1"] + "); the pinned digest does not exist in the repository",
		"a.yaml:6: " + host + "/acme/gone:develop-1 does not exist (tag not found)",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if got[1].Kind != DigestMismatch || got[0].Kind != NotFound || got[0].Tag != "develop-zzz" || got[0].Image != host+"/acme/app" {
		t.Errorf("fields: %+v", got[:2])
	}
	// develop-1, develop-2, develop-zzz, gone:develop-1, then two digests.
	if n := srv.Counts().ByKind[registrytest.KindManifestHead]; n != 6 {
		t.Errorf("%d manifest HEADs, want 6 (each question once)", n)
	}
	if Unreachable(got) {
		t.Error("Unreachable with a live registry")
	}

	// Failures to ask are problems: the check fails closed. (A fresh client
	// each time: a client reuses what it resolved during its run.)
	srv.Update(func(o *registrytest.ServerOptions) { o.Username, o.Password = "u", "p" })
	_, reg = newRegistry(t)
	got = Registry(ctx, reg, refs[:1])
	if len(got) != 1 || got[0].Kind != Unchecked || !strings.Contains(got[0].String(), "could not be checked: ") || !strings.Contains(got[0].Problem, "authentication") {
		t.Errorf("auth: %v", got)
	}
	srv.Close()
	_, reg = newRegistry(t)
	got = Registry(ctx, reg, refs[:1])
	if len(got) != 1 || got[0].Kind != Unchecked || !strings.Contains(got[0].Problem, "unreachable") || !Unreachable(got) {
		t.Errorf("down: %v", got)
	}
}

func TestTrailers(t *testing.T) {
	commits := []gitrepo.Commit{
		{Hash: strings.Repeat("1", 40), Message: "Promote app\n\nLaminar-Promote: r.io/acme/app develop-1 -> develop-2\nLaminar-Digest: r.io/acme/app sha256:" + strings.Repeat("a", 64) + "\nSigned-off-by: D <d@e>\n"},
		{Hash: strings.Repeat("2", 40), Message: "Bad\n\nLaminar-Promote: r.io/acme/app develop-1 => develop-2\nReviewed-by: anything goes\n"},
		{Hash: strings.Repeat("3", 40), Message: "Typos\n\nLaminar-promote: r.io/acme/app 1 -> 2\nLaminar-Frobnicate: x\n"},
		{Hash: strings.Repeat("4", 40), Message: "Not a trailer block\n\nLaminar-Promote: garbage\nthis line is prose, so git sees no trailers here\n"},
	}
	got := Trailers(commits)
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	want := []string{
		`commit 2222222: Laminar-Promote: malformed value "r.io/acme/app develop-1 => develop-2": want "<image> <from> -> <to>" separated by single spaces`,
		`commit 3333333: Laminar-promote: malformed value "r.io/acme/app 1 -> 2": spell the key Laminar-Promote`,
	}
	if diff := cmp.Diff(want, lines[:2]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(lines) != 3 || !strings.Contains(lines[2], "Laminar-Frobnicate") || got[0].Commit != commits[1].Hash {
		t.Errorf("got %q", lines)
	}
}

// Real repositories.

func isolate(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "Dana", "GIT_AUTHOR_EMAIL": "d@example.com", "GIT_COMMITTER_NAME": "Dana", "GIT_COMMITTER_EMAIL": "d@example.com"} {
		t.Setenv(k, v)
	}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// commit writes files (path → content; "" deletes) and commits them with msg.
func commit(t *testing.T, root, msg string, files map[string]string) string {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if c == "" {
			os.Remove(full)
			continue
		}
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "--allow-empty", "-m", msg)
	return git(t, root, "rev-parse", "HEAD")
}

func newRepo(t *testing.T) (string, *gitrepo.Repo) {
	t.Helper()
	isolate(t)
	root := t.TempDir()
	git(t, root, "init", "-q", "-b", "main")
	r, err := gitrepo.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, r
}

func rulesFile(host string) string {
	return `[[registry]]
prefix = "` + host + `/acme"

[[update]]
name = "dev"
pattern = "glob:develop-*"
files = ["dev/"]
exclude = ["dev/legacy/**"]
`
}

func TestTreeReferences(t *testing.T) {
	root, repo := newRepo(t)
	host := "registry.example.com:5000"
	first := commit(t, root, "init", map[string]string{
		"laminar.toml":      rulesFile(host),
		"dev/app.yaml":      "a:\n  image: " + host + "/acme/app:develop-1\nb:\n  image: " + host + "/acme/app:1.0.0\nc:\n  image: nginx:develop-1\n",
		"dev/legacy/x.yaml": "image: " + host + "/acme/old:develop-1\n",
		"prod/app.yaml":     "image: " + host + "/acme/app:develop-1\n",
		"dev/blob.bin":      "\x00image: " + host + "/acme/app:develop-1\n",
	})
	second := commit(t, root, "bump", map[string]string{"dev/app.yaml": "a:\n  image: " + host + "/acme/app:develop-2\n"})
	// The working tree is not what is pushed.
	os.WriteFile(filepath.Join(root, "dev", "app.yaml"), []byte("image: "+host+"/acme/app:develop-9\n"), 0o644)

	for rev, want := range map[string][]string{
		first:  {"dev/app.yaml:2 " + host + "/acme/app:develop-1"},
		second: {"dev/app.yaml:2 " + host + "/acme/app:develop-2"},
	} {
		refs, ps, err := TreeReferences(ctx, repo, rev, TreeOptions{})
		if err != nil || len(ps) > 0 {
			t.Fatalf("TreeReferences(%s): %v %v", rev, ps, err)
		}
		var got []string
		for _, r := range refs {
			got = append(got, r.Path+":"+strconv.Itoa(r.Line)+" "+r.Ref.Original)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TreeReferences(%s) (-want +got):\n%s", rev[:7], diff)
		}
	}

	// The rules come from the tree being checked.
	third := commit(t, root, "manage prod too", map[string]string{"laminar.toml": strings.Replace(rulesFile(host), `files = ["dev/"]`, `files = ["dev/", "prod/"]`, 1), "dev/app.yaml": "a:\n  image: " + host + "/acme/app:develop-2\n"})
	refs, _, _ := TreeReferences(ctx, repo, third, TreeOptions{})
	if len(refs) != 2 || refs[1].Path != "prod/app.yaml" {
		t.Errorf("with the new rules: %+v", refs)
	}
	// ... unless a configuration file is named.
	alt := filepath.Join(t.TempDir(), "alt.toml")
	os.WriteFile(alt, []byte(rulesFile(host)), 0o644)
	if refs, _, _ := TreeReferences(ctx, repo, third, TreeOptions{ConfigPath: alt}); len(refs) != 1 {
		t.Errorf("with --config: %+v", refs)
	}

	// A bad laminar.toml is a problem naming its line; none is no rules.
	bad := commit(t, root, "bad rules", map[string]string{"laminar.toml": rulesFile(host) + "\n[[update]]\nname = \"x\"\npattern = \"regex:([\"\n"})
	_, ps, err := TreeReferences(ctx, repo, bad, TreeOptions{})
	if err != nil || len(ps) != 1 || ps[0].Kind != BadConfig || ps[0].File != "laminar.toml" || ps[0].Line != 12 || !strings.Contains(ps[0].String(), "laminar.toml:12: update \"x\".pattern") {
		t.Errorf("bad rules: %+v %v", ps, err)
	}
	none := commit(t, root, "no rules", map[string]string{"laminar.toml": ""})
	if refs, ps, err := TreeReferences(ctx, repo, none, TreeOptions{}); len(refs)+len(ps) != 0 || err != nil {
		t.Errorf("without laminar.toml: %v %v %v", refs, ps, err)
	}
}

// TestPush drives Push with the updates git would write for real pushes to
// a bare remote, and checks which commits and trees it looks at.
func TestPush(t *testing.T) {
	srv, reg := newRegistry(t)
	pushTags(t, srv, "acme/app", "develop-1", "develop-2")
	host := srv.Host()
	root, repo := newRepo(t)
	remoteDir := t.TempDir()
	git(t, remoteDir, "init", "-q", "--bare")
	git(t, root, "remote", "add", "origin", remoteDir)

	// An old malformed trailer already on the remote is not our business now.
	commit(t, root, "old\n\nLaminar-Promote: nonsense", map[string]string{"laminar.toml": rulesFile(host), "dev/app.yaml": "image: " + host + "/acme/app:develop-1\n"})
	git(t, root, "push", "-q", "origin", "main")
	pushed := git(t, root, "rev-parse", "HEAD")

	good := commit(t, root, "Promote app\n\nLaminar-Promote: "+host+"/acme/app develop-1 -> develop-2", map[string]string{"dev/app.yaml": "image: " + host + "/acme/app:develop-2\n"})
	rep, err := Push(ctx, repo, reg, []Update{{"refs/heads/main", good, "refs/heads/main", pushed}}, TreeOptions{})
	if err != nil || len(rep.Problems) != 0 || rep.Commits != 1 || rep.References != 1 {
		t.Fatalf("good push: %+v %v", rep, err)
	}

	bad := commit(t, root, "Promote app\n\nLaminar-Promote: "+host+"/acme/app develop-2 -> develop-3", map[string]string{"dev/app.yaml": "image: " + host + "/acme/app:develop-3\n"})
	rep, err = Push(ctx, repo, reg, []Update{{"refs/heads/main", bad, "refs/heads/main", pushed}}, TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.String())
	}
	want := []string{"dev/app.yaml:1: " + host + "/acme/app:develop-3 does not exist (tag not found)"}
	if diff := cmp.Diff(want, got); diff != "" || rep.Commits != 2 {
		t.Errorf("bad push, %d commits (-want +got):\n%s", rep.Commits, diff)
	}

	// A new branch: only commits no remote-tracking ref has; the old
	// malformed trailer on origin/main is not reported.
	git(t, root, "checkout", "-q", "-b", "topic", good)
	typo := commit(t, root, "typo\n\nLaminar-Promote: "+host+"/acme/app develop-1 ->develop-2", nil)
	rep, err = Push(ctx, repo, reg, []Update{{"refs/heads/topic", typo, "refs/heads/topic", ZeroID}}, TreeOptions{})
	if err != nil || rep.Commits != 2 || len(rep.Problems) != 1 || rep.Problems[0].Commit != typo || rep.Problems[0].Kind != BadTrailer {
		t.Errorf("new branch: %+v %v", rep, err)
	}

	// A remote value this repository never fetched: fall back to the
	// remote-tracking refs. Deletions are skipped; a tag is peeled.
	git(t, root, "tag", "-a", "-m", "release", "v1", good)
	tagObj := git(t, root, "rev-parse", "v1")
	unknown := strings.Repeat("e", 40)
	rep, err = Push(ctx, repo, reg, []Update{
		{"refs/tags/v1", tagObj, "refs/tags/v1", ZeroID},
		{"refs/heads/main", good, "refs/heads/main", unknown},
		{"(delete)", ZeroID, "refs/heads/gone", pushed},
	}, TreeOptions{})
	if err != nil || len(rep.Problems) != 0 || rep.Commits != 1 {
		t.Errorf("tag, unknown remote, deletion: %+v %v", rep, err)
	}
	// Deleting only: nothing to check.
	rep, err = Push(ctx, repo, reg, []Update{{"(delete)", ZeroID, "refs/heads/gone", bad}}, TreeOptions{})
	if err != nil || rep.Commits != 0 || rep.References != 0 {
		t.Errorf("deletion: %+v %v", rep, err)
	}
}

func TestUnpushed(t *testing.T) {
	root, repo := newRepo(t)
	if cs, err := Unpushed(ctx, repo); err != nil || len(cs) != 0 {
		t.Errorf("unborn: %v %v", cs, err)
	}
	a := commit(t, root, "a", nil)
	b := commit(t, root, "b", nil)
	cs, err := Unpushed(ctx, repo)
	if err != nil || len(cs) != 2 {
		t.Fatalf("no remotes: %v %v", cs, err)
	}
	git(t, root, "update-ref", "refs/remotes/origin/main", a)
	cs, err = Unpushed(ctx, repo)
	if err != nil || len(cs) != 1 || cs[0].Hash != b {
		t.Errorf("one ahead: %v %v", cs, err)
	}
}
