package policy

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/config"
)

// fuzzRules are the policies FuzzOrder exercises, one per order and a few
// variants.
var fuzzRules = []config.Update{
	{Pattern: "glob:*"},
	{Pattern: "semver:>=0"},
	{Pattern: `regex:[a-z]*-?(\d+)(-.*)?`, Order: "numeric", Extract: "$1"},
	{Pattern: "glob:*", Order: "alphabetical"},
	{Pattern: "glob:*", Order: "newest-build"},
	{Pattern: "glob:*", Order: "digest"},
	{Pattern: "glob:*", Order: "newest-build", MinAge: time.Hour},
	{Pattern: "glob:*", Order: "newest-push"},
	{Pattern: "glob:*", Order: "newest-push", MinAge: 3 * time.Minute},
	{Pattern: "semver:>=0", AllowDowngrade: true},
	{Pattern: "semver:>=1.0.0-0"},
	{Pattern: "glob:*", Order: "semver"},
	{Pattern: "glob:*", Order: "numeric"},
}

// fuzzTag gives a tag a creation time derived from its name alone, so that
// shuffling the input keeps each tag's time; about one in eight is unknown.
func fuzzTag(name string) Tag {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := h.Sum64()
	t := Tag{Name: name, Digest: "sha256:" + name}
	if s%8 != 0 {
		t.Created = now.Add(-time.Duration(s%5) * time.Hour) // coarse, so that ties happen
	}
	if s%7 != 0 {
		t.Pushed = now.Add(-time.Duration(s%6) * time.Minute)
	}
	return t
}

// FuzzOrder checks that the order of every policy is a total order
// (reflexive, antisymmetric, transitive, distinct names never equal) and
// that Select never panics, never chooses an invalid or unlisted tag, and
// gives the same Choice for any order of its input.
func FuzzOrder(f *testing.F) {
	f.Fuzz(func(t *testing.T, list, current string, rule uint8) {
		u := fuzzRules[int(rule)%len(fuzzRules)]
		p := mustCompile(t, u)
		names := strings.Split(list, ",")
		if len(names) > 24 {
			names = names[:24]
		}

		// The order itself.
		for _, o := range []order{orderSemver, orderNumeric, orderAlphabetical, orderCreated} {
			var placed []*item
			for _, n := range slices.Compact(slices.Sorted(slices.Values(names))) {
				it := &item{Tag: fuzzTag(n)}
				if out, _ := p.place(o, it, nil); out == "" {
					placed = append(placed, it)
				}
			}
			for _, a := range placed {
				if c := cmpRank(o, a, a); c != 0 {
					t.Fatalf("%v: cmpRank(%q, itself) = %d", o, a.Name, c)
				}
				for _, b := range placed {
					ab, ba := cmpRank(o, a, b), cmpRank(o, b, a)
					if ab != -ba {
						t.Fatalf("%v: not antisymmetric: %q vs %q: %d, %d", o, a.Name, b.Name, ab, ba)
					}
					if ab == 0 && a.Name != b.Name {
						t.Fatalf("%v: %q and %q rank equal", o, a.Name, b.Name)
					}
					if cmpValue(o, a, b) != -cmpValue(o, b, a) {
						t.Fatalf("%v: values not antisymmetric: %q vs %q", o, a.Name, b.Name)
					}
					for _, c := range placed {
						if ab < 0 && cmpRank(o, b, c) < 0 && cmpRank(o, a, c) >= 0 {
							t.Fatalf("%v: not transitive: %q < %q < %q but not %q < %q", o, a.Name, b.Name, c.Name, a.Name, c.Name)
						}
					}
				}
			}
		}

		// Select.
		in := make([]Tag, len(names))
		for i, n := range names {
			in[i] = fuzzTag(n)
		}
		cur := fuzzTag(current)
		ch := p.Select(cur, in, now)
		if ch.Changed {
			if ch.Err != nil {
				t.Fatalf("Changed with Err %v", ch.Err)
			}
			if checkTag(ch.Tag) != "" || !slices.Contains(names, ch.Tag) {
				t.Fatalf("chose %q, invalid or not listed", ch.Tag)
			}
			if o, why := p.filter(ch.Tag, p.isPre(current)); o != "" {
				t.Fatalf("chose %q, which the filter rejects: %s", ch.Tag, why)
			}
		} else if ch.Tag != current {
			t.Fatalf("Tag %q differs from the current %q without Changed", ch.Tag, current)
		}
		want := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(names), current))))
		var got []string
		for _, v := range ch.Verdicts {
			got = append(got, v.Tag)
		}
		slices.Sort(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("verdicts do not cover every tag once (-want +got):\n%s", d)
		}

		r := rand.New(rand.NewPCG(uint64(len(list)), uint64(rule)))
		for range 4 {
			shuffled := slices.Clone(in)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if d := cmp.Diff(ch, p.Select(cur, shuffled, now), errCmp); d != "" {
				t.Fatalf("shuffling changed the Choice (-first +shuffled):\n%s", d)
			}
		}

		kept, rejected := p.Candidates(current, names)
		if len(kept)+len(rejected) != len(slices.Compact(slices.Sorted(slices.Values(names)))) {
			t.Fatalf("Candidates lost tags: %d kept, %d rejected", len(kept), len(rejected))
		}
		_ = p.NeedsCreated(current, kept)
	})
}

// FuzzCompile checks that no rule makes Compile, or the compiled policy,
// panic.
func FuzzCompile(f *testing.F) {
	orders := []string{"", "semver", "numeric", "alphabetical", "newest-build", "newest-push", "digest", "bogus"}
	f.Fuzz(func(t *testing.T, pattern, extract, exclude string, ord uint8) {
		u := config.Update{Pattern: pattern, Extract: extract, Order: orders[int(ord)%len(orders)]}
		if exclude != "" {
			u.ExcludeTags = strings.Split(exclude, ",")
		}
		p, err := Compile(u)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		probe := []string{"1.2.3", "v1.2.3-rc.1", "latest", "main-12-abc", "2022.1", "", "a\nb", strings.Repeat("9", 128)}
		for _, tag := range probe {
			p.Manages(tag)
		}
		kept, _ := p.Candidates("1.2.3", probe)
		p.NeedsCreated("1.2.3", kept)
		in := make([]Tag, len(probe))
		for i, n := range probe {
			in[i] = fuzzTag(n)
		}
		p.Select(fuzzTag("1.2.3"), in, now)
		p.Select(fuzzTag("main-12-abc"), in, now)
	})
}
