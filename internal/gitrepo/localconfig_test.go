package gitrepo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocalConfig(t *testing.T) {
	root := newRepo(t, nil)
	git(t, root, "config", "--local", "laminar.other", "x")
	git(t, root, "config", "--local", "core.comment-test", "y")
	path := filepath.Join(root, ".git", "config")
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("# a comment of the user\n[remote \"origin\"]\n\turl = /tmp/x\n")
	f.Close()

	r := open(t, root)
	const h1 = "sha256:0123abcd"
	const h2 = "sha256:ffff"
	for _, v := range []string{h1, h2, h1} {
		if err := r.AddLocalConfig("laminar.trusted", v); err != nil {
			t.Fatal(err)
		}
	}
	if got := git(t, root, "config", "--get-all", "laminar.trusted"); got != h1+"\n"+h2 {
		t.Errorf("git config --get-all: %q", got)
	}
	if got := git(t, root, "config", "laminar.other"); got != "x" {
		t.Errorf("laminar.other %q", got)
	}
	vals, err := r.LocalConfig("laminar.trusted")
	if err != nil || strings.Join(vals, ",") != h1+","+h2 {
		t.Errorf("LocalConfig: %q %v", vals, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "# a comment of the user") || !strings.Contains(string(data), "url = /tmp/x") {
		t.Errorf("file lost text:\n%s", data)
	}

	n, err := r.UnsetLocalConfig("laminar.trusted", func(v string) bool { return v != h1 })
	if err != nil || n != 1 {
		t.Fatalf("unset: %d %v", n, err)
	}
	if got := git(t, root, "config", "--get-all", "laminar.trusted"); got != h2 {
		t.Errorf("after unset: %q", got)
	}
	if n, err := r.UnsetLocalConfig("laminar.trusted", nil); err != nil || n != 1 {
		t.Fatalf("unset all: %d %v", n, err)
	}
	if out, err := gitErr(root, "config", "--get-all", "laminar.trusted"); err == nil {
		t.Errorf("still set: %q", out)
	}
	if vals, _ := r.LocalConfig("laminar.trusted"); len(vals) != 0 {
		t.Errorf("LocalConfig after unset: %q", vals)
	}
	if _, err := os.Stat(path + ".lock"); err == nil {
		t.Error("config.lock left behind")
	}

	// A fresh section, in a file without one, and a value git must quote.
	if err := r.AddLocalConfig("laminar.note", `a "quoted" # value`); err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "config", "laminar.note"); got != `a "quoted" # value` {
		t.Errorf("quoted value read back as %q", got)
	}
	if err := r.AddLocalConfig("bad key", "x"); err == nil {
		t.Error("bad key accepted")
	}
}

func TestLocalConfigFromLinkedWorktree(t *testing.T) {
	root := newRepo(t, nil)
	wt := filepath.Join(t.TempDir(), "wt")
	git(t, root, "worktree", "add", "-q", wt)
	if err := open(t, wt).AddLocalConfig("laminar.trusted", "sha256:aa"); err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "config", "--local", "laminar.trusted"); got != "sha256:aa" {
		t.Errorf("main worktree reads %q", got)
	}
}
