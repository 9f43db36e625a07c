package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wantPaths asks git for the paths it sees from dir.
func wantPaths(t *testing.T, dir string) Repo {
	t.Helper()
	out := strings.Split(git(t, dir, "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"), "\n")
	common := out[2]
	if !filepath.IsAbs(common) {
		common = filepath.Join(dir, common)
	}
	common, _ = filepath.EvalSymlinks(common)
	return Repo{Root: out[0], GitDir: out[1], CommonDir: filepath.Clean(common)}
}

func checkOpen(t *testing.T, dir string) *Repo {
	t.Helper()
	r := open(t, dir)
	want := wantPaths(t, dir)
	got := Repo{Root: r.Root, GitDir: r.GitDir, CommonDir: r.CommonDir}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Repo{})); diff != "" {
		t.Errorf("Open(%s) paths (-git +ours):\n%s", dir, diff)
	}
	return r
}

func TestOpen(t *testing.T) {
	root := newRepo(t, map[string]string{"apps/web/deploy.yaml": "image: nginx:1\n"})
	checkOpen(t, root)
	r := checkOpen(t, filepath.Join(root, "apps", "web"))
	if r.GitDir != r.CommonDir || r.GitDir != filepath.Join(root, ".git") {
		t.Errorf("main worktree: GitDir %s CommonDir %s", r.GitDir, r.CommonDir)
	}
}

func TestOpenNotRepository(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	_, err := Open(dir)
	if !errors.Is(err, ErrNotRepository) {
		t.Fatalf("Open(non-repo) = %v, want ErrNotRepository", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name %s", err, dir)
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, ErrNotRepository) {
		t.Errorf("Open(missing dir) = %v, want ErrNotRepository", err)
	}
}

func TestOpenLinkedWorktree(t *testing.T) {
	root := newRepo(t, map[string]string{"apps/web/deploy.yaml": "image: nginx:1\n"})
	wt := filepath.Join(filepath.Dir(root), filepath.Base(root)+"-wt")
	git(t, root, "worktree", "add", "-q", "-b", "feature", wt)
	t.Cleanup(func() { os.RemoveAll(wt) })

	r := checkOpen(t, filepath.Join(wt, "apps", "web"))
	if r.Root != wt {
		t.Errorf("Root = %s, want %s", r.Root, wt)
	}
	if r.CommonDir != filepath.Join(root, ".git") {
		t.Errorf("CommonDir = %s, want %s", r.CommonDir, filepath.Join(root, ".git"))
	}
	if filepath.Dir(r.GitDir) != filepath.Join(root, ".git", "worktrees") {
		t.Errorf("GitDir = %s, want .git/worktrees/<name>", r.GitDir)
	}
	h, b, err := r.Head()
	if err != nil || b != "feature" || h != git(t, wt, "rev-parse", "HEAD") {
		t.Errorf("Head() = %s, %q, %v", h, b, err)
	}
}

func TestOpenGitFile(t *testing.T) {
	isolate(t)
	base := t.TempDir()
	work, sep := filepath.Join(base, "work"), filepath.Join(base, "store.git")
	git(t, base, "init", "-q", "-b", "main", "--separate-git-dir", sep, work)
	if b, _ := os.ReadFile(filepath.Join(work, ".git")); !strings.HasPrefix(string(b), "gitdir: ") {
		t.Fatalf(".git is not a gitfile: %q", b)
	}
	os.MkdirAll(filepath.Join(work, "sub"), 0o755)
	r := checkOpen(t, filepath.Join(work, "sub"))
	if r.GitDir != sep {
		t.Errorf("GitDir = %s, want %s", r.GitDir, sep)
	}
	if _, _, err := r.Head(); !errors.Is(err, ErrUnbornBranch) {
		t.Errorf("Head() on unborn branch = %v, want ErrUnbornBranch", err)
	}
}

func TestHeadAndReadFileAtHead(t *testing.T) {
	root := newRepo(t, map[string]string{"a/b.yaml": "x: 1\r\n"})
	r := open(t, root)
	h, b, err := r.Head()
	if err != nil || b != "main" || h != git(t, root, "rev-parse", "HEAD") {
		t.Fatalf("Head() = %s, %q, %v", h, b, err)
	}
	writeFile(t, root, "a/b.yaml", "changed\n")
	got, err := r.ReadFile("HEAD", "a/b.yaml")
	if err != nil || string(got) != "x: 1\r\n" {
		t.Errorf("ReadHeadFile = %q, %v", got, err)
	}
	if _, err := r.ReadFile("HEAD", "a/missing"); err == nil {
		t.Error("ReadHeadFile(missing) succeeded")
	}
	for _, bad := range []string{"../x", "/etc/passwd", "a/./b.yaml", ".git/config", `a\b.yaml`} {
		if _, err := r.ReadFile("HEAD", bad); err == nil {
			t.Errorf("ReadHeadFile(%q) succeeded", bad)
		}
	}

	// Packed refs and detached HEAD.
	git(t, root, "pack-refs", "--all")
	if h2, _, err := r.Head(); err != nil || h2 != h {
		t.Errorf("Head() with packed refs = %s, %v", h2, err)
	}
	git(t, root, "checkout", "-q", "--detach")
	if h2, b2, err := r.Head(); err != nil || h2 != h || b2 != "" {
		t.Errorf("Head() detached = %s, %q, %v", h2, b2, err)
	}
}
