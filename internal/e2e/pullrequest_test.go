package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/forge/forgetest"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// TestE2EPullRequestOverSSH runs git laminar run --pull-request with the
// built binary against a bare repository served by OpenSSH and a GitHub
// stand-in: the request's branch is pushed by git over ssh with the key
// and known_hosts of [git], and a host whose key is not known is refused.
func TestE2EPullRequestOverSSH(t *testing.T) {
	srv := startSSHD(t)
	binDir := buildBinary(t)
	reg := registrytest.NewServer(registrytest.ServerOptions{})
	defer reg.Close()
	fg := forgetest.New("github", "e2e-forge-token", "acme", "deploy")
	defer fg.Close()
	ctx := context.Background()
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := registrytest.PushTags(ctx, reg.Host()+"/acme/app", map[string]time.Time{
		"develop-1": base, "develop-2": base.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t, binDir)
	e.vars = withoutEnv(e.vars, "SSH_AUTH_SOCK")
	e.vars = append(e.vars, "LAMINAR_CACHE_TTL=0", "XDG_CACHE_HOME="+t.TempDir(), "GITHUB_TOKEN=e2e-forge-token")
	bare := filepath.Join(t.TempDir(), "remote.git")
	e.write("app.yaml", fmt.Sprintf("image: %s/acme/app:develop-1\n", reg.Host()))
	e.write("laminar.toml", fmt.Sprintf(`[[registry]]
prefix = "%s/acme"

[[update]]
name = "dev"
pattern = "glob:develop-*"

[pull_request]
forge = "github"
repository = "acme/deploy"
`, reg.Host()))
	known := srv.knownHosts(t, srv.hostPub)
	userConfig := filepath.Join(e.getenv("XDG_CONFIG_HOME"), "git-laminar", "config.toml")
	if err := os.MkdirAll(filepath.Dir(userConfig), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(userConfig, []byte(fmt.Sprintf("[git]\nssh_key = %q\nknown_hosts = %q\n\n[pull_request]\napi_url = %q\n",
		srv.userKey, known, fg.APIURL())), 0o644); err != nil {
		t.Fatal(err)
	}
	e.must("git", "init", "-q", "-b", "main")
	e.must("git", "add", ".")
	e.must("git", "commit", "-q", "-m", "init")
	e.must("git", "clone", "-q", "--bare", ".", bare)
	work := filepath.Join(t.TempDir(), "work")
	e.must("git", "clone", "-q", bare, work)
	e.dir = work
	e.must("git", "remote", "set-url", "origin", srv.url(bare))
	mainBefore := strings.TrimSpace(e.must("git", "--git-dir", bare, "rev-parse", "main"))

	out, errs, code := e.run("git", "laminar", "run", "--pull-request")
	if code != 0 {
		t.Fatalf("run --pull-request over ssh: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, `msg="pull request opened" branch=laminar/dev number=1`) || strings.Contains(errs, "e2e-forge-token") {
		t.Errorf("log:\n%s", errs)
	}
	if got := strings.TrimSpace(e.must("git", "--git-dir", bare, "rev-parse", "main")); got != mainBefore {
		t.Errorf("main moved to %s", got)
	}
	if msg := e.must("git", "--git-dir", bare, "log", "-1", "--format=%B", "laminar/dev"); !strings.Contains(msg, "develop-1 -> develop-2") {
		t.Errorf("laminar/dev:\n%s", msg)
	}
	if pulls := fg.Pulls(); len(pulls) != 1 || pulls[0].Head != "laminar/dev" || pulls[0].Base != "main" {
		t.Errorf("requests: %+v", pulls)
	}

	// git's own ssh, as PushLease runs it, refuses a host key it does not know.
	repo, err := gitrepo.Open(work)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := repo.Remote("origin")
	if err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(e.must("git", "rev-parse", "HEAD"))
	unknown := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(unknown, []byte("[127.0.0.1]:1 "+srv.hostPub+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", e.getenv("HOME"))
	err = repo.PushLease(ctx, rm, head, "laminar/other", "", gitrepo.Transport{SSHKey: srv.userKey, KnownHosts: []string{unknown}})
	if err == nil || errors.Is(err, gitrepo.ErrLeaseBroken) || !strings.Contains(err.Error(), "Host key verification failed") {
		t.Errorf("push to a host of unknown key: %v", err)
	}
	if got, err := repo.RemoteBranch(ctx, rm, "laminar/other", gitrepo.Transport{SSHKey: srv.userKey, KnownHosts: []string{known}}); err != nil || got != "" {
		t.Errorf("laminar/other = %q, %v; want no such branch", got, err)
	}
}
