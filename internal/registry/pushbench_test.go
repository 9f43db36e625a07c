package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// BenchmarkNewestPush ranks by push time R repositories of T tags each,
// listed through an API that says push times (Docker Hub's stand-in, pages
// of 100), cold (no cache): "listing" lists them, "newest-push" lists them
// and chooses a tag for each with an order = "newest-push" rule, as a
// bump does. Ranking by push time should cost about the listing: no
// request beyond it, and little time.
func BenchmarkNewestPush(b *testing.B) {
	const (
		repoCount = 500
		tagCount  = 300
	)
	s := registrytest.NewServer(registrytest.ServerOptions{DockerHub: true})
	defer s.Close()
	var repos []string
	for r := range repoCount {
		path := fmt.Sprintf("acme/app%03d", r)
		for i := range tagCount {
			s.Note(path, fmt.Sprintf("main-%04d", i), fmt.Sprintf("sha256:%064x", r*tagCount+i), t0.Add(time.Duration(i)*time.Minute))
		}
		repos = append(repos, s.Repo(path))
	}
	pol, err := policy.Compile(config.Update{Pattern: "glob:main-*", Order: policy.OrderNewestPush})
	if err != nil {
		b.Fatal(err)
	}
	opt := registry.Options{Keychain: keychain{}, RPS: -1, CacheTTL: -1,
		Registries: []registry.Settings{{Prefix: s.Host(), API: registry.APIDockerHub, APIURL: s.URL()}}}
	for _, choose := range []bool{false, true} {
		name := map[bool]string{false: "listing", true: "newest-push"}[choose]
		b.Run(name, func(b *testing.B) {
			s.ResetCounts()
			var listing, ranking time.Duration
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				c := registry.New(opt)
				lists := c.TagsOf(context.Background(), repos)
				listing += time.Since(start)
				start = time.Now()
				for repo, tl := range lists {
					if tl.Err != nil || len(tl.Tags) != tagCount {
						b.Fatalf("%s: %d tags, %v", repo, len(tl.Tags), tl.Err)
					}
					if !choose {
						continue
					}
					kept, _ := pol.Candidates("main-0000", tl.Tags)
					if !pol.NeedsPushed("main-0000", kept) || tl.Pushed == nil {
						b.Fatal("no push times")
					}
					cands := make([]policy.Tag, len(kept))
					for i, t := range kept {
						cands[i] = policy.Tag{Name: t, Pushed: tl.Pushed[t]}
					}
					ch := pol.Select(policy.Tag{Name: "main-0000", Pushed: tl.Pushed["main-0000"]}, cands, time.Now())
					if ch.Err != nil || ch.Tag != fmt.Sprintf("main-%04d", tagCount-1) {
						b.Fatalf("%s: chose %q, %v", repo, ch.Tag, ch.Err)
					}
				}
				ranking += time.Since(start)
			}
			b.StopTimer()
			b.ReportMetric(float64(s.Counts().Total)/float64(b.N), "requests/op")
			// Measured within the same runs, so that a machine busy with
			// other work slows both alike: the cost of ranking by push
			// time as a multiple of the listing it needs.
			b.ReportMetric(float64(listing+ranking)/float64(listing), "x-listing")
		})
	}
}
