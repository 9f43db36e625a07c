package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// sshServer is Debian's OpenSSH server on 127.0.0.1 with a host key and an
// authorized user key of its own, serving the current user.
type sshServer struct {
	port     int
	user     string
	dir      string
	hostPub  string // "ssh-ed25519 AAAA..."
	userKey  string // private key file
	otherPub string // a host key that is not the server's
}

// startSSHD runs /usr/sbin/sshd in the foreground with a temporary
// configuration: only public keys, only from the temporary user key, only
// on 127.0.0.1. As root (CI) it needs PermitRootLogin prohibit-password
// and the privilege separation directory.
func startSSHD(t *testing.T) *sshServer {
	t.Helper()
	if os.Getenv("LAMINAR_E2E") == "" {
		t.Skip("end-to-end suite: run with LAMINAR_E2E=1 (make e2e)")
	}
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		if p, lerr := exec.LookPath("sshd"); lerr == nil {
			sshd = p
		} else if os.Getenv("LAMINAR_E2E") == "1" {
			t.Fatalf("sshd is not installed (LAMINAR_E2E=1 requires openssh-server): %v", err)
		} else {
			t.Skip("sshd is not installed")
		}
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Fatalf("ssh-keygen: %v", err)
	}
	u, err := osuser.Current()
	if err != nil {
		t.Fatal(err)
	}
	if u.Uid == "0" {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	s := &sshServer{port: freePort(t), user: u.Username, dir: dir, userKey: filepath.Join(dir, "user_ed25519")}
	for _, k := range []string{"host_ed25519", "user_ed25519", "other_ed25519"} {
		if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", k, "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b))
		return f[0] + " " + f[1]
	}
	s.hostPub, s.otherPub = read("host_ed25519.pub"), read("other_ed25519.pub")
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(read("user_ed25519.pub")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers %s
StrictModes no
UsePAM no
PidFile %s
LogLevel VERBOSE
`, s.port, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "authorized_keys"), s.user, filepath.Join(dir, "sshd.pid"))
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfgPath)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second)
		if err == nil {
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			banner, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if strings.HasPrefix(banner, "SSH-2.0-") {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not start on port %d: %v\n%s", s.port, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// url is the ssh:// address of a path on the server.
func (s *sshServer) url(path string) string {
	return fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", s.user, s.port, path)
}

// knownHosts writes a known_hosts file recording key for the server.
func (s *sshServer) knownHosts(t *testing.T, key string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("[127.0.0.1]:%d %s\n", s.port, key)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// TestE2ERunOverSSH runs git laminar run against a bare repository served
// by OpenSSH: with a key file from [git], with the key in an ssh-agent,
// and refusing a server whose host key is unknown or does not match.
func TestE2ERunOverSSH(t *testing.T) {
	srv := startSSHD(t)
	binDir := buildBinary(t)
	reg := registrytest.NewServer(registrytest.ServerOptions{})
	defer reg.Close()
	ctx := context.Background()
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := registrytest.PushTags(ctx, reg.Host()+"/acme/app", map[string]time.Time{
		"develop-1": base, "develop-2": base.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}

	// The remote, seeded through the file system.
	e := newEnv(t, binDir)
	e.vars = withoutEnv(e.vars, "SSH_AUTH_SOCK")
	e.vars = append(e.vars, "LAMINAR_CACHE_TTL=0", "XDG_CACHE_HOME="+t.TempDir())
	bare := filepath.Join(t.TempDir(), "remote.git")
	e.write("app.yaml", fmt.Sprintf("image: %s/acme/app:develop-1\n", reg.Host()))
	known := srv.knownHosts(t, srv.hostPub)
	e.write("laminar.toml", fmt.Sprintf(`[[registry]]
prefix = "%s/acme"

[[update]]
name = "dev"
pattern = "glob:develop-*"

[git]
known_hosts = %q
`, reg.Host(), known))
	// The key is the machine's, not the repository's: laminar.toml may
	// not name it.
	userConfig := filepath.Join(e.getenv("XDG_CONFIG_HOME"), "git-laminar", "config.toml")
	if err := os.MkdirAll(filepath.Dir(userConfig), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(userConfig, []byte(fmt.Sprintf("[git]\nssh_key = %q\n", srv.userKey)), 0o644); err != nil {
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

	// A key file from [git] and known_hosts checked.
	out, errs, code := e.run("git", "laminar", "run")
	if code != 0 {
		t.Fatalf("run over ssh: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"msg=fetched remote=origin url=" + srv.url(bare), "msg=promoted", "msg=pushed"} {
		if !strings.Contains(errs, want) {
			t.Errorf("log lacks %q:\n%s", want, errs)
		}
	}
	head := strings.TrimSpace(e.must("git", "rev-parse", "HEAD"))
	if got := strings.TrimSpace(e.must("git", "--git-dir", bare, "rev-parse", "main")); got != head {
		t.Fatalf("remote main = %s, want %s", got, head)
	}
	if msg := e.must("git", "--git-dir", bare, "log", "-1", "--format=%B", "main"); !strings.Contains(msg, "develop-1 -> develop-2") {
		t.Errorf("remote commit:\n%s", msg)
	}

	// An unknown host key, then a mismatching one: refused before any
	// authentication, nothing pushed.
	if _, err := registrytest.PushTags(ctx, reg.Host()+"/acme/app", map[string]time.Time{"develop-3": base.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"unknown": "", "mismatch": srv.otherPub} {
		// The user-level file's [git] known_hosts overrides laminar.toml's.
		hosts := filepath.Join(t.TempDir(), "known_hosts")
		line := fmt.Sprintf("[127.0.0.1]:%d %s\n", srv.port, key)
		if key == "" {
			line = "[127.0.0.1]:1 " + srv.hostPub + "\n" // another port: another host
		}
		cfgHome := t.TempDir()
		if err := os.MkdirAll(filepath.Join(cfgHome, "git-laminar"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hosts, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfgHome, "git-laminar", "config.toml"), []byte(fmt.Sprintf("[git]\nssh_key = %q\nknown_hosts = %q\n", srv.userKey, hosts)), 0o644); err != nil {
			t.Fatal(err)
		}
		saved := e.vars
		e.vars = append(append([]string{}, e.vars...), "XDG_CONFIG_HOME="+cfgHome)
		out, errs, code := e.run("git", "laminar", "run")
		e.vars = saved
		t.Logf("%s host key:\n%s", name, errs)
		if code != 2 || !strings.Contains(errs, "host key not trusted") {
			t.Errorf("%s host key: exit %d, want 2 and a refusal\n%s%s", name, code, out, errs)
		}
		if name == "mismatch" && !strings.Contains(errs, "does NOT match") {
			t.Errorf("mismatching host key not called out:\n%s", errs)
		}
		if got := strings.TrimSpace(e.must("git", "--git-dir", bare, "rev-parse", "main")); got != head {
			t.Fatalf("%s host key: remote moved to %s", name, got)
		}
	}

	// The key in an ssh-agent instead of a file.
	agent, err := exec.LookPath("ssh-agent")
	if err != nil {
		t.Logf("no ssh-agent: %v", err)
		return
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ag := exec.Command(agent, "-D", "-a", sock)
	if err := ag.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ag.Process.Kill(); ag.Wait() }()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The socket file appears when the agent binds it, a moment before it
	// listens: retry while the connection is refused.
	for i := 0; ; i++ {
		add := exec.Command("ssh-add", "-q", srv.userKey)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		out, err := add.CombinedOutput()
		if err == nil {
			break
		}
		if i == 50 || !strings.Contains(string(out), "onnection refused") {
			t.Fatalf("ssh-add: %v\n%s", err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Without ssh_key.
	if err := os.Remove(userConfig); err != nil {
		t.Fatal(err)
	}
	e.vars = append(e.vars, "SSH_AUTH_SOCK="+sock)
	out, errs, code = e.run("git", "laminar", "run")
	if code != 0 || !strings.Contains(errs, "msg=pushed") {
		t.Fatalf("run with ssh-agent: exit %d\n%s%s", code, out, errs)
	}
	msg := e.must("git", "--git-dir", bare, "log", "-1", "--format=%B", "main")
	if !strings.Contains(msg, "develop-2 -> develop-3") {
		t.Errorf("remote log:\n%s", msg)
	}
}

func withoutEnv(vars []string, name string) []string {
	var out []string
	for _, v := range vars {
		if !strings.HasPrefix(v, name+"=") {
			out = append(out, v)
		}
	}
	return out
}
