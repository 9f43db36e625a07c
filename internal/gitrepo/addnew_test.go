package gitrepo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUntrackedFiles(t *testing.T) {
	root := newRepo(t, map[string]string{
		"README":         "hi\n",
		".gitignore":     "*.log\n/build/\n",
		"sub/.gitignore": "!keep.log\nlocal.yaml\n",
		"sub/a.yaml":     "a\n",
	})
	writeFile(t, root, "new.yaml", "x\n")
	writeFile(t, root, "debug.log", "x\n")
	writeFile(t, root, "build/out.yaml", "x\n")
	writeFile(t, root, "sub/keep.log", "x\n")
	writeFile(t, root, "sub/local.yaml", "x\n")
	writeFile(t, root, "sub/deep/gen.yaml", "x\n")
	writeFile(t, root, "excluded.txt", "x\n")
	writeFile(t, root, "globally.tmp", "x\n")
	writeFile(t, root, ".git/info/exclude", "excluded.txt\n")
	if err := os.MkdirAll(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "git", "ignore"), []byte("*.tmp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, root, "init", "-q", "nested")
	writeFile(t, root, "nested/file", "x\n")
	if err := os.Symlink("README", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}

	got, err := open(t, root).UntrackedFiles()
	if err != nil {
		t.Fatal(err)
	}
	want := git(t, root, "ls-files", "--others", "--exclude-standard")
	// git lists the nested repository as "nested/"; we leave it out.
	var wantList []string
	for _, l := range strings.Split(want, "\n") {
		if l != "" && !strings.HasSuffix(l, "/") {
			wantList = append(wantList, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(wantList, "\n") {
		t.Errorf("UntrackedFiles:\n%s\ngit ls-files --others --exclude-standard:\n%s", strings.Join(got, "\n"), want)
	}
	if strings.Join(got, " ") != "link new.yaml sub/deep/gen.yaml sub/keep.log" {
		t.Errorf("got %q", got)
	}
}

func TestAddNewThenCommit(t *testing.T) {
	for _, version := range []string{"2", "3", "4"} {
		t.Run("index v"+version, func(t *testing.T) {
			root := newRepo(t, map[string]string{"a.yaml": "a\n", "z/z.yaml": "z\n", "m/keep.yaml": "k\n"})
			git(t, root, "update-index", "--index-version", version)
			writeFile(t, root, "a.yaml", "a2\n")
			writeFile(t, root, "m/gen.yaml", "generated\n")
			writeFile(t, root, "new/dir/out.yaml*", "#!/bin/sh\n")
			// Unrelated work of the user stays as it was.
			writeFile(t, root, "z/z.yaml", "user's change\n")
			writeFile(t, root, "scratch.txt", "mine\n")

			r := open(t, root)
			undo, err := r.AddNew([]string{"m/gen.yaml", "new/dir/out.yaml"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Commit(context.Background(), testRequest("a.yaml", "m/gen.yaml", "new/dir/out.yaml")); err != nil {
				undo()
				t.Fatal(err)
			}
			if got := git(t, root, "show", "--name-status", "--format=", "HEAD"); got != "M\ta.yaml\nA\tm/gen.yaml\nA\tnew/dir/out.yaml" {
				t.Errorf("commit:\n%s", got)
			}
			if got := git(t, root, "ls-tree", "HEAD", "new/dir/out.yaml"); !strings.HasPrefix(got, "100755 ") {
				t.Errorf("mode: %s", got)
			}
			if got := git(t, root, "status", "--porcelain"); got != " M z/z.yaml\n?? scratch.txt" {
				t.Errorf("status:\n%s", got)
			}
			git(t, root, "fsck", "--strict", "--no-progress")
			if got := git(t, root, "diff-index", "--cached", "HEAD"); got != "" {
				t.Errorf("index differs from HEAD:\n%s", got)
			}
		})
	}
}

func TestAddNewUndo(t *testing.T) {
	root := newRepo(t, map[string]string{"a.yaml": "a\n"})
	git(t, root, "update-index", "--index-version", "4")
	writeFile(t, root, "b/new.yaml", "n\n")
	writeFile(t, root, "staged.yaml", "s\n")
	git(t, root, "add", "staged.yaml")
	before := git(t, root, "ls-files", "--stage")
	r := open(t, root)
	undo, err := r.AddNew([]string{"b/new.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "status", "--porcelain"); got != "A  b/new.yaml\nA  staged.yaml" {
		t.Errorf("after AddNew:\n%s", got)
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "ls-files", "--stage"); got != before {
		t.Errorf("index after undo:\n%s\nbefore:\n%s", got, before)
	}
	if got := git(t, root, "status", "--porcelain"); got != "A  staged.yaml\n?? b/" {
		t.Errorf("status after undo:\n%s", got)
	}
}

func TestAddNewRefuses(t *testing.T) {
	root := newRepo(t, map[string]string{"a.yaml": "a\n", "d/x": "x\n"})
	writeFile(t, root, "ok.yaml", "x\n")
	r := open(t, root)
	for _, tc := range []struct{ path, want string }{
		{"a.yaml", "already in the index"},
		{"d", "is a directory in the index"},
		{"missing.yaml", "no such file"},
		{"../outside", ""},
	} {
		if _, err := r.AddNew([]string{"ok.yaml", tc.path}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddNew(%s): %v, want %q", tc.path, err, tc.want)
		}
	}
	if got := git(t, root, "status", "--porcelain"); got != "?? ok.yaml" {
		t.Errorf("a refused AddNew changed the index:\n%s", got)
	}
}
