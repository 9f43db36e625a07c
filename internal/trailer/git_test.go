package trailer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRunner runs the git CLI isolated from the user's and the system's
// configuration (a trailer.* setting there would change what git reads), in
// a directory outside any repository.
type gitRunner struct {
	t   testing.TB
	dir string
	env []string
}

func newGit(t testing.TB) *gitRunner {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	home := t.TempDir()
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue // GIT_DIR and friends from a calling hook must not leak in
		}
		if strings.HasPrefix(kv, "TMPDIR=") || strings.HasPrefix(kv, "SYSTEMROOT=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CEILING_DIRECTORIES="+filepath.Dir(dir),
		"LC_ALL=C",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
	)
	return &gitRunner{t: t, dir: dir, env: env}
}

// run runs git with stdin and returns its stdout; a failure fails the test.
func (g *gitRunner) run(stdin string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// parse is `git interpret-trailers --parse` (with --no-divider unless
// divider), one "Key: value\n" line per trailer.
func (g *gitRunner) parse(message string, divider bool) string {
	g.t.Helper()
	args := []string{"interpret-trailers", "--parse"}
	if !divider {
		args = append(args, "--no-divider")
	}
	return g.run(message, args...)
}

// format writes trailers the way `git interpret-trailers --parse` prints
// them. Keys never hold ':' and parsed values never hold '\n', so equal
// text means equal trailers.
func format(ts []Trailer) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.Key + ": " + t.Value + "\n")
	}
	return b.String()
}
