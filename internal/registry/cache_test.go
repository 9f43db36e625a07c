package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// clock is a settable time for cache tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// run is what one bump run asks of the registry for newest-build
// ordering: every repository's tags, then every tag's image.
func run(t *testing.T, c *registry.Client, repos []string) map[string][]registry.Info {
	t.Helper()
	ctx := context.Background()
	out := map[string][]registry.Info{}
	for repo, tl := range c.TagsOf(ctx, repos) {
		if tl.Err != nil {
			t.Fatalf("%s: %v", repo, tl.Err)
		}
		for _, tag := range tl.Tags {
			info, err := c.Image(ctx, repo, tag)
			if err != nil {
				t.Fatalf("%s:%s: %v", repo, tag, err)
			}
			out[repo] = append(out[repo], info)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "registry", "v1", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestCache(t *testing.T) {
	const ttl = 5 * time.Minute
	tests := []struct {
		name    string
		advance time.Duration
		refresh bool
		ttl     time.Duration
		tagTTL  time.Duration
		// requests of the second run
		wantLists, wantHeads, wantGets, wantBlobs int
	}{
		{name: "warm within the TTL: no request at all"},
		{name: "TTL passed: list again; tags resolved within tag_ttl need nothing more",
			advance: ttl + time.Second, wantLists: 2},
		{name: "refresh: the same, whatever the TTL", refresh: true, wantLists: 2},
		{name: "TTL off: the same", ttl: -1, wantLists: 2},
		{name: "TTL passed, tag_ttl off: list again, HEAD each tag, no manifest or config read",
			advance: ttl + time.Second, tagTTL: -1, wantLists: 2, wantHeads: 6},
		{name: "refresh, tag_ttl off: the same", refresh: true, tagTTL: -1, wantLists: 2, wantHeads: 6},
		{name: "tag_ttl passed: HEAD each tag", advance: 25 * time.Hour, wantLists: 2, wantHeads: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/a", "1", "2", "3")
			seed(t, s, "acme/b", "x", "y", "z")
			repos := []string{s.Repo("acme/a"), s.Repo("acme/b")}
			dir := t.TempDir()
			clk := &clock{t: time.Now()}
			opt := registry.Options{CacheDir: dir, CacheTTL: cmpOr(tt.ttl, ttl), TagTTL: tt.tagTTL, Now: clk.now}

			s.ResetCounts()
			cold := newClient(opt)
			want := run(t, cold, repos)
			c := s.Counts().ByKind
			if c[registrytest.KindTagsList] != 2 || c[registrytest.KindManifestGet] != 6 || c[registrytest.KindBlob] != 6 || c[registrytest.KindManifestHead] != 0 {
				t.Errorf("cold run: %v", c)
			}
			if n := len(cacheFiles(t, dir)); n != 2 {
				t.Errorf("%d cache files, want one per repository", n)
			}

			clk.add(time.Second + tt.advance)
			s.ResetCounts()
			opt.Refresh = tt.refresh
			warm := newClient(opt)
			got := run(t, warm, repos)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("second run differs (-first +second):\n%s", diff)
			}
			c = s.Counts().ByKind
			gotReq := [4]int{c[registrytest.KindTagsList], c[registrytest.KindManifestHead], c[registrytest.KindManifestGet], c[registrytest.KindBlob]}
			if wantReq := [4]int{tt.wantLists, tt.wantHeads, tt.wantGets, tt.wantBlobs}; gotReq != wantReq {
				t.Errorf("second run: lists, HEADs, GETs, blobs = %v, want %v", gotReq, wantReq)
			}
			st := warm.Stats()
			if st.CachedImages != 6 || (tt.wantLists == 0) != (st.CachedTagLists == 2) {
				t.Errorf("second run stats %+v", st)
			}
			if tt.wantLists == 0 && st.Requests() != 0 {
				t.Errorf("warm run sent %d requests", st.Requests())
			}
		})
	}
}

func cmpOr(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}

// A tag that moved is found by the HEAD after the TTL (with tag_ttl off);
// only the new image's manifest and config are read.
func TestCacheTagMoved(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/a", "stable")
	dir := t.TempDir()
	clk := &clock{t: time.Now()}
	opt := registry.Options{CacheDir: dir, CacheTTL: time.Minute, TagTTL: -1, Now: clk.now}
	first := run(t, newClient(opt), []string{s.Repo("acme/a")})

	later := t0.Add(48 * time.Hour)
	moved, err := registrytest.Push(context.Background(), s.Repo("acme/a:stable"), later)
	if err != nil {
		t.Fatal(err)
	}
	// Within the TTL the old answer stands: tags may be a minute stale.
	clk.add(30 * time.Second)
	if got := run(t, newClient(opt), []string{s.Repo("acme/a")}); !cmp.Equal(got, first) {
		t.Errorf("within the TTL: %v, want %v", got, first)
	}
	clk.add(time.Minute)
	s.ResetCounts()
	got := run(t, newClient(opt), []string{s.Repo("acme/a")})
	want := []registry.Info{{Digest: moved, Created: later}}
	if diff := cmp.Diff(want, got[s.Repo("acme/a")]); diff != "" {
		t.Errorf("after the TTL (-want +got):\n%s", diff)
	}
	c := s.Counts().ByKind
	if c[registrytest.KindManifestHead] != 1 || c[registrytest.KindManifestGet] != 1 || c[registrytest.KindBlob] != 1 {
		t.Errorf("requests %v, want one HEAD, one manifest GET and one config blob", c)
	}
}

// Within tag_ttl a tag is taken to point where it did for its creation
// time (build tags do not move), while Digest, which serves mutable tags
// and pinned digests, sees the move as soon as the TTL has passed.
func TestCacheTagTTL(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/a", "stable")
	dir := t.TempDir()
	clk := &clock{t: time.Now()}
	opt := registry.Options{CacheDir: dir, CacheTTL: time.Minute, TagTTL: time.Hour, Now: clk.now}
	first := run(t, newClient(opt), []string{s.Repo("acme/a")})
	moved, err := registrytest.Push(context.Background(), s.Repo("acme/a:stable"), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Minute)
	s.ResetCounts()
	if got := run(t, newClient(opt), []string{s.Repo("acme/a")}); !cmp.Equal(got, first) {
		t.Errorf("within tag_ttl: %v, want the first answer %v", got, first)
	}
	if c := s.Counts().ByKind; c[registrytest.KindManifestHead]+c[registrytest.KindManifestGet]+c[registrytest.KindBlob] != 0 {
		t.Errorf("within tag_ttl the image was asked about: %v", c)
	}
	d, err := newClient(opt).Digest(context.Background(), s.Repo("acme/a"), "stable")
	if err != nil || d != moved {
		t.Errorf("Digest after the TTL = %s, %v; want the moved %s", d, err, moved)
	}
}

// Creation times belong to digests, which never change: a known digest is
// never read again, whatever the age of the cache and however reached.
func TestCacheCreatedKeptForGood(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	digests := seed(t, s, "acme/a", "1", "2")
	dir := t.TempDir()
	clk := &clock{t: time.Now()}
	opt := registry.Options{CacheDir: dir, CacheTTL: time.Minute, Now: clk.now}
	run(t, newClient(opt), []string{s.Repo("acme/a")})

	clk.add(365 * 24 * time.Hour)
	s.ResetCounts()
	opt.Refresh = true
	c := newClient(opt)
	for _, d := range digests {
		if _, err := c.Image(context.Background(), s.Repo("acme/a"), d); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Digest(context.Background(), s.Repo("acme/a"), d); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Counts().Total; n != 0 {
		t.Errorf("%d requests for known digests: %v", n, s.Counts().ByKind)
	}
}

// A corrupt, truncated, foreign or empty cache file is ignored and
// rewritten, never an error.
func TestCacheCorrupt(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":       "\x00\x01 not json",
		"truncated":     `{"v":1,"repo":"`,
		"other version": `{"v":99,"repo":"x"}`,
		"other repo":    `{"v":1,"repo":"elsewhere/app","tags":{"at":"2999-01-01T00:00:00Z","tags":["evil"]}}`,
		"empty":         "",
		"wrong types":   `{"v":1,"repo":3,"images":[1,2]}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/a", "1")
			dir := t.TempDir()
			opt := registry.Options{CacheDir: dir}
			run(t, newClient(opt), []string{s.Repo("acme/a")})
			files := cacheFiles(t, dir)
			if len(files) != 1 {
				t.Fatalf("cache files %v", files)
			}
			if err := os.WriteFile(files[0], []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			s.ResetCounts()
			got := run(t, newClient(opt), []string{s.Repo("acme/a")})
			if len(got[s.Repo("acme/a")]) != 1 {
				t.Errorf("got %v", got)
			}
			if n := s.Counts().ByKind[registrytest.KindTagsList]; n != 1 {
				t.Errorf("tag list requests %d, want 1: the file was not ignored", n)
			}
			data, _ := os.ReadFile(files[0])
			if !json.Valid(data) || !strings.Contains(string(data), `"repo":"`+s.Repo("acme/a")+`"`) {
				t.Errorf("cache file not rewritten: %q", data)
			}
		})
	}
}

// Clients in many goroutines (as processes would) write the same cache
// files at once, while readers watch: every file read is whole and valid,
// and afterwards a warm run needs no request.
func TestCacheConcurrentWriters(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	var tags []string
	for i := range 30 {
		tags = append(tags, fmt.Sprintf("t%02d", i))
	}
	seed(t, s, "acme/a", tags...)
	seed(t, s, "acme/b", tags...)
	repos := []string{s.Repo("acme/a"), s.Repo("acme/b")}
	dir := t.TempDir()

	stop := make(chan struct{})
	var readers sync.WaitGroup
	var bad []string
	var mu sync.Mutex
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, f := range cacheFiles(t, dir) {
					data, err := os.ReadFile(f)
					if err == nil && !json.Valid(data) {
						mu.Lock()
						bad = append(bad, string(data))
						mu.Unlock()
					}
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 8 {
		writers.Go(func() {
			c := newClient(registry.Options{CacheDir: dir, Refresh: w%2 == 0})
			ctx := context.Background()
			for i, tag := range tags {
				if i%8 != w && i%3 != 0 {
					continue // each writer learns some tags, some overlap
				}
				for _, r := range repos {
					if _, err := c.Image(ctx, r, tag); err != nil {
						t.Error(err)
					}
				}
			}
			c.TagsOf(ctx, repos)
			if err := c.Flush(); err != nil {
				t.Error(err)
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d partial or invalid reads, e.g. %q", len(bad), bad[0])
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "registry", "v1", ".tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// Merged: the tags every writer learned are known to one new client.
	s.ResetCounts()
	run(t, newClient(registry.Options{CacheDir: dir}), repos)
	c := s.Counts().ByKind
	t.Logf("after concurrent writers, a full run costs %v", c)
	if c[registrytest.KindTagsList] != 0 {
		t.Errorf("tag lists asked again: %v", c)
	}
	// Writers take the directory's lock to merge and rename, so none
	// drops what another wrote.
	if c[registrytest.KindManifestGet] != 0 {
		t.Errorf("creation times were lost to concurrent writes: %v", c)
	}
}

// The cache holds answers, never credentials.
func TestCacheHoldsNoCredentials(t *testing.T) {
	const secret = "cache-must-not-hold-this"
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/a", "1")
	s.Update(func(o *registrytest.ServerOptions) { o.Username, o.Password = user, secret })
	dir := t.TempDir()
	c := newClient(registry.Options{CacheDir: dir,
		Registries: []registry.Settings{{Prefix: s.Host(), Username: user, PasswordEnv: "X"}},
		Getenv:     func(string) string { return secret }})
	run(t, c, []string{s.Repo("acme/a")})
	files := cacheFiles(t, dir)
	if len(files) == 0 {
		t.Fatal("nothing cached")
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, s := range []string{secret, user, "Authorization", "token"} {
			if strings.Contains(string(data), s) {
				t.Errorf("%s contains %q", f, s)
			}
		}
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
}

// A run that reads hundreds of images of one repository writes its cache
// file a handful of times, not once per image, and what it learned is all
// on disk after Flush.
func TestCacheBatchesWrites(t *testing.T) {
	const n = 300
	s := newServer(t, registrytest.ServerOptions{})
	var tags []string
	for i := range n {
		tags = append(tags, fmt.Sprintf("t%03d", i))
	}
	seed(t, s, "acme/a", tags...)
	repo := s.Repo("acme/a")
	dir := t.TempDir()
	opt := registry.Options{CacheDir: dir, CacheTTL: time.Hour, RPS: -1}

	c := newClient(opt)
	ctx := context.Background()
	if tl := c.TagsOf(ctx, []string{repo})[repo]; tl.Err != nil || len(tl.Tags) != n {
		t.Fatalf("tags %d, %v", len(tl.Tags), tl.Err)
	}
	if w := c.Stats().CacheWrites; w != 1 {
		t.Errorf("listing wrote %d files, want 1", w)
	}
	var wg sync.WaitGroup
	for _, tag := range tags {
		wg.Go(func() {
			if _, err := c.Image(ctx, repo, tag); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	// 1 for the list, 6 growing batches (1+2+...+32 = 63 changes), then
	// batches of 64 for the other 237, then the flush.
	w := c.Stats().CacheWrites
	t.Logf("%d images: %d cache writes", n, w)
	if w > 12 {
		t.Errorf("%d cache writes for %d images of one repository, want at most 12", w, n)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if w2 := c.Stats().CacheWrites; w2 != w {
		t.Errorf("a flush with nothing new wrote %d files", w2-w)
	}

	s.ResetCounts()
	warm := newClient(opt)
	run(t, warm, []string{repo})
	if st := warm.Stats(); st.Requests() != 0 || st.CachedImages != n || st.CacheWrites != 0 {
		t.Errorf("warm run after flush: %+v", st)
	}
}

// Without a flush, a client that asks once (git laminar set, a hook)
// still writes what it learned.
func TestCacheFirstAnswerWritten(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/a", "1")
	repo := s.Repo("acme/a")
	dir := t.TempDir()
	opt := registry.Options{CacheDir: dir, CacheTTL: time.Hour}
	if _, err := newClient(opt).Digest(context.Background(), repo, "1"); err != nil {
		t.Fatal(err)
	}
	s.ResetCounts()
	c := newClient(opt)
	if _, err := c.Digest(context.Background(), repo, "1"); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Requests() != 0 || st.CachedDigests != 1 {
		t.Errorf("second client: %+v", st)
	}
}
