package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// world is a registry on 127.0.0.1 and a shared client for it; clones
// push to bare repositories on disk.
type world struct {
	t    *testing.T
	host string
	reg  *registry.Client
}

func newWorld(t *testing.T) *world {
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
	for _, repo := range []string{"acme/app", "acme/web"} {
		if _, err := registrytest.PushTags(context.Background(), srv.Repo(repo), map[string]time.Time{
			"develop-1": base, "develop-2": base.Add(time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
	}
	return &world{t: t, host: srv.Host(), reg: registry.New(registry.Options{Backoff: remote.Backoff{Steps: 1}})}
}

// clone is a working clone of a bare remote, on main, tracking origin/main.
type clone struct {
	t           *testing.T
	dir, remote string
}

// newClone makes a bare remote holding files and laminar.toml (managing
// develop-* tags of host/acme/app in app.yaml only), and a clone of it.
func (w *world) newClone(files map[string]string) *clone {
	w.t.Helper()
	c := &clone{t: w.t, dir: w.t.TempDir(), remote: filepath.Join(w.t.TempDir(), "remote.git")}
	run(w.t, "", "git", "init", "-q", "--bare", "-b", "main", c.remote)
	c.git("init", "-q", "-b", "main")
	c.write("laminar.toml", "[[registry]]\nprefix = \""+w.host+"/acme\"\n\n[[update]]\nname = \"dev\"\nfiles = [\"app.yaml\"]\npattern = \"glob:develop-*\"\n")
	for name, content := range files {
		c.write(name, strings.ReplaceAll(content, "HOST", w.host))
	}
	c.git("add", ".")
	c.git("commit", "-q", "-m", "init")
	c.git("remote", "add", "origin", c.remote)
	c.git("push", "-q", "-u", "origin", "main")
	return c
}

func (c *clone) write(name, content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *clone) read(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

func (c *clone) git(args ...string) string { c.t.Helper(); return run(c.t, c.dir, "git", args...) }

// remoteLog is the remote main's commit messages, newest first.
func (c *clone) remoteLog() string {
	c.t.Helper()
	return run(c.t, "", "git", "--git-dir", c.remote, "log", "--format=%B", "main")
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (w *world) deps(log *bytes.Buffer) Deps {
	d := Deps{Registry: Shared(w.reg)}
	if log != nil {
		d.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	return d
}

func TestRunPushesAndReports(t *testing.T) {
	w := newWorld(t)
	c := w.newClone(map[string]string{"app.yaml": "image: HOST/acme/app:develop-1\n"})
	var log bytes.Buffer
	rep, err := Run(context.Background(), RunOptions{Dir: c.dir, Retries: -1}, w.deps(&log))
	if err != nil || rep.Status != StatusOK {
		t.Fatalf("Run: %v, status %d\n%s", err, rep.Status, log.String())
	}
	if !rep.Pushed || rep.Commit == "" || rep.Proposed() || rep.Remote != "origin" || rep.Branch != "main" {
		t.Errorf("report: pushed %v, commit %q, proposed %v, %s/%s", rep.Pushed, rep.Commit, rep.Proposed(), rep.Remote, rep.Branch)
	}
	want := Promotion{Image: w.host + "/acme/app", From: "develop-1", To: "develop-2", Rule: "dev", Files: []string{"app.yaml"}}
	if len(rep.Promotions) != 1 || rep.Promotions[0].Image != want.Image || rep.Promotions[0].To != want.To ||
		rep.Promotions[0].Rule != want.Rule || strings.Join(rep.Promotions[0].Files, ",") != "app.yaml" {
		t.Errorf("promotions = %+v, want %+v", rep.Promotions, want)
	}
	if rep.Registry.TagListPages == 0 {
		t.Errorf("registry stats count no tag list: %+v", rep.Registry)
	}
	if got := c.remoteLog(); !strings.Contains(got, "Laminar-Promote: "+w.host+"/acme/app develop-1 -> develop-2") {
		t.Errorf("remote log lacks the promotion:\n%s", got)
	}
	if !strings.Contains(log.String(), "msg=pushed") {
		t.Errorf("log lacks the push:\n%s", log.String())
	}
}

// Many runs of different repositories share one registry client.
func TestRunsShareOneRegistryClient(t *testing.T) {
	w := newWorld(t)
	var clones []*clone
	for range 3 {
		clones = append(clones, w.newClone(map[string]string{"app.yaml": "image: HOST/acme/app:develop-1\n"}))
	}
	reports := make([]RunReport, len(clones))
	errs := make([]error, len(clones))
	var wg sync.WaitGroup
	for i, c := range clones {
		wg.Go(func() { reports[i], errs[i] = Run(context.Background(), RunOptions{Dir: c.dir}, w.deps(nil)) })
	}
	wg.Wait()
	for i, c := range clones {
		if errs[i] != nil || !reports[i].Pushed {
			t.Errorf("clone %d: %v, pushed %v", i, errs[i], reports[i].Pushed)
		}
		if got := c.read("app.yaml"); !strings.Contains(got, "develop-2") {
			t.Errorf("clone %d: app.yaml = %q", i, got)
		}
	}
	// Runs that start together may each list; a later run asks nothing.
	before := w.reg.Stats().TagListPages
	c := w.newClone(map[string]string{"app.yaml": "image: HOST/acme/app:develop-1\n"})
	rep, err := Run(context.Background(), RunOptions{Dir: c.dir}, w.deps(nil))
	if err != nil || !rep.Pushed {
		t.Fatalf("a later run: %v, pushed %v", err, rep.Pushed)
	}
	if after := w.reg.Stats().TagListPages; after != before || rep.Registry.TagListPages != 0 {
		t.Errorf("a later run listed again: %d pages before, %d after, %d in its report", before, after, rep.Registry.TagListPages)
	}
}

// PerRun gives each run a client of its own: a tag pushed after one run is
// seen by the next.
func TestPerRunSeesNewTags(t *testing.T) {
	w := newWorld(t)
	c := w.newClone(map[string]string{"app.yaml": "image: HOST/acme/app:develop-1\n"})
	deps := Deps{Registry: PerRun(registry.Options{Backoff: remote.Backoff{Steps: 1}, CacheTTL: -1})}
	if rep, err := Run(context.Background(), RunOptions{Dir: c.dir}, deps); err != nil || len(rep.Promotions) != 1 || rep.Promotions[0].To != "develop-2" {
		t.Fatalf("first run: %v, %+v", err, rep.Promotions)
	}
	if _, err := registrytest.PushTags(context.Background(), w.host+"/acme/app", map[string]time.Time{"develop-3": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if rep, err := Run(context.Background(), RunOptions{Dir: c.dir}, deps); err != nil || len(rep.Promotions) != 1 || rep.Promotions[0].To != "develop-3" {
		t.Fatalf("second run: %v, %+v", err, rep.Promotions)
	}
}

func TestRunLeavesALockedCloneAlone(t *testing.T) {
	w := newWorld(t)
	c := w.newClone(map[string]string{"app.yaml": "image: HOST/acme/app:develop-1\n"})
	repo, err := gitrepo.Open(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, _, err := repo.TryLock(LockName)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	rep, err := Run(context.Background(), RunOptions{Dir: c.dir}, w.deps(nil))
	if err != nil || rep.Status != StatusOK || !rep.Locked || rep.Commit != "" {
		t.Errorf("locked: %v, status %d, locked %v, commit %q", err, rep.Status, rep.Locked, rep.Commit)
	}
	rep, err = Run(context.Background(), RunOptions{Dir: c.dir, FailIfLocked: true}, w.deps(nil))
	if !errors.Is(err, gitrepo.ErrLocked) || rep.Status != StatusLocked {
		t.Errorf("FailIfLocked: %v, status %d", err, rep.Status)
	}
	if got := c.read("app.yaml"); !strings.Contains(got, "develop-1") {
		t.Errorf("app.yaml changed under the lock: %q", got)
	}
}

// A webhook's image is set only where a rule manages it: a reference
// outside the rule's files, or an image not referenced at all, is "not
// managed here" and nothing changes.
func TestPromoteManagedOnly(t *testing.T) {
	w := newWorld(t)
	c := w.newClone(map[string]string{
		"app.yaml":   "image: HOST/acme/app:develop-1\n",
		"other.yaml": "image: HOST/acme/web:develop-1\n",
	})
	head := c.git("rev-parse", "HEAD")
	for _, image := range []string{w.host + "/acme/web", w.host + "/acme/nope", "web"} {
		rep, err := Promote(context.Background(), PromoteOptions{Dir: c.dir, Image: image, Tag: "develop-2", ManagedOnly: true, Sync: true, Push: true}, w.deps(nil))
		if err != nil || !rep.NotManaged || rep.Status != StatusOK || rep.Commit != "" {
			t.Errorf("%s: %v, not managed %v, status %d, commit %q", image, err, rep.NotManaged, rep.Status, rep.Commit)
		}
	}
	if got := c.git("rev-parse", "HEAD"); got != head {
		t.Errorf("HEAD moved: %s", got)
	}
	if got := c.read("other.yaml"); !strings.Contains(got, "develop-1") {
		t.Errorf("other.yaml changed: %q", got)
	}

	rep, err := Promote(context.Background(), PromoteOptions{Dir: c.dir, Image: w.host + "/acme/app", Tag: "develop-9", ManagedOnly: true, Sync: true, Push: true}, w.deps(nil))
	if err == nil || rep.Status != StatusError || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing tag: %v, status %d", err, rep.Status)
	}

	rep, err = Promote(context.Background(), PromoteOptions{Dir: c.dir, Image: w.host + "/acme/app", Tag: "develop-2", ManagedOnly: true, Sync: true, Push: true}, w.deps(nil))
	if err != nil || !rep.Pushed || rep.Where() != "origin/main" || len(rep.Promotions) != 1 {
		t.Fatalf("set: %v, pushed %v to %s, promotions %+v", err, rep.Pushed, rep.Where(), rep.Promotions)
	}
	if got := c.remoteLog(); !strings.HasPrefix(got, "Set app to develop-2") || !strings.Contains(got, "Laminar-Promote: "+w.host+"/acme/app develop-1 -> develop-2") {
		t.Errorf("remote log:\n%s", got)
	}
}

// When the remote moves between the commit and the push, the promotion
// is recomputed on the new tip, its first commit kept under a backup ref,
// as Run does.
func TestPromoteRecomputesWhenTheRemoteMoved(t *testing.T) {
	w := newWorld(t)
	c := w.newClone(map[string]string{"app.yaml": "image: HOST/acme/app:develop-1\n", "notes.txt": "a\n"})
	other := &clone{t: t, dir: t.TempDir(), remote: c.remote}
	run(t, "", "git", "clone", "-q", c.remote, other.dir)
	reviews := 0
	review := func(*SetPlan) (bool, error) {
		reviews++
		if reviews == 1 {
			other.write("notes.txt", "b\n")
			other.git("commit", "-q", "-am", "someone else")
			other.git("push", "-q", "origin", "main")
		}
		return true, nil
	}
	rep, err := Promote(context.Background(), PromoteOptions{Dir: c.dir, Image: "app", Tag: "develop-2", Sync: true, Push: true, Retries: 2, Review: review}, w.deps(nil))
	if err != nil || !rep.Pushed || reviews != 2 {
		t.Fatalf("set: %v, pushed %v, reviews %d", err, rep.Pushed, reviews)
	}
	log := c.remoteLog()
	if !strings.HasPrefix(log, "Set app to develop-2") || !strings.Contains(log, "someone else") {
		t.Errorf("remote log:\n%s", log)
	}
	if refs := c.git("for-each-ref", "--format=%(refname)", BackupRefPrefix); refs == "" {
		t.Errorf("no backup ref of the first commit")
	}
}

func TestReferences(t *testing.T) {
	w := newWorld(t)
	c := w.newClone(map[string]string{
		"app.yaml":   "image: HOST/acme/app:develop-1\nsidecar: HOST/acme/app:develop-1\n",
		"other.yaml": "image: HOST/acme/web:develop-1\n",
	})
	got, err := References(context.Background(), c.dir, ReferencesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Image != w.host+"/acme/app" || strings.Join(got[0].Rules, ",") != "dev" || strings.Join(got[0].Files, ",") != "app.yaml" {
		t.Fatalf("References = %+v", got)
	}
	for name, want := range map[string]bool{
		w.host + "/acme/app": true, w.host + "/acme/app:develop-9": true, w.host + "/acme/web": false, "app": false,
	} {
		if got[0].Is(name) != want {
			t.Errorf("Is(%q) = %v, want %v", name, !want, want)
		}
	}
}
