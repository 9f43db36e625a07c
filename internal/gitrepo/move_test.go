package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var mover = Signature{Name: "Laminar", Email: "laminar@example.com", When: testWhen}

// moveFixture makes a repository whose main branch is at "old" and whose
// branch "next" changes, adds, removes and re-modes files, and returns the
// root and both commits.
func moveFixture(t *testing.T, indexVersion string) (root, oldHead, newHead string) {
	t.Helper()
	root = newRepo(t, map[string]string{
		"app.yaml":          "image: app:1\n",
		"gone.yaml":         "image: gone:1\n",
		"deep/dir/keep.txt": "keep\n",
		"run.sh":            "#!/bin/sh\n",
		"other.txt":         "other\n",
		"staged.txt":        "staged\n",
		".gitignore":        "*.log\n",
	})
	if indexVersion != "" {
		git(t, root, "update-index", "--index-version", indexVersion)
	}
	oldHead = git(t, root, "rev-parse", "HEAD")
	git(t, root, "checkout", "-q", "-b", "next")
	writeFile(t, root, "app.yaml", "image: app:2\n")
	writeFile(t, root, "new/sub/added.yaml", "image: added:1\n")
	writeFile(t, root, "run.sh*", "#!/bin/sh\n")
	git(t, root, "rm", "-q", "gone.yaml")
	if err := os.Symlink("app.yaml", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "next")
	newHead = git(t, root, "rev-parse", "HEAD")
	git(t, root, "checkout", "-q", "main")
	if indexVersion != "" {
		git(t, root, "update-index", "--index-version", indexVersion)
	}
	return root, oldHead, newHead
}

func TestMoveBranchTouchesOnlyChangedPaths(t *testing.T) {
	for _, v := range []string{"", "3", "4"} {
		t.Run("index-v"+v, func(t *testing.T) {
			root, oldHead, newHead := moveFixture(t, v)
			// Work of the user that must survive: an untracked file, an
			// ignored file, an unstaged edit and a staged edit elsewhere.
			writeFile(t, root, "notes.md", "untracked\n")
			writeFile(t, root, "debug.log", "ignored\n")
			writeFile(t, root, "other.txt", "edited\n")
			writeFile(t, root, "staged.txt", "staged change\n")
			git(t, root, "add", "staged.txt")
			git(t, root, "update-index", "--assume-unchanged", "deep/dir/keep.txt")

			before, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
			r := open(t, root)
			err := r.MoveBranch(context.Background(), MoveRequest{To: newHead, ExpectHead: oldHead, Reflog: "laminar run: fast-forward", Who: mover})
			if err != nil {
				t.Fatal(err)
			}
			if got := git(t, root, "rev-parse", "HEAD"); got != newHead {
				t.Fatalf("HEAD = %s, want %s", got, newHead)
			}
			if got := git(t, root, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
				t.Fatalf("HEAD is %s", got)
			}
			status := git(t, root, "status", "--porcelain", "--ignored")
			want := []string{"M  staged.txt", " M other.txt", "?? notes.md", "!! debug.log"}
			for _, w := range want {
				if !strings.Contains(status, w) {
					t.Errorf("status lacks %q:\n%s", w, status)
				}
			}
			if n := len(strings.Split(status, "\n")); n != len(want) {
				t.Errorf("status has %d lines, want %d:\n%s", n, len(want), status)
			}
			for p, c := range map[string]string{"app.yaml": "image: app:2\n", "new/sub/added.yaml": "image: added:1\n", "other.txt": "edited\n", "notes.md": "untracked\n"} {
				b, err := os.ReadFile(filepath.Join(root, p))
				if err != nil || string(b) != c {
					t.Errorf("%s = %q, %v; want %q", p, b, err, c)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "gone.yaml")); !os.IsNotExist(err) {
				t.Errorf("gone.yaml still there: %v", err)
			}
			if fi, err := os.Stat(filepath.Join(root, "run.sh")); err != nil || fi.Mode()&0o100 == 0 {
				t.Errorf("run.sh not executable: %v %v", fi.Mode(), err)
			}
			if target, err := os.Readlink(filepath.Join(root, "link")); err != nil || target != "app.yaml" {
				t.Errorf("link -> %q, %v", target, err)
			}
			// The flags git keeps in the index survive; git reads the result.
			if ls := git(t, root, "ls-files", "-v", "deep/dir/keep.txt"); !strings.HasPrefix(ls, "h ") {
				t.Errorf("assume-unchanged lost: %q", ls)
			}
			if after, _ := os.ReadFile(filepath.Join(root, ".git", "index")); string(after[:8]) != string(before[:8]) {
				t.Errorf("index version changed from %d to %d", before[7], after[7])
			}
			git(t, root, "fsck", "--strict", "--no-progress")
			if log := git(t, root, "reflog", "-1", "--format=%gs", "main"); log != "laminar run: fast-forward" {
				t.Errorf("reflog: %q", log)
			}
			// And the stat data written is right: git needs no refresh to
			// see the changed files as clean.
			if out := git(t, root, "diff-files", "--name-only"); out != "other.txt" {
				t.Errorf("diff-files: %q", out)
			}
		})
	}
}

func TestMoveBranchBackwardsAndAcross(t *testing.T) {
	root, oldHead, newHead := moveFixture(t, "")
	git(t, root, "checkout", "-q", "next")
	r := open(t, root)
	// From next back to main's commit: the reverse of every change.
	if err := r.MoveBranch(context.Background(), MoveRequest{To: oldHead, ExpectHead: newHead, Who: mover}); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root)
	if _, err := os.Stat(filepath.Join(root, "new")); !os.IsNotExist(err) {
		t.Errorf("the emptied directory new/ stays: %v", err)
	}
	if got := git(t, root, "rev-parse", "next"); got != oldHead {
		t.Errorf("next = %s", got)
	}
}

func TestMoveBranchRefusesToOverwrite(t *testing.T) {
	cases := map[string]func(t *testing.T, root string){
		"modified": func(t *testing.T, root string) { writeFile(t, root, "app.yaml", "mine\n") },
		"staged": func(t *testing.T, root string) {
			writeFile(t, root, "gone.yaml", "mine\n")
			git(t, root, "add", "gone.yaml")
		},
		"untracked":       func(t *testing.T, root string) { writeFile(t, root, "new/sub/added.yaml", "mine\n") },
		"mode":            func(t *testing.T, root string) { os.Chmod(filepath.Join(root, "app.yaml"), 0o755) },
		"deleted":         func(t *testing.T, root string) { os.Remove(filepath.Join(root, "app.yaml")) },
		"untracked-links": func(t *testing.T, root string) { os.Symlink("/etc", filepath.Join(root, "link")) },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			root, oldHead, newHead := moveFixture(t, "")
			spoil(t, root)
			before := git(t, root, "status", "--porcelain")
			index, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
			r := open(t, root)
			err := r.MoveBranch(context.Background(), MoveRequest{To: newHead, ExpectHead: oldHead, Who: mover})
			if !errors.Is(err, ErrWouldOverwrite) {
				t.Fatalf("err = %v, want ErrWouldOverwrite", err)
			}
			if got := git(t, root, "rev-parse", "HEAD"); got != oldHead {
				t.Errorf("HEAD moved to %s", got)
			}
			if after := git(t, root, "status", "--porcelain"); after != before {
				t.Errorf("status changed:\n%s\nwas:\n%s", after, before)
			}
			if now, _ := os.ReadFile(filepath.Join(root, ".git", "index")); string(now) != string(index) {
				t.Error("index rewritten")
			}
		})
	}
}

func TestMoveBranchCheckAndSet(t *testing.T) {
	root, oldHead, newHead := moveFixture(t, "")
	r := open(t, root)
	err := r.MoveBranch(context.Background(), MoveRequest{To: oldHead, ExpectHead: newHead, Who: mover})
	if !errors.Is(err, ErrHeadMoved) {
		t.Fatalf("err = %v, want ErrHeadMoved", err)
	}
	assertClean(t, root)
}

func TestUpdateRef(t *testing.T) {
	root, oldHead, newHead := moveFixture(t, "")
	r := open(t, root)
	name := "refs/laminar/backup/20261102T100000Z"
	if err := r.UpdateRef(name, newHead, "new", "laminar run: backup", mover); err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "rev-parse", name); got != newHead {
		t.Errorf("%s = %s", name, got)
	}
	if err := r.UpdateRef(name, oldHead, "new", "again", mover); err == nil {
		t.Error("UpdateRef with expect=new overwrote an existing ref")
	}
	if err := r.UpdateRef("refs/../x", oldHead, "", "", mover); err == nil {
		t.Error("bad ref name accepted")
	}
	if h, ok, err := r.ReadRef(name); err != nil || !ok || h != newHead {
		t.Errorf("ReadRef = %s %v %v", h, ok, err)
	}
}

func TestEncodeV4Varint(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 255, 16383, 16384, 1 << 20, 1<<40 + 3} {
		got, w := readV4Varint(appendV4Varint(nil, v))
		if got != v || w != len(appendV4Varint(nil, v)) {
			t.Errorf("%d: round trip %d (%d bytes)", v, got, w)
		}
	}
}
