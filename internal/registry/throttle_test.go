package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// seedRepos gives n repositories of s a tag each and returns them.
func seedRepos(t *testing.T, s *registrytest.Server, n int) []string {
	t.Helper()
	var repos []string
	for i := range n {
		seed(t, s, fmt.Sprintf("acme/app%02d", i), "v1")
		repos = append(repos, s.Repo(fmt.Sprintf("acme/app%02d", i)))
	}
	return repos
}

// A 429 to one request pauses every request to the host for what its
// Retry-After asks: none reaches the registry in that time, and all of
// them succeed afterwards, the 429 retried rather than failed.
func TestThrottlePausesHost(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	repos := seedRepos(t, s, 12)
	var (
		mu       sync.Mutex
		answered time.Time // when the 429 went out
		arrived  []time.Time
	)
	s.Update(func(o *registrytest.ServerOptions) {
		o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			arrived = append(arrived, now)
			if k, repo := registrytest.KindOf(r); k != registrytest.KindTagsList || repo != "acme/app00" || !answered.IsZero() {
				return false
			}
			answered = now
			w.Header().Set("Retry-After", "1")
			registrytest.WriteError(w, r, http.StatusTooManyRequests)
			return true
		}
	})
	// One request at a time to the host, so that every request after the
	// 429 was sent after the client saw it.
	c := newClient(registry.Options{HostConcurrency: 1})
	for repo, tl := range c.TagsOf(context.Background(), repos) {
		if tl.Err != nil {
			t.Errorf("%s: %v", repo, tl.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if answered.IsZero() {
		t.Fatal("no 429 was sent")
	}
	for _, a := range arrived {
		if a.After(answered) && a.Sub(answered) < 900*time.Millisecond {
			t.Errorf("a request arrived %v after the 429 that asked for a second's pause", a.Sub(answered))
		}
	}
	if st := c.Stats(); st.RateLimited != 1 || st.Retries != 1 {
		t.Errorf("stats: %d rate limited, %d retries; want 1, 1", st.RateLimited, st.Retries)
	}
}

// A registry asking for days, or for garbage, never holds a run: the ask
// is capped, a request that cannot wait that long within its budget or
// its caller's deadline fails at once as rate limited, and so does every
// later request to that host while the pause lasts, without being sent.
func TestHostileRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		name       string
		retryAfter string
		budget     time.Duration
		timeout    time.Duration
		wantLists  int // tag list requests that reach the registry for two repositories
	}{
		{name: "days, over the budget", retryAfter: "864000", budget: 5 * time.Second, wantLists: 1},
		{name: "an HTTP date next year, over the budget", retryAfter: time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat), budget: 5 * time.Second, wantLists: 1},
		{name: "a huge number, over the deadline", retryAfter: "9999999999999999999999999", budget: time.Hour, timeout: 3 * time.Second, wantLists: 1},
		// Garbage is no Retry-After: the backoff applies, tries run out.
		{name: "garbage", retryAfter: "tomorrow", budget: 5 * time.Second, wantLists: 3 + 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			repos := seedRepos(t, s, 2)
			var arr arrivals
			s.Update(func(o *registrytest.ServerOptions) {
				o.Observe = arr.observe(registrytest.KindTagsList)
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if k, _ := registrytest.KindOf(r); k != registrytest.KindTagsList {
						return false
					}
					w.Header()["Retry-After"] = []string{tt.retryAfter}
					registrytest.WriteError(w, r, http.StatusTooManyRequests)
					return true
				}
			})
			c := newClient(registry.Options{RetryBudget: tt.budget, Backoff: remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}})
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			for _, repo := range repos {
				_, err := c.Tags(ctx, repo)
				checkKind(t, err, registry.ErrRateLimited)
			}
			// The garbage case waits for the backoff and the host's halved
			// rate, a few seconds; the others do not wait at all.
			if took := time.Since(start); tt.wantLists == 1 && took > time.Second {
				t.Errorf("took %v", took)
			}
			if times, _ := arr.get(); len(times) != tt.wantLists {
				t.Errorf("%d tag list requests reached the registry, want %d", len(times), tt.wantLists)
			}
		})
	}
}

// A quota header saying nothing is left pauses the host (for what the
// quota counts) until it resets: the next request fails at once, rate
// limited, without being sent. Headers that do not parse change nothing.
func TestQuotaHeaders(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header map[string]string
		want   error // for the second repository
	}{
		{name: "draft RateLimit, spent", header: map[string]string{"RateLimit": `"default";r=0;t=3600`}, want: registry.ErrRateLimited},
		{name: "Docker Hub's, spent", header: map[string]string{"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600"}, want: registry.ErrRateLimited},
		{name: "plenty left", header: map[string]string{"ratelimit-remaining": "76;w=21600"}},
		{name: "garbage", header: map[string]string{"RateLimit": "r=0;;;t=-1", "RateLimit-Remaining": "none", "RateLimit-Reset": "0x10"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			repos := seedRepos(t, s, 2)
			var arr arrivals
			s.Update(func(o *registrytest.ServerOptions) {
				o.Observe = arr.observe(registrytest.KindTagsList)
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if k, repo := registrytest.KindOf(r); k != registrytest.KindTagsList || repo != "acme/app00" {
						return false
					}
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					return false
				}
			})
			c := newClient(registry.Options{RetryBudget: 5 * time.Second})
			if _, err := c.Tags(context.Background(), repos[0]); err != nil {
				t.Fatal(err)
			}
			_, err := c.Tags(context.Background(), repos[1])
			checkKind(t, err, tt.want)
			want := 2
			if tt.want != nil {
				want = 1
			}
			if times, _ := arr.get(); len(times) != want {
				t.Errorf("%d tag list requests reached the registry, want %d", len(times), want)
			}
		})
	}
}

// A registry that answers 429 beyond 50 requests per second: a run that
// meets it finishes, every listing succeeds, the 429s retried.
func TestThrottlingRegistry(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	repos := seedRepos(t, s, 40)
	s.Update(func(o *registrytest.ServerOptions) { o.Throttle = registrytest.Throttle{RPS: 50, Burst: 10} })
	s.ResetCounts()
	c := newClient(registry.Options{})
	for repo, tl := range c.TagsOf(context.Background(), repos) {
		if tl.Err != nil {
			t.Errorf("%s: %v", repo, tl.Err)
		}
	}
	cs, st := s.Counts(), c.Stats()
	if cs.Throttled == 0 {
		t.Error("the registry never throttled: the test tests nothing")
	}
	if int(st.RateLimited) != cs.Throttled {
		t.Errorf("client counted %d 429s, server sent %d", st.RateLimited, cs.Throttled)
	}
}
