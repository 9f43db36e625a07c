package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/config"
)

// benchCatalogue is one repository of the bench's large preset: 300 tags,
// by i%10 develop-*, main-*, five 1.x.y releases, a 1.x.5-rc.1 and a 2.x.0
// or a signature; tag i built at base+i minutes.
func benchCatalogue(n int) ([]string, map[string]time.Time) {
	base := time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
	var tags []string
	created := map[string]time.Time{}
	for i := range n {
		var t string
		switch i % 10 {
		case 0, 1:
			t = fmt.Sprintf("develop-%08x", i*2654435761%4294967296)
		case 2:
			t = fmt.Sprintf("main-%08x", i*2654435761%4294967296)
		case 3, 4, 5, 6, 7:
			t = fmt.Sprintf("1.%d.%d", i/10, i%10-3)
		case 8:
			t = fmt.Sprintf("1.%d.5-rc.1", i/10)
		default:
			if (i/10)%2 == 0 {
				t = fmt.Sprintf("2.%d.0", i/20)
			} else {
				t = "sha256-" + strings.Repeat(fmt.Sprintf("%08x", i), 8) + ".sig"
			}
		}
		tags = append(tags, t)
		created[t] = base.Add(time.Duration(i) * time.Minute)
	}
	return tags, created
}

// BenchmarkRepositoryDecisions is the policy's work for one repository of
// the large preset in a bump: three rules, two current tags each.
func BenchmarkRepositoryDecisions(b *testing.B) {
	tags, created := benchCatalogue(300)
	rules := []struct {
		u        config.Update
		currents []string
	}{
		{config.Update{Pattern: "glob:develop-*"}, []string{tags[0], tags[1]}},
		{config.Update{Pattern: "glob:main-*", Order: OrderNewestBuild}, []string{tags[2], tags[12]}},
		{config.Update{Pattern: "semver:^1"}, []string{tags[3], tags[14]}},
	}
	pols := make([]*Policy, len(rules))
	for i, r := range rules {
		p, err := Compile(r.u)
		if err != nil {
			b.Fatal(err)
		}
		pols[i] = p
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	// Each reference on its own, explained, as every decision was made.
	b.Run("select", func(b *testing.B) {
		for b.Loop() {
			for i, r := range rules {
				for _, cur := range r.currents {
					kept, _ := pols[i].Candidates(cur, tags)
					cands := make([]Tag, len(kept))
					for j, t := range kept {
						cands[j] = Tag{Name: t, Created: created[t]}
					}
					if ch := pols[i].Select(Tag{Name: cur, Created: created[cur]}, cands, now); !ch.Changed {
						b.Fatalf("%s: %s", cur, ch.Reason)
					}
				}
			}
		}
	})
	// The tag list filtered once per rule and kind of current tag, and
	// nothing explained: what a bump does.
	b.Run("decide", func(b *testing.B) {
		for b.Loop() {
			for i, r := range rules {
				sieve := pols[i].Sieve(tags)
				for _, cur := range r.currents {
					kept, _ := sieve.Candidates(cur)
					cands := make([]Tag, len(kept))
					for j, t := range kept {
						cands[j] = Tag{Name: t, Created: created[t]}
					}
					if ch := pols[i].Decide(Tag{Name: cur, Created: created[cur]}, cands, now); !ch.Changed {
						b.Fatalf("%s: %s", cur, ch.Reason)
					}
				}
			}
		}
	})
}

// TestDecideAgreesWithSelect: on many generated tag lists, for every rule
// and every current tag, the sieve keeps what Candidates keeps, and Decide
// chooses what Select chooses, for the same reason and error.
func TestDecideAgreesWithSelect(t *testing.T) {
	shapes := []func(r *rand.Rand) string{
		func(r *rand.Rand) string { return fmt.Sprintf("%d.%d.%d", r.IntN(3), r.IntN(4), r.IntN(4)) },
		func(r *rand.Rand) string { return fmt.Sprintf("v%d.%d", r.IntN(3), r.IntN(4)) },
		func(r *rand.Rand) string {
			return fmt.Sprintf("%d.%d.%d-rc.%d", r.IntN(3), r.IntN(4), r.IntN(4), r.IntN(3))
		},
		func(r *rand.Rand) string { return fmt.Sprintf("%d.%d-alpine", r.IntN(3), r.IntN(4)) },
		func(r *rand.Rand) string { return fmt.Sprintf("develop-%04x", r.IntN(1<<16)) },
		func(r *rand.Rand) string { return fmt.Sprintf("build-%d", r.IntN(50)) },
		func(r *rand.Rand) string { return fmt.Sprintf("2024%02d%02d", 1+r.IntN(12), 1+r.IntN(28)) },
		func(r *rand.Rand) string { return "sha256-" + strings.Repeat("ab", 32) + ".sig" },
		func(r *rand.Rand) string { return []string{"latest", "stable", "-bad", "UPPER", ""}[r.IntN(5)] },
	}
	rules := append(slices.Clone(fuzzRules),
		config.Update{Pattern: "semver:^1"},
		config.Update{Pattern: "glob:develop-*"},
		config.Update{Pattern: "glob:*", MinAge: 2 * time.Hour},
		config.Update{Pattern: `regex:build-(\d+)`, Order: "numeric", Extract: "$1", MinAge: time.Hour},
		config.Update{Pattern: "glob:*", Order: "digest", MinAge: time.Hour},
	)
	rng := rand.New(rand.NewPCG(1, 2))
	cases := 0
	for range 60 {
		var names []string
		for range rng.IntN(30) {
			names = append(names, shapes[rng.IntN(len(shapes))](rng))
		}
		currents := append(slices.Clone(names), shapes[rng.IntN(len(shapes))](rng))
		for _, u := range rules {
			p := mustCompile(t, u)
			sieve := p.Sieve(names)
			for _, cur := range currents {
				kept, rejected := p.Candidates(cur, names)
				sk, sr := sieve.Candidates(cur)
				if !slices.Equal(kept, sk) || !cmp.Equal(rejected, sr) {
					t.Fatalf("%s, current %q: sieve kept %v, Candidates %v", u.Pattern, cur, sk, kept)
				}
				cands := make([]Tag, len(kept))
				for i, k := range kept {
					cands[i] = fuzzTag(k)
				}
				want := p.Select(fuzzTag(cur), cands, now)
				want.Verdicts = nil
				got := p.Decide(fuzzTag(cur), cands, now)
				if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b error) bool { return fmt.Sprint(a) == fmt.Sprint(b) })); diff != "" {
					t.Fatalf("%+v, current %q, tags %q: Decide differs from Select (-Select +Decide):\n%s", u, cur, kept, diff)
				}
				cases++
			}
		}
	}
	t.Logf("%d decisions compared", cases)
}
