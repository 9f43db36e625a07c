package gitrepo

import (
	"context"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// remoteFixture makes a bare repository with one commit on main and a
// clone of it; it returns the bare repository's path and the clone's root.
func remoteFixture(t *testing.T) (bare, clone string) {
	t.Helper()
	seed := newRepo(t, map[string]string{"app.yaml": "image: app:1\n"})
	bare = filepath.Join(t.TempDir(), "remote.git")
	git(t, seed, "clone", "-q", "--bare", seed, bare)
	clone = filepath.Join(t.TempDir(), "clone")
	git(t, seed, "clone", "-q", "file://"+bare, clone)
	git(t, clone, "config", "user.name", "Clone")
	git(t, clone, "config", "user.email", "clone@example.com")
	return bare, clone
}

func TestUpstreamAndRemote(t *testing.T) {
	bare, clone := remoteFixture(t)
	r := open(t, clone)
	rm, b, ok, err := r.Upstream("main")
	if err != nil || !ok || rm != "origin" || b != "main" {
		t.Fatalf("Upstream = %q %q %v %v", rm, b, ok, err)
	}
	if _, _, ok, _ := r.Upstream("nope"); ok {
		t.Error("upstream of a branch that has none")
	}
	remote, err := r.Remote("origin")
	if err != nil || remote.URL != "file://"+bare || remote.PushURL != remote.URL {
		t.Fatalf("Remote = %+v, %v", remote, err)
	}
	if _, err := r.Remote("upstream"); !errors.Is(err, ErrNoRemote) {
		t.Errorf("missing remote: %v", err)
	}
	git(t, clone, "remote", "add", "rel", "../elsewhere.git")
	if rel, _ := r.Remote("rel"); rel.URL != filepath.Join(clone, "../elsewhere.git") {
		t.Errorf("relative remote URL = %q", rel.URL)
	}
}

func TestFetchAndPush(t *testing.T) {
	bare, clone := remoteFixture(t)
	ctx := context.Background()
	r := open(t, clone)
	rm, _ := r.Remote("origin")

	// Someone else pushes; Fetch sees it and records the tracking ref.
	other := filepath.Join(t.TempDir(), "other")
	git(t, clone, "clone", "-q", bare, other)
	writeFile(t, other, "app.yaml", "image: app:2\n")
	git(t, other, "-c", "user.name=O", "-c", "user.email=o@example.com", "commit", "-q", "-am", "other")
	git(t, other, "push", "-q", "origin", "main")
	want := git(t, other, "rev-parse", "HEAD")

	tip, err := r.Fetch(ctx, rm, "main", Transport{})
	if err != nil {
		t.Fatal(err)
	}
	if tip != want || git(t, clone, "rev-parse", "refs/remotes/origin/main") != want {
		t.Fatalf("Fetch = %s, want %s", tip, want)
	}
	if _, err := r.Fetch(ctx, rm, "nope", Transport{}); !errors.Is(err, ErrNoRemoteBranch) {
		t.Errorf("fetch of a missing branch: %v", err)
	}
	if _, err := r.Fetch(ctx, rm, "a b", Transport{}); err == nil {
		t.Error("bad branch name accepted")
	}

	// A local commit on the old tip is not a fast-forward: refused.
	writeFile(t, clone, "local.txt", "x\n")
	git(t, clone, "add", "local.txt")
	git(t, clone, "commit", "-q", "-m", "local")
	if err := r.Push(ctx, rm, "main", "main", Transport{}); err == nil {
		t.Fatal("a non-fast-forward push succeeded")
	}
	if got := git(t, bare, "rev-parse", "main"); got != want {
		t.Fatalf("remote main moved to %s", got)
	}

	// Rebased on the remote tip it goes through, and the tracking ref follows.
	git(t, clone, "rebase", "-q", "origin/main")
	head := git(t, clone, "rev-parse", "HEAD")
	if err := r.Push(ctx, rm, "main", "main", Transport{}); err != nil {
		t.Fatal(err)
	}
	if got := git(t, bare, "rev-parse", "main"); got != head {
		t.Fatalf("remote main = %s, want %s", got, head)
	}
	if got := git(t, clone, "rev-parse", "origin/main"); got != head {
		t.Errorf("origin/main = %s", got)
	}
	// Again: already up to date is not an error.
	if err := r.Push(ctx, rm, "main", "main", Transport{}); err != nil {
		t.Errorf("second push: %v", err)
	}
}

// TestHTTPCredentialHelper pushes over smart HTTP (git http-backend behind
// basic auth on 127.0.0.1) with the password coming from a credential
// helper, and checks that it is approved into the store helper.
func TestHTTPCredentialHelper(t *testing.T) {
	bare, clone := remoteFixture(t)
	backend, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git --exec-path:", err)
	}
	handler := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(backend)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(bare), "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + os.Getenv("HOME")},
	}
	var sawSecret bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, p, ok := req.BasicAuth()
		if !ok || u != "deploy" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		sawSecret = true
		req.Header.Set("Remote-User", u)
		h := *handler
		h.Env = append(h.Env, "REMOTE_USER="+u)
		h.ServeHTTP(w, req)
	}))
	defer srv.Close()
	git(t, bare, "config", "http.receivepack", "true")

	url := srv.URL + "/" + filepath.Base(bare)
	git(t, clone, "remote", "set-url", "origin", url)
	r := open(t, clone)
	rm, _ := r.Remote("origin")
	ctx := context.Background()

	// No helper: the server's demand is reported, without prompting.
	if _, err := r.Fetch(ctx, rm, "main", Transport{}); err == nil || !strings.Contains(err.Error(), "auth") {
		t.Fatalf("fetch without credentials: %v", err)
	}

	helper := filepath.Join(t.TempDir(), "helper.sh")
	os.WriteFile(helper, []byte("#!/bin/sh\n[ \"$1\" = get ] && printf 'username=deploy\\npassword=s3cret\\n'\nexit 0\n"), 0o755)
	store := filepath.Join(t.TempDir(), "store")
	git(t, clone, "config", "--add", "credential.helper", helper)
	git(t, clone, "config", "--add", "credential.helper", "store --file="+store)
	if _, err := r.Fetch(ctx, rm, "main", Transport{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, clone, "app.yaml", "image: app:3\n")
	git(t, clone, "commit", "-q", "-am", "over http")
	if err := r.Push(ctx, rm, "main", "main", Transport{}); err != nil {
		t.Fatal(err)
	}
	if got, want := git(t, bare, "rev-parse", "main"), git(t, clone, "rev-parse", "HEAD"); got != want {
		t.Errorf("remote main = %s, want %s", got, want)
	}
	if !sawSecret {
		t.Error("the server never saw the credentials")
	}
	if b, _ := os.ReadFile(store); !strings.Contains(string(b), "deploy:s3cret@127.0.0.1") {
		t.Errorf("credentials not approved into the store: %q", b)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:secret@example.com/r.git": "https://u:***@example.com/r.git",
		"https://u@example.com/r.git":        "https://u@example.com/r.git",
		"git@example.com:r.git":              "git@example.com:r.git",
		"file:///srv/r.git":                  "file:///srv/r.git",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
