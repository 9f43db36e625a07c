// Package e2e runs the built git-laminar binary through git against real
// servers: Debian's docker-registry (the CNCF distribution registry) on
// 127.0.0.1 with htpasswd authentication. Tests skip when the server is not
// installed, and run only when LAMINAR_E2E is set (make e2e, as CI does);
// with LAMINAR_E2E=1 a missing server fails them.
package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
)

const (
	user     = "laminar"
	password = "e2e-s3cret"
)

func need(t *testing.T, bin string) string {
	t.Helper()
	if os.Getenv("LAMINAR_E2E") == "" {
		t.Skip("end-to-end suite: run with LAMINAR_E2E=1 (make e2e)")
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("LAMINAR_E2E") == "1" {
			t.Fatalf("%s is not installed (LAMINAR_E2E=1 requires it): %v", bin, err)
		}
		t.Skipf("%s is not installed", bin)
	}
	return p
}

// buildBinary compiles git-laminar into a fresh directory that goes first on PATH.
func buildBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "git-laminar"), "github.com/git-laminar/git-laminar/cmd/git-laminar")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building git-laminar: %v\n%s", err, out)
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry runs docker-registry on 127.0.0.1 with htpasswd auth and
// storage in a temporary directory, and returns its host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	return startRegistryWith(t, "")
}

// startRegistryWith is startRegistry with more configuration (YAML at the
// top level, such as notifications).
func startRegistryWith(t *testing.T, extra string) string {
	t.Helper()
	bin := need(t, "docker-registry")
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
auth:
  htpasswd:
    realm: laminar-e2e
    path: %s
%s`, filepath.Join(dir, "data"), host, filepath.Join(dir, "htpasswd"), extra)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return host
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not start on %s: %v\n%s", host, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type env struct {
	t    *testing.T
	dir  string
	vars []string
}

func newEnv(t *testing.T, binDir string) *env {
	home := t.TempDir()
	return &env{t: t, dir: t.TempDir(), vars: append(os.Environ(),
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "NO_COLOR=1",
		"DOCKER_CONFIG="+filepath.Join(home, ".docker"),
		"GIT_AUTHOR_NAME=E2E", "GIT_AUTHOR_EMAIL=e2e@example.com",
		"GIT_COMMITTER_NAME=E2E", "GIT_COMMITTER_EMAIL=e2e@example.com",
	)}
}

func (e *env) getenv(k string) string {
	for i := len(e.vars) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(e.vars[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// run runs a command in the repository and returns stdout, stderr and the exit code.
func (e *env) run(args ...string) (string, string, int) {
	e.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = e.dir
	cmd.Env = e.vars
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("%v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (e *env) must(args ...string) string {
	e.t.Helper()
	out, errs, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("%v exited %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errs)
	}
	return out
}

func (e *env) write(name, content string) {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func TestE2EBumpAgainstDistributionRegistry(t *testing.T) {
	host := startRegistry(t)
	binDir := buildBinary(t)
	ctx := context.Background()
	auth := remote.WithAuth(&authn.Basic{Username: user, Password: password})
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	digests, err := registrytest.PushTags(ctx, host+"/acme/app", map[string]time.Time{
		"develop-aaaa1111": base, "develop-bbbb2222": base.Add(time.Hour), "develop-cccc3333": base.Add(2 * time.Hour),
	}, auth)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registrytest.PushTags(ctx, host+"/acme/api", map[string]time.Time{
		"v1.2.0": base, "v1.2.1": base, "v1.3.0": base, "v2.0.0": base,
	}, auth); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t, binDir)
	e.write("laminar.toml", fmt.Sprintf(`[[registry]]
prefix = "%s/acme"

[[update]]
name = "dev"
pattern = "glob:develop-*"

[[update]]
name = "api"
pattern = "semver:^1.2"
`, host))
	e.write("k8s/app.yaml", fmt.Sprintf("spec:\n  containers:\n    - image: %s/acme/app:develop-aaaa1111 # app\n    - image: %s/acme/api:v1.2.0\n", host, host))
	e.write("Dockerfile", fmt.Sprintf("FROM %s/acme/app:develop-aaaa1111@%s AS base\nRUN true\n", host, digests["develop-aaaa1111"]))
	e.must("git", "init", "-q", "-b", "main")
	e.must("git", "add", ".")
	e.must("git", "commit", "-q", "-m", "init")
	head := strings.TrimSpace(e.must("git", "rev-parse", "HEAD"))

	// Without credentials the registry refuses: the images are named, nothing changes.
	out, errs, code := e.run("git", "laminar", "bump", "--yes")
	if code != 3 || !strings.Contains(errs, host+"/acme/app") || !strings.Contains(strings.ToLower(errs), "auth") {
		t.Fatalf("bump without credentials: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if got := strings.TrimSpace(e.must("git", "rev-parse", "HEAD")); got != head {
		t.Fatalf("HEAD moved to %s after a failed bump", got)
	}

	// With credentials in the docker config, as docker login leaves them.
	cfgDir := e.getenv("DOCKER_CONFIG")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	token := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, token)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code = e.run("git", "laminar", "bump", "--yes")
	if code != 0 {
		t.Fatalf("bump exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if strings.Contains(out+errs, password) || strings.Contains(out+errs, token) {
		t.Fatal("the password was printed")
	}
	msg := e.must("git", "log", "-1", "--format=%B")
	for _, want := range []string{
		fmt.Sprintf("Laminar-Promote: %s/acme/app develop-aaaa1111 -> develop-cccc3333", host),
		fmt.Sprintf("Laminar-Promote: %s/acme/api v1.2.0 -> v1.3.0", host),
		fmt.Sprintf("Laminar-Digest: %s/acme/app %s", host, digests["develop-cccc3333"]),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit message lacks %q:\n%s", want, msg)
		}
	}
	dockerfile := e.must("git", "show", "HEAD:Dockerfile")
	want := fmt.Sprintf("FROM %s/acme/app:develop-cccc3333@%s AS base\n", host, digests["develop-cccc3333"])
	if !strings.HasPrefix(dockerfile, want) {
		t.Errorf("Dockerfile:\n%s\nwant first line %q (tag and digest updated together)", dockerfile, want)
	}
	if st := e.must("git", "status", "--porcelain"); st != "" {
		t.Errorf("working tree not clean after bump:\n%s", st)
	}
	trailers := e.must("git", "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)")
	if strings.Count(trailers, "->") != 2 {
		t.Errorf("git log read %q", trailers)
	}
	logOut := e.must("git", "laminar", "log", "app")
	if !strings.Contains(logOut, "develop-aaaa1111 -> develop-cccc3333") || strings.Contains(logOut, "v1.2.0") {
		t.Errorf("git laminar log app:\n%s", logOut)
	}
	if _, _, code := e.run("git", "laminar", "bump", "--dry-run", "--exit-code"); code != 0 {
		t.Errorf("second bump --exit-code = %d, want 0 (nothing left)", code)
	}
}

// TestE2EInstallAndManPage installs with make into a staging root and checks
// that git finds both the subcommand and its man page.
func TestE2EInstallAndManPage(t *testing.T) {
	need(t, "make")
	need(t, "man")
	root := t.TempDir()
	cmd := exec.Command("make", "-C", "../..", "install", "DESTDIR="+root, "PREFIX=/usr")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, p := range []string{"usr/bin/git-laminar", "usr/share/man/man1/git-laminar.1",
		"usr/share/bash-completion/completions/git-laminar", "usr/share/zsh/site-functions/_git-laminar",
		"usr/share/fish/vendor_completions.d/git-laminar.fish"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("make install did not write %s: %v", p, err)
		}
	}
	example, err := os.ReadFile("../../laminar.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(root, "usr/share/doc/git-laminar/laminar.toml.example")); err != nil || string(got) != string(example) {
		t.Errorf("make install did not copy laminar.toml.example to share/doc/git-laminar (err %v)", err)
	}
	e := newEnv(t, filepath.Join(root, "usr/bin"))
	e.vars = append(e.vars, "MANPATH="+filepath.Join(root, "usr/share/man"), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80")
	out := e.must("git", "help", "laminar")
	if !strings.Contains(out, "git-laminar - promote container images through git") || !strings.Contains(out, "EXIT STATUS") {
		t.Errorf("git help laminar showed:\n%.600s", out)
	}
	out = e.must("git", "laminar", "bump", "-h")
	if !strings.Contains(out, "--dry-run") {
		t.Errorf("git laminar bump -h:\n%s", out)
	}

	// bash-completion loads the installed script on demand, from
	// $XDG_DATA_DIRS/bash-completion/completions (/usr/local/share and
	// /usr/share by default), when git's completion asks for
	// _git_laminar: nothing but make install is needed.
	const loader = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(loader); err != nil {
		t.Skipf("%s: %v (Debian: package bash-completion)", loader, err)
	}
	script := `. ` + loader + `
_completion_loader git
COMP_WORDS=(git laminar bu) COMP_CWORD=2 COMP_LINE="git laminar bu" COMP_POINT=14
__git_wrap__git_main
printf '<%s>\n' "${COMPREPLY[@]}"
COMPREPLY=()
COMP_WORDS=(git-laminar init --dr) COMP_CWORD=2 COMP_LINE="git-laminar init --dr" COMP_POINT=21
_completion_loader git-laminar
_git_laminar_direct
printf '<%s>\n' "${COMPREPLY[@]}"
`
	e.vars = append(e.vars, "XDG_DATA_DIRS="+filepath.Join(root, "usr/share"))
	out = e.must("bash", "-c", script)
	if out != "<bump >\n<--dry-run>\n" {
		t.Errorf("bash completion through bash-completion's loader gave:\n%s", out)
	}
}
