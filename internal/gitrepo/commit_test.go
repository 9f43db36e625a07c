package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommitBasic(t *testing.T) {
	root := newRepo(t, map[string]string{
		"apps/web/deploy.yaml": "image: nginx:1.0\n",
		"apps/api/deploy.yaml": "image: api:1.0\n",
		"README":               "hello\n",
	})
	r := open(t, root)
	before := git(t, root, "rev-parse", "HEAD")
	writeFile(t, root, "apps/web/deploy.yaml", "image: nginx:1.1\n")

	req := testRequest("apps/web/deploy.yaml")
	req.ExpectHead = before
	hash, err := r.Commit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "rev-parse", "HEAD"); got != hash {
		t.Errorf("HEAD = %s, Commit returned %s", got, hash)
	}
	if got := git(t, root, "rev-parse", "main"); got != hash {
		t.Errorf("main = %s, want %s", got, hash)
	}
	assertClean(t, root)
	if got := git(t, root, "rev-parse", "HEAD^"); got != before {
		t.Errorf("parent = %s, want %s", got, before)
	}
	if got := git(t, root, "show", "HEAD:apps/web/deploy.yaml"); got != "image: nginx:1.1" {
		t.Errorf("committed content %q", got)
	}
	if got := git(t, root, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"); got != "apps/web/deploy.yaml" {
		t.Errorf("changed paths: %q", got)
	}
	if got := git(t, root, "log", "-1", "--format=%an <%ae> %at|%cn <%ce> %ct %ci"); got !=
		fmt.Sprintf("Laminar Bot <bot@example.com> %d|Laminar Committer <committer@example.com> %d 2024-05-06 07:09:09 +0200", testWhen.Unix(), testWhen.Unix()+60) {
		t.Errorf("signatures: %s", got)
	}
	if got := git(t, root, "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)"); got != "nginx 1.0 -> 1.1" {
		t.Errorf("trailer: %q", got)
	}
	if got := git(t, root, "cat-file", "commit", "HEAD"); !strings.HasSuffix(got, "\n\nBump images\n\nLaminar-Promote: nginx 1.0 -> 1.1") {
		t.Errorf("commit object:\n%s", got)
	}
	if got := git(t, root, "reflog", "-1", "--format=%gs"); got != "commit: Bump images" {
		t.Errorf("reflog: %q", got)
	}
	// Stat data we wrote must be what git would cache: diff-files does not
	// refresh the index, so a wrong stat shows up as a change.
	git(t, root, "diff-files", "--quiet")

	// Committing the same content again is refused.
	if _, err := r.Commit(context.Background(), testRequest("apps/web/deploy.yaml")); !errors.Is(err, ErrNothingToCommit) {
		t.Errorf("second Commit = %v, want ErrNothingToCommit", err)
	}
}

func TestCommitKeepsUserChanges(t *testing.T) {
	root := newRepo(t, map[string]string{
		"ours.yaml":    "image: a:1\n",
		"staged.yaml":  "s: 1\n",
		"working.yaml": "w: 1\n",
		"both.yaml":    "b: 1\n",
		"sub/new":      "x\n",
	})
	r := open(t, root)
	writeFile(t, root, "staged.yaml", "s: 2\n")
	git(t, root, "add", "staged.yaml")
	writeFile(t, root, "working.yaml", "w: 2\n")
	writeFile(t, root, "both.yaml", "b: 2\n")
	git(t, root, "add", "both.yaml")
	writeFile(t, root, "both.yaml", "b: 3\n")
	writeFile(t, root, "untracked.txt", "u\n")
	writeFile(t, root, "added.yaml", "new\n")
	git(t, root, "add", "added.yaml")
	git(t, root, "rm", "-q", "--cached", "sub/new")

	statusBefore := git(t, root, "status", "--porcelain")
	cachedBefore := git(t, root, "diff", "--cached")
	worktreeBefore := git(t, root, "diff")

	writeFile(t, root, "ours.yaml", "image: a:2\n")
	if _, err := r.Commit(context.Background(), testRequest("ours.yaml")); err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "status", "--porcelain"); got != statusBefore {
		t.Errorf("status after commit:\n%s\nbefore:\n%s", got, statusBefore)
	}
	if got := git(t, root, "diff", "--cached"); got != cachedBefore {
		t.Errorf("staged changes altered:\n%s\nbefore:\n%s", got, cachedBefore)
	}
	if got := git(t, root, "diff"); got != worktreeBefore {
		t.Errorf("unstaged changes altered:\n%s\nbefore:\n%s", got, worktreeBefore)
	}
	if got := git(t, root, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"); got != "ours.yaml" {
		t.Errorf("commit touched %q", got)
	}
	git(t, root, "fsck", "--strict", "--no-progress")
}

func TestCommitBytesAndModes(t *testing.T) {
	root := newRepo(t, map[string]string{
		"crlf.yaml":  "a: 1\r\nb: 2\r\n",
		"run.sh*":    "#!/bin/sh\necho 1\n",
		"plain.yaml": "x: 1\n",
		"bom.yaml":   "\ufeffimage: a:1 \n",
	})
	r := open(t, root)
	writeFile(t, root, "crlf.yaml", "a: 1\r\nb: 3\r\n")
	writeFile(t, root, "run.sh*", "#!/bin/sh\necho 2\n")
	writeFile(t, root, "bom.yaml", "\ufeffimage: a:2 \n")
	os.Chmod(filepath.Join(root, "plain.yaml"), 0o755) // mode-only change

	if _, err := r.Commit(context.Background(), testRequest("crlf.yaml", "run.sh", "bom.yaml", "plain.yaml")); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root)
	for p, want := range map[string]string{"crlf.yaml": "a: 1\r\nb: 3\r\n", "bom.yaml": "\ufeffimage: a:2 \n"} {
		if got := gitRaw(t, root, "cat-file", "blob", "HEAD:"+p); got != want {
			t.Errorf("%s committed as %q, want %q", p, got, want)
		}
	}
	ls := git(t, root, "ls-tree", "HEAD")
	for _, want := range []string{"100755 blob", "\trun.sh", "100644 blob"} {
		if !strings.Contains(ls, want) {
			t.Errorf("ls-tree missing %q:\n%s", want, ls)
		}
	}
	if !strings.Contains(git(t, root, "ls-tree", "HEAD", "plain.yaml"), "100755") {
		t.Errorf("mode change of plain.yaml not committed")
	}
}

func TestCommitRefusesConversions(t *testing.T) {
	tests := []struct {
		name       string
		attributes string
		autocrlf   string
		content    string
		wantErr    string // "" means the commit succeeds
	}{
		{name: "no rules, CRLF", content: "a\r\n"},
		{name: "text=auto, LF", attributes: "* text=auto\n", content: "a\n"},
		{name: "text=auto, CRLF", attributes: "* text=auto\n", content: "a\r\n", wantErr: "text=auto"},
		{name: "eol=lf, CRLF", attributes: "*.yaml text eol=lf\n", content: "a\r\n", wantErr: "eol=lf"},
		{name: "eol=crlf, LF", attributes: "*.yaml eol=crlf\n", content: "a\n"},
		{name: "-text, CRLF", attributes: "* text=auto\n*.yaml -text\n", content: "a\r\n"},
		{name: "binary, CRLF", attributes: "* text\n*.yaml binary\n", content: "a\r\n"},
		{name: "macro, CRLF", attributes: "[attr]manifest text\n*.yaml manifest\n", content: "a\r\n", wantErr: "attribute text"},
		{name: "filter", attributes: "*.yaml filter=lfs diff=lfs merge=lfs -text\n", content: "a\n", wantErr: "filter=lfs"},
		{name: "filter unset", attributes: "* filter=lfs\n*.yaml !filter\n", content: "a\n"},
		{name: "ident", attributes: "*.yaml ident\n", content: "$Id$\n", wantErr: "ident"},
		{name: "encoding", attributes: "*.yaml working-tree-encoding=ISO-8859-1\n", content: "a\n", wantErr: "working-tree-encoding"},
		{name: "autocrlf, CRLF", autocrlf: "true", content: "a\r\n", wantErr: "core.autocrlf=true"},
		{name: "autocrlf input, LF", autocrlf: "input", content: "a\n"},
		{name: "autocrlf but -text", autocrlf: "true", attributes: "*.yaml -text\n", content: "a\r\n"},
		{name: "deeper file wins", attributes: "*.yaml -text\n", content: "a\r\n", wantErr: "attribute text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := newRepo(t, map[string]string{"dir/f.yaml": "old\n"})
			if tc.attributes != "" {
				writeFile(t, root, ".gitattributes", tc.attributes)
				if tc.name == "deeper file wins" {
					writeFile(t, root, "dir/.gitattributes", "*.yaml text\n")
				}
				git(t, root, "add", "-A")
				git(t, root, "commit", "-q", "-m", "attributes")
			}
			if tc.autocrlf != "" {
				git(t, root, "config", "core.autocrlf", tc.autocrlf)
			}
			r := open(t, root)
			head := git(t, root, "rev-parse", "HEAD")
			writeFile(t, root, "dir/f.yaml", tc.content)
			_, err := r.Commit(context.Background(), testRequest("dir/f.yaml"))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Commit: %v", err)
				}
				// What we committed is what git would commit.
				if got, want := git(t, root, "rev-parse", "HEAD:dir/f.yaml"), gitHashObject(t, root, "dir/f.yaml"); got != want {
					t.Errorf("committed blob %s, git would store %s", got, want)
				}
				assertClean(t, root)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "dir/f.yaml") {
				t.Fatalf("Commit error = %v, want one naming dir/f.yaml and %q", err, tc.wantErr)
			}
			if got := git(t, root, "rev-parse", "HEAD"); got != head {
				t.Errorf("HEAD moved on refusal")
			}
			if _, err := os.Stat(filepath.Join(root, ".git", "index.lock")); err == nil {
				t.Errorf("index.lock left behind")
			}
		})
	}
}

// gitHashObject is the blob git would store for a working tree file,
// with its clean conversions applied.
func gitHashObject(t *testing.T, root, p string) string {
	return git(t, root, "hash-object", "--path", p, p)
}

func TestCommitFromLinkedWorktreeSubdir(t *testing.T) {
	root := newRepo(t, map[string]string{"apps/web/deploy.yaml": "image: nginx:1.0\n"})
	mainHead := git(t, root, "rev-parse", "HEAD")
	wt := filepath.Join(filepath.Dir(root), filepath.Base(root)+"-wt")
	git(t, root, "worktree", "add", "-q", "-b", "feature", wt)
	t.Cleanup(func() { os.RemoveAll(wt) })

	r := open(t, filepath.Join(wt, "apps", "web"))
	writeFile(t, wt, "apps/web/deploy.yaml", "image: nginx:1.1\n")
	hash, err := r.Commit(context.Background(), testRequest("apps/web/deploy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "rev-parse", "feature"); got != hash {
		t.Errorf("feature = %s, want %s", got, hash)
	}
	if got := git(t, root, "rev-parse", "main"); got != mainHead {
		t.Errorf("main moved to %s", got)
	}
	assertClean(t, wt)
	assertClean(t, root)
	if got := git(t, wt, "reflog", "-1", "--format=%gs"); got != "commit: Bump images" {
		t.Errorf("worktree HEAD reflog: %q", got)
	}
	git(t, wt, "diff-files", "--quiet")
}

func TestCommitHeadMoved(t *testing.T) {
	root := newRepo(t, map[string]string{"a.yaml": "a: 1\n", "b.yaml": "b: 1\n"})
	r := open(t, root)
	expect := git(t, root, "rev-parse", "HEAD")
	// Someone commits meanwhile.
	writeFile(t, root, "b.yaml", "b: 2\n")
	git(t, root, "commit", "-q", "-am", "other")
	moved := git(t, root, "rev-parse", "HEAD")
	indexBefore, _ := os.ReadFile(filepath.Join(root, ".git", "index"))

	writeFile(t, root, "a.yaml", "a: 2\n")
	req := testRequest("a.yaml")
	req.ExpectHead = expect
	_, err := r.Commit(context.Background(), req)
	if !errors.Is(err, ErrHeadMoved) || !strings.Contains(err.Error(), "branch main") {
		t.Fatalf("Commit = %v, want ErrHeadMoved naming branch main", err)
	}
	if got := git(t, root, "rev-parse", "HEAD"); got != moved {
		t.Errorf("HEAD = %s, want %s", got, moved)
	}
	if indexAfter, _ := os.ReadFile(filepath.Join(root, ".git", "index")); string(indexAfter) != string(indexBefore) {
		t.Errorf("index changed on refusal")
	}
	for _, lock := range []string{"index.lock", "refs/heads/main.lock", "HEAD.lock"} {
		if _, err := os.Stat(filepath.Join(root, ".git", lock)); err == nil {
			t.Errorf("%s left behind", lock)
		}
	}
	// A held ref lock (a git process in the middle of an update) is respected.
	os.WriteFile(filepath.Join(root, ".git", "refs", "heads", "main.lock"), nil, 0o644)
	req.ExpectHead = moved
	if _, err := r.Commit(context.Background(), req); err == nil || !strings.Contains(err.Error(), "main.lock") {
		t.Errorf("Commit with main.lock held = %v", err)
	}
	os.Remove(filepath.Join(root, ".git", "refs", "heads", "main.lock"))
	if _, err := r.Commit(context.Background(), req); err != nil {
		t.Errorf("Commit after lock released: %v", err)
	}
	assertClean(t, root)
}

func TestCommitDetachedAndUnborn(t *testing.T) {
	root := newRepo(t, map[string]string{"a.yaml": "a: 1\n"})
	git(t, root, "checkout", "-q", "--detach")
	mainHead := git(t, root, "rev-parse", "main")
	r := open(t, root)
	writeFile(t, root, "a.yaml", "a: 2\n")
	hash, err := r.Commit(context.Background(), testRequest("a.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "rev-parse", "HEAD"); got != hash {
		t.Errorf("HEAD = %s, want %s", got, hash)
	}
	if got := git(t, root, "rev-parse", "main"); got != mainHead {
		t.Errorf("main moved")
	}
	if _, err := gitErr(root, "symbolic-ref", "-q", "HEAD"); err == nil {
		t.Errorf("HEAD is no longer detached")
	}
	assertClean(t, root)

	git(t, root, "checkout", "-q", "--orphan", "fresh")
	if _, err := r.Commit(context.Background(), testRequest("a.yaml")); !errors.Is(err, ErrUnbornBranch) {
		t.Errorf("Commit on unborn branch = %v, want ErrUnbornBranch", err)
	}
}

func TestCommitRejects(t *testing.T) {
	root := newRepo(t, map[string]string{"a.yaml": "a: 1\n", "link": "", "conflict.yaml": "c: 0\n"})
	os.Remove(filepath.Join(root, "link"))
	os.Symlink("a.yaml", filepath.Join(root, "link"))
	git(t, root, "add", "link")
	git(t, root, "commit", "-q", "-m", "link")
	writeFile(t, root, "untracked.yaml", "u\n")
	writeFile(t, root, "ita.yaml", "i\n")
	git(t, root, "add", "-N", "ita.yaml")
	r := open(t, root)
	ctx := context.Background()
	for p, want := range map[string]string{
		"untracked.yaml": "not tracked",
		"ita.yaml":       "git add -N",
		"link":           "not a regular file",
		"missing.yaml":   "not tracked",
		"../a.yaml":      "inside the working tree",
	} {
		if _, err := r.Commit(ctx, testRequest(p)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Commit(%s) = %v, want %q", p, err, want)
		}
	}
	os.Remove(filepath.Join(root, "a.yaml"))
	if _, err := r.Commit(ctx, testRequest("a.yaml")); err == nil {
		t.Errorf("Commit(deleted file) succeeded")
	}
	git(t, root, "checkout", "-q", "a.yaml")
	bad := testRequest("a.yaml")
	bad.Message = " \n\n"
	if _, err := r.Commit(ctx, bad); err == nil {
		t.Error("empty message accepted")
	}
	bad = testRequest("a.yaml")
	bad.Author.Email = "x>y"
	if _, err := r.Commit(ctx, bad); err == nil {
		t.Error("bad email accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	writeFile(t, root, "a.yaml", "a: 2\n")
	if _, err := r.Commit(cctx, testRequest("a.yaml")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Commit = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".git", "index.lock")); err == nil {
		t.Error("index.lock left behind")
	}

	// Conflicted path.
	git(t, root, "checkout", "-q", "-b", "side")
	writeFile(t, root, "conflict.yaml", "c: side\n")
	git(t, root, "commit", "-q", "-am", "side")
	git(t, root, "checkout", "-q", "main")
	writeFile(t, root, "conflict.yaml", "c: main\n")
	git(t, root, "commit", "-q", "-m", "main", "conflict.yaml")
	gitErr(root, "merge", "side")
	if _, err := r.Commit(ctx, testRequest("conflict.yaml")); err == nil || !strings.Contains(err.Error(), "merge is in progress") {
		t.Errorf("Commit during merge = %v", err)
	}
	os.Remove(filepath.Join(root, ".git", "MERGE_HEAD"))
	if _, err := r.Commit(ctx, testRequest("conflict.yaml")); err == nil || !strings.Contains(err.Error(), "unresolved merge conflicts") {
		t.Errorf("Commit(conflicted) = %v", err)
	}
}

func TestCommitRespectsIndexLock(t *testing.T) {
	root := newRepo(t, map[string]string{"a.yaml": "a: 1\n"})
	r := open(t, root)
	writeFile(t, root, "a.yaml", "a: 2\n")
	lock := filepath.Join(root, ".git", "index.lock")
	os.WriteFile(lock, []byte("held by git"), 0o644)
	head := git(t, root, "rev-parse", "HEAD")
	if _, err := r.Commit(context.Background(), testRequest("a.yaml")); err == nil || !strings.Contains(err.Error(), "index.lock") {
		t.Fatalf("Commit with index.lock held = %v", err)
	}
	if b, _ := os.ReadFile(lock); string(b) != "held by git" {
		t.Error("someone else's index.lock was touched")
	}
	if git(t, root, "rev-parse", "HEAD") != head {
		t.Error("HEAD moved")
	}
}
