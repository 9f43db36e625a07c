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
// fullDiskRig is a repository of r.files manifests on a small tmpfs
// (disk), each a line of padding and one reference to image:oldTag, whose
// registry offers newTag; exec, if not empty, is the rule's exec action.
func fullDiskRig(t *testing.T, files, pad int, oldTag, newTag, execAction string) (r *crashRig, disk, base string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	disk = mountTmpfs(t, 2<<20)
	r = &crashRig{t: t, bin: laminarBinary(t), files: files}
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
	for i, tag := range []string{oldTag, newTag} {
		if _, err := registrytest.PushTags(context.Background(), image, map[string]time.Time{tag: scriptEpoch.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	r.dir = filepath.Join(disk, "repo")
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("[[registry]]\nprefix = %q\n\n[[update]]\nname = \"dev\"\npattern = \"glob:develop-*\"\nfiles = [\"deploy/\"]\n", r.srv.Host()+"/acme")
	if execAction != "" {
		toml += fmt.Sprintf("exec = [%q]\n", execAction)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "laminar.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < r.files; i++ {
		line := fmt.Sprintf("image: %s:%s\n", image, oldTag)
		content := "# " + strings.Repeat("x", pad-len(line)-3) + "\n" + line
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
	return r, disk, r.git(r.dir, "rev-parse", "HEAD")
}

// checkPromoted asserts that the one commit since base promotes every file
// from oldTag to newTag and that nothing is left behind.
func checkPromoted(t *testing.T, r *crashRig, base, oldTag, newTag string) {
	t.Helper()
	out := r.git(r.dir, "grep", "-c", "-e", ":"+newTag+"$", "HEAD", "--", "deploy")
	if n := len(strings.Split(out, "\n")); n != r.files {
		t.Errorf("%d of %d files promoted in HEAD:\n%s", n, r.files, out)
	}
	if got := r.git(r.dir, "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)"); got != r.images[0]+" "+oldTag+" -> "+newTag {
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

func TestFullDiskMidPromotion(t *testing.T) {
	oldTag, newTag := "develop-a-long-tag-name-from-before-1", "develop-2"
	// Each file is just over one page with the old tag and within one
	// with the new: written, it frees a page; put back, it needs one.
	// The exec action fills the disk the first time only (a marker file
	// outside the repository says it did), and fails.
	r, disk, base := fullDiskRig(t, 8, 4104, oldTag, newTag,
		"if [ -e ../filled ]; then exit 0; fi; touch ../filled; cat /dev/zero > ../filler")
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
	checkPromoted(t, r, base, oldTag, newTag)
}

// TestFullDiskWhileWriting fills the disk so that rewriting the files fails
// part way: each file grows by a page, and only a few pages are free. The
// files already written must go back (in place where no temporary file
// fits), the exit status must be 2 with every file as it was, and once
// space is freed the bump must complete.
func TestFullDiskWhileWriting(t *testing.T) {
	oldTag, newTag := "develop-1", "develop-2-with-a-longer-name"
	r, disk, base := fullDiskRig(t, 8, 4090, oldTag, newTag, "")
	var st syscall.Statfs_t
	if err := syscall.Statfs(disk, &st); err != nil {
		t.Fatal(err)
	}
	// Leave four pages: the journal takes one, and each file written
	// takes one more than it had.
	fill := int64(st.Bavail)*int64(st.Bsize) - 4*4096
	if err := os.WriteFile(filepath.Join(disk, "filler"), make([]byte, fill), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr := r.laminar("bump", "--yes")
	t.Logf("bump on a nearly full disk: exit %d\n%s", code, stderr)
	if code != ExitError {
		t.Fatalf("exit %d, want %d: failed, and every file as it was", code, ExitError)
	}
	for _, want := range []string{"no space left on device", "Every file was restored; nothing was committed."} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the message lacks %q", want)
		}
	}
	if st := r.git(r.dir, "status", "--porcelain", "--untracked-files=all"); st != "" {
		t.Errorf("git status after the failure:\n%s", st)
	}
	if got := r.git(r.dir, "rev-parse", "HEAD"); got != base {
		t.Errorf("HEAD moved to %s", got)
	}
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	if code, stderr := r.laminar("bump", "--yes"); code != 0 {
		t.Fatalf("bump after freeing space: exit %d\n%s", code, stderr)
	}
	checkPromoted(t, r, base, oldTag, newTag)
}
