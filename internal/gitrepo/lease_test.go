package gitrepo

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// PushLease forces its one branch, and only while the branch is what the
// caller last saw.
func TestPushLease(t *testing.T) {
	bare, clone := remoteFixture(t)
	r := open(t, clone)
	ctx := context.Background()
	rm, err := r.Remote("origin")
	if err != nil {
		t.Fatal(err)
	}
	main := git(t, bare, "rev-parse", "main")
	commit := func(msg string) string {
		git(t, clone, "commit", "-q", "--allow-empty", "-m", msg)
		h := git(t, clone, "rev-parse", "HEAD")
		git(t, clone, "reset", "-q", "--hard", main)
		return h
	}
	a, b, c := commit("a"), commit("b"), commit("c")

	if got, err := r.RemoteBranch(ctx, rm, "laminar/app", Transport{}); err != nil || got != "" {
		t.Fatalf("RemoteBranch before: %q, %v", got, err)
	}
	if err := r.PushLease(ctx, rm, a, "laminar/app", "", Transport{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.RemoteBranch(ctx, rm, "laminar/app", Transport{}); got != a {
		t.Fatalf("RemoteBranch = %q, want %q", got, a)
	}
	// "Must not exist" no longer holds.
	if err := r.PushLease(ctx, rm, b, "laminar/app", "", Transport{}); !errors.Is(err, ErrLeaseBroken) {
		t.Fatalf("push over an existing branch: %v", err)
	}
	// b is not a descendant of a: a force, allowed by the lease.
	if err := r.PushLease(ctx, rm, b, "laminar/app", a, Transport{}); err != nil {
		t.Fatal(err)
	}
	// Someone moved the branch since: refused, their commit kept.
	if err := r.PushLease(ctx, rm, c, "laminar/app", a, Transport{}); !errors.Is(err, ErrLeaseBroken) {
		t.Fatalf("push with a stale lease: %v", err)
	}
	if got := git(t, bare, "rev-parse", "laminar/app"); got != b {
		t.Errorf("laminar/app = %s, want %s", got, b)
	}
	if got := git(t, bare, "rev-parse", "main"); got != main {
		t.Errorf("main moved to %s", got)
	}
	for _, bad := range []string{"-x", "a..b", "refs/heads/x", "x y"} {
		if err := r.PushLease(ctx, rm, c, bad, "", Transport{}); err == nil || !strings.Contains(err.Error(), "not a branch name") {
			t.Errorf("PushLease to %q: %v", bad, err)
		}
	}
}

func TestSSHCommandQuotes(t *testing.T) {
	got := sshCommand(Transport{SSHKey: "/k/it's key", KnownHosts: []string{"/a", "/b"}})
	want := `'ssh' '-o' 'BatchMode=yes' '-o' 'StrictHostKeyChecking=yes' '-i' '/k/it'\''s key' '-o' 'IdentitiesOnly=yes' '-o' 'UserKnownHostsFile=/a /b'`
	if got != want {
		t.Errorf("sshCommand = %s\nwant %s", got, want)
	}
}
