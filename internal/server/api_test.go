package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/fleet"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/git-laminar/git-laminar/internal/webhook"
)

func TestPromoteNeedsTheToken(t *testing.T) {
	r := newRig(t, registrytest.ServerOptions{})
	r.push("app", "1.0.0", "1.1.0")
	// ~1.0 keeps runs at 1.0.x: only the API moves app to 1.1.0.
	r.pattern = "semver:~1.0"
	shop := r.repository("shop2", "app", "1.0.0", "")
	const token = "s3cret-token-value"
	base, _ := r.serve(Options{Fleet: r.fleetFile(""), Token: token})
	body := `{"image": "app", "tag": "1.1.0"}`

	for _, tok := range []string{"", "wrong", token + "x", strings.ToUpper(token)} {
		code, resp := do(t, "POST", base+"/v1/promote", tok, body)
		if code != http.StatusUnauthorized {
			t.Errorf("token %q: %d %s", tok, code, resp)
		}
	}
	for _, path := range []string{"/v1/sync", "/v1/status"} {
		method := "POST"
		if path == "/v1/status" {
			method = "GET"
		}
		if code, _ := do(t, method, base+path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, code)
		}
	}
	if got := r.commits(shop); got != "1" {
		t.Fatalf("the remote moved without a token: %s commits", got)
	}

	// A tag the registry does not have changes nothing.
	code, resp := do(t, "POST", base+"/v1/promote", token, `{"image": "app", "tag": "1.9.9"}`)
	if code != http.StatusBadGateway || !strings.Contains(resp, "1.9.9") {
		t.Errorf("missing tag: %d %s", code, resp)
	}
	if got := r.commits(shop); got != "1" {
		t.Fatalf("a missing tag moved the remote: %s commits", got)
	}

	code, resp = do(t, "POST", base+"/v1/promote", token, body)
	if code != http.StatusOK {
		t.Fatalf("promote: %d %s", code, resp)
	}
	if got, want := r.trailers(shop), r.reg.Host()+"/acme/app 1.0.0 -> 1.1.0"; got != want {
		t.Errorf("trailer %q, want %q", got, want)
	}
	// An image no repository manages is a 404, not a silent success.
	code, resp = do(t, "POST", base+"/v1/promote", token, `{"image": "nothing-here", "tag": "1.0.0"}`)
	if code != http.StatusNotFound {
		t.Errorf("unmanaged image: %d %s", code, resp)
	}
	_, metrics := do(t, "GET", base+"/metrics", "", "")
	if want := `laminar_promotions_total{repository="shop2"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, metrics)
	}
	if want := `laminar_runs_total{job="promote",repository="shop2",result="promoted",trigger="api"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, metrics)
	}
}

func TestPromoteRefusesBadRequests(t *testing.T) {
	r := newRig(t, registrytest.ServerOptions{})
	r.repository("shop", "app", "1.0.0", "")
	base, _ := r.serve(Options{Fleet: r.fleetFile("")})
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"image": "app"}`, 400},
		{`{"image": "app", "tag": "1.0.0", "commit": "abcdef1"}`, 400},
		{`{"image": "app", "tag": "-rf"}`, 400},
		{`{"image": "app", "tag": "1.0.0\nLaminar-Promote: x"}`, 400},
		{`{"image": "--upload-pack=x", "tag": "1.0.0"}`, 400},
		{`{"image": "app", "commit": "xyz"}`, 400},
		{`{"image": "app", "tag": "1.0.0", "force": true}`, 400},
		{`not json`, 400},
		{`{"image": "app", "tag": "` + strings.Repeat("a", 100<<10) + `"}`, 413},
	} {
		code, resp := do(t, "POST", base+"/v1/promote", "", tc.body)
		if code != tc.code {
			t.Errorf("%.60s: %d %s, want %d", tc.body, code, resp, tc.code)
		}
	}
}

func TestWithoutTokenLoopbackOnly(t *testing.T) {
	r := newRig(t, registrytest.ServerOptions{})
	r.repository("shop", "app", "1.0.0", "")
	f := r.fleetFile("")
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:8080", "example.com:8080", ":8080"} {
		s, err := New(Options{Fleet: f, Engine: &AppEngine{}, StateDir: t.TempDir(), Listen: addr})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "loopback only") {
			t.Errorf("%s without a token: %v", addr, err)
		}
	}
	base, _ := r.serve(Options{Fleet: f})
	// A page elsewhere that a browser lets reach 127.0.0.1: by a name
	// that resolves there (DNS rebinding), or posting across origins.
	req, _ := http.NewRequest("POST", base+"/v1/sync", nil)
	req.Host = "attacker.example:8080"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: %v %v", resp.StatusCode, err)
	}
	req, _ = http.NewRequest("POST", base+"/v1/sync", nil)
	req.Header.Set("Origin", "https://attacker.example")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site Origin: %v %v", resp.StatusCode, err)
	}
}

// testParser stands for a registry's webhook: the secret in a header,
// the images as a JSON list.
func testParser(source string, r *http.Request, secret string) ([]Hint, error) {
	if r.Header.Get("X-Secret") != secret {
		return nil, fmt.Errorf("%s: %w", source, ErrSignature)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var hints []Hint
	if err := json.Unmarshal(b, &hints); err != nil {
		return nil, err
	}
	return hints, nil
}

func TestWebhookSyncsOnlyTheImagesRepositories(t *testing.T) {
	r := newRig(t, registrytest.ServerOptions{})
	r.push("app", "1.0.0")
	r.push("api", "1.0.0")
	shop := r.repository("shop", "app", "1.0.0", "")
	billing := r.repository("billing", "api", "1.0.0", "")
	base, srv := r.serve(Options{Fleet: r.fleetFile(""), Webhook: testParser, Secrets: map[string]string{"generic": "hook-secret"}})
	if code, resp := do(t, "POST", base+"/v1/sync?wait=true", "", ""); code != 200 {
		t.Fatalf("sync: %d %s", code, resp)
	}
	r.push("app", "1.0.0", "1.1.0")
	hint := fmt.Sprintf(`[{"Image": %q, "Tag": "1.9.9"}]`, r.reg.Host()+"/acme/app")

	post := func(path, secret string) (int, string) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(hint))
		req.Header.Set("X-Secret", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, resp := post("/webhooks/generic", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d %s", code, resp)
	}
	if code, resp := post("/webhooks/quay", "hook-secret"); code != http.StatusNotFound {
		t.Errorf("a source without a secret: %d %s", code, resp)
	}
	code, resp := post("/webhooks/generic", "hook-secret")
	if code != http.StatusAccepted || !strings.Contains(resp, `"shop"`) || strings.Contains(resp, "billing") {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	waitFor(t, func() bool {
		st := srv.Snapshot()
		i := slices.IndexFunc(st.Repositories, func(x RepositoryStatus) bool { return x.Name == "shop" })
		return st.Repositories[i].LastRun != nil && st.Repositories[i].LastRun.Trigger == "webhook"
	})
	// The registry was asked: its newest tag, never the payload's.
	if got, want := r.trailers(shop), r.reg.Host()+"/acme/app 1.0.0 -> 1.1.0"; got != want {
		t.Errorf("shop: trailer %q, want %q", got, want)
	}
	if got := r.commits(billing); got != "1" {
		t.Errorf("billing moved: %s commits", got)
	}
	for _, rs := range srv.Snapshot().Repositories {
		if rs.Name == "billing" && rs.LastRun.Trigger != "api" {
			t.Errorf("billing ran on the webhook: %+v", rs.LastRun)
		}
	}
}

// waitFor polls cond until it holds; the deadline is only there to end a
// broken test, not to measure anything.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWebhookSources: the fleet file accepts the sources the parser
// knows, no more and no fewer.
func TestWebhookSources(t *testing.T) {
	if !slices.Equal(fleet.Sources, webhook.Sources) {
		t.Errorf("fleet.Sources %v, webhook.Sources %v", fleet.Sources, webhook.Sources)
	}
}

// TestShardTakesItsRepositories: a server takes the repositories of its
// shard and no other; the API does not know the others.
func TestShardTakesItsRepositories(t *testing.T) {
	var text strings.Builder
	for i := range 12 {
		fmt.Fprintf(&text, "[[repository]]\nname = \"repo-%d\"\nurl = \"file:///srv/%d.git\"\n", i, i)
	}
	f, err := fleet.Parse("fleet.toml", []byte(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	shard := fleet.Shard{Index: 1, Count: 3}
	s, err := New(Options{Fleet: f, Shard: shard, Engine: &AppEngine{}, StateDir: t.TempDir(), Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, r := range s.Snapshot().Repositories {
		got = append(got, r.Name)
	}
	for _, r := range f.Repositories {
		if shard.Takes(r.Name) {
			want = append(want, r.Name)
		}
	}
	if len(want) == 0 || len(want) == 12 || !slices.Equal(got, want) {
		t.Fatalf("shard 1/3 took %v, want %v", got, want)
	}
	for _, r := range f.Repositories {
		req := httptest.NewRequest("POST", "/v1/sync?repository="+r.Name, nil)
		req.Header.Set("Authorization", "Bearer tok")
		rec := httptest.NewRecorder()
		// Draining: a known repository answers 503, one of another shard 404.
		s.mu.Lock()
		s.draining = true
		s.mu.Unlock()
		s.Handler().ServeHTTP(rec, req)
		wantCode := http.StatusNotFound
		if shard.Takes(r.Name) {
			wantCode = http.StatusServiceUnavailable
		}
		if rec.Code != wantCode {
			t.Errorf("%s: %d", r.Name, rec.Code)
		}
	}
}
