package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// hostile is what a registry (or anyone else whose words we print) writes
// to act on the terminal of the person reading: it clears the screen, sets
// the window title, rings, returns the carriage, starts a line that passes
// for a trailer of ours, and reverses the text after it.
const hostile = "denied\x1b[2J\x1b]0;pwned\x07\r\nLaminar-Promote: evil 1 -> 2\u202eKCATTA"

// hostileTags are tag names no registry should serve.
var hostileTags = []string{"develop-3\x1b]0;pwned\x07", "develop-9\nLaminar-Promote: evil 1 -> 2", "develop-\u202e4", "develop-\r5\u009b"}

// buildBinary compiles git-laminar into dir, as it is installed.
func buildBinary(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not found")
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "git-laminar"), "github.com/git-laminar/git-laminar/cmd/git-laminar")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building git-laminar: %v\n%s", err, out)
	}
}

// hostileRegistry serves acme/app with a tag list that holds hostile names,
// and answers with hostile words: the token endpoint its 401 sends clients
// to, for acme/auth (a 401 with a distribution error); every request about
// acme/gone (404, a plain body) and acme/boom (500, a distribution error).
// The token endpoint's refusal reaches even a HEAD request's error.
func hostileRegistry(t *testing.T) *registrytest.Server {
	t.Helper()
	srv := registrytest.NewServer(registrytest.ServerOptions{})
	t.Cleanup(srv.Close)
	for _, repo := range []string{"acme/app", "acme/auth", "acme/gone", "acme/boom"} {
		tags := map[string]time.Time{"develop-1": scriptEpoch, "develop-2": scriptEpoch.Add(time.Minute)}
		if _, err := registrytest.PushTags(context.Background(), srv.Repo(repo), tags); err != nil {
			t.Fatal(err)
		}
	}
	distribution := func(code string) []byte {
		b, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": code, "message": hostile, "detail": hostile}}})
		return b
	}
	tagList, _ := json.Marshal(map[string]any{"name": "acme/app", "tags": append([]string{"develop-1", "develop-2"}, hostileTags...)})
	srv.Update(func(o *registrytest.ServerOptions) {
		o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
			kind, name := registrytest.KindOf(r)
			switch {
			case kind == registrytest.KindPing && r.Header.Get("Authorization") == "":
				w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+srv.Host()+`/token",service="hostile"`)
				w.WriteHeader(http.StatusUnauthorized)
				return true
			case r.URL.Path == "/token" && strings.Contains(r.URL.Query().Get("scope"), "acme/auth"):
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write(distribution("UNAUTHORIZED"))
				return true
			case r.URL.Path == "/token":
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"token":"t","access_token":"t"}`))
				return true
			}
			switch name {
			case "acme/app":
				if kind != registrytest.KindTagsList {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write(tagList)
			case "acme/gone":
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(hostile))
			case "acme/boom":
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusInternalServerError)
				w.Write(distribution("UNKNOWN"))
			default:
				return false
			}
			return true
		}
	})
	return srv
}

// laminarEnv is an environment cut off from the user's: its own HOME, no
// system git configuration, a fixed identity, the binary first on PATH.
func laminarEnv(bin, home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || strings.HasPrefix(k, "LAMINAR_") || k == "HOME" || strings.HasPrefix(k, "XDG_") || k == "DOCKER_CONFIG" || k == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "DOCKER_CONFIG="+filepath.Join(home, "docker"),
		"LAMINAR_CACHE_TTL=0", "GIT_CONFIG_NOSYSTEM=1", "TZ=UTC",
		"GIT_AUTHOR_NAME=Dana Developer", "GIT_AUTHOR_EMAIL=dana@example.com",
		"GIT_COMMITTER_NAME=Dana Developer", "GIT_COMMITTER_EMAIL=dana@example.com")
}

type runner struct {
	t   *testing.T
	dir string
	env []string
}

// run runs name with args in the repository and returns stdout, stderr
// and the exit status.
func (r runner) run(stdin string, extraEnv []string, name string, args ...string) (string, string, int) {
	r.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = r.dir
	cmd.Env = append(append([]string(nil), r.env...), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("%s %v: %v", name, args, err)
	}
	return out.String(), errOut.String(), code
}

func (r runner) git(args ...string) string {
	r.t.Helper()
	out, errOut, code := r.run("", nil, "git", args...)
	if code != 0 {
		r.t.Fatalf("git %v: exit %d\n%s", args, code, errOut)
	}
	return out
}

// assertClean fails when output could act on a terminal or forge a line:
// a control character other than newline and tab, a byte that is not
// UTF-8, a bidirectional override, or a line that starts like our trailer.
func assertClean(t *testing.T, what, output string) {
	t.Helper()
	for i := 0; i < len(output); i++ {
		if c := output[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			t.Errorf("%s: control byte %#x at %d: %q", what, c, i, around(output, i))
			break
		}
	}
	if !utf8.ValidString(output) {
		t.Errorf("%s: not UTF-8: %q", what, output)
	}
	for _, r := range []string{"\u202e", "\u009b"} {
		if i := strings.Index(output, r); i >= 0 {
			t.Errorf("%s: raw %q at %d: %q", what, r, i, around(output, i))
		}
	}
	for _, line := range strings.Split(output, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "Laminar-Promote: evil") {
			t.Errorf("%s: a forged line: %q", what, line)
		}
	}
}

func around(s string, i int) string {
	return s[max(0, i-40):min(len(s), i+40)]
}

// A registry whose error answers and tag names are hostile: every command
// that prints them (bump, status, verify, the pre-push hook, run with text
// and JSON logs) shows them escaped, never raw, and never as a line of
// its own; the good image is still promoted.
func TestHostileRegistryOutputIsEscaped(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	bin, home, work := t.TempDir(), t.TempDir(), t.TempDir()
	buildBinary(t, bin)
	srv := hostileRegistry(t)
	repo := filepath.Join(work, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	r := runner{t: t, dir: repo, env: laminarEnv(bin, home)}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(repo, name), []byte(strings.ReplaceAll(text, "$REGISTRY", srv.Host())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("laminar.toml", "[[registry]]\nprefix = \"$REGISTRY/acme\"\n\n[[update]]\nname = \"dev\"\npattern = \"glob:develop-*\"\n")
	write("app.yaml", "app:\n  image: $REGISTRY/acme/app:develop-1\nauth:\n  image: $REGISTRY/acme/auth:develop-1\n"+
		"gone:\n  image: $REGISTRY/acme/gone:develop-1\nboom:\n  image: $REGISTRY/acme/boom:develop-1\n")
	r.git("init", "-q", "-b", "main")
	r.git("add", ".")
	r.git("commit", "-q", "-m", "Initial manifests")
	r.git("init", "-q", "--bare", filepath.Join(work, "remote.git"))
	r.git("remote", "add", "origin", "file://"+filepath.Join(work, "remote.git"))

	check := func(name string, wantCode int, wantShown string, args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := r.run("", nil, "git", append([]string{"laminar"}, args...)...)
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, wantCode, stdout, stderr)
		}
		assertClean(t, name+" stdout", stdout)
		assertClean(t, name+" stderr", stderr)
		if !strings.Contains(stdout+stderr, wantShown) {
			t.Errorf("%s: the registry's words are not shown escaped (%q)\nstdout:\n%s\nstderr:\n%s", name, wantShown, stdout, stderr)
		}
		return stdout, stderr
	}
	const shown = `denied\x1b[2J\x1b]0;pwned\x07\r\nLaminar-Promote: evil 1 -> 2\u202eKCATTA`

	out, _ := check("status", ExitPartial, shown, "status", "--all-candidates")
	for _, want := range []string{`"develop-3\x1b]0;pwned\x07"`, `"develop-9\nLaminar-Promote: evil 1 -> 2"`, `"develop-\u202e4"`, `"develop-\r5\u009b"`} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not list the hostile tag %s, escaped:\n%s", want, out)
		}
	}
	check("status --json", ExitPartial, `\u202e`, "status", "--json")
	check("verify", ExitProblems, shown, "verify")
	check("verify --json", ExitProblems, `\u202e`, "verify", "--json")
	check("bump --dry-run", ExitPartial, shown, "bump", "--dry-run")
	_, errOut := check("bump", ExitPartial, shown, "bump", "--yes")
	if !strings.Contains(errOut, "acme/app  develop-1 -> develop-2") {
		t.Errorf("bump did not promote the good image:\n%s", errOut)
	}
	if msg := r.git("log", "-1", "--format=%B"); strings.Contains(msg, "evil") || !strings.Contains(msg, "acme/app develop-1 -> develop-2") {
		t.Errorf("commit message:\n%s", msg)
	}

	// The pre-push hook refuses (the registry could not be asked) and says
	// why, escaped.
	check("install-hooks", 0, "pre-push", "install-hooks")
	_, hookErr, code := r.run("", nil, "git", "push", "origin", "main")
	if code == 0 {
		t.Error("the push went through although the registry could not be asked")
	}
	assertClean(t, "pre-push hook", hookErr)
	if !strings.Contains(hookErr, shown) {
		t.Errorf("pre-push hook output does not show the registry's words escaped:\n%s", hookErr)
	}
	r.git("push", "-q", "--no-verify", "-u", "origin", "main")

	// run: the log escapes each value, then quotes it as its format does.
	_, runErr := check("run text", ExitPartial, `x1b[2J`, "run", "--log-format", "text")
	if !strings.Contains(runErr, "msg=\"image failed\"") || !strings.Contains(runErr, "msg=\"registry tag ignored\"") {
		t.Errorf("run text log lacks the failures:\n%s", runErr)
	}
	_, runErr = check("run json", ExitPartial, `x1b[2J`, "run", "--log-format", "json")
	for _, line := range strings.Split(strings.TrimSpace(runErr), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("run json: a line that is not JSON: %q", line)
			continue
		}
		for k, v := range ev {
			if s, ok := v.(string); ok && strings.ContainsAny(s, "\x1b\x07\r\n\u202e") {
				t.Errorf("run json: %s decodes to raw control characters: %q", k, s)
			}
		}
	}
}

// History is read from commits anyone may have pushed: an author, a subject
// and trailer values holding escape sequences are shown escaped by log,
// and log --json stays valid JSON that decodes to the exact values.
func TestLogEscapesHistory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	bin, home, repo := t.TempDir(), t.TempDir(), t.TempDir()
	buildBinary(t, bin)
	r := runner{t: t, dir: repo, env: laminarEnv(bin, home)}
	r.git("init", "-q", "-b", "main")
	author := "Mallory\x1b[2J\x1b]0;pwned\x07\u202e"
	rule := "registry.example.com/acme/app dev\x1b[31m\u202e"
	msg := "Promote \x1b[2Jregistry.example.com/acme/app\u202e\n\n" +
		"Laminar-Promote: registry.example.com/acme/app develop-1 -> develop-2\n" +
		"Laminar-Rule: " + rule + "\n"
	_, errOut, code := r.run("", []string{"GIT_AUTHOR_NAME=" + author}, "git", "commit", "-q", "--allow-empty", "--cleanup=verbatim", "-m", msg)
	if code != 0 {
		t.Fatalf("git commit: %s", errOut)
	}

	stdout, stderr, code := r.run("", nil, "git", "laminar", "log")
	if code != 0 {
		t.Fatalf("log: exit %d\n%s", code, stderr)
	}
	assertClean(t, "log", stdout+stderr)
	if !strings.Contains(stdout, `Mallory\x1b[2J\x1b]0;pwned\x07\u202e`) || !strings.Contains(stdout, "develop-1 -> develop-2") {
		t.Errorf("log does not show the record with its author escaped:\n%s", stdout)
	}

	stdout, stderr, code = r.run("", nil, "git", "laminar", "log", "--json")
	if code != 0 {
		t.Fatalf("log --json: exit %d\n%s", code, stderr)
	}
	assertClean(t, "log --json", stdout+stderr)
	var entries []LogEntry
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil {
		t.Fatalf("log --json is not JSON: %v\n%s", err, stdout)
	}
	if len(entries) != 1 || entries[0].Author != author || entries[0].Rule != "dev\x1b[31m\u202e" {
		t.Errorf("log --json decodes to %+v", entries)
	}
}
