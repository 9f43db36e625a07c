package diff

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// gitEnv runs git isolated from the user's and the system's configuration
// (and from any repository the tests happen to run inside), so that
// colour, quoting, abbreviation and diff options are git's defaults.
func gitEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CEILING_DIRECTORIES="+filepath.Dir(home),
	)
}

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
}

// runGit runs git in dir and returns its standard output. okCodes lists
// exit codes that are not failures (git diff --no-index exits 1 when the
// files differ).
func runGit(t testing.TB, dir, home string, okCodes []int, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		for _, c := range okCodes {
			if exit.ExitCode() == c {
				return stdout.Bytes()
			}
		}
	}
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func uArg(ctx int) string { return fmt.Sprintf("-U%d", ctx) }

// gitNoIndex is `git diff --no-index --no-color --no-ext-diff -U<ctx> old new`.
func gitNoIndex(t testing.TB, old, new []byte, ctx int) []byte {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "old"), old)
	writeFile(t, filepath.Join(dir, "new"), new)
	return runGit(t, dir, dir, []int{1}, "diff", "--no-index", "--no-color", "--no-ext-diff", uArg(ctx), "old", "new")
}

// gitRepo is a scratch repository holding one tracked file.
type gitRepo struct {
	t    testing.TB
	dir  string
	home string
	path string
}

// newGitRepo creates a repository with path tracked (staged) as old.
func newGitRepo(t testing.TB, path string, old []byte) *gitRepo {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, "repo")
	r := &gitRepo{t: t, dir: dir, home: home, path: path}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.git(nil, "init", "-q")
	r.write(old)
	r.git(nil, "add", "--", path)
	return r
}

func (r *gitRepo) git(okCodes []int, args ...string) []byte {
	r.t.Helper()
	return runGit(r.t, r.dir, r.home, okCodes, args...)
}

func (r *gitRepo) write(data []byte) {
	writeFile(r.t, filepath.Join(r.dir, filepath.FromSlash(r.path)), data)
}

func (r *gitRepo) read() []byte {
	r.t.Helper()
	data, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(r.path)))
	if err != nil {
		r.t.Fatal(err)
	}
	return data
}

// diff is `git diff` of the work tree (holding new) against the index
// (holding old): the exact text, headers included, we aim to reproduce.
func (r *gitRepo) diff(new []byte, ctx int, color bool) []byte {
	r.t.Helper()
	r.write(new)
	c := "--no-color"
	if color {
		c = "--color=always"
	}
	return r.git(nil, "diff", c, "--no-ext-diff", uArg(ctx))
}

// apply writes old back to the work tree, applies patch with `git apply`
// and returns the result.
func (r *gitRepo) apply(old, patch []byte, ctx int) []byte {
	r.t.Helper()
	r.write(old)
	pf := filepath.Join(r.home, "patch")
	writeFile(r.t, pf, patch)
	args := []string{"apply"}
	if ctx == 0 {
		args = append(args, "--unidiff-zero")
	}
	r.git(nil, append(args, pf)...)
	return r.read()
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func stripANSI(b []byte) []byte { return ansi.ReplaceAll(b, nil) }

// diffBody drops the header lines (everything before the first hunk or
// binary note), which name the temporary files in a --no-index diff, and
// rewrites the binary note's file names.
func diffBody(b []byte) string {
	s := string(b)
	for s != "" && !strings.HasPrefix(s, "@@") && !strings.HasPrefix(s, "Binary files ") {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return ""
		}
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "Binary files ") {
		return "Binary files differ\n"
	}
	return s
}
