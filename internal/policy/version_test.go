package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseVersion(t *testing.T) {
	type want struct {
		V       bool
		Nums    []string
		Pre     []preTok
		Variant string
	}
	tests := []struct {
		in   string
		want *want
	}{
		{"1.2.3", &want{Nums: []string{"1", "2", "3"}}},
		{"v1.2.3", &want{V: true, Nums: []string{"1", "2", "3"}}},
		{"01.002.3", &want{Nums: []string{"1", "2", "3"}}},
		{"2022.1", &want{Nums: []string{"2022", "1"}}},
		{"1.0.0-rc.10", &want{Nums: []string{"1", "0", "0"}, Pre: []preTok{{word: "rc", rank: 3}, {num: "10"}}}},
		{"1.0.0-rc10", &want{Nums: []string{"1", "0", "0"}, Pre: []preTok{{word: "rc", rank: 3}, {num: "10"}}}},
		{"1.0.0-RC-2", &want{Nums: []string{"1", "0", "0"}, Pre: []preTok{{word: "rc", rank: 3}, {num: "2"}}}},
		{"3.8.0b1", &want{Nums: []string{"3", "8", "0"}, Pre: []preTok{{word: "b", rank: 2}, {num: "1"}}}},
		{"1.0.0-alpha.beta", &want{Nums: []string{"1", "0", "0"}, Pre: []preTok{{word: "alpha", rank: 1}, {word: "beta", rank: 2}}}},
		{"3.13.0rc1-alpine3.22", &want{Nums: []string{"3", "13", "0"}, Pre: []preTok{{word: "rc", rank: 3}, {num: "1"}}, Variant: "-alpine3.22"}},
		{"1.2.0-alpine", &want{Nums: []string{"1", "2", "0"}, Variant: "-alpine"}},
		{"1.2.0-beta-alpine", &want{Nums: []string{"1", "2", "0"}, Pre: []preTok{{word: "beta", rank: 2}}, Variant: "-alpine"}},
		{"2.4.58-debian-12-r3", &want{Nums: []string{"2", "4", "58"}, Variant: "-debian-12-r3"}},
		{"1.2.3-dev", &want{Nums: []string{"1", "2", "3"}, Variant: "-dev"}},       // a variant, not a pre-release
		{"1.2.3b", &want{Nums: []string{"1", "2", "3"}, Variant: "b"}},             // single letters need a number
		{"1.2.", &want{Nums: []string{"1", "2"}, Variant: "."}},                    // a trailing dot is not a part
		{"20240115-abc123", &want{Nums: []string{"20240115"}, Variant: "-abc123"}}, // a date and a commit
		{"latest", nil},
		{"v", nil},
		{"vv1", nil},
		{"", nil},
		{"sha256-abc", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, ok := parseVersion(tt.in)
			if tt.want == nil {
				if ok {
					t.Fatalf("parseVersion(%q) = %+v, want no version", tt.in, v)
				}
				return
			}
			if !ok {
				t.Fatalf("parseVersion(%q) failed", tt.in)
			}
			got := &want{V: v.v, Nums: v.nums, Pre: v.pre, Variant: v.variant}
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(preTok{})); d != "" {
				t.Errorf("parseVersion(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

// TestCmpVersion checks chains that must be strictly increasing, including
// the orderings other tools get wrong.
func TestCmpVersion(t *testing.T) {
	chains := [][]string{
		// The semver specification's own example.
		{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"},
		// Numbers inside pre-release identifiers compare by value.
		{"1.0.0-rc.2", "1.0.0-rc.9", "1.0.0-rc.10", "1.0.0"},
		{"1.0.0-rc2", "1.0.0-rc9", "1.0.0-rc10", "1.0.0"},
		// Python-style pre-releases.
		{"3.8.0a1", "3.8.0a2", "3.8.0b1", "3.8.0rc1", "3.8.0", "3.8.1"},
		// Numeric parts by value, not as text.
		{"1.9.0", "1.10.0", "2.0.0", "10.0.0"},
		{"0.0.9", "0.0.10", "99999999999999999999999.0.0"},
	}
	for _, chain := range chains {
		for i := range chain {
			for j := range chain {
				a, _ := parseVersion(chain[i])
				b, _ := parseVersion(chain[j])
				if got, want := cmpVersion(a, b), cmpInt(i, j); got != want {
					t.Errorf("cmpVersion(%q, %q) = %d, want %d", chain[i], chain[j], got, want)
				}
			}
		}
	}
	equal := [][2]string{{"1.0.0-rc.1", "1.0.0-rc1"}, {"v1.2.3", "1.2.3"}, {"1.2", "1.2.0"}, {"01.2.3", "1.2.3"}, {"3.8.0c1", "3.8.0rc1"}}
	for _, e := range equal {
		a, _ := parseVersion(e[0])
		b, _ := parseVersion(e[1])
		if c := cmpVersion(a, b); c != 0 {
			t.Errorf("cmpVersion(%q, %q) = %d, want 0", e[0], e[1], c)
		}
	}
}

func TestCompatible(t *testing.T) {
	tests := []struct {
		cur, cand string
		ok        bool
	}{
		{"4.3.2", "4.4.0", true},
		{"4.3.2", "2022.1", false},   // CalVer, fewer parts
		{"4.3.2", "2022.1.0", false}, // CalVer, same parts
		{"2022.1", "2023.4", true},
		{"1.2.0-alpine", "1.3.0-alpine", true},
		{"1.2.0-alpine", "1.3.0", false},
		{"1.2.0", "1.3.0-alpine", false},
		{"1.2.0-alpine", "1.3.0-alpine3.19", false},
		{"1.2.0-alpine", "1.3-alpine", false},
		{"1.2", "1.3", true},
		{"1.2", "1.3.0", false},
		{"v1.2.3", "1.2.4", false},
		{"1.2.3", "v1.2.4", false},
		{"1.0.0-rc.1", "1.0.0", true}, // pre-releases are decided elsewhere
		{"3.13.0rc1-alpine", "3.13.0-alpine", true},
	}
	for _, tt := range tests {
		a, _ := parseVersion(tt.cur)
		b, _ := parseVersion(tt.cand)
		if ok, why := compatible(a, b); ok != tt.ok {
			t.Errorf("compatible(%q, %q) = %v (%s), want %v", tt.cur, tt.cand, ok, why, tt.ok)
		}
	}
}

func TestParseNumber(t *testing.T) {
	chain := []string{"0", "1", "1.05", "1.5", "2", "10", "0010.1", "123456789012345678901234567890"}
	for i := range chain {
		for j := range chain {
			a, ok1 := parseNumber(chain[i])
			b, ok2 := parseNumber(chain[j])
			if !ok1 || !ok2 {
				t.Fatalf("parseNumber failed on %q or %q", chain[i], chain[j])
			}
			if got, want := cmpNumber(a, b), cmpInt(i, j); got != want {
				t.Errorf("cmpNumber(%q, %q) = %d, want %d", chain[i], chain[j], got, want)
			}
		}
	}
	a, _ := parseNumber("1.50")
	b, _ := parseNumber("01.5")
	if cmpNumber(a, b) != 0 {
		t.Errorf("1.50 and 01.5 differ")
	}
	for _, bad := range []string{"", "a", "1.", ".5", "1.2.3", "-1", "+1", "1e3", "١"} {
		if _, ok := parseNumber(bad); ok {
			t.Errorf("parseNumber(%q) succeeded", bad)
		}
	}
}
