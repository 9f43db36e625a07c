package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory, or skips
// the test where mounting is not permitted (not root, no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		t.Skipf("a full disk needs a small tmpfs, and mounting one is not permitted here (%v); run as root, as CI does", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// TestFullDiskMidPromotion fills the disk while a promotion is half done:
// an exec action, run once the files hold their new tags, fills the
// filesystem and fails. Putting the files back then cannot make a
// temporary file, and the old content (a longer tag, a second page) does
// not fit in place either: the exit status and message must say which
// files still hold the new content, and once space is freed the next bump
// must put them back and complete the promotion.
func TestFullDiskMidPromotion(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	disk := mountTmpfs(t, 2<<20)
	r := &crashRig{t: t, bin: laminarBinary(t), files: 8, tag: 2}
	r.srv = registrytest.NewServer(registrytest.ServerOptions{})
	t.Cleanup(r.srv.Close)
	home := t.TempDir()
	r.env = append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "DOCKER_CONFIG="+filepath.Join(home, ".docker"),
		"LAMINAR_CACHE_TTL=0", "GIT_CONFIG_NOSYSTEM=1", "NO_COLOR=1", "TZ=UTC",
		"GIT_AUTHOR_NAME=Dana Developer", "GIT_AUTHOR_EMAIL=dana@example.com",
		"GIT_COMMITTER_NAME=Dana Developer", "GIT_COMMITTER_EMAIL=dana@example.com")
	image := r.srv.Host() + "/acme/app"
	r.images = []string{image}
	oldTag, newTag := "develop-a-long-tag-name-from-before-1", "develop-2"
	for i, tag := range []string{oldTag, newTag} {
		if _, err := registrytest.PushTags(context.Background(), image, map[string]time.Time{tag: scriptEpoch.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	r.dir = filepath.Join(disk, "repo")
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The exec action fills the disk the first time only (a marker file
	// outside the repository says it did), and fails.
	toml := fmt.Sprintf(`[[registry]]
prefix = %q

[[update]]
name = "dev"
pattern = "glob:develop-*"
files = ["deploy/"]
exec = ["if [ -e ../filled ]; then exit 0; fi; touch ../filled; cat /dev/zero > ../filler"]
`, r.srv.Host()+"/acme")
	if err := os.WriteFile(filepath.Join(r.dir, "laminar.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	// Each file is just over one page with the old tag and within one
	// with the new: written, it frees a page; put back, it needs one.
	for i := 0; i < r.files; i++ {
		line := fmt.Sprintf("image: %s:%s\n", image, oldTag)
		pad := 4096 + 8 - len(line)
		content := "# " + strings.Repeat("x", pad-3) + "\n" + line
		full := filepath.Join(r.dir, filepath.FromSlash(r.file(i)))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.git(r.dir, "init", "-q", "-b", "main")
	r.git(r.dir, "add", ".")
	r.git(r.dir, "commit", "-q", "-m", "Initial manifests")
	base := r.git(r.dir, "rev-parse", "HEAD")
	if code, stderr := r.laminar("trust"); code != 0 {
		t.Fatalf("trust: exit %d\n%s", code, stderr)
	}

	code, stderr := r.laminar("bump", "--yes")
	t.Logf("bump on a full disk: exit %d\n%s", code, stderr)
	if code != ExitUnfinished {
		t.Fatalf("exit %d, want %d (an unfinished promotion left in the journal)", code, ExitUnfinished)
	}
	if !strings.Contains(stderr, "no space left on device") {
		t.Errorf("the message does not give the cause")
	}
	if !strings.Contains(stderr, fmt.Sprintf("%d file(s) still hold the new content", r.files)) {
		t.Errorf("the message does not say how many files hold the new content")
	}
	for i := 0; i < r.files; i++ {
		data, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(r.file(i))))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), ":"+newTag+"\n") {
			t.Errorf("%s does not hold the new tag, yet the message says so", r.file(i))
		}
		if !strings.Contains(stderr, "\n  "+r.file(i)+"\n") {
			t.Errorf("the message does not name %s", r.file(i))
		}
	}
	if _, err := os.Stat(filepath.Join(r.dir, ".git", "laminar-journal")); err != nil {
		t.Errorf("no journal left for the next run: %v", err)
	}
	if got := r.git(r.dir, "rev-parse", "HEAD"); got != base {
		t.Errorf("HEAD moved to %s", got)
	}

	// Space is freed; the next bump puts the files back and promotes.
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	code, stderr = r.laminar("bump", "--yes")
	if code != 0 {
		t.Fatalf("bump after freeing space: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "Undid an interrupted promotion") {
		t.Errorf("the recovery is not reported:\n%s", stderr)
	}
	out := r.git(r.dir, "grep", "-c", "-e", ":"+newTag+"$", "HEAD", "--", "deploy")
	if n := len(strings.Split(out, "\n")); n != r.files {
		t.Errorf("%d of %d files promoted in HEAD:\n%s", n, r.files, out)
	}
	if got := r.git(r.dir, "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)"); got != image+" "+oldTag+" -> "+newTag {
		t.Errorf("trailers %q", got)
	}
	if got := r.git(r.dir, "rev-parse", "HEAD~1"); got != base {
		t.Errorf("HEAD~1 = %s, want %s: one commit", got, base)
	}
	if st := r.git(r.dir, "status", "--porcelain", "--untracked-files=all"); st != "" {
		t.Errorf("git status:\n%s", st)
	}
	for _, p := range []string{".git/laminar-journal", ".git/index.lock", ".git/laminar.lock"} {
		if _, err := os.Stat(filepath.Join(r.dir, filepath.FromSlash(p))); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
}
