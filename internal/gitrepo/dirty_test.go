package gitrepo

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDirty(t *testing.T) {
	root := newRepo(t, map[string]string{
		"clean.yaml": "c\n", "touched.yaml": "t\n", "unstaged.yaml": "u\n", "staged.yaml": "s\n",
		"reverted.yaml": "r\n", "missing.yaml": "m\n", "chmod.yaml": "x\n", "crlf.yaml": "a\r\n",
		"dir/nested.yaml": "n\n", "typechange.yaml": "t\n", "rmcached.yaml": "rc\n",
	})
	writeFile(t, root, "unstaged.yaml", "u2\n")
	writeFile(t, root, "staged.yaml", "s2\n")
	git(t, root, "add", "staged.yaml")
	writeFile(t, root, "reverted.yaml", "r2\n") // staged, then worktree put back
	git(t, root, "add", "reverted.yaml")
	writeFile(t, root, "reverted.yaml", "r\n")
	os.Remove(filepath.Join(root, "missing.yaml"))
	os.Chmod(filepath.Join(root, "chmod.yaml"), 0o755)
	writeFile(t, root, "untracked.yaml", "new\n")
	os.Remove(filepath.Join(root, "typechange.yaml"))
	os.Symlink("clean.yaml", filepath.Join(root, "typechange.yaml"))
	git(t, root, "rm", "-q", "--cached", "rmcached.yaml")
	// Same content, new stat data: not a change.
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(root, "touched.yaml"), future, future)

	all := []string{"clean.yaml", "touched.yaml", "unstaged.yaml", "staged.yaml", "reverted.yaml",
		"missing.yaml", "chmod.yaml", "untracked.yaml", "crlf.yaml", "dir/nested.yaml", "typechange.yaml",
		"rmcached.yaml", "nosuch.yaml", "dir"}
	r := open(t, root)
	got, err := r.Dirty(all)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"unstaged.yaml", "staged.yaml", "reverted.yaml", "missing.yaml", "chmod.yaml",
		"untracked.yaml", "typechange.yaml", "rmcached.yaml", "nosuch.yaml", "dir"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dirty (-want +got):\n%s", diff)
	}

	// git agrees on every path it reports.
	status := git(t, root, "status", "--porcelain", "--untracked-files=all")
	for _, p := range []string{"clean.yaml", "touched.yaml", "crlf.yaml", "dir/nested.yaml"} {
		if containsLine(status, p) {
			t.Errorf("git status reports %s, Dirty does not:\n%s", p, status)
		}
	}

	// core.fileMode=false: the executable bit is not a change, as in git.
	git(t, root, "config", "core.fileMode", "false")
	if got, _ := r.Dirty([]string{"chmod.yaml"}); len(got) != 0 {
		t.Errorf("Dirty with core.fileMode=false = %v", got)
	}

	if _, err := r.Dirty([]string{"../outside"}); err == nil {
		t.Error("Dirty accepted a path outside the working tree")
	}
}

func containsLine(status, p string) bool {
	for _, l := range splitLines(status) {
		if len(l) > 3 && l[3:] == p {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
