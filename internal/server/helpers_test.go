package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/fleet"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// laminarBinary builds git-laminar once for this package's tests: the
// engine runs it as a process, as serve does.
func laminarBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not found")
	}
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "laminar-serve-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "git-laminar")
		out, err := exec.Command("go", "build", "-o", binaryPath, "github.com/git-laminar/git-laminar/cmd/git-laminar").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("building git-laminar: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// rig is a registry on 127.0.0.1 and manifests repositories with bare
// remotes, for a fleet.
type rig struct {
	t     *testing.T
	reg   *registrytest.Server
	dir   string
	fleet strings.Builder
	// pattern is the rule of the repositories made next; default semver:^1.
	pattern string
	// toml is appended to the laminar.toml of the repositories made next.
	toml string
}

func newRig(t *testing.T, opt registrytest.ServerOptions) *rig {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	// Built before HOME and the XDG variables move: the go command finds
	// its caches through them.
	laminarBinary(t)
	reg := registrytest.NewServer(opt)
	t.Cleanup(reg.Close)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, ".config"), "XDG_CACHE_HOME": filepath.Join(home, ".cache"),
		"XDG_DATA_HOME": filepath.Join(home, ".local/share"), "DOCKER_CONFIG": filepath.Join(home, ".docker"),
		"LAMINAR_CACHE_TTL": "0", "GIT_CONFIG_NOSYSTEM": "1", "LAMINAR_CONFIG": "",
		"GIT_AUTHOR_NAME": "Laminar Service", "GIT_AUTHOR_EMAIL": "laminar@example.com",
		"GIT_COMMITTER_NAME": "Laminar Service", "GIT_COMMITTER_EMAIL": "laminar@example.com",
	} {
		t.Setenv(k, v)
	}
	return &rig{t: t, reg: reg, dir: dir}
}

func (r *rig) git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// push puts tags of acme/<image> in the registry, each built a minute
// after the one before.
func (r *rig) push(image string, tags ...string) {
	r.t.Helper()
	m := map[string]time.Time{}
	for i, tag := range tags {
		m[tag] = time.Date(2026, 11, 1, 9, i, 0, 0, time.UTC)
	}
	if _, err := registrytest.PushTags(context.Background(), r.reg.Repo("acme/"+image), m); err != nil {
		r.t.Fatal(err)
	}
}

// repository makes a manifests repository that references acme/<image>
// at tag under a semver:^1 rule, pushes it to a bare remote and adds it to
// the fleet with extra keys; it returns the remote's path.
func (r *rig) repository(name, image, tag, extra string) string {
	r.t.Helper()
	work := filepath.Join(r.dir, "work-"+name)
	remote := filepath.Join(r.dir, "remotes", name+".git")
	if err := os.MkdirAll(work, 0o755); err != nil {
		r.t.Fatal(err)
	}
	pattern := r.pattern
	if pattern == "" {
		pattern = "semver:^1"
	}
	files := map[string]string{
		"laminar.toml": fmt.Sprintf("[[registry]]\nprefix = %q\n\n[[update]]\nname = \"prod\"\npattern = %q\n", r.reg.Host()+"/acme", pattern) + r.toml,
		"deploy.yaml":  fmt.Sprintf("spec:\n  containers:\n    - image: %s/acme/%s:%s\n", r.reg.Host(), image, tag),
	}
	for p, text := range files {
		if err := os.WriteFile(filepath.Join(work, p), []byte(text), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git(work, "init", "-q", "-b", "main")
	r.git(work, "add", ".")
	r.git(work, "commit", "-q", "-m", "manifests")
	r.git(r.dir, "init", "-q", "--bare", "-b", "main", remote)
	r.git(work, "push", "-q", remote, "main")
	fmt.Fprintf(&r.fleet, "[[repository]]\nname = %q\nurl = %q\ninterval = \"1h\"\n%s\n", name, "file://"+remote, extra)
	return remote
}

// fleetFile writes the fleet file with head (top-level keys and tables
// that come before the repositories) and reads it back.
func (r *rig) fleetFile(head string) *fleet.File {
	r.t.Helper()
	p := filepath.Join(r.dir, "fleet.toml")
	if err := os.WriteFile(p, []byte(head+"\n"+r.fleet.String()), 0o644); err != nil {
		r.t.Fatal(err)
	}
	f, err := fleet.Load(p)
	if err != nil {
		r.t.Fatal(err)
	}
	return f
}

// serve runs a server on 127.0.0.1 until the test ends and returns its
// base URL and the server.
func (r *rig) serve(opt Options) (string, *Server) {
	r.t.Helper()
	if opt.Engine == nil {
		opt.Engine = &AppEngine{StatusReader: &StatusCommand{Binary: laminarBinary(r.t)}}
	}
	if opt.StateDir == "" {
		opt.StateDir = filepath.Join(r.dir, "state")
	}
	if opt.FirstDelay == 0 {
		opt.FirstDelay = time.Hour // runs only when asked
	}
	if opt.Listen == "" {
		opt.Listen = "127.0.0.1:0"
	}
	var logs bytes.Buffer
	opt.Log = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil))
	addr := make(chan net.Addr, 1)
	opt.Ready = func(a net.Addr) { addr <- a }
	s, err := New(opt)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("Run: %v", err)
		}
		if r.t.Failed() {
			r.t.Logf("server log:\n%s", logs.String())
		}
	})
	select {
	case a := <-addr:
		return "http://" + a.String(), s
	case err := <-done:
		r.t.Fatalf("Run: %v", err)
	}
	return "", nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// do sends a request and returns the status and body.
func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// trailers returns the Laminar-Promote trailers of a bare remote's tip.
func (r *rig) trailers(remote string) string {
	r.t.Helper()
	return r.git(r.dir, "--git-dir", remote, "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)", "main")
}

func (r *rig) commits(remote string) string {
	r.t.Helper()
	return r.git(r.dir, "--git-dir", remote, "rev-list", "--count", "main")
}

// refs lists every ref of a bare remote with its object: what a request
// that must change nothing leaves as it was.
func (r *rig) refs(remote string) string {
	r.t.Helper()
	return r.git(r.dir, "--git-dir", remote, "for-each-ref", "--format=%(refname) %(objectname)")
}
