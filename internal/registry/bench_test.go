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
