package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hook writes an executable hook script into the repository's hooks
// directory.
func hook(t *testing.T, root, name, script string) {
	t.Helper()
	p := filepath.Join(root, ".git", "hooks", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// The pre-commit hook sees exactly the tree to be committed, while the
// user's staged change in another path stays staged and uncommitted.
func TestCommitHooksSeeOnlyTheCommit(t *testing.T) {
	root := newRepo(t, map[string]string{"app.yaml": "image: a:1\n", "other.txt": "one\n"})
	out := filepath.Join(t.TempDir(), "seen")
	hook(t, root, "pre-commit", "git diff --cached --name-only HEAD > '"+out+"'\n")
	hook(t, root, "post-commit", "git rev-parse HEAD > '"+out+".post'\n")
	writeFile(t, root, "other.txt", "staged\n")
	git(t, root, "add", "other.txt")
	writeFile(t, root, "app.yaml", "image: a:2\n")

	r := open(t, root)
	hash, err := r.Commit(context.Background(), testRequest("app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "app.yaml\n" {
		t.Errorf("pre-commit saw %q staged, want only app.yaml", b)
	}
	if b, _ := os.ReadFile(out + ".post"); strings.TrimSpace(string(b)) != hash {
		t.Errorf("post-commit saw HEAD %q, want %s", b, hash)
	}
	if got := git(t, root, "diff", "--cached", "--name-only"); got != "other.txt" {
		t.Errorf("staged after commit: %q, want other.txt", got)
	}
	if got := git(t, root, "show", "HEAD:other.txt"); got != "one" {
		t.Errorf("other.txt committed as %q", got)
	}
	if _, err := os.Stat(filepath.Join(r.GitDir, "index.lock")); !os.IsNotExist(err) {
		t.Errorf("index.lock left: %v", err)
	}
}

// A failing hook leaves HEAD and the index as they were; --no-verify
// (NoVerify) skips it.
func TestCommitHookRefuses(t *testing.T) {
	root := newRepo(t, map[string]string{"app.yaml": "image: a:1\n"})
	hook(t, root, "commit-msg", "echo 'no DCO' >&2; exit 1\n")
	writeFile(t, root, "app.yaml", "image: a:2\n")
	r := open(t, root)
	before := git(t, root, "rev-parse", "HEAD")
	_, err := r.Commit(context.Background(), testRequest("app.yaml"))
	var he *HookError
	if !errors.As(err, &he) || he.Hook != "commit-msg" || !strings.Contains(err.Error(), "no DCO") {
		t.Fatalf("err = %v, want the commit-msg hook's refusal with its output", err)
	}
	if got := git(t, root, "rev-parse", "HEAD"); got != before {
		t.Errorf("HEAD moved to %s", got)
	}
	if got := git(t, root, "diff", "--cached", "--name-only"); got != "" {
		t.Errorf("index changed: %q staged", got)
	}
	req := testRequest("app.yaml")
	req.Options.NoVerify = true
	if _, err := r.Commit(context.Background(), req); err != nil {
		t.Fatalf("with NoVerify: %v", err)
	}
}

// RefuseWorktreeHooks refuses core.hooksPath inside the working tree, by
// name, before anything runs.
func TestCommitRefusesWorktreeHooks(t *testing.T) {
	root := newRepo(t, map[string]string{"app.yaml": "image: a:1\n", ".githooks/pre-commit*": "#!/bin/sh\ntouch \"$0.ran\"\n"})
	git(t, root, "config", "core.hooksPath", ".githooks")
	writeFile(t, root, "app.yaml", "image: a:2\n")
	r := open(t, root)
	req := testRequest("app.yaml")
	req.Options.RefuseWorktreeHooks = true
	_, err := r.Commit(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), ".githooks/pre-commit is a file of the working tree") {
		t.Fatalf("err = %v, want a refusal naming the hook", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".githooks", "pre-commit.ran")); err == nil {
		t.Error("the hook ran")
	}
	// Interactively, the user's own configuration is followed.
	if _, err := r.Commit(context.Background(), testRequest("app.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".githooks", "pre-commit.ran")); err != nil {
		t.Error("the hook did not run")
	}
}
