package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// A run over many repositories of one host pings it once, with or without
// credentials (the cached 401 challenge still leads to authenticated
// requests for every repository).
func TestOnePingPerHost(t *testing.T) {
	for _, auth := range []bool{false, true} {
		t.Run(fmt.Sprintf("auth=%v", auth), func(t *testing.T) {
			opt := registrytest.ServerOptions{}
			kc := keychain{}
			if auth {
				opt.Username, opt.Password = "bot", "s3cret"
			}
			s := newServer(t, opt)
			if auth {
				kc[s.Host()] = authn.AuthConfig{Username: "bot", Password: "s3cret"}
			}
			var repos []string
			for i := range 6 {
				repo := fmt.Sprintf("acme/app%d", i)
				m := map[string]time.Time{"v1": t0, "v2": t0.Add(time.Hour)}
				var popts []remote.Option
				if auth {
					popts = append(popts, remote.WithAuth(&authn.Basic{Username: "bot", Password: "s3cret"}))
				}
				if _, err := registrytest.PushTags(context.Background(), s.Repo(repo), m, popts...); err != nil {
					t.Fatal(err)
				}
				repos = append(repos, s.Repo(repo))
			}
			s.ResetCounts()
			c := newClient(registry.Options{Keychain: kc})
			ctx := context.Background()
			for repo, tl := range c.TagsOf(ctx, repos) {
				if tl.Err != nil {
					t.Fatalf("%s: %v", repo, tl.Err)
				}
				if _, err := c.Image(ctx, repo, "v1"); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Digest(ctx, repo, "v2"); err != nil {
					t.Fatal(err)
				}
			}
			sc := s.Counts().ByKind
			if sc[registrytest.KindPing] != 1 {
				t.Errorf("server saw %d pings for %d repositories, want 1", sc[registrytest.KindPing], len(repos))
			}
			if n := sc[registrytest.KindTagsList]; n != len(repos) {
				t.Errorf("server saw %d tag lists, want %d", n, len(repos))
			}
			// The client may also count ggcr's HTTPS attempt at a loopback
			// host, which fails before the server sees it, once.
			if st := c.Stats(); st.Pings < 1 || st.Pings > 2 {
				t.Errorf("client counted %d pings, want 1 or 2", st.Pings)
			}
		})
	}
}

// A ping that fails is not remembered: the next repository asks again and
// succeeds once the registry is back.
func TestFailedPingNotKept(t *testing.T) {
	var mu sync.Mutex
	down := true
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/a", "v1")
	seed(t, s, "acme/b", "v1")
	s.Update(func(o *registrytest.ServerOptions) {
		o.Fail = func(r *http.Request) int {
			mu.Lock()
			defer mu.Unlock()
			if k, _ := registrytest.KindOf(r); k == registrytest.KindPing && down {
				return http.StatusForbidden
			}
			return 0
		}
	})
	s.ResetCounts()
	c := newClient(registry.Options{})
	ctx := context.Background()
	if _, err := c.Tags(ctx, s.Repo("acme/a")); err == nil {
		t.Fatal("listing with a failing ping succeeded")
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if _, err := c.Tags(ctx, s.Repo("acme/b")); err != nil {
		t.Fatalf("after the registry came back: %v", err)
	}
	if n := s.Counts().ByKind[registrytest.KindPing]; n != 2 {
		t.Errorf("server saw %d pings, want 2 (the failed one is not kept)", n)
	}
}

// Many references moving to the same tag, asked about at once and after
// one another, cost one HEAD per distinct tag.
func TestOneHeadPerTag(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	want := seed(t, s, "acme/app", "v1", "v2")
	s.Update(func(o *registrytest.ServerOptions) { o.Latency = 20 * time.Millisecond })
	s.ResetCounts()
	c := newClient(registry.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		tag := []string{"v1", "v2"}[i%2]
		wg.Go(func() {
			d, err := c.Digest(ctx, s.Repo("acme/app"), tag)
			if err == nil && d != want[tag] {
				err = fmt.Errorf("%s resolved to %s, want %s", tag, d, want[tag])
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Digest(ctx, s.Repo("acme/app"), "v1"); err != nil {
		t.Fatal(err)
	}
	if n := s.Counts().ByKind[registrytest.KindManifestHead]; n != 2 {
		t.Errorf("server saw %d HEADs for 2 distinct tags, want 2", n)
	}
}
