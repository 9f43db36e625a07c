package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLog(t *testing.T) {
	root := newRepo(t, map[string]string{"f": "0\n"})
	commit := func(msg string, ts int) {
		t.Setenv("GIT_COMMITTER_DATE", fmt.Sprintf("%d +0000", 1700000000+ts))
		t.Setenv("GIT_AUTHOR_DATE", fmt.Sprintf("%d +0100", 1700000000+ts))
		writeFile(t, root, "f", msg+"\n")
		git(t, root, "commit", "-q", "-am", msg+"\n\nLaminar-Promote: x 1 -> 2")
	}
	commit("one", 10)
	git(t, root, "checkout", "-q", "-b", "side")
	writeFile(t, root, "g", "side\n")
	git(t, root, "add", "g")
	t.Setenv("GIT_COMMITTER_DATE", "1700000020 +0000")
	git(t, root, "commit", "-q", "-m", "side")
	git(t, root, "checkout", "-q", "main")
	commit("two", 30)
	t.Setenv("GIT_COMMITTER_DATE", "1700000040 +0000")
	git(t, root, "merge", "-q", "--no-edit", "side")
	commit("three", 50)

	r := open(t, root)
	var got []string
	var first Commit
	err := r.Log(context.Background(), "", func(c Commit) error {
		if len(got) == 0 {
			first = c
		}
		got = append(got, c.Hash+" "+strings.Join(c.Parents, ","))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(git(t, root, "log", "--format=%H %P"), "\n")
	for i := range want {
		want[i] = strings.Replace(want[i], " ", ",", strings.Count(want[i], " "))
		want[i] = strings.Replace(want[i], ",", " ", 1)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Log order (-git log +ours):\n%s", diff)
	}
	if first.Message != "three\n\nLaminar-Promote: x 1 -> 2\n" || first.Author.Name != "Repo Owner" ||
		first.Author.When.Unix() != 1700000050 || first.Author.When.Format("-0700") != "+0100" {
		t.Errorf("first commit = %+v", first)
	}

	// ErrStop ends the walk quietly; other errors come back.
	n := 0
	if err := r.Log(context.Background(), "", func(Commit) error { n++; return ErrStop }); err != nil || n != 1 {
		t.Errorf("ErrStop: n=%d err=%v", n, err)
	}
	boom := errors.New("boom")
	if err := r.Log(context.Background(), "", func(Commit) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("callback error = %v", err)
	}
	// From a revision.
	var side []string
	r.Log(context.Background(), "side", func(c Commit) error { side = append(side, c.Hash); return nil })
	if want := strings.Split(git(t, root, "log", "--format=%H", "side"), "\n"); !cmp.Equal(want, side) {
		t.Errorf("Log(side) = %v, want %v", side, want)
	}
	if err := r.Log(context.Background(), "nosuch", func(Commit) error { return nil }); err == nil {
		t.Error("Log(nosuch) succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Log(ctx, "", func(Commit) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Log = %v", err)
	}
}

func TestLock(t *testing.T) {
	root := newRepo(t, nil)
	r := open(t, root)
	unlock, err := r.Lock("laminar.lock")
	if err != nil {
		t.Fatal(err)
	}
	content, _ := os.ReadFile(filepath.Join(r.CommonDir, "laminar.lock"))
	if !strings.Contains(string(content), fmt.Sprintf("pid %d\n", os.Getpid())) || !strings.Contains(string(content), "started ") {
		t.Errorf("lock content %q", content)
	}
	_, err = r.Lock("laminar.lock")
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Holder.PID != os.Getpid() {
		t.Fatalf("second Lock = %v, want ErrLocked held by us", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.CommonDir, "laminar.lock")); !os.IsNotExist(err) {
		t.Errorf("lock file still there after unlock")
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock: %v", err)
	}

	// A lock left by a process that has exited is taken over.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true")
	}
	host, _ := os.Hostname()
	dead := fmt.Sprintf("pid %d\nhost %s\nstarted 2024-01-01T00:00:00Z\n", cmd.Process.Pid, host)
	os.WriteFile(filepath.Join(r.CommonDir, "laminar.lock"), []byte(dead), 0o644)
	unlock, stale, err := r.TryLock("laminar.lock")
	if err != nil || stale == nil || stale.PID != cmd.Process.Pid {
		t.Fatalf("TryLock over stale lock = %v, %+v", err, stale)
	}
	unlock()

	// Another host's lock is never judged stale.
	other := fmt.Sprintf("pid %d\nhost other-%s\nstarted 2024-01-01T00:00:00Z\n", cmd.Process.Pid, host)
	os.WriteFile(filepath.Join(r.CommonDir, "laminar.lock"), []byte(other), 0o644)
	if _, err := r.Lock("laminar.lock"); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "other-") {
		t.Errorf("Lock over another host's lock = %v", err)
	}
	os.Remove(filepath.Join(r.CommonDir, "laminar.lock"))

	// Worktrees share the lock.
	wt := filepath.Join(filepath.Dir(root), filepath.Base(root)+"-wt")
	git(t, root, "worktree", "add", "-q", "-b", "feature", wt)
	t.Cleanup(func() { os.RemoveAll(wt) })
	unlock, err = r.Lock("laminar.lock")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := open(t, wt).Lock("laminar.lock"); !errors.Is(err, ErrLocked) {
		t.Errorf("Lock from worktree = %v, want ErrLocked", err)
	}
	for _, bad := range []string{"", "a/b", "..", "../x"} {
		if _, err := r.Lock(bad); err == nil {
			t.Errorf("Lock(%q) succeeded", bad)
		}
	}
}
