package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// TestE2EDistributionRegistry pushes an image to Debian's docker-registry
// (the CNCF distribution registry) configured with two notification
// endpoints, one with the right secret and one with a wrong one, and reads
// what the registry itself sends. It runs under make e2e (LAMINAR_E2E=1).
func TestE2EDistributionRegistry(t *testing.T) {
	if os.Getenv("LAMINAR_E2E") == "" {
		t.Skip("end-to-end suite: run with LAMINAR_E2E=1 (make e2e)")
	}
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("LAMINAR_E2E") == "1" {
			t.Fatalf("docker-registry is not installed (LAMINAR_E2E=1 requires it): %v", err)
		}
		t.Skipf("docker-registry is not installed")
	}
	const secret = "e2e-webhook-s3cret"

	var mu sync.Mutex
	var hints []Hint
	var refused int
	var contentTypes []string
	listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs, err := Parse(Distribution, r, secret)
		mu.Lock()
		defer mu.Unlock()
		contentTypes = append(contentTypes, r.Header.Get("Content-Type"))
		if err != nil {
			if Status(err) == http.StatusUnauthorized {
				refused++
			}
			http.Error(w, err.Error(), Status(err))
			return
		}
		hints = append(hints, hs...)
	}))
	defer listener.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
notifications:
  endpoints:
    - name: laminar
      url: %s/webhooks/distribution
      headers:
        Authorization: [Bearer %s]
      timeout: 2s
      threshold: 3
      backoff: 100ms
    - name: impostor
      url: %s/webhooks/distribution
      headers:
        Authorization: [Bearer not-the-secret]
      timeout: 2s
      threshold: 3
      backoff: 100ms
`, filepath.Join(dir, "data"), host, listener.URL, secret, listener.URL)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var pushErr error
	for ctx.Err() == nil {
		if _, pushErr = registrytest.Push(ctx, host+"/acme/app:v1.2.3", time.Unix(1764494400, 0)); pushErr == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pushErr != nil {
		t.Fatalf("push: %v\n%s", pushErr, logs.String())
	}

	want := Hint{Distribution, host + "/acme/app", "v1.2.3"}
	for {
		mu.Lock()
		got, n, cts := append([]Hint(nil), hints...), refused, contentTypes
		mu.Unlock()
		if len(got) > 0 && n > 0 {
			if len(got) != 1 || got[0] != want {
				t.Errorf("hints %v, want only %v", got, want)
			}
			t.Logf("the registry sent Content-Type %s", cts[0])
			if !strings.Contains(cts[0], "distribution.events") {
				t.Errorf("Content-Type %q: not the envelope's", cts[0])
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("after the push: hints %v, %d refused\n%s", got, n, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
