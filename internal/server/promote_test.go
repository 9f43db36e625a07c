package server

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/forge/forgetest"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// TestPromoteFromCommit: the API's "commit" sets the tag CI built from
// that application commit in every repository that manages the image, and
// nothing when the registry has no such tag or the value is no commit.
func TestPromoteFromCommit(t *testing.T) {
	const (
		old    = "main-1111111111111111111111111111111111111111"
		built  = "main-b2ee56fd0c3a9e1f4d5b6a7c8e9f0a1b2c3d4e5f"
		sibler = "main-b2ee56ff00000000000000000000000000000000"
	)
	r := newRig(t, registrytest.ServerOptions{})
	r.push("app", old, built, sibler)
	r.push("api", "1.0.0")
	r.pattern = "glob:main-*"
	shop := r.repository("shop", "app", old, "")
	staging := r.repository("staging", "app", old, "")
	r.pattern = ""
	billing := r.repository("billing", "api", "1.0.0", "")
	base, _ := r.serve(Options{Fleet: r.fleetFile("")})

	remotes := []string{shop, staging, billing}
	snapshot := func() []string {
		var out []string
		for _, rm := range remotes {
			out = append(out, r.refs(rm))
		}
		return out
	}
	unchanged := func(what string, before []string) {
		t.Helper()
		for i, now := range snapshot() {
			if now != before[i] {
				t.Errorf("%s moved %s:\n%s\nwas\n%s", what, remotes[i], now, before[i])
			}
		}
	}
	before := snapshot()

	for _, commit := range []string{
		"xyz1234",
		"g2ee56fd",
		"b2ee56",                // too short
		strings.Repeat("b", 65), // too long
		"b2ee56fd\n",            // a newline after
		"b2ee56fd\nLaminar-Promote: x",
		"b2ee56fd\x00",
		"b2ee56fd\x1b[2J",
		" b2ee56fd",
		"-b2ee56fd",
		"b2ee56fd..",
	} {
		body, _ := json.Marshal(map[string]string{"image": "app", "commit": commit})
		code, resp := do(t, "POST", base+"/v1/promote", "", string(body))
		if code != http.StatusBadRequest || !strings.Contains(resp, "commit") {
			t.Errorf("commit %q: %d %s", commit, code, resp)
		}
	}
	unchanged("a malformed commit", before)

	// A commit CI built nothing from: every repository fails, none moves,
	// and the answer names the commit.
	code, resp := do(t, "POST", base+"/v1/promote", "", `{"image": "app", "commit": "0123456789abcdef"}`)
	if code != http.StatusBadGateway || !strings.Contains(resp, "no tag of") || !strings.Contains(resp, "0123456789abcdef") || !strings.Contains(resp, `"shop"`) || !strings.Contains(resp, `"staging"`) {
		t.Errorf("unknown commit: %d %s", code, resp)
	}
	unchanged("an unknown commit", before)

	// A prefix that two tags share is ambiguous: both are named, none set.
	code, resp = do(t, "POST", base+"/v1/promote", "", `{"image": "app", "commit": "b2ee56f"}`)
	if code != http.StatusBadGateway || !strings.Contains(resp, built) || !strings.Contains(resp, sibler) {
		t.Errorf("ambiguous commit: %d %s", code, resp)
	}
	unchanged("an ambiguous commit", before)

	// Upper case is the same commit.
	code, resp = do(t, "POST", base+"/v1/promote", "", `{"image": "app", "commit": "B2EE56FD0C3A"}`)
	if code != http.StatusOK {
		t.Fatalf("promote: %d %s", code, resp)
	}
	want := r.reg.Host() + "/acme/app " + old + " -> " + built
	for _, rm := range []string{shop, staging} {
		if got := r.trailers(rm); got != want {
			t.Errorf("%s: trailer %q, want %q", rm, got, want)
		}
		if got := r.commits(rm); got != "2" {
			t.Errorf("%s: %s commits, want 2", rm, got)
		}
	}
	if got := r.refs(billing); got != before[2] {
		t.Errorf("billing, which does not manage app, moved: %s", got)
	}
	var out struct {
		Repositories []repoResult `json:"repositories"`
	}
	if err := json.Unmarshal([]byte(resp), &out); err != nil || len(out.Repositories) != 2 {
		t.Fatalf("answer %s: %v", resp, err)
	}
	for _, rr := range out.Repositories {
		if o := rr.Outcome; o == nil || o.Result != "promoted" || !o.Pushed || len(o.Promotions) != 1 || o.Promotions[0].To != built {
			t.Errorf("%s: outcome %+v", rr.Repository, o)
		}
	}
}

// TestSyncProposesPullRequest: a repository with pull_request set has its
// promotions proposed on the forge; the followed branch is left alone.
func TestSyncProposesPullRequest(t *testing.T) {
	const token = "forge-token-9c1d"
	fg := forgetest.New("github", token, "acme", "deploy")
	t.Cleanup(fg.Close)
	r := newRig(t, registrytest.ServerOptions{})
	user := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "git-laminar", "config.toml")
	if err := os.MkdirAll(filepath.Dir(user), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(user, []byte("[pull_request]\napi_url = \""+fg.APIURL()+"\"\ntoken_env = \"LAMINAR_TEST_FORGE_TOKEN\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LAMINAR_TEST_FORGE_TOKEN", token)
	r.push("app", "1.0.0", "1.1.0")
	r.toml = "\n[pull_request]\nforge = \"github\"\nrepository = \"acme/deploy\"\n"
	shop := r.repository("shop", "app", "1.0.0", "pull_request = true")
	mainBefore := r.git(r.dir, "--git-dir", shop, "rev-parse", "main")
	base, _ := r.serve(Options{Fleet: r.fleetFile("")})

	code, resp := do(t, "POST", base+"/v1/sync?wait=true", "", "")
	if code != http.StatusOK || !strings.Contains(resp, `"promoted"`) {
		t.Fatalf("sync: %d %s", code, resp)
	}
	if got := r.git(r.dir, "--git-dir", shop, "rev-parse", "main"); got != mainBefore {
		t.Errorf("main was pushed to: %s -> %s", mainBefore, got)
	}
	pulls := fg.Pulls()
	if len(pulls) != 1 || pulls[0].Base != "main" || pulls[0].State != "open" || pulls[0].Head == "" || pulls[0].Head == "main" {
		t.Fatalf("pulls = %+v", pulls)
	}
	// The request's branch on the remote carries the promotion.
	head := pulls[0].Head
	got := r.git(r.dir, "--git-dir", shop, "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)", "refs/heads/"+head)
	if want := r.reg.Host() + "/acme/app 1.0.0 -> 1.1.0"; got != want {
		t.Errorf("%s: trailer %q, want %q", head, got, want)
	}

	// Syncing again updates the same request rather than opening another.
	if code, resp := do(t, "POST", base+"/v1/sync?wait=true", "", ""); code != http.StatusOK {
		t.Fatalf("second sync: %d %s", code, resp)
	}
	if pulls := fg.Pulls(); len(pulls) != 1 {
		t.Errorf("a second sync opened another request: %+v", pulls)
	}
	if got := r.git(r.dir, "--git-dir", shop, "rev-parse", "main"); got != mainBefore {
		t.Errorf("main was pushed to on the second sync: %s", got)
	}
}
