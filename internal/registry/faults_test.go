package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// arrivals records when requests of one kind reach a server.
type arrivals struct {
	mu    sync.Mutex
	times []time.Time
	query []string
}

func (a *arrivals) observe(kind registrytest.Kind) func(*http.Request) {
	return func(r *http.Request) {
		if k, _ := registrytest.KindOf(r); k != kind && kind != "" {
			return
		}
		a.mu.Lock()
		a.times = append(a.times, time.Now())
		a.query = append(a.query, r.URL.RawQuery)
		a.mu.Unlock()
	}
}

func (a *arrivals) get() ([]time.Time, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.times), slices.Clone(a.query)
}

// A registry that answers 429 says how long to wait; the client waits that
// long (and not much longer), or gives up at once when the wait would
// exceed its budget, reporting a rate limit.
func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter func() string
		fails      int // tag list requests answered 429 before one succeeds
		backoff    remote.Backoff
		budget     time.Duration
		minGap     time.Duration // between the first and second tag list request
		maxGap     time.Duration
		maxTotal   time.Duration
		wantLists  int
		want       error
	}{
		{name: "delay in seconds", retryAfter: func() string { return "1" }, fails: 1,
			minGap: 950 * time.Millisecond, maxGap: 2 * time.Second, wantLists: 2},
		{name: "HTTP date", retryAfter: func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, fails: 1,
			minGap: 900 * time.Millisecond, maxGap: 3 * time.Second, wantLists: 2},
		{name: "no header: exponential backoff", retryAfter: func() string { return "" }, fails: 2,
			backoff: remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 4},
			minGap:  95 * time.Millisecond, maxGap: time.Second, wantLists: 3},
		{name: "longer than the budget: no wait, rate limited", retryAfter: func() string { return "3600" }, fails: 100,
			budget: 5 * time.Second, maxTotal: time.Second, wantLists: 1, want: registry.ErrRateLimited},
		// Each 429 halves the host's rate, down to one request a second:
		// the third try waits for it.
		{name: "attempts run out: rate limited", retryAfter: func() string { return "0" }, fails: 100,
			backoff: remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}, maxTotal: 5 * time.Second, wantLists: 3, want: registry.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/app", "v1")
			var mu sync.Mutex
			n := 0
			var arr arrivals
			s.Update(func(o *registrytest.ServerOptions) {
				o.Observe = arr.observe(registrytest.KindTagsList)
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if k, _ := registrytest.KindOf(r); k != registrytest.KindTagsList {
						return false
					}
					mu.Lock()
					n++
					fail := n <= tt.fails
					mu.Unlock()
					if !fail {
						return false
					}
					if v := tt.retryAfter(); v != "" {
						w.Header().Set("Retry-After", v)
					}
					registrytest.WriteError(w, r, http.StatusTooManyRequests)
					return true
				}
			})
			bo := tt.backoff
			if bo.Steps == 0 {
				bo = remote.Backoff{Duration: 10 * time.Second, Factor: 1, Steps: 3} // only Retry-After can make it quick
			}
			c := newClient(registry.Options{Backoff: bo, RetryBudget: tt.budget})
			start := time.Now()
			got, err := c.Tags(context.Background(), s.Repo("acme/app"))
			total := time.Since(start)
			checkKind(t, err, tt.want)
			if tt.want == nil && !cmp.Equal(got, []string{"v1"}) {
				t.Errorf("tags = %v", got)
			}
			times, _ := arr.get()
			if len(times) != tt.wantLists {
				t.Fatalf("tag list requests = %d, want %d", len(times), tt.wantLists)
			}
			if tt.minGap > 0 {
				if gap := times[1].Sub(times[0]); gap < tt.minGap || gap > tt.maxGap {
					t.Errorf("waited %v after the 429, want between %v and %v", gap, tt.minGap, tt.maxGap)
				}
			}
			if tt.maxTotal > 0 && total > tt.maxTotal {
				t.Errorf("took %v, want at most %v", total, tt.maxTotal)
			}
			st := c.Stats()
			if int(st.RateLimited) != min(tt.fails, tt.wantLists) || int(st.Retries) != tt.wantLists-1 {
				t.Errorf("stats: %d rate limited, %d retries; want %d, %d", st.RateLimited, st.Retries, min(tt.fails, tt.wantLists), tt.wantLists-1)
			}
		})
	}
}

// A 503 is retried and the retry counted; the caller sees only success.
func TestRetry503ThenSuccess(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusInternalServerError, http.StatusGatewayTimeout} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/app", "v1")
			var once sync.Once
			s.Update(func(o *registrytest.ServerOptions) {
				o.Fail = func(r *http.Request) (code int) {
					if k, _ := registrytest.KindOf(r); k == registrytest.KindManifestGet {
						once.Do(func() { code = status })
					}
					return code
				}
			})
			c := newClient(registry.Options{})
			if _, err := c.Image(context.Background(), s.Repo("acme/app"), "v1"); err != nil {
				t.Fatal(err)
			}
			if st := c.Stats(); st.Retries != 1 || st.ManifestGets != 2 {
				t.Errorf("stats %+v, want 1 retry of 2 manifest GETs", st)
			}
		})
	}
}

// A registry that fails every request, slowly, must not delay another
// registry's listing beyond that registry's own limits: limits are per
// host, not one queue for all.
func TestFailingHostDoesNotDelayOthers(t *testing.T) {
	slow := newServer(t, registrytest.ServerOptions{})
	fast := newServer(t, registrytest.ServerOptions{})
	var repos []string
	for i := range 6 {
		seed(t, slow, fmt.Sprintf("acme/slow%d", i), "v1")
		repos = append(repos, slow.Repo(fmt.Sprintf("acme/slow%d", i)))
	}
	for i := range 8 {
		seed(t, fast, fmt.Sprintf("acme/fast%d", i), "v1")
		repos = append(repos, fast.Repo(fmt.Sprintf("acme/fast%d", i)))
	}
	slow.Update(func(o *registrytest.ServerOptions) {
		o.Latency = 200 * time.Millisecond
		// The ping passes: a run pings a host once, its repositories
		// share it; their listings each fail.
		o.Fail = func(r *http.Request) int {
			if k, _ := registrytest.KindOf(r); k == registrytest.KindPing {
				return 0
			}
			return http.StatusServiceUnavailable
		}
	})
	var arr arrivals
	fast.Update(func(o *registrytest.ServerOptions) {
		o.Latency = 20 * time.Millisecond
		o.Observe = arr.observe("")
	})

	c := newClient(registry.Options{Concurrency: 4, HostConcurrency: 2,
		Backoff: remote.Backoff{Duration: 100 * time.Millisecond, Factor: 1, Steps: 2}})
	start := time.Now()
	got := c.TagsOf(context.Background(), repos)
	total := time.Since(start)

	times, _ := arr.get()
	fastDone := times[len(times)-1].Sub(start) + 20*time.Millisecond
	t.Logf("fast registry done after %v, all after %v", fastDone, total)
	// Alone, the fast registry needs 16 requests two at a time: ~160ms.
	if fastDone > 700*time.Millisecond {
		t.Errorf("the fast registry finished after %v: held up by the failing one", fastDone)
	}
	// The failing one needs 6 repositories × (2 tries of 200ms + 100ms wait), two at a time.
	if total < 800*time.Millisecond {
		t.Errorf("all done after %v; the failing registry cannot have been limited to 2 at once", total)
	}
	for _, r := range repos {
		tl := got[r]
		if (tl.Err == nil) != (r[:len(fast.Host())] == fast.Host()) {
			t.Errorf("%s: %v", r, tl.Err)
		}
	}
}

// rps spaces the requests to a host, as the server sees them.
func TestRateLimitPerHost(t *testing.T) {
	tests := []struct {
		name    string
		rps     float64 // in the host's settings; 0: none
		optRPS  float64
		minSpan time.Duration
		maxSpan time.Duration
	}{
		// 20 repositories = 21 requests (one ping for the host, a list
		// each): a burst of 10, then 11 at 100ms.
		{name: "rps 10", rps: 10, minSpan: 900 * time.Millisecond, maxSpan: 3 * time.Second},
		{name: "unlimited", optRPS: -1, maxSpan: 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			var repos []string
			for i := range 20 {
				seed(t, s, fmt.Sprintf("acme/app%d", i), "v1")
				repos = append(repos, s.Repo(fmt.Sprintf("acme/app%d", i)))
			}
			var arr arrivals
			s.Update(func(o *registrytest.ServerOptions) { o.Observe = arr.observe("") })
			var settings []registry.Settings
			if tt.rps > 0 {
				settings = []registry.Settings{{Prefix: s.Host(), RPS: tt.rps}}
			}
			c := newClient(registry.Options{Registries: settings, RPS: tt.optRPS})
			for r, tl := range c.TagsOf(context.Background(), repos) {
				if tl.Err != nil {
					t.Errorf("%s: %v", r, tl.Err)
				}
			}
			times, _ := arr.get()
			if len(times) != 21 {
				t.Fatalf("%d requests, want 21", len(times))
			}
			span := times[len(times)-1].Sub(times[0])
			if span < tt.minSpan || span > tt.maxSpan {
				t.Errorf("21 requests spanned %v, want between %v and %v", span, tt.minSpan, tt.maxSpan)
			}
		})
	}
}

// The page size reaches the server as n=, from the options or the
// repository's settings, and every page is followed.
func TestPageSize(t *testing.T) {
	tests := []struct {
		name      string
		opt       int
		settings  int
		wantN     string
		wantPages int
	}{
		{"default", 0, 0, "n=100", 1},
		{"option", 7, 0, "n=7", 4},
		{"settings win", 7, 10, "n=10", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/app", tagNames(25)...)
			var arr arrivals
			s.Update(func(o *registrytest.ServerOptions) { o.Observe = arr.observe(registrytest.KindTagsList) })
			var settings []registry.Settings
			if tt.settings > 0 {
				settings = []registry.Settings{{Prefix: s.Host() + "/acme", PageSize: tt.settings}}
			}
			c := newClient(registry.Options{PageSize: tt.opt, Registries: settings})
			got, err := c.Tags(context.Background(), s.Repo("acme/app"))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 25 {
				t.Errorf("%d tags, want 25", len(got))
			}
			_, queries := arr.get()
			if len(queries) != tt.wantPages {
				t.Errorf("%d pages, want %d: %v", len(queries), tt.wantPages, queries)
			}
			if len(queries) > 0 && queries[0] != tt.wantN {
				t.Errorf("first query %q, want %q", queries[0], tt.wantN)
			}
			if st := c.Stats(); int(st.TagListPages) != tt.wantPages {
				t.Errorf("Stats.TagListPages = %d, want %d", st.TagListPages, tt.wantPages)
			}
		})
	}
}

// max_tags stops reading a repository's tags, and says so in the result.
func TestMaxTags(t *testing.T) {
	tests := []struct {
		name      string
		opt       int
		settings  int
		wantTags  int
		wantPages int
		warn      bool
	}{
		{"cap inside the first page", 0, 5, 5, 1, true},
		{"cap across pages", 0, 12, 12, 2, true},
		{"cap equals the tags", 0, 25, 25, 3, false},
		{"option", 10, 0, 10, 1, true},
		{"no cap", -1, 0, 25, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/app", tagNames(25)...)
			s.ResetCounts()
			var settings []registry.Settings
			if tt.settings > 0 {
				settings = []registry.Settings{{Prefix: s.Host(), MaxTags: tt.settings}}
			}
			c := newClient(registry.Options{PageSize: 10, MaxTags: tt.opt, Registries: settings})
			repo := s.Repo("acme/app")
			tl := c.TagsOf(context.Background(), []string{repo})[repo]
			if tl.Err != nil {
				t.Fatal(tl.Err)
			}
			if want := sorted(tagNames(25))[:tt.wantTags]; !cmp.Equal(tl.Tags, want) {
				t.Errorf("tags = %v, want %v", tl.Tags, want)
			}
			if (tl.Warning != "") != tt.warn {
				t.Errorf("warning %q, want one: %v", tl.Warning, tt.warn)
			}
			if tt.warn && !regexpMatch(`^127\.0\.0\.1:\d+/acme/app has more than \d+ tags; .*max_tags`, tl.Warning) {
				t.Errorf("warning %q", tl.Warning)
			}
			if n := s.Counts().ByKind[registrytest.KindTagsList]; n != tt.wantPages {
				t.Errorf("%d pages read, want %d", n, tt.wantPages)
			}
		})
	}
}

// Every request counts once by kind in Stats, as the server counts them.
func TestStatsMatchServer(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{PageSize: 2})
	seed(t, s, "acme/app", "a", "b", "c")
	s.ResetCounts()
	c := newClient(registry.Options{})
	ctx := context.Background()
	if _, err := c.Tags(ctx, s.Repo("acme/app")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Image(ctx, s.Repo("acme/app"), "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Digest(ctx, s.Repo("acme/app"), "b"); err != nil {
		t.Fatal(err)
	}
	sc := s.Counts().ByKind
	st := c.Stats()
	got := map[string]int64{"tags": st.TagListPages, "head": st.ManifestHeads, "get": st.ManifestGets, "blob": st.BlobGets}
	want := map[string]int64{"tags": int64(sc[registrytest.KindTagsList]), "head": int64(sc[registrytest.KindManifestHead]),
		"get": int64(sc[registrytest.KindManifestGet]), "blob": int64(sc[registrytest.KindBlob])}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats vs server (-server +client):\n%s", diff)
	}
	if want := (map[string]int64{"tags": 2, "head": 1, "get": 1, "blob": 1}); !cmp.Equal(want, got) {
		t.Errorf("requests %v, want %v", got, want)
	}
	// ggcr pings a loopback registry with HTTPS and HTTP at once; the
	// server sees only the HTTP ping, the client counts both attempts.
	if st.Pings < int64(sc[registrytest.KindPing]) || st.Pings > 2 {
		t.Errorf("pings: client %d, server %d", st.Pings, sc[registrytest.KindPing])
	}
	if st.Requests()-st.Pings != int64(s.Counts().Total-sc[registrytest.KindPing]) {
		t.Errorf("Requests() = %d, server saw %d", st.Requests(), s.Counts().Total)
	}
}

// The same client lists a repository once per run, however often asked.
func TestTagsOncePerRun(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/app", "v1")
	s.ResetCounts()
	c := newClient(registry.Options{})
	for range 3 {
		c.TagsOf(context.Background(), []string{s.Repo("acme/app"), s.Repo("acme/app")})
		if _, err := c.Tags(context.Background(), s.Repo("acme/app")); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Counts().ByKind[registrytest.KindTagsList]; n != 1 {
		t.Errorf("tag list requests = %d, want 1", n)
	}
}

// A request that takes longer than the timeout fails as unreachable after
// its tries, without waiting for the server.
func TestTimeoutPerRequest(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/app", "v1")
	s.Update(func(o *registrytest.ServerOptions) { o.Latency = 2 * time.Second })
	c := newClient(registry.Options{Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := c.Tags(context.Background(), s.Repo("acme/app"))
	checkKind(t, err, registry.ErrUnreachable)
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v with a 100ms timeout and 2 tries", d)
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
