package gitrepo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sha256Tests are the tests of this package that run a second time with
// their repositories made in the SHA-256 object format, whose objects go
// through git cat-file rather than go-git. The index tests that compare
// with go-git's own index decoder are SHA-1 only; TestIndexSHA256 covers
// a SHA-256 index.
var sha256Tests = []string{
	"TestAddNew", "TestCommit", "TestDirty", "TestTrackedFiles", "TestSparseIndex", "TestPushLease",
	"TestLog", "TestMoveBranch", "TestUpdateRef", "TestRecover", "TestFetchAndPush", "TestHTTPCredentialHelper",
	"TestOpen", "TestHeadAndReadFileAtHead", "TestResolveCommitAndTree", "TestRevListMatchesGit", "TestNewRepoFormat",
}

// TestSHA256 runs sha256Tests again in a child test process whose git
// makes SHA-256 repositories (GIT_DEFAULT_HASH, which `git init` and
// `git clone` follow), and checks that they really were.
func TestSHA256(t *testing.T) {
	if os.Getenv("LAMINAR_TEST_SHA256") != "" {
		t.Skip("already the SHA-256 run")
	}
	isolate(t)
	probe := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", "--object-format=sha256", probe).CombinedOutput(); err != nil {
		t.Skipf("git cannot make SHA-256 repositories: %v: %s", err, out)
	}
	args := []string{"-test.run", "^(" + strings.Join(sha256Tests, "|") + ")", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GIT_DEFAULT_HASH=sha256", "LAMINAR_TEST_SHA256=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests in SHA-256 repositories failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestNewRepoFormat checks that the repositories the tests make are in
// the format the run is for: in the SHA-256 run, a test that passes
// would otherwise say nothing about SHA-256.
func TestNewRepoFormat(t *testing.T) {
	root := newRepo(t, nil)
	r := open(t, root)
	want := "sha1"
	if os.Getenv("LAMINAR_TEST_SHA256") != "" {
		want = "sha256"
	}
	if got := r.ObjectFormat(); got != want {
		t.Fatalf("ObjectFormat = %q, want %q", got, want)
	}
	if got := git(t, root, "rev-parse", "--show-object-format"); got != want {
		t.Fatalf("git says the format is %q, want %q", got, want)
	}
	head, _, err := r.Head()
	if err != nil || !r.IsID(head) || len(head) != 2*map[string]int{"sha1": 20, "sha256": 32}[want] {
		t.Fatalf("Head = %q, %v", head, err)
	}
}

// TestIndexSHA256 reads and writes the index of a SHA-256 repository in
// each version git writes: 32-byte object names in every entry (so every
// offset after them moves), extended flags (intent-to-add, version 3
// and up), compressed names (version 4) and a SHA-256 trailer. Entries
// are compared with git ls-files, and after a commit git must find the
// index and the objects written here sound.
func TestIndexSHA256(t *testing.T) {
	for _, v := range []string{"2", "3", "4"} {
		t.Run("v"+v, func(t *testing.T) {
			isolate(t)
			root := t.TempDir()
			git(t, root, "init", "-q", "--object-format=sha256", "-b", "main")
			git(t, root, "config", "user.name", "Repo Owner")
			git(t, root, "config", "user.email", "owner@example.com")
			for p, c := range manyFiles() {
				writeFile(t, root, p, c)
			}
			git(t, root, "add", "-A")
			git(t, root, "commit", "-q", "-m", "initial")
			writeFile(t, root, "later.yaml", "image: later:1\n")
			git(t, root, "add", "-N", "later.yaml")
			git(t, root, "update-index", "--index-version", v)

			version := indexVersion(t, root) // 3 for "2": intent-to-add needs extended flags
			b, err := os.ReadFile(filepath.Join(root, ".git", "index"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parseIndex(b, formatSHA1); err == nil {
				t.Error("a SHA-256 index parsed as SHA-1")
			}
			idx, err := parseIndex(b, formatSHA256)
			if err != nil {
				t.Fatal(err)
			}
			var ours []string
			for _, e := range idx.entries {
				ours = append(ours, fmt.Sprintf("%o %s %d\t%s", e.mode, e.hash, e.stage(), e.name))
				if (e.name == "later.yaml") != e.intentToAdd() {
					t.Errorf("%s: intent-to-add %v", e.name, e.intentToAdd())
				}
			}
			if want := git(t, root, "ls-files", "-s"); strings.Join(ours, "\n") != want {
				t.Errorf("entries:\n%s\ngit ls-files -s:\n%s", strings.Join(ours, "\n"), want)
			}

			r := open(t, root)
			if r.ObjectFormat() != "sha256" {
				t.Fatalf("ObjectFormat = %q", r.ObjectFormat())
			}
			writeFile(t, root, "a", "a2\n")
			writeFile(t, root, "clusters/prod/apps/app-07/deployment.yaml", "image: app-7:2.0\n")
			h, err := r.Commit(context.Background(), testRequest("a", "clusters/prod/apps/app-07/deployment.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 64 || git(t, root, "rev-parse", "HEAD") != h {
				t.Fatalf("Commit = %q, HEAD %s", h, git(t, root, "rev-parse", "HEAD"))
			}
			git(t, root, "fsck", "--strict", "--no-dangling")
			if got := git(t, root, "show", "HEAD:a"); got != "a2" {
				t.Errorf("HEAD:a = %q", got)
			}
			if s := git(t, root, "status", "--porcelain"); s != " A later.yaml" {
				t.Errorf("git status --porcelain:\n%s", s)
			}
			if got := indexVersion(t, root); got != version {
				t.Errorf("index version %d after the commit, want %d", got, version)
			}
		})
	}
}
