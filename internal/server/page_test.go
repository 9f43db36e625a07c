package server

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// hostileWords is what a registry can make a failure say.
const hostileWords = `<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`

// TestStatusPageInABrowser renders the status page in headless Chromium
// after a registry answered with markup in its error: the page shows the
// words as text, and no element of theirs exists.
func TestStatusPageInABrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not found (the Debian package chromium)")
	}
	r := newRig(t, registrytest.ServerOptions{})
	r.push("app", "1.0.0", "1.1.0")
	r.push("evil", "1.0.0")
	r.reg.Update(func(o *registrytest.ServerOptions) {
		o.Respond = func(w http.ResponseWriter, req *http.Request) bool {
			if _, name := registrytest.KindOf(req); name != "acme/evil" {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errors":[{"code":"DENIED","message":"` + strings.ReplaceAll(hostileWords, `"`, `\"`) + `"}]}`))
			return true
		}
	})
	r.repository("shop", "app", "1.0.0", "")
	r.repository("evil", "evil", "1.0.0", "")
	base, _ := r.serve(Options{Fleet: r.fleetFile("")})
	if code, resp := do(t, "POST", base+"/v1/sync?wait=true", "", ""); code != http.StatusOK {
		t.Fatalf("sync: %d %s", code, resp)
	}
	_, page := do(t, "GET", base+"/", "", "")
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Fatalf("the page does not show the registry's words:\n%s", page)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--dump-dom", base+"/")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	if !strings.Contains(dom, "<title>git-laminar serve</title>") {
		t.Errorf("the title changed:\n%s", dom)
	}
	if strings.Contains(dom, "<script") || strings.Contains(dom, "<img") {
		t.Errorf("the registry's markup became elements:\n%s", dom)
	}
	if !strings.Contains(dom, "&lt;script&gt;document.title") {
		t.Errorf("the registry's words are not shown as text:\n%s", dom)
	}
	for _, want := range []string{`id="repo-shop"`, `id="repo-evil"`, "promoted", r.reg.Host() + "/acme/app", "1.1.0", "partial"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page lacks %q:\n%s", want, dom)
		}
	}
}
