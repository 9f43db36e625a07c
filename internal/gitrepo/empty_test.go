package gitrepo

import (
	"context"
	"errors"
	"testing"
)

func TestCommitEmpty(t *testing.T) {
	root := newRepo(t, map[string]string{"deploy.yaml": "image: nginx:1.0\n"})
	r := open(t, root)
	before := git(t, root, "rev-parse", "HEAD")
	// Other work, staged and not, is left alone.
	writeFile(t, root, "deploy.yaml", "image: nginx:9.9\n")
	req := testRequest()
	hash, err := r.CommitEmpty(context.Background(), "Release nginx\n\nLaminar-Release: nginx\n", req.Author, req.Committer, before, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := git(t, root, "rev-parse", "main"); got != hash {
		t.Errorf("main = %s, want %s", got, hash)
	}
	if got, want := git(t, root, "rev-parse", "HEAD^{tree}"), git(t, root, "rev-parse", before+"^{tree}"); got != want {
		t.Errorf("tree changed: %s, want %s", got, want)
	}
	if got := git(t, root, "log", "-1", "--format=%(trailers:key=Laminar-Release,valueonly)"); got != "nginx" {
		t.Errorf("trailer: %q", got)
	}
	if got := git(t, root, "reflog", "-1", "--format=%gs", "main"); got != "commit: Release nginx" {
		t.Errorf("reflog: %q", got)
	}
	if got := git(t, root, "status", "--porcelain"); got != " M deploy.yaml" {
		t.Errorf("status: %q", got)
	}
	git(t, root, "fsck", "--strict", "--no-progress")

	// HEAD moved since the caller looked.
	if _, err := r.CommitEmpty(context.Background(), "Again", req.Author, req.Committer, before, CommitOptions{}); !errors.Is(err, ErrHeadMoved) {
		t.Errorf("expected ErrHeadMoved, got %v", err)
	}
	if _, err := r.CommitEmpty(context.Background(), " \n", req.Author, req.Committer, "", CommitOptions{}); err == nil {
		t.Error("empty message accepted")
	}
}
