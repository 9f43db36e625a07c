package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestE2EServeWebhook runs git laminar serve over a fleet of three
// repositories (two bare remotes over file://, one over SSH) against
// docker-registry, whose own notifications reach /webhooks/distribution:
// a tag pushed to the registry is promoted, within seconds, in the two
// repositories that reference the image and not in the third.
func TestE2EServeWebhook(t *testing.T) {
	srv := startSSHD(t)
	const secret, apiToken = "webhook-secret-e2e", "api-token-e2e"
	port := freePort(t)
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	host := startRegistryWith(t, fmt.Sprintf(`notifications:
  endpoints:
    - name: laminar
      url: http://%s/webhooks/distribution
      headers:
        Authorization: [Bearer %s]
      timeout: 2s
      threshold: 3
      backoff: 200ms
`, listen, secret))
	binDir := buildBinary(t)
	ctx := context.Background()
	auth := remote.WithAuth(&authn.Basic{Username: user, Password: password})
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, image := range []string{"app", "api"} {
		if _, err := registrytest.PushTags(ctx, host+"/acme/"+image, map[string]time.Time{"1.0.0": base}, auth); err != nil {
			t.Fatal(err)
		}
	}

	e := newEnv(t, binDir)
	e.vars = withoutEnv(e.vars, "SSH_AUTH_SOCK")
	e.vars = append(e.vars, "XDG_CACHE_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(),
		"LAMINAR_API_TOKEN="+apiToken, "DIST_SECRET="+secret)
	cfgDir := e.getenv("DOCKER_CONFIG")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, cred)), 0o600); err != nil {
		t.Fatal(err)
	}
	remotes := t.TempDir()
	seed := func(name, image string) string {
		dir := filepath.Join(t.TempDir(), name)
		e.dir = dir
		e.write("laminar.toml", fmt.Sprintf("[[registry]]\nprefix = %q\n\n[[update]]\nname = \"prod\"\npattern = \"semver:^1\"\n", host+"/acme"))
		e.write("deploy.yaml", fmt.Sprintf("image: %s/acme/%s:1.0.0\n", host, image))
		e.must("git", "init", "-q", "-b", "main")
		e.must("git", "add", ".")
		e.must("git", "commit", "-q", "-m", "manifests")
		bare := filepath.Join(remotes, name+".git")
		e.must("git", "clone", "-q", "--bare", ".", bare)
		return bare
	}
	shop, web, billing := seed("shop", "app"), seed("web", "app"), seed("billing", "api")
	known := srv.knownHosts(t, srv.hostPub)
	fleetFile := filepath.Join(t.TempDir(), "fleet.toml")
	fleet := fmt.Sprintf(`token_env = "LAMINAR_API_TOKEN"

[[repository]]
name = "shop"
url = %q
interval = "1h"

[[repository]]
name = "web"
url = %q
ssh_key = %q
known_hosts = [%q]
interval = "1h"

[[repository]]
name = "billing"
url = %q
interval = "1h"

[webhooks.distribution]
secret_env = "DIST_SECRET"
`, "file://"+shop, srv.url(web), srv.userKey, known, "file://"+billing)
	if err := os.WriteFile(fleetFile, []byte(fleet), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(filepath.Join(binDir, "git-laminar"), "serve", "--fleet", fleetFile, "--listen", listen, "--log-format", "json")
	cmd.Env = e.vars
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() || os.Getenv("LAMINAR_E2E_LOG") != "" {
			t.Logf("serve's log:\n%s", logs.String())
		}
	}()
	url := "http://" + listen
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", url+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitUntil := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("after %s: %s", d, what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Every repository cloned and run once: the service knows which
	// images each references.
	waitUntil("every repository ran once", time.Minute, func() bool {
		code, body := get("/v1/status", apiToken)
		return code == 200 && strings.Count(body, `"last_run"`) == 3
	})
	if code, _ := get("/v1/status", ""); code != http.StatusUnauthorized {
		t.Errorf("/v1/status without the token: %d", code)
	}

	// A new tag: docker-registry tells the service.
	pushed := time.Now()
	if _, err := registrytest.PushTags(ctx, host+"/acme/app", map[string]time.Time{"1.1.0": base.Add(time.Hour)}, auth); err != nil {
		t.Fatal(err)
	}
	promoted := func(bare string) bool {
		out, err := exec.Command("git", "--git-dir", bare, "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)", "main").Output()
		return err == nil && strings.TrimSpace(string(out)) == host+"/acme/app 1.0.0 -> 1.1.0"
	}
	waitUntil("the promotion reached shop and web", 30*time.Second, func() bool { return promoted(shop) && promoted(web) })
	t.Logf("promoted in both %s after the push", time.Since(pushed).Round(time.Millisecond))
	if out, _ := exec.Command("git", "--git-dir", billing, "rev-list", "--count", "main").Output(); strings.TrimSpace(string(out)) != "1" {
		t.Errorf("billing, which does not reference acme/app, moved: %s commits", out)
	}
	_, metrics := get("/metrics", "")
	for _, want := range []string{
		`laminar_promotions_total{repository="shop"} 1`,
		`laminar_promotions_total{repository="web"} 1`,
		`laminar_promotions_total{repository="billing"} 0`,
		`laminar_runs_total{job="run",repository="web",result="promoted",trigger="webhook"} 1`,
		`laminar_webhooks_total{result="accepted",source="distribution"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), apiToken) || strings.Contains(logs.String(), password) {
		t.Error("a secret reached the log")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}
