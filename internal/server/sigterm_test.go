package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// TestSIGTERMFinishesThePush runs the real binary, starts a run against a
// slow registry and sends SIGTERM while it is in progress: the run
// finishes and pushes, the lock is released, and serve exits 0.
func TestSIGTERMFinishesThePush(t *testing.T) {
	r := newRig(t, registrytest.ServerOptions{})
	bin := laminarBinary(t)
	r.push("app", "1.0.0", "1.1.0")
	remote := r.repository("shop", "app", "1.0.0", "")
	r.fleetFile("")
	r.reg.Update(func(o *registrytest.ServerOptions) { o.Latency = 400 * time.Millisecond })

	state := filepath.Join(r.dir, "state")
	cmd := exec.Command(bin, "serve", "--fleet", filepath.Join(r.dir, "fleet.toml"), "--listen", "127.0.0.1:0", "--state", state, "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	var log strings.Builder
	addr := ""
	addrRE := regexp.MustCompile(`"address":"(127\.0\.0\.1:\d+)"`)
	for addr == "" && lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("serve did not say where it listens:\n%s", log.String())
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stderr)
		rest <- string(b)
	}()
	base := "http://" + addr
	waitFor(t, func() bool {
		code, _ := do(t, "GET", base+"/readyz", "", "")
		return code == http.StatusOK
	})
	if code, body := do(t, "POST", base+"/v1/sync", "", ""); code != http.StatusAccepted {
		t.Fatalf("sync: %d %s", code, body)
	}
	waitFor(t, func() bool {
		_, body := do(t, "GET", base+"/v1/status", "", "")
		var st Status
		return json.Unmarshal([]byte(body), &st) == nil && len(st.Repositories) == 1 && st.Repositories[0].Running != ""
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	log.WriteString(<-rest)
	if err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, log.String())
	}
	if got, want := r.trailers(remote), r.reg.Host()+"/acme/app 1.0.0 -> 1.1.0"; got != want {
		t.Errorf("the push in progress did not land: trailer %q, want %q\n%s", got, want, log.String())
	}
	if _, err := os.Stat(filepath.Join(state, "repositories", "shop", ".git", "laminar.lock")); !os.IsNotExist(err) {
		t.Errorf("the lock is left behind: %v", err)
	}
	if !strings.Contains(log.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped event:\n%s", log.String())
	}
}
