package gitrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isolate gives the test a git environment of its own: empty HOME and
// XDG_CONFIG_HOME, no system config, no identity or repository variables
// inherited from whoever runs `go test`.
func isolate(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("git not installed")
	}
	tb.Setenv("HOME", tb.TempDir())
	tb.Setenv("XDG_CONFIG_HOME", tb.TempDir())
	tb.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	tb.Setenv("GIT_ATTR_NOSYSTEM", "1")
	tb.Setenv("TZ", "UTC")
	for _, k := range []string{
		"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
		"GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE",
		"EMAIL", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
		"GIT_OBJECT_DIRECTORY", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM",
		"GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_CEILING_DIRECTORIES",
	} {
		tb.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// git runs git in dir and returns its trimmed output, failing the test on
// error.
func git(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	out, err := gitErr(dir, args...)
	if err != nil {
		tb.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gitErr(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return strings.TrimRight(string(out), "\n"), err
}

// newRepo makes a repository with one commit of files (path → content;
// a path ending in "*" is made executable) and returns its root.
func newRepo(tb testing.TB, files map[string]string) string {
	tb.Helper()
	isolate(tb)
	root := tb.TempDir()
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	git(tb, root, "init", "-q", "-b", "main")
	git(tb, root, "config", "user.name", "Repo Owner")
	git(tb, root, "config", "user.email", "owner@example.com")
	if len(files) == 0 {
		files = map[string]string{"README": "hello\n"}
	}
	for p, c := range files {
		writeFile(tb, root, p, c)
	}
	git(tb, root, "add", "-A")
	git(tb, root, "commit", "-q", "-m", "initial")
	return root
}

func writeFile(tb testing.TB, root, p, content string) {
	tb.Helper()
	mode := os.FileMode(0o644)
	if strings.HasSuffix(p, "*") {
		p = strings.TrimSuffix(p, "*")
		mode = 0o755
	}
	full := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(full, mode); err != nil {
		tb.Fatal(err)
	}
}

func open(tb testing.TB, dir string) *Repo {
	tb.Helper()
	r, err := Open(dir)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	return r
}

var testWhen = time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("", 2*3600))

func testRequest(paths ...string) CommitRequest {
	return CommitRequest{
		Paths:     paths,
		Message:   "Bump images\n\nLaminar-Promote: nginx 1.0 -> 1.1\n",
		Author:    Signature{Name: "Laminar Bot", Email: "bot@example.com", When: testWhen},
		Committer: Signature{Name: "Laminar Committer", Email: "committer@example.com", When: testWhen.Add(time.Minute)},
	}
}

// assertClean fails unless `git status --porcelain` is empty and fsck is
// happy.
func assertClean(tb testing.TB, root string) {
	tb.Helper()
	if s := git(tb, root, "status", "--porcelain"); s != "" {
		tb.Errorf("git status --porcelain:\n%s", s)
	}
	git(tb, root, "fsck", "--strict", "--no-progress")
}

// gitRaw runs git in dir and returns its standard output as is, failing
// the test on error.
func gitRaw(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitErrRaw(dir, args...)
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return out
}

func gitErrRaw(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return string(out), err
}

// testFormat is the object format of the repositories newRepo makes: SHA-1,
// or SHA-256 in the run of TestSHA256.
func testFormat() *hashFormat {
	if os.Getenv("LAMINAR_TEST_SHA256") != "" {
		return formatSHA256
	}
	return formatSHA1
}
