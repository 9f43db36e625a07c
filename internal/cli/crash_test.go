package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// The tests in this file run the real binary against a real registry and
// real git, and kill it: a promotion must never be left half done.

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// laminarBinary builds git-laminar once for the tests of this package.
func laminarBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "laminar-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "git-laminar")
		out, err := exec.Command("go", "build", "-o", binaryPath, "github.com/git-laminar/git-laminar/cmd/git-laminar").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("building git-laminar: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// crashRig is a repository of many manifests, a registry and the binary.
type crashRig struct {
	t      *testing.T
	srv    *registrytest.Server
	bin    string
	dir    string // the working repository
	remote string // its bare remote, for run
	env    []string
	images []string
	files  int
	tag    int // the develop-N every file holds once promoted
}

const crashImages = 4

func newCrashRig(t *testing.T, files int, withRemote bool) *crashRig {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &crashRig{t: t, bin: laminarBinary(t), files: files, tag: 1}
	r.srv = registrytest.NewServer(registrytest.ServerOptions{})
	t.Cleanup(r.srv.Close)
	work := fastTempDir(t)
	home := filepath.Join(work, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	r.env = append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+filepath.Join(work, "cache"), "DOCKER_CONFIG="+filepath.Join(home, ".docker"),
		"LAMINAR_CACHE_TTL=0", "GIT_CONFIG_NOSYSTEM=1", "NO_COLOR=1", "TZ=UTC",
		"GIT_AUTHOR_NAME=Dana Developer", "GIT_AUTHOR_EMAIL=dana@example.com",
		"GIT_COMMITTER_NAME=Dana Developer", "GIT_COMMITTER_EMAIL=dana@example.com")
	for i := 0; i < crashImages; i++ {
		r.images = append(r.images, fmt.Sprintf("%s/acme/app%d", r.srv.Host(), i))
	}
	r.pushTag(1)

	seed := filepath.Join(work, "seed")
	toml := fmt.Sprintf("[[registry]]\nprefix = %q\n\n[[update]]\nname = \"dev\"\npattern = \"glob:develop-*\"\n", r.srv.Host()+"/acme")
	write := func(p, content string) {
		full := filepath.Join(seed, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("laminar.toml", toml)
	for i := 0; i < files; i++ {
		write(r.file(i), fmt.Sprintf("# manifest %d\nimage: %s:develop-1\n", i, r.images[i%crashImages]))
	}
	r.git(seed, "init", "-q", "-b", "main")
	r.git(seed, "add", ".")
	r.git(seed, "commit", "-q", "-m", "Initial manifests")
	r.dir = seed
	if withRemote {
		r.remote = filepath.Join(work, "remote.git")
		r.git(seed, "clone", "-q", "--bare", ".", r.remote)
		r.dir = filepath.Join(work, "work")
		r.git(work, "clone", "-q", "file://"+r.remote, r.dir)
	}
	return r
}

func (r *crashRig) file(i int) string { return fmt.Sprintf("deploy/d%02d/app-%04d.yaml", i%50, i) }

// pushTag gives every image the tag develop-n, newer than the ones before.
func (r *crashRig) pushTag(n int) {
	r.t.Helper()
	for _, im := range r.images {
		tags := map[string]time.Time{fmt.Sprintf("develop-%d", n): scriptEpoch.Add(time.Duration(n) * time.Minute)}
		if _, err := registrytest.PushTags(context.Background(), im, tags); err != nil {
			r.t.Fatalf("push: %v", err)
		}
	}
}

func (r *crashRig) git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = r.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

func (r *crashRig) command(args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, args...)
	cmd.Dir = r.dir
	cmd.Env = r.env
	return cmd
}

// laminar runs the binary to completion and returns its exit status and
// standard error.
func (r *crashRig) laminar(args ...string) (int, string) {
	r.t.Helper()
	cmd := r.command(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return 0, stderr.String()
}

// killAfter starts the binary and sends it SIGKILL after delay (unless it
// has finished by then). It reports whether the kill landed.
func (r *crashRig) killAfter(delay time.Duration, args ...string) bool {
	r.t.Helper()
	cmd := r.command(args...)
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return false
	case <-time.After(delay):
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := <-done
	var ee *exec.ExitError
	return errors.As(err, &ee) && !ee.Exited()
}

// check asserts that rev holds every file at develop-<r.tag>, that the one
// commit since base carries exactly the promotions from develop-<from>,
// and (local) that the working tree is clean and nothing of ours is left.
func (r *crashRig) check(label, gitDir, rev, base string, from int, local bool) {
	r.t.Helper()
	want := fmt.Sprintf("develop-%d", r.tag)
	out := r.git(gitDir, "grep", "-c", "-e", ":"+want+"$", rev, "--", "deploy")
	total := 0
	for _, line := range strings.Split(out, "\n") {
		n, err := strconv.Atoi(line[strings.LastIndexByte(line, ':')+1:])
		if err != nil {
			r.t.Fatalf("%s: git grep: %q", label, line)
		}
		total += n
	}
	if total != r.files {
		r.t.Fatalf("%s: %d of %d files at %s in %s", label, total, r.files, want, rev)
	}
	if n := r.git(gitDir, "rev-list", "--count", base+".."+rev); n != "1" {
		r.t.Fatalf("%s: %s commits since the iteration began, want 1", label, n)
	}
	trailers := strings.Split(r.git(gitDir, "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)", rev), "\n")
	var wantTrailers []string
	for _, im := range r.images {
		wantTrailers = append(wantTrailers, fmt.Sprintf("%s develop-%d -> %s", im, from, want))
	}
	sort.Strings(trailers)
	if strings.Join(trailers, "\n") != strings.Join(wantTrailers, "\n") {
		r.t.Fatalf("%s: trailers\n%s\nwant\n%s", label, strings.Join(trailers, "\n"), strings.Join(wantTrailers, "\n"))
	}
	if !local {
		return
	}
	if st := r.git(r.dir, "status", "--porcelain", "--ignored", "--untracked-files=all"); st != "" {
		r.t.Fatalf("%s: git status:\n%s", label, st)
	}
	err := filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		switch {
		case strings.Contains(name, ".laminar-"), name == "laminar-journal", name == "laminar-journal.tmp",
			strings.HasSuffix(name, ".lock"):
			return fmt.Errorf("%s left behind", p)
		}
		return nil
	})
	if err != nil {
		r.t.Fatalf("%s: %v", label, err)
	}
}

// fastTempDir is a temporary directory in memory (/dev/shm) where there is
// one: the kill tests are about kills, not about the speed of fsync on a
// shared disk, and a run over thousands of files syncs each of them.
func fastTempDir(t *testing.T) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "laminar-crash-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// crashSeed is the seed of the kill delays: LAMINAR_CRASH_SEED, or the
// time. It is logged so that a failure can be replayed.
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv("LAMINAR_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LAMINAR_CRASH_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

func crashIterations(t *testing.T, def int) int {
	if s := os.Getenv("LAMINAR_CRASH_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("LAMINAR_CRASH_ITERATIONS: %v", err)
		}
		return n
	}
	if testing.Short() {
		return 3
	}
	return def
}

// killLoop measures one full run of args, then, iterations times, offers a
// newer tag, kills a run after a random delay within that duration, runs
// again to completion and checks with verify.
func killLoop(t *testing.T, r *crashRig, iterations int, args []string, verify func(label, base string, from int)) {
	seed := crashSeed(t)
	t.Logf("kill delays seeded with %d (LAMINAR_CRASH_SEED=%d replays them)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	base := r.git(r.dir, "rev-parse", "HEAD")
	from := r.tag
	r.tag++
	r.pushTag(r.tag)
	start := time.Now()
	if code, stderr := r.laminar(args...); code != 0 {
		t.Fatalf("a run without a kill: exit %d\n%s", code, stderr)
	}
	duration := time.Since(start)
	t.Logf("one %s over %d files takes %s", args[0], r.files, duration)
	verify("unkilled run", base, from)

	landed, midway := 0, 0
	for i := 0; i < iterations; i++ {
		label := fmt.Sprintf("iteration %d", i)
		base = r.git(r.dir, "rev-parse", "HEAD")
		from = r.tag
		r.tag++
		r.pushTag(r.tag)
		delay := time.Duration(rng.Int64N(int64(duration) + 1))
		if r.killAfter(delay, args...) {
			landed++
		}
		if _, err := os.Stat(filepath.Join(r.dir, ".git", "laminar-journal")); err == nil {
			midway++
		}
		code, stderr := r.laminar(args...)
		if code != 0 {
			t.Fatalf("%s (killed after %s): the next run exited %d\n%s", label, delay, code, stderr)
		}
		verify(fmt.Sprintf("%s (killed after %s)", label, delay), base, from)
	}
	t.Logf("%d of %d kills landed while the run was going, %d of them while files were being changed (a journal was left)", landed, iterations, midway)
}

func TestKillBumpAtAnyMoment(t *testing.T) {
	r := newCrashRig(t, 2000, false)
	killLoop(t, r, crashIterations(t, 30), []string{"bump", "--yes"}, func(label, base string, from int) {
		r.check(label, r.dir, "HEAD", base, from, true)
	})
}

func TestKillRunAtAnyMoment(t *testing.T) {
	r := newCrashRig(t, 2000, true)
	// With the default retries: a push under way when run is killed can
	// still land after the kill (git-receive-pack, the remote's side, runs
	// on and finishes what it received), as a remote finishes a push whose
	// data arrived. The next run may then meet a remote that moved after
	// its fetch, and recomputes on it as it would after any race.
	killLoop(t, r, crashIterations(t, 10), []string{"run", "--retry-wait", "200ms"}, func(label, base string, from int) {
		r.check(label, r.remote, "main", base, from, false)
		if local, remote := r.git(r.dir, "rev-parse", "HEAD"), r.git(r.remote, "rev-parse", "main"); local != remote {
			t.Fatalf("%s: HEAD %s, remote main %s", label, local, remote)
		}
		r.check(label, r.dir, "HEAD", base, from, true)
	})
}
