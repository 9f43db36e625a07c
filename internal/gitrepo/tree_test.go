package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// gitHooksDir asks git where it runs hooks from dir, as an absolute path.
func gitHooksDir(t *testing.T, dir string) string {
	t.Helper()
	p := git(t, dir, "rev-parse", "--git-path", "hooks")
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}

func TestHooksDir(t *testing.T) {
	root := newRepo(t, map[string]string{"sub/a.yaml": "x\n"})
	wt := filepath.Join(filepath.Dir(root), filepath.Base(root)+"-wt")
	git(t, root, "worktree", "add", "-q", wt)
	t.Cleanup(func() { os.RemoveAll(wt) })
	for _, tc := range []struct {
		name, hooksPath string
	}{
		{"default", ""},
		{"relative", "ci/hooks"},
		{"dot-relative", "./.githooks"},
		{"absolute", filepath.Join(t.TempDir(), "shared-hooks")},
		{"home", "~/hooks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hooksPath == "" {
				gitErr(root, "config", "--unset", "core.hooksPath")
			} else {
				git(t, root, "config", "core.hooksPath", tc.hooksPath)
			}
			for _, dir := range []string{root, filepath.Join(root, "sub"), wt} {
				got, err := open(t, dir).HooksDir()
				if err != nil {
					t.Fatal(err)
				}
				if want := gitHooksDir(t, dir); got != want {
					t.Errorf("from %s: HooksDir = %s, git says %s", dir, got, want)
				}
			}
		})
	}
}

func TestResolveCommitAndTree(t *testing.T) {
	root := newRepo(t, map[string]string{
		"a.yaml":       "image: nginx:1\n",
		"dir/b.yaml":   "b\n",
		"dir/run.sh*":  "#!/bin/sh\n",
		"laminar.toml": "x = 1\n",
	})
	git(t, root, "tag", "-a", "-m", "v1", "v1")
	os.Symlink("a.yaml", filepath.Join(root, "link"))
	git(t, root, "add", "link")
	git(t, root, "commit", "-q", "-m", "link")
	r := open(t, root)

	head := git(t, root, "rev-parse", "HEAD")
	tagObj := git(t, root, "rev-parse", "v1")
	tagged := git(t, root, "rev-parse", "v1^{commit}")
	for rev, want := range map[string]string{"HEAD": head, head: head, "main": head, tagObj: tagged, "v1": tagged, head[:10]: head} {
		got, err := r.ResolveCommit(rev)
		if err != nil || got != want {
			t.Errorf("ResolveCommit(%s) = %s, %v; want %s", rev, got, err, want)
		}
	}
	tree := git(t, root, "rev-parse", "HEAD^{tree}")
	if _, err := r.ResolveCommit(tree); !errors.Is(err, ErrNotCommit) {
		t.Errorf("ResolveCommit(tree) = %v, want ErrNotCommit", err)
	}
	if _, err := r.ResolveCommit(strings.Repeat("ab", testFormat().size)); !errors.Is(err, ErrNoObject) {
		t.Errorf("ResolveCommit(missing) = %v, want ErrNoObject", err)
	}

	files, err := r.TreeFiles("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, fmt.Sprintf("%s %s %s\t%s", f.Mode, "blob", f.Hash, f.Path))
	}
	var want []string
	for _, l := range strings.Split(git(t, root, "ls-tree", "-r", "HEAD"), "\n") {
		if strings.HasPrefix(l, "100") {
			want = append(want, l)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TreeFiles vs git ls-tree (-git +ours):\n%s", diff)
	}

	b, err := r.ReadFile(tagObj, "a.yaml")
	if err != nil || string(b) != "image: nginx:1\n" {
		t.Errorf("ReadFile(v1, a.yaml) = %q, %v", b, err)
	}
	if _, err := r.ReadFile("HEAD", "nope.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want ErrNotExist", err)
	}
	if _, err := r.ReadFile("HEAD", "../x"); err == nil {
		t.Error("ReadFile(../x) succeeded")
	}
}

func TestRevListMatchesGit(t *testing.T) {
	root := newRepo(t, nil)
	commit := func(msg string) string {
		writeFile(t, root, msg, msg+"\n")
		git(t, root, "add", msg)
		git(t, root, "commit", "-q", "-m", msg)
		return git(t, root, "rev-parse", "HEAD")
	}
	base := commit("base")
	commit("main-1")
	git(t, root, "checkout", "-q", "-b", "topic", base)
	commit("topic-1")
	topic2 := commit("topic-2")
	git(t, root, "checkout", "-q", "main")
	git(t, root, "merge", "-q", "--no-ff", "-m", "merge topic", "topic")
	merged := git(t, root, "rev-parse", "HEAD")
	commit("main-2")
	// A commit dated in the past on top: clock skew must not hide it.
	writeFile(t, root, "f", "skew\n")
	git(t, root, "add", "f")
	t.Setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00Z")
	git(t, root, "commit", "-q", "-m", "skewed")
	os.Unsetenv("GIT_COMMITTER_DATE")
	head := git(t, root, "rev-parse", "HEAD")
	git(t, root, "update-ref", "refs/remotes/origin/main", merged)

	r := open(t, root)
	missing := strings.Repeat("cd", testFormat().size)
	for _, tc := range []struct{ include, exclude []string }{
		{[]string{head}, nil},
		{[]string{head}, []string{merged}},
		{[]string{head}, []string{topic2}},
		{[]string{head}, []string{head}},
		{[]string{merged}, []string{head}},
		{[]string{topic2, head}, []string{base}},
		{[]string{head}, []string{missing, base}},
	} {
		got, err := r.RevList(context.Background(), tc.include, tc.exclude)
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"rev-list"}, tc.include...)
		for _, e := range tc.exclude {
			if e != missing {
				args = append(args, "^"+e)
			}
		}
		want := map[string]bool{}
		if out := git(t, root, args...); out != "" {
			for _, h := range strings.Split(out, "\n") {
				want[h] = true
			}
		}
		gotSet := map[string]bool{}
		for _, c := range got {
			gotSet[c.Hash] = true
		}
		if diff := cmp.Diff(want, gotSet); diff != "" {
			t.Errorf("RevList(%v --not %v) vs git (-git +ours):\n%s", tc.include, tc.exclude, diff)
		}
	}
	if _, err := r.RevList(context.Background(), []string{missing}, nil); err == nil {
		t.Error("RevList of a missing include succeeded")
	}

	tips, err := r.RefTips("refs/remotes/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"refs/remotes/origin/main": merged}, tips); diff != "" {
		t.Errorf("RefTips (-want +got):\n%s", diff)
	}
}
