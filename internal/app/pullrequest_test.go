package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/forge/forgetest"
)

// withForge adds [pull_request] for a GitHub stand-in on 127.0.0.1 to the
// clone's laminar.toml (committed and pushed) and the user-level file.
func withForge(t *testing.T, c *clone) *forgetest.Server {
	t.Helper()
	const token = "forge-token-1f2e"
	fg := forgetest.New("github", token, "acme", "deploy")
	t.Cleanup(fg.Close)
	user := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "git-laminar", "config.toml")
	if err := os.MkdirAll(filepath.Dir(user), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(user, []byte("[pull_request]\napi_url = \""+fg.APIURL()+"\"\ntoken_env = \"LAMINAR_TEST_FORGE_TOKEN\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LAMINAR_TEST_FORGE_TOKEN", token)
	c.write("laminar.toml", c.read("laminar.toml")+"\n[pull_request]\nforge = \"github\"\nrepository = \"acme/deploy\"\n")
	c.git("commit", "-q", "-am", "propose")
	c.git("push", "-q")
	return fg
}

// In pull request mode a run proposes, never pushes to the branch, and its
// report says which request carries the promotions.
func TestRunProposes(t *testing.T) {
	w := newWorld(t)
	c := w.newClone(map[string]string{"app.yaml": "image: HOST/acme/app:develop-1\n"})
	fg := withForge(t, c)
	before := run(t, "", "git", "--git-dir", c.remote, "rev-parse", "main")
	rep, err := Run(context.Background(), RunOptions{Dir: c.dir, PullRequest: true}, w.deps(nil))
	if err != nil || rep.Status != StatusOK {
		t.Fatalf("Run: %v, status %d", err, rep.Status)
	}
	if rep.Pushed || !rep.Proposed() || len(rep.PullRequests) != 1 || rep.PullRequests[0].Action != "opened" || rep.PullRequests[0].URL == "" {
		t.Fatalf("report: pushed %v, requests %+v", rep.Pushed, rep.PullRequests)
	}
	if after := run(t, "", "git", "--git-dir", c.remote, "rev-parse", "main"); after != before {
		t.Errorf("main moved: %s -> %s", before, after)
	}
	if pulls := fg.Pulls(); len(pulls) != 1 || pulls[0].Head != "laminar/dev" || pulls[0].State != "open" {
		t.Errorf("pulls = %+v", pulls)
	}
}

// The service's promotion of one image goes to a request too.
func TestPromoteProposes(t *testing.T) {
	w := newWorld(t)
	c := w.newClone(map[string]string{"app.yaml": "image: HOST/acme/app:develop-1\n"})
	fg := withForge(t, c)
	rep, err := Promote(context.Background(), PromoteOptions{Dir: c.dir, Image: w.host + "/acme/app", Tag: "develop-2",
		ManagedOnly: true, Sync: true, PullRequest: true}, w.deps(nil))
	if err != nil || rep.Pushed || len(rep.PullRequests) != 1 || rep.PullRequests[0].Action != "opened" || rep.Commit == "" {
		t.Fatalf("Promote: %v, pushed %v, requests %+v, commit %q", err, rep.Pushed, rep.PullRequests, rep.Commit)
	}
	msg := run(t, "", "git", "--git-dir", c.remote, "log", "-1", "--format=%B", rep.PullRequests[0].Branch)
	if !strings.HasPrefix(msg, "Set app to develop-2") {
		t.Errorf("the request's commit: %q", msg)
	}
	if pulls := fg.Pulls(); len(pulls) != 1 {
		t.Errorf("pulls = %+v", pulls)
	}
	if got := c.read("app.yaml"); !strings.Contains(got, "develop-1") {
		t.Errorf("the clone's file moved: %q", got)
	}
}
