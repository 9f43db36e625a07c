package promote

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/commitmsg"
	"github.com/git-laminar/git-laminar/internal/edit"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// fixture is a real git repository with manifests referring to images in a
// real registry served on 127.0.0.1.
type fixture struct {
	t    *testing.T
	dir  string
	host string
	reg  *registry.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "DOCKER_CONFIG": home,
		"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
	} {
		t.Setenv(k, v)
	}
	srv := registrytest.NewServer(registrytest.ServerOptions{})
	t.Cleanup(srv.Close)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := registrytest.PushTags(context.Background(), srv.Host()+"/acme/app", map[string]time.Time{
		"develop-1": base, "develop-2": base.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: t.TempDir(), host: srv.Host(),
		reg: registry.New(registry.Options{Backoff: remote.Backoff{Steps: 1}})}
	f.write("laminar.toml", "[[registry]]\nprefix = \""+f.host+"/acme\"\n\n[[update]]\nname = \"dev\"\npattern = \"glob:develop-*\"\n")
	f.write("a.yaml", "image: "+f.host+"/acme/app:develop-1\n")
	f.write("b.yaml", "image: "+f.host+"/acme/app:develop-1 # b\n")
	f.git("init", "-q", "-b", "main")
	f.git("add", ".")
	f.git("commit", "-q", "-m", "init")
	return f
}

func (f *fixture) write(name, content string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) read(name string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) git(args ...string) string {
	f.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = f.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (f *fixture) propose() (*Workspace, *Proposal, string) {
	f.t.Helper()
	ws, err := Open(f.dir, OpenOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	head, _, err := ws.Repo.Head()
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := ws.Propose(context.Background(), f.reg, Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(p.Plan.Promotions) != 1 || len(p.Changes) != 2 {
		f.t.Fatalf("proposal: %+v", p.Plan)
	}
	return ws, p, head
}

func TestCommitRefusesAFileChangedAfterTheScan(t *testing.T) {
	f := newFixture(t)
	ws, p, head := f.propose()
	edited := "image: " + f.host + "/acme/app:develop-1 # b, edited meanwhile\n"
	f.write("b.yaml", edited)

	_, err := ws.Commit(context.Background(), p, head)
	if !errors.Is(err, edit.ErrChanged) || !strings.Contains(err.Error(), "b.yaml") {
		t.Fatalf("err = %v, want ErrChanged naming b.yaml", err)
	}
	if f.read("b.yaml") != edited {
		t.Error("the user's edit to b.yaml was lost")
	}
	if !strings.Contains(f.read("a.yaml"), "develop-1") {
		t.Error("a.yaml was left modified")
	}
	if got := f.git("rev-parse", "HEAD"); got != head {
		t.Errorf("HEAD moved to %s", got)
	}
	if st := f.git("status", "--porcelain"); st != "M b.yaml" {
		t.Errorf("status = %q, want only the user's edit", st)
	}
}

func TestCommitRestoresFilesWhenTheBranchMoved(t *testing.T) {
	f := newFixture(t)
	ws, p, head := f.propose()
	f.write("other.txt", "x\n")
	f.git("add", "other.txt")
	f.git("commit", "-q", "-m", "someone else")
	moved := f.git("rev-parse", "HEAD")

	_, err := ws.Commit(context.Background(), p, head)
	if err == nil || !strings.Contains(err.Error(), "files restored") {
		t.Fatalf("err = %v, want a failed commit with files restored", err)
	}
	if got := f.git("rev-parse", "HEAD"); got != moved {
		t.Errorf("HEAD = %s, want %s", got, moved)
	}
	if st := f.git("status", "--porcelain"); st != "" {
		t.Errorf("working tree not as before:\n%s", st)
	}
}

func TestCommitRecordsOnlyItsOwnFiles(t *testing.T) {
	f := newFixture(t)
	f.write("notes.txt", "staged\n")
	f.git("add", "notes.txt")
	ws, p, head := f.propose()
	res, err := ws.Commit(context.Background(), p, head)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.git("show", "--name-only", "--format=", res.Hash); got != "a.yaml\nb.yaml" {
		t.Errorf("commit holds %q", got)
	}
	if st := f.git("status", "--porcelain"); st != "A  notes.txt" {
		t.Errorf("status = %q, want the staged note untouched", st)
	}
	if f.read("b.yaml") != "image: "+f.host+"/acme/app:develop-2 # b\n" {
		t.Errorf("b.yaml = %q", f.read("b.yaml"))
	}
}

func TestLockExcludesASecondRun(t *testing.T) {
	f := newFixture(t)
	ws, err := Open(f.dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := ws.Lock()
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(filepath.Join(f.dir), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Lock(); !errors.Is(err, gitrepo.ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock2, err := other.Lock()
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlock2()
}

func TestMessageReadsBackWithGit(t *testing.T) {
	f := newFixture(t)
	_, p, _ := f.propose()
	msg, err := commitmsg.Bump(p.Plan)
	if err != nil {
		t.Fatal(err)
	}
	f.write("msg.txt", msg)
	out := f.git("interpret-trailers", "--parse", "msg.txt")
	if !strings.Contains(out, "Laminar-Promote: "+f.host+"/acme/app develop-1 -> develop-2") || !strings.Contains(out, "Laminar-Rule: "+f.host+"/acme/app dev") {
		t.Errorf("git interpret-trailers read:\n%s\nfrom:\n%s", out, msg)
	}
	if !strings.HasPrefix(msg, "Promote app to develop-2\n\n") {
		t.Errorf("subject: %q", msg)
	}
}

// A dry run reads no digest it would not write: the chosen tag's digest only
// enriches the commit's trailers unless a reference pins one. (Rules that
// rank by creation time get the digest with the creation time, for free.)
func TestResolveReadsDigestsOnlyWhenNeeded(t *testing.T) {
	f := newFixture(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := registrytest.PushTags(context.Background(), f.host+"/acme/api", map[string]time.Time{
		"1.0.0": base, "1.1.0": base.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	f.write("laminar.toml", "[[registry]]\nprefix = \""+f.host+"/acme\"\n\n[[update]]\nname = \"api\"\npattern = \"semver:^1.0\"\n")
	f.write("a.yaml", "image: "+f.host+"/acme/api:1.0.0\n")
	f.write("b.yaml", "image: "+f.host+"/acme/api:1.0.0\n")
	f.git("commit", "-qam", "api")
	ws, err := Open(f.dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		noDigests bool
		want      bool
	}{{noDigests: true, want: false}, {noDigests: false, want: true}} {
		res, err := ws.Resolve(context.Background(), f.reg, Options{NoDigests: tt.noDigests})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Decisions) != 1 || !res.Decisions[0].Moves() {
			t.Fatalf("decisions: %+v", res.Decisions)
		}
		if got := res.Decisions[0].Digest != ""; got != tt.want {
			t.Errorf("NoDigests=%v: digest %q", tt.noDigests, res.Decisions[0].Digest)
		}
	}
}
