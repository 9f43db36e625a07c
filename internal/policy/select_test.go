package policy

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/config"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// tags builds registry tags from "name" (creation time unknown) or
// "name@<duration ago>" ("main-1@2h").
func tags(specs ...string) []Tag {
	out := make([]Tag, len(specs))
	for i, s := range specs {
		name, ago, ok := strings.Cut(s, "@")
		out[i] = Tag{Name: name, Digest: "sha256:" + name}
		if ok {
			d, err := time.ParseDuration(ago)
			if err != nil {
				panic(err)
			}
			out[i].Created = now.Add(-d)
		}
	}
	return out
}

// errCmp compares errors by message.
var errCmp = cmp.Comparer(func(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
})

type selectCase struct {
	name    string
	u       config.Update
	current string // a spec as for tags
	tags    []string
	want    string             // the chosen tag
	err     string             // a substring of Choice.Err; "" for none
	out     map[string]Outcome // outcomes of some tags
}

func runSelect(t *testing.T, tests []selectCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.u)
			cur := tags(tt.current)[0]
			ch := p.Select(cur, tags(tt.tags...), now)
			checkChoice(t, ch, tt)

			// The same input in any order gives the same Choice.
			r := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				in := tags(tt.tags...)
				r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
				if d := cmp.Diff(ch, p.Select(cur, in, now), errCmp); d != "" {
					t.Fatalf("shuffled input changed the Choice (-first +shuffled):\n%s", d)
				}
			}
		})
	}
}

func checkChoice(t *testing.T, ch Choice, tt selectCase) {
	t.Helper()
	if ch.Tag != tt.want {
		t.Errorf("Tag = %q, want %q\n%s", ch.Tag, tt.want, dump(ch))
	}
	if ch.Changed != (ch.Tag != ch.Current) {
		t.Errorf("Changed = %v with Tag %q and Current %q", ch.Changed, ch.Tag, ch.Current)
	}
	switch {
	case tt.err == "" && ch.Err != nil:
		t.Errorf("Err = %v, want none\n%s", ch.Err, dump(ch))
	case tt.err != "" && ch.Err == nil:
		t.Errorf("Err = nil, want %q\n%s", tt.err, dump(ch))
	case tt.err != "" && !strings.Contains(ch.Err.Error(), tt.err):
		t.Errorf("Err = %q, want it to contain %q", ch.Err, tt.err)
	}
	if ch.Err != nil && ch.Changed {
		t.Errorf("Changed with Err %v", ch.Err)
	}
	seen := map[string]Verdict{}
	chosen := 0
	for _, v := range ch.Verdicts {
		if _, dup := seen[v.Tag]; dup {
			t.Errorf("two verdicts for %q", v.Tag)
		}
		seen[v.Tag] = v
		if v.Reason == "" || strings.ContainsAny(v.Reason, "\n\r") {
			t.Errorf("verdict for %q has an empty or multi-line reason %q", v.Tag, v.Reason)
		}
		if v.Outcome == Chosen {
			chosen++
			if v.Tag != ch.Tag {
				t.Errorf("verdict chose %q, Choice.Tag is %q", v.Tag, ch.Tag)
			}
		}
	}
	if want := map[bool]int{true: 1, false: 0}[ch.Changed]; chosen != want {
		t.Errorf("%d chosen verdicts with Changed %v", chosen, ch.Changed)
	}
	if v := seen[ch.Current]; v.Outcome != Current {
		t.Errorf("current tag %q has verdict %+v", ch.Current, v)
	}
	for tag, want := range tt.out {
		if got := seen[tag]; got.Outcome != want {
			t.Errorf("verdict for %q = %+v, want outcome %q\n%s", tag, got, want, dump(ch))
		}
	}
}

func dump(ch Choice) string {
	var b strings.Builder
	b.WriteString("choice: " + ch.Reason + "\n")
	for _, v := range ch.Verdicts {
		b.WriteString("  " + string(v.Outcome) + "\t" + v.Tag + "\t" + v.Reason + "\n")
	}
	return b.String()
}

func TestSelectSemver(t *testing.T) {
	runSelect(t, []selectCase{{
		name:    "rc.10 beats rc.9",
		u:       config.Update{Pattern: "semver:>=1.0.0-rc.1"},
		current: "1.0.0-rc.9",
		tags:    []string{"1.0.0-rc.9", "1.0.0-rc.10", "1.0.0-rc.2"},
		want:    "1.0.0-rc.10",
		out:     map[string]Outcome{"1.0.0-rc.2": Older, "1.0.0-rc.10": Chosen},
	}, {
		name:    "rc10 beats rc9 without a dot",
		u:       config.Update{Pattern: "glob:1.0.0-rc*"},
		current: "1.0.0-rc9",
		tags:    []string{"1.0.0-rc9", "1.0.0-rc10", "1.0.0-rc1"},
		want:    "1.0.0-rc10",
	}, {
		name:    "CalVer does not beat 4.3.2",
		u:       config.Update{Pattern: "semver:>=4"},
		current: "4.3.2",
		tags:    []string{"4.3.2", "4.4.0", "2022.1", "2023.10.1", "2024.1.0-alpine"},
		want:    "4.4.0",
		out:     map[string]Outcome{"2022.1": Incompatible, "2023.10.1": Incompatible, "2024.1.0-alpine": Incompatible},
	}, {
		name:    "CalVer alone never wins",
		u:       config.Update{Pattern: "glob:*"},
		current: "4.3.2",
		tags:    []string{"4.3.2", "2022.1", "2022.1.0"},
		want:    "4.3.2",
		out:     map[string]Outcome{"2022.1": Incompatible, "2022.1.0": Incompatible},
	}, {
		name:    "3.8.0b1 moves to 3.8.0",
		u:       config.Update{Pattern: "glob:*"},
		current: "3.8.0b1",
		tags:    []string{"3.8.0b1", "3.8.0", "3.8.0b2", "3.8.0rc1", "3.7.9"},
		want:    "3.8.0",
		out:     map[string]Outcome{"3.8.0rc1": Older, "3.7.9": Older},
	}, {
		name:    "a release does not move to a Python pre-release",
		u:       config.Update{Pattern: "glob:*"},
		current: "3.7.9",
		tags:    []string{"3.7.9", "3.8.0b1"},
		want:    "3.7.9",
		out:     map[string]Outcome{"3.8.0b1": Incompatible},
	}, {
		name:    "Python pre-releases in a semver range",
		u:       config.Update{Pattern: "semver:>=3.7"},
		current: "3.7.9",
		tags:    []string{"3.8.0b1", "3.8.0", "3.7.10"},
		want:    "3.8.0",
		out:     map[string]Outcome{"3.8.0b1": Filtered, "3.7.10": Older},
	}, {
		name:    "pre-releases left out of a release range",
		u:       config.Update{Pattern: "semver:^1.2"},
		current: "1.2.3",
		tags:    []string{"1.2.3", "1.3.0-rc.1", "1.2.4"},
		want:    "1.2.4",
		out:     map[string]Outcome{"1.3.0-rc.1": Filtered},
	}, {
		name:    "pre-releases when the current tag is one",
		u:       config.Update{Pattern: "semver:^1.2"},
		current: "1.3.0-rc.1",
		tags:    []string{"1.3.0-rc.1", "1.3.0-rc.2", "1.2.9"},
		want:    "1.3.0-rc.2",
		out:     map[string]Outcome{"1.2.9": Older},
	}, {
		name:    "pre-releases when the range names one",
		u:       config.Update{Pattern: "semver:>=1.2.0-0"},
		current: "1.2.3",
		tags:    []string{"1.2.3", "1.3.0-rc.1"},
		want:    "1.3.0-rc.1",
	}, {
		name:    "a pre-release moves on to its release",
		u:       config.Update{Pattern: "glob:*"},
		current: "2.0.0-beta.3",
		tags:    []string{"2.0.0-beta.3", "2.0.0-beta.11", "2.0.0"},
		want:    "2.0.0",
	}, {
		name:    "suffix stays",
		u:       config.Update{Pattern: "glob:*"},
		current: "1.2.0-alpine",
		tags:    []string{"1.2.0-alpine", "1.3.0-alpine", "1.4.0", "1.4.0-slim", "1.5-alpine", "1.5.0-alpine3.19"},
		want:    "1.3.0-alpine",
		out:     map[string]Outcome{"1.4.0": Incompatible, "1.4.0-slim": Incompatible, "1.5-alpine": Incompatible, "1.5.0-alpine3.19": Incompatible},
	}, {
		name:    "no suffix does not take one",
		u:       config.Update{Pattern: "semver:^1"},
		current: "1.2.0",
		tags:    []string{"1.2.0", "1.3.0-alpine", "1.2.1"},
		want:    "1.2.1",
		out:     map[string]Outcome{"1.3.0-alpine": Incompatible},
	}, {
		name:    "suffixed pre-release to suffixed release",
		u:       config.Update{Pattern: "glob:*"},
		current: "3.13.0rc1-alpine",
		tags:    []string{"3.13.0rc1-alpine", "3.13.0rc2-alpine", "3.13.0-alpine", "3.13.0"},
		want:    "3.13.0-alpine",
		out:     map[string]Outcome{"3.13.0": Incompatible},
	}, {
		name:    "stray old tags",
		u:       config.Update{Pattern: "glob:*"},
		current: "2.3.4",
		tags:    []string{"latest", "v0.0.1-old", "1.0", "2.3.4", "2.3.5", "stable"},
		want:    "2.3.5",
		out:     map[string]Outcome{"latest": Unordered, "stable": Unordered, "v0.0.1-old": Incompatible, "1.0": Incompatible},
	}, {
		name:    "only stray tags",
		u:       config.Update{Pattern: "glob:*"},
		current: "2.3.4",
		tags:    []string{"latest", "v0.0.1-old", "1.0", "9.9"},
		want:    "2.3.4",
	}, {
		name:    "v prefix is kept",
		u:       config.Update{Pattern: "semver:^1"},
		current: "v1.2.3",
		tags:    []string{"v1.2.3", "v1.2.4", "1.2.5"},
		want:    "v1.2.4",
		out:     map[string]Outcome{"1.2.5": Incompatible},
	}, {
		name:    "two-part versions",
		u:       config.Update{Pattern: "glob:*"},
		current: "1.9",
		tags:    []string{"1.9", "1.10", "1.11.0"},
		want:    "1.10",
		out:     map[string]Outcome{"1.11.0": Incompatible},
	}, {
		name:    "equal versions spelled differently do not flap",
		u:       config.Update{Pattern: "glob:*"},
		current: "1.0.0-rc.1",
		tags:    []string{"1.0.0-rc.1", "1.0.0-rc1"},
		want:    "1.0.0-rc.1",
		out:     map[string]Outcome{"1.0.0-rc1": Older},
	}, {
		name:    "no silent downgrade when the current tag is gone",
		u:       config.Update{Pattern: "semver:>=1"},
		current: "1.5.0",
		tags:    []string{"1.4.0", "1.3.0"},
		want:    "1.5.0",
		out:     map[string]Outcome{"1.4.0": Older, "1.3.0": Older},
	}, {
		name:    "allow_downgrade when the current tag is gone",
		u:       config.Update{Pattern: "semver:>=1", AllowDowngrade: true},
		current: "1.5.0",
		tags:    []string{"1.4.0", "1.3.0"},
		want:    "1.4.0",
		out:     map[string]Outcome{"1.4.0": Chosen, "1.3.0": Older},
	}, {
		name:    "allow_downgrade keeps a listed current tag",
		u:       config.Update{Pattern: "semver:>=1", AllowDowngrade: true},
		current: "1.5.0",
		tags:    []string{"1.5.0", "1.4.0"},
		want:    "1.5.0",
	}, {
		name:    "explicit semver order with a current tag that is no version",
		u:       config.Update{Pattern: "glob:*", Order: "semver"},
		current: "latest",
		tags:    []string{"latest", "1.0.0"},
		want:    "latest",
		err:     `cannot compare with the current tag "latest": not a version`,
	}, {
		name:    "semver on an extracted group",
		u:       config.Update{Pattern: `regex:app-(\d+\.\d+\.\d+)-linux`, Extract: "$1"},
		current: "app-1.2.3-linux",
		tags:    []string{"app-1.2.3-linux", "app-1.10.0-linux", "app-1.9.0-linux"},
		want:    "app-1.10.0-linux",
	}, {
		name:    "invalid current tag",
		u:       config.Update{Pattern: "glob:*"},
		current: "../1.0",
		tags:    []string{"1.1"},
		want:    "../1.0",
		err:     "not a valid tag",
	}})
}

func TestSelectCreated(t *testing.T) {
	runSelect(t, []selectCase{{
		name:    "glob without versions orders by creation time",
		u:       config.Update{Pattern: "glob:main-*"},
		current: "main-aaa@10h",
		tags:    []string{"main-aaa@10h", "main-bbb@2h", "main-ccc@5h"},
		want:    "main-bbb",
		out:     map[string]Outcome{"main-ccc": Older},
	}, {
		name:    "glob tags with unknown creation times",
		u:       config.Update{Pattern: "glob:main-*"},
		current: "main-aaa",
		tags:    []string{"main-aaa", "main-bbb", "main-ccc@1h"},
		want:    "main-aaa",
		err:     `cannot order "main-aaa", "main-bbb": no version and no creation time`,
		out:     map[string]Outcome{"main-bbb": Unordered, "main-ccc": Unordered},
	}, {
		name:    "current creation time unknown",
		u:       config.Update{Pattern: "glob:main-*"},
		current: "main-aaa",
		tags:    []string{"main-bbb@1h"},
		want:    "main-aaa",
		err:     `cannot compare with the current tag "main-aaa": creation time unknown`,
	}, {
		name:    "current creation time from the listing",
		u:       config.Update{Pattern: "glob:main-*"},
		current: "main-aaa",
		tags:    []string{"main-aaa@3h", "main-bbb@1h"},
		want:    "main-bbb",
	}, {
		name:    "newest-build ties break by name",
		u:       config.Update{Pattern: "glob:*", Order: "newest-build"},
		current: "a@10h",
		tags:    []string{"a@10h", "c@1h", "b@1h", "d@1h"},
		want:    "b",
		out:     map[string]Outcome{"c": Older, "d": Older},
	}, {
		name:    "newest-build tie with the current tag does not flap",
		u:       config.Update{Pattern: "glob:*", Order: "newest-build"},
		current: "b@1h",
		tags:    []string{"b@1h", "a@1h"},
		want:    "b",
		out:     map[string]Outcome{"a": Older},
	}, {
		name:    "newest-build refuses a downgrade",
		u:       config.Update{Pattern: "glob:*", Order: "newest-build"},
		current: "new@1h",
		tags:    []string{"old@5h", "older@9h"},
		want:    "new",
	}, {
		name:    "newest-build with versions ignores the versions",
		u:       config.Update{Pattern: "glob:*", Order: "newest-build"},
		current: "1.0.0@10h",
		tags:    []string{"1.0.0@10h", "0.9.0@1h", "2.0.0@20h"},
		want:    "0.9.0",
	}, {
		name:    "min_age",
		u:       config.Update{Pattern: "semver:^1", MinAge: 24 * time.Hour},
		current: "1.0.0@100h",
		tags:    []string{"1.0.0@100h", "1.1.0@48h", "1.2.0@1h", "1.3.0"},
		want:    "1.1.0",
		out:     map[string]Outcome{"1.2.0": TooYoung, "1.3.0": TooYoung, "1.1.0": Chosen},
	}, {
		name:    "min_age holds back every newer tag",
		u:       config.Update{Pattern: "semver:^1", MinAge: 24 * time.Hour},
		current: "1.0.0",
		tags:    []string{"1.0.0", "1.2.0@1h"},
		want:    "1.0.0",
		out:     map[string]Outcome{"1.2.0": TooYoung},
	}, {
		name:    "min_age rules out unknown creation times instead of failing",
		u:       config.Update{Pattern: "glob:main-*", MinAge: time.Hour},
		current: "main-aaa@10h",
		tags:    []string{"main-aaa@10h", "main-bbb", "main-ccc@5h", "main-ddd@10m"},
		want:    "main-ccc",
		out:     map[string]Outcome{"main-bbb": TooYoung, "main-ddd": TooYoung},
	}, {
		name:    "min_age with a creation time in the future",
		u:       config.Update{Pattern: "glob:*", Order: "newest-build", MinAge: time.Hour},
		current: "a@10h",
		tags:    []string{"b@-5h"},
		want:    "a",
		out:     map[string]Outcome{"b": TooYoung},
	}, {
		name:    "default excludes",
		u:       config.Update{Pattern: "glob:*", Order: "newest-build"},
		current: "main@10h",
		tags:    []string{"main@10h", "sha256-abc.sig@1m", "sha256-abc.att@1m", "sha256-abc.sbom@1m", "sha256-abc@1m", "main-2@1h"},
		want:    "main-2",
		out: map[string]Outcome{
			"sha256-abc.sig": Excluded, "sha256-abc.att": Excluded, "sha256-abc.sbom": Excluded, "sha256-abc": Excluded,
		},
	}, {
		name:    "hostile tag names are never chosen",
		u:       config.Update{Pattern: "glob:*", Order: "newest-build"},
		current: "a@10h",
		tags: []string{"a\nLaminar-Promote: x@1h", "../../etc@1h", strings.Repeat("z", 200) + "@1h",
			strings.Repeat("y", 129) + "@1h", "ünicode@1h", "with space@1h", "a\x00b@1h", "x\u202ey@1h"},
		want: "a",
		out: map[string]Outcome{
			"a\nLaminar-Promote: x": Invalid, "../../etc": Invalid, strings.Repeat("z", 200): Invalid,
			strings.Repeat("y", 129): Invalid, "ünicode": Invalid, "with space": Invalid, "a\x00b": Invalid, "x\u202ey": Invalid,
		},
	}, {
		name:    "a 128-byte tag is valid",
		u:       config.Update{Pattern: "glob:*", Order: "newest-build"},
		current: "a@10h",
		tags:    []string{strings.Repeat("y", 128) + "@1h"},
		want:    strings.Repeat("y", 128),
	}})
}

func TestSelectNumericAlphabetical(t *testing.T) {
	build := `regex:main-(?P<build>\d+)-[0-9a-f]+`
	runSelect(t, []selectCase{{
		name:    "numeric extract",
		u:       config.Update{Pattern: build, Order: "numeric", Extract: "$build"},
		current: "main-9-abc",
		tags:    []string{"main-9-abc", "main-10-def", "main-8-fff", "main-x-abc", "feature-99-abc"},
		want:    "main-10-def",
		out:     map[string]Outcome{"main-8-fff": Older, "main-x-abc": Filtered, "feature-99-abc": Filtered},
	}, {
		name:    "numeric whole tag",
		u:       config.Update{Pattern: "glob:*", Order: "numeric"},
		current: "9",
		tags:    []string{"9", "10", "x", "1.5"},
		want:    "10",
		out:     map[string]Outcome{"x": Unordered, "1.5": Older},
	}, {
		name:    "numeric no downgrade",
		u:       config.Update{Pattern: build, Order: "numeric", Extract: "$1"},
		current: "main-100-abc",
		tags:    []string{"main-99-abc"},
		want:    "main-100-abc",
		out:     map[string]Outcome{"main-99-abc": Older},
	}, {
		name:    "numeric with an unset optional group",
		u:       config.Update{Pattern: `regex:b(-(\d+))?`, Order: "numeric", Extract: "$2"},
		current: "b-1",
		tags:    []string{"b-1", "b", "b-2"},
		want:    "b-2",
		out:     map[string]Outcome{"b": Unordered},
	}, {
		name:    "numeric current not a number",
		u:       config.Update{Pattern: "glob:*", Order: "numeric"},
		current: "x",
		tags:    []string{"1"},
		want:    "x",
		err:     "not a number",
	}, {
		name:    "alphabetical extract",
		u:       config.Update{Pattern: `regex:(?P<ts>\d{8}T\d{6})-[0-9a-f]+`, Order: "alphabetical", Extract: "$ts"},
		current: "20240101T000000-abc",
		tags:    []string{"20240101T000000-abc", "20240301T120000-def", "20240201T120000-fff"},
		want:    "20240301T120000-def",
	}, {
		name:    "alphabetical whole tag",
		u:       config.Update{Pattern: "glob:release-*", Order: "alphabetical"},
		current: "release-b",
		tags:    []string{"release-a", "release-c", "release-b"},
		want:    "release-c",
	}})
}

func TestSelectDigest(t *testing.T) {
	u := config.Update{Pattern: "glob:latest", Order: "digest"}
	p := mustCompile(t, u)
	ch := p.Select(Tag{Name: "latest", Digest: "sha256:old"}, []Tag{{Name: "latest", Digest: "sha256:new", Created: now.Add(-time.Hour)}}, now)
	want := Choice{Current: "latest", Tag: "latest", Digest: "sha256:new", FollowDigest: true, Order: "digest",
		Reason:   `"latest" stays; its digest is followed`,
		Verdicts: []Verdict{{Tag: "latest", Outcome: Current, Reason: "stays; its digest is followed"}}}
	if d := cmp.Diff(want, ch, errCmp); d != "" {
		t.Errorf("digest order (-want +got):\n%s", d)
	}

	runSelect(t, []selectCase{{
		name:    "digest keeps the tag",
		u:       config.Update{Pattern: "glob:*", Order: "digest"},
		current: "stable@1h",
		tags:    []string{"stable@1h", "newer@1m", "sha256-x.sig"},
		want:    "stable",
		out:     map[string]Outcome{"newer": Unordered, "sha256-x.sig": Excluded},
	}, {
		name:    "digest of a vanished tag",
		u:       u,
		current: "latest",
		tags:    nil,
		want:    "latest",
		err:     "no longer lists the current tag",
	}})

	young := mustCompile(t, config.Update{Pattern: "glob:latest", Order: "digest", MinAge: 2 * time.Hour})
	ch = young.Select(Tag{Name: "latest"}, tags("latest@1h"), now)
	if ch.FollowDigest || ch.Changed || ch.Err != nil {
		t.Errorf("min_age: image 1h old followed: %+v", ch)
	}
	ch = young.Select(Tag{Name: "latest"}, tags("latest@3h"), now)
	if !ch.FollowDigest {
		t.Errorf("min_age: image 3h old not followed: %+v", ch)
	}
}

// TestSelectReasons pins the wording and the order of verdicts once.
func TestSelectReasons(t *testing.T) {
	p := mustCompile(t, config.Update{Pattern: "glob:*", MinAge: time.Hour})
	ch := p.Select(Tag{Name: "1.2.3"}, tags("1.2.3@30h", "1.2.5@2h", "1.2.4@20h", "1.3.0@1m", "1.2.0@40h", "latest@1m", "1.3-alpine@2h", "bad tag"), now)
	want := Choice{
		Current: "1.2.3", Tag: "1.2.5", Digest: "sha256:1.2.5", Changed: true, Order: "semver",
		Reason: `"1.2.5" newest by version; newer than the current "1.2.3"`,
		Verdicts: []Verdict{
			{"1.3.0", TooYoung, "created 1m0s ago; min_age is 1h0m0s"},
			{"1.2.5", Chosen, `newest by version; newer than the current "1.2.3"`},
			{"1.2.4", Older, `older than the chosen "1.2.5"`},
			{"1.2.3", Current, `replaced by "1.2.5"`},
			{"1.2.0", Older, `older than the chosen "1.2.5"`},
			{"latest", Unordered, "not a version"},
			{"1.3-alpine", Incompatible, `version of another shape: it has 2 numeric parts, the current tag 3`},
			{"bad tag", Invalid, `not a valid tag: contains ' '; a tag holds only letters, digits, "_", "." and "-"`},
		},
	}
	if d := cmp.Diff(want, ch, errCmp); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestSelectReasonsByCreation: with a time order, each reason starts with
// the tag's own creation time, and a time in parentheses is the other tag's.
func TestSelectReasonsByCreation(t *testing.T) {
	p := mustCompile(t, config.Update{Pattern: "glob:main-*"})
	ch := p.Select(Tag{Name: "main-aaa", Created: now.Add(-10 * time.Hour)}, tags("main-aaa@10h", "main-bbb@2h", "main-ccc@5h"), now)
	at := func(ago time.Duration) string { return now.Add(-ago).UTC().Format(time.RFC3339) }
	want := map[string]string{
		"main-bbb": "created " + at(2*time.Hour) + `: newest by creation time; newer than the current "main-aaa" (created ` + at(10*time.Hour) + ")",
		"main-ccc": "created " + at(5*time.Hour) + `: older than the chosen "main-bbb" (created ` + at(2*time.Hour) + ")",
	}
	for _, v := range ch.Verdicts {
		if w, ok := want[v.Tag]; ok && v.Reason != w {
			t.Errorf("%s: reason\n %q\nwant\n %q", v.Tag, v.Reason, w)
		}
	}
}

// TestSelectDuplicates checks that a tag listed twice with different
// details gives the same Choice in either order.
func TestSelectDuplicates(t *testing.T) {
	p := mustCompile(t, config.Update{Pattern: "glob:*", Order: "newest-build"})
	a := Tag{Name: "b", Created: now.Add(-time.Hour), Digest: "sha256:2"}
	b := Tag{Name: "b", Created: now.Add(-3 * time.Hour), Digest: "sha256:1"}
	cur := Tag{Name: "a", Created: now.Add(-2 * time.Hour)}
	x := p.Select(cur, []Tag{a, b}, now)
	y := p.Select(cur, []Tag{b, a}, now)
	if d := cmp.Diff(x, y, errCmp); d != "" {
		t.Errorf("order of duplicates matters (-ab +ba):\n%s", d)
	}
	if x.Tag != "b" || x.Digest != "sha256:1" {
		t.Errorf("got %q %q, want b with the latest time and the smallest digest", x.Tag, x.Digest)
	}
}
