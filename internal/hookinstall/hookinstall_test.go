package hookinstall

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/hooks"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
)

func isolate(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("GIT_AUTHOR_NAME", "Dana")
	t.Setenv("GIT_AUTHOR_EMAIL", "dana@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "Dana")
	t.Setenv("GIT_COMMITTER_EMAIL", "dana@example.com")
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

func newRepo(t *testing.T) string {
	t.Helper()
	isolate(t)
	root := t.TempDir()
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	git(t, root, "init", "-q", "-b", "main")
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sub", "a.yaml"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "init")
	return root
}

// hooksDir asks our gitrepo for the hooks directory from dir, and checks it
// is where git looks.
func hooksDir(t *testing.T, dir string) string {
	t.Helper()
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.HooksDir()
	if err != nil {
		t.Fatal(err)
	}
	want := git(t, dir, "rev-parse", "--git-path", "hooks")
	if !filepath.IsAbs(want) {
		want = filepath.Join(dir, want)
	}
	if filepath.Clean(want) != got {
		t.Fatalf("HooksDir from %s = %s, git says %s", dir, got, want)
	}
	return got
}

func shim(t *testing.T) []byte {
	t.Helper()
	b, err := hooks.Shim("pre-push")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// one returns a function that takes Install's or Uninstall's results and
// returns the only one, failing the test on an error.
func one(t *testing.T) func([]Result, error) Result {
	t.Helper()
	return func(rs []Result, err error) Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 {
			t.Fatalf("got %d results, want 1", len(rs))
		}
		return rs[0]
	}
}

// gitRunsOurShim runs the pre-push hook through git itself (git hook run),
// with no git-laminar on PATH: our shim answers with its install hint.
func gitRunsOurShim(t *testing.T, dir string) {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	sh, _ := exec.LookPath("sh")
	cmd := exec.Command(gitPath, "hook", "run", "pre-push", "--", "origin", "file:///x")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(gitPath)+string(os.PathListSeparator)+filepath.Dir(sh))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 129 {
		t.Skip("git hook run needs git 2.36")
	}
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "git-laminar is not on PATH") {
		t.Errorf("git hook run pre-push from %s: %v\n%s", dir, err, out)
	}
}

func TestInstallWhereGitLooks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hooksPath func(root string) string
		from      func(t *testing.T, root string) string
	}{
		{"default", nil, func(_ *testing.T, root string) string { return root }},
		{"subdirectory", nil, func(_ *testing.T, root string) string { return filepath.Join(root, "sub") }},
		{"relative hooksPath", func(string) string { return ".githooks" }, func(_ *testing.T, root string) string { return filepath.Join(root, "sub") }},
		{"absolute hooksPath", func(root string) string { return filepath.Join(filepath.Dir(root), "shared-hooks") }, func(_ *testing.T, root string) string { return root }},
		{"linked worktree", nil, func(t *testing.T, root string) string {
			wt := filepath.Join(t.TempDir(), "wt")
			git(t, root, "worktree", "add", "-q", wt)
			return wt
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := newRepo(t)
			if tc.hooksPath != nil {
				git(t, root, "config", "core.hooksPath", tc.hooksPath(root))
			}
			from := tc.from(t, root)
			dir := hooksDir(t, from)
			r := one(t)(Install(dir, Options{}))
			if r.Action != Installed || r.Path != filepath.Join(dir, "pre-push") || r.Backup != "" {
				t.Errorf("Install = %+v", r)
			}
			if got := readFile(t, r.Path); got != string(shim(t)) {
				t.Errorf("installed %q", got)
			}
			if fi, _ := os.Stat(r.Path); fi.Mode().Perm() != 0o755 {
				t.Errorf("mode %v, want 0755", fi.Mode())
			}
			// The main worktree sees the same hook as a linked one.
			if got := hooksDir(t, root); got != dir && tc.name == "linked worktree" {
				t.Errorf("linked worktree installed into %s, main worktree uses %s", dir, got)
			}
			gitRunsOurShim(t, from)

			// Idempotent.
			if r := one(t)(Install(dir, Options{})); r.Action != Unchanged || r.Version != hooks.Version {
				t.Errorf("second Install = %+v", r)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), "laminar-tmp") {
					t.Errorf("left a temporary file %s", e.Name())
				}
			}
			if r := one(t)(Uninstall(dir)); r.Action != Removed || r.Backup != "" {
				t.Errorf("Uninstall = %+v", r)
			}
			if _, err := os.Lstat(filepath.Join(dir, "pre-push")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("hook still there after Uninstall: %v", err)
			}
			if r := one(t)(Uninstall(dir)); r.Action != Absent {
				t.Errorf("Uninstall of nothing = %+v", r)
			}
		})
	}
}

const lfsHook = "#!/bin/sh\ncommand -v git-lfs >/dev/null 2>&1 || { echo >&2 \"git-lfs missing\"; exit 2; }\ngit lfs pre-push \"$@\"\n"

func TestForeignHook(t *testing.T) {
	root := newRepo(t)
	dir := hooksDir(t, root)
	hook := filepath.Join(dir, "pre-push")
	backup := hook + BackupSuffix
	writeFile(t, hook, lfsHook)

	_, err := Install(dir, Options{})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Path != hook || ce.BackupExists || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), hook) {
		t.Fatalf("Install over a foreign hook: %v", err)
	}
	if readFile(t, hook) != lfsHook {
		t.Fatal("the foreign hook was changed")
	}
	// Uninstall leaves it alone.
	if r := one(t)(Uninstall(dir)); r.Action != Kept || readFile(t, hook) != lfsHook {
		t.Fatalf("Uninstall = %+v", r)
	}

	// --force backs it up.
	r := one(t)(Install(dir, Options{Force: true}))
	if r.Action != Installed || r.Backup != backup {
		t.Errorf("forced Install = %+v", r)
	}
	if readFile(t, backup) != lfsHook || readFile(t, hook) != string(shim(t)) {
		t.Error("forced Install did not back up and install")
	}
	if fi, _ := os.Stat(backup); fi.Mode().Perm()&0o100 == 0 {
		t.Error("the backup lost its executable bit")
	}
	// Now ours: a further (forced) install leaves it.
	if r := one(t)(Install(dir, Options{Force: true})); r.Action != Unchanged {
		t.Errorf("Install after force = %+v", r)
	}
	// Uninstall puts the user's hook back.
	r = one(t)(Uninstall(dir))
	if r.Action != Removed || r.Backup != backup || readFile(t, hook) != lfsHook {
		t.Errorf("Uninstall = %+v, hook %q", r, readFile(t, hook))
	}
	if _, err := os.Lstat(backup); !errors.Is(err, os.ErrNotExist) {
		t.Error("backup still there after restoring it")
	}
}

func TestNeverOverwritesABackup(t *testing.T) {
	root := newRepo(t)
	dir := hooksDir(t, root)
	hook := filepath.Join(dir, "pre-push")
	backup := hook + BackupSuffix
	writeFile(t, hook, lfsHook)
	writeFile(t, backup, "#!/bin/sh\necho older\n")
	for _, force := range []bool{false, true} {
		_, err := Install(dir, Options{Force: force})
		var ce *ConflictError
		if !errors.As(err, &ce) || !ce.BackupExists || !strings.Contains(err.Error(), backup) {
			t.Errorf("Install(force=%v): %v", force, err)
		}
	}
	if readFile(t, hook) != lfsHook || readFile(t, backup) != "#!/bin/sh\necho older\n" {
		t.Error("files changed")
	}
}

func TestSymlinkAndEditedShimAreNotOurs(t *testing.T) {
	root := newRepo(t)
	dir := hooksDir(t, root)
	hook := filepath.Join(dir, "pre-push")

	// A symlink to a shared hook, even to one of our shims, is someone's
	// arrangement.
	target := filepath.Join(t.TempDir(), "shared")
	writeFile(t, target, string(shim(t)))
	if err := os.Symlink(target, hook); err != nil {
		t.Fatal(err)
	}
	_, err := Install(dir, Options{})
	var ce *ConflictError
	if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "symbolic link") {
		t.Fatalf("Install over a symlink: %v", err)
	}
	if r := one(t)(Uninstall(dir)); r.Action != Kept {
		t.Errorf("Uninstall of a symlink = %+v", r)
	}
	r := one(t)(Install(dir, Options{Force: true}))
	if fi, err := os.Lstat(hook + BackupSuffix); err != nil || fi.Mode()&os.ModeSymlink == 0 || r.Backup == "" {
		t.Errorf("forced Install did not keep the symlink as the backup: %v", err)
	}
	one(t)(Uninstall(dir))
	if fi, err := os.Lstat(hook); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Uninstall did not restore the symlink: %v", err)
	}
	os.Remove(hook)

	// Our current marker on edited text: the user changed it; keep it.
	edited := string(shim(t)) + "echo extra\n"
	writeFile(t, hook, edited)
	if _, err := Install(dir, Options{}); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "edited") {
		t.Errorf("Install over an edited shim: %v", err)
	}
	if r := one(t)(Uninstall(dir)); r.Action != Kept || readFile(t, hook) != edited {
		t.Errorf("Uninstall of an edited shim = %+v", r)
	}
}

func TestRestoresExecutableBit(t *testing.T) {
	root := newRepo(t)
	dir := hooksDir(t, root)
	r := one(t)(Install(dir, Options{}))
	os.Chmod(r.Path, 0o644)
	if r := one(t)(Install(dir, Options{})); r.Action != Unchanged {
		t.Errorf("Install = %+v", r)
	}
	if fi, _ := os.Stat(r.Path); fi.Mode().Perm()&0o111 != 0o111 {
		t.Errorf("mode %v, want executable", fi.Mode())
	}
}

// playVersion makes Install act as a git-laminar whose shim is version v.
func playVersion(t *testing.T, v int) string {
	t.Helper()
	text := strings.Replace(string(shim(t)), hooks.Marker+"1", hooks.Marker+strconv.Itoa(v), 1) + "# v" + strconv.Itoa(v) + "\n"
	old := current
	current = func(string) ([]byte, int, error) { return []byte(text), v, nil }
	t.Cleanup(func() { current = old })
	return text
}

func TestUpgradeAndNewer(t *testing.T) {
	root := newRepo(t)
	dir := hooksDir(t, root)
	hook := filepath.Join(dir, "pre-push")
	v1 := string(shim(t))
	one(t)(Install(dir, Options{}))

	// A newer git-laminar upgrades our v1 shim, with no backup.
	v2 := playVersion(t, 2)
	r := one(t)(Install(dir, Options{}))
	if r.Action != Upgraded || r.Version != 1 || r.Backup != "" || readFile(t, hook) != v2 {
		t.Errorf("upgrade = %+v, hook %q", r, readFile(t, hook))
	}
	if _, err := os.Lstat(hook + BackupSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Error("upgrade made a backup")
	}

	// An older git-laminar does not downgrade it unless forced.
	current = func(string) ([]byte, int, error) { return []byte(v1), 1, nil }
	r = one(t)(Install(dir, Options{}))
	if r.Action != Newer || r.Version != 2 || readFile(t, hook) != v2 {
		t.Errorf("older install over newer = %+v", r)
	}
	r = one(t)(Install(dir, Options{Force: true}))
	if r.Action != Installed || r.Version != 2 || readFile(t, hook) != v1 || r.Backup != "" {
		t.Errorf("forced downgrade = %+v", r)
	}

	// Uninstall removes our shims of any version.
	writeFile(t, hook, v2)
	if r := one(t)(Uninstall(dir)); r.Action != Removed || r.Version != 2 {
		t.Errorf("Uninstall of a v2 shim = %+v", r)
	}
}
