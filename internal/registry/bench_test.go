package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// BenchmarkTagsOf lists R repositories of T tags each (pages of 100, with
// latency on every request), cold (no cache: what every run cost before)
// and warm (a cache on disk within its TTL, as the next repository bumped
// in the same cycle finds it); "+images" also reads every tag's image, as
// newest-build ordering does. requests/op is what the registry sees.
func BenchmarkTagsOf(b *testing.B) {
	const (
		repoCount = 10
		tagCount  = 250
		latency   = 2 * time.Millisecond
	)
	s := registrytest.NewServer(registrytest.ServerOptions{})
	defer s.Close()
	var repos []string
	for r := range repoCount {
		tags := map[string]time.Time{}
		for i := range tagCount {
			tags[fmt.Sprintf("build-%04d", i)] = t0.Add(time.Duration(i%5) * time.Hour)
		}
		repo := s.Repo(fmt.Sprintf("acme/app%02d", r))
		if _, err := registrytest.PushTags(context.Background(), repo, tags); err != nil {
			b.Fatal(err)
		}
		repos = append(repos, repo)
	}
	s.Update(func(o *registrytest.ServerOptions) { o.Latency = latency })

	for _, images := range []bool{false, true} {
		for _, warm := range []bool{false, true} {
			name := map[bool]string{false: "cold", true: "warm"}[warm]
			if images {
				name += "+images"
			}
			b.Run(name, func(b *testing.B) {
				dir := ""
				opt := func() registry.Options {
					return registry.Options{Keychain: keychain{}, CacheDir: dir, CacheTTL: time.Hour, RPS: -1}
				}
				if warm {
					dir = b.TempDir()
					work(b, registry.New(opt()), repos, images)
				}
				s.ResetCounts()
				b.ResetTimer()
				for range b.N {
					work(b, registry.New(opt()), repos, images)
				}
				b.StopTimer()
				b.ReportMetric(float64(s.Counts().Total)/float64(b.N), "requests/op")
			})
		}
	}
}

func work(b *testing.B, c *registry.Client, repos []string, images bool) {
	ctx := context.Background()
	for repo, tl := range c.TagsOf(ctx, repos) {
		if tl.Err != nil || len(tl.Tags) == 0 {
			b.Fatalf("%s: %v", repo, tl.Err)
		}
		if !images {
			continue
		}
		done := make(chan error, len(tl.Tags))
		for _, tag := range tl.Tags {
			go func() {
				_, err := c.Image(ctx, repo, tag)
				done <- err
			}()
		}
		for range tl.Tags {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkThrottled lists R repositories from a registry that answers 429
// (with Retry-After) beyond 50 requests per second, in bursts of 50 or of
// 5, with 15ms latency, from a cold client with the default settings: the
// host's rate has to be learned. x50rps is the time taken over what the
// registry's bucket allows for the requests it served, (served - burst) /
// 50 (target: at most 1.2); late429% is the share of requests answered 429
// more than a second after the first (target: under 5).
func BenchmarkThrottled(b *testing.B) {
	const (
		repoCount = 500
		limit     = 50
	)
	s := registrytest.NewServer(registrytest.ServerOptions{})
	defer s.Close()
	var repos []string
	for r := range repoCount {
		repo := s.Repo(fmt.Sprintf("acme/app%03d", r))
		if _, err := registrytest.PushTags(context.Background(), repo, map[string]time.Time{"v1": t0}); err != nil {
			b.Fatal(err)
		}
		repos = append(repos, repo)
	}
	for _, burst := range []int{limit, 5} {
		b.Run(fmt.Sprintf("burst=%d", burst), func(b *testing.B) {
			var took time.Duration
			var served, total, late int
			for i := range b.N {
				b.StopTimer()
				// A fresh, full bucket for every round (a new Throttle
				// value makes a new bucket).
				s.Update(func(o *registrytest.ServerOptions) {
					o.Latency = 15 * time.Millisecond
					o.Throttle = registrytest.Throttle{RPS: limit + float64(i%2)/1000, Burst: burst}
				})
				s.ResetCounts()
				c := registry.New(registry.Options{Keychain: keychain{}})
				b.StartTimer()
				start := time.Now()
				for repo, tl := range c.TagsOf(context.Background(), repos) {
					if tl.Err != nil {
						b.Fatalf("%s: %v", repo, tl.Err)
					}
				}
				took += time.Since(start)
				cs := s.Counts()
				served += cs.Total - cs.Throttled - burst
				total += cs.Total
				late += cs.ThrottledLate
			}
			b.ReportMetric(took.Seconds()/(float64(served)/limit), "x50rps")
			b.ReportMetric(100*float64(late)/float64(total), "late429%")
			b.ReportMetric(float64(total)/float64(b.N), "requests/op")
		})
	}
}
