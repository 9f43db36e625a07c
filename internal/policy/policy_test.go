package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/config"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		u    config.Update
		want string // the whole message; a trailing "..." matches a prefix
	}{
		{"regex syntax", config.Update{Pattern: "regex:^(a"}, "pattern \"regex:^(a\": missing closing ): `^(a`"},
		{"regex repeat", config.Update{Pattern: "regex:a**"}, "pattern \"regex:a**\": invalid nested repetition operator: `**`"},
		{"empty regex", config.Update{Pattern: "regex:"}, `pattern "regex:": empty regular expression`},
		{"glob syntax", config.Update{Pattern: "glob:v[1"}, `pattern "glob:v[1": syntax error in pattern`},
		{"empty glob", config.Update{Pattern: "glob:"}, `pattern "glob:": empty glob; use glob:* to match every tag`},
		{"semver syntax", config.Update{Pattern: "semver:>=x.y"}, `pattern "semver:>=x.y": improper constraint: ...`},
		{"empty range", config.Update{Pattern: "semver: "}, `pattern "semver: ": empty range; ...`},
		{"no pattern", config.Update{}, `pattern "": must start with "glob:", "regex:" or "semver:"`},
		{"unknown kind", config.Update{Pattern: "re:^v"}, `pattern "re:^v": must start with "glob:", "regex:" or "semver:"`},
		{"unknown order", config.Update{Pattern: "glob:*", Order: "newest"}, `order "newest": must be one of semver, numeric, alphabetical, newest-build, newest-push or digest`},
		{"numeric semver", config.Update{Pattern: "semver:^1", Order: "numeric"}, `order "numeric": a semver: pattern orders by version; ...`},
		{"extract glob", config.Update{Pattern: "glob:*", Order: "numeric", Extract: "$1"}, `extract "$1": needs a regex: pattern to take a group from`},
		{"extract missing number", config.Update{Pattern: `regex:b-(\d+)`, Order: "numeric", Extract: "$2"}, `extract "$2": the pattern has 1 group`},
		{"extract missing name", config.Update{Pattern: `regex:b-(?P<n>\d+)`, Order: "numeric", Extract: "$build"}, `extract "$build": the pattern has no group named "build"`},
		{"extract no dollar", config.Update{Pattern: `regex:b-(\d+)`, Order: "numeric", Extract: "1"}, `extract "1": must name a group of the pattern, as "$1" or "$name"`},
		{"extract bad brace", config.Update{Pattern: `regex:b-(\d+)`, Order: "numeric", Extract: "${1"}, `extract "${1": must name a group ...`},
		{"extract newest-build", config.Update{Pattern: `regex:b-(\d+)`, Order: "newest-build", Extract: "$1"}, `extract "$1": order "newest-build" does not use it`},
		{"exclude syntax", config.Update{Pattern: "glob:*", ExcludeTags: []string{"*.sig", "[a"}}, `exclude_tags[1] "[a": syntax error in pattern`},
		{"exclude empty", config.Update{Pattern: "glob:*", ExcludeTags: []string{""}}, `exclude_tags[0] "": empty glob`},
		{"min_age", config.Update{Pattern: "glob:*", MinAge: -time.Hour}, `min_age "-1h0m0s": must not be negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.u)
			if err == nil {
				t.Fatalf("Compile(%+v) = %v, want an error", tt.u, p)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %v is %T, want *Error", err, err)
			}
			if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("error = %q, want prefix %q", err, prefix)
				}
			} else if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

func TestCompileOK(t *testing.T) {
	for _, u := range []config.Update{
		{Pattern: "glob:*"},
		{Pattern: "glob:develop-*", Order: "newest-build", MinAge: time.Hour},
		{Pattern: `regex:^main-(?P<build>\d+)-[0-9a-f]+$`, Order: "numeric", Extract: "$build"},
		{Pattern: `regex:(\d+)`, Order: "numeric", Extract: "${1}"},
		{Pattern: `regex:(?P<d>\d{8})-.*`, Order: "alphabetical", Extract: "${d}"},
		{Pattern: `regex:v(\d+\.\d+\.\d+)`, Extract: "$1"},
		{Pattern: "semver:^1.2 || ~2.0", Order: "semver"},
		{Pattern: "semver:>=1.0.0-0"},
		{Pattern: "glob:latest", Order: "digest", ExcludeTags: []string{"*-debug"}},
	} {
		if _, err := Compile(u); err != nil {
			t.Errorf("Compile(%+v): %v", u, err)
		}
	}
}

func mustCompile(t testing.TB, u config.Update) *Policy {
	t.Helper()
	p, err := Compile(u)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestManages(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"glob:develop-*", []string{"develop-1", "develop-", "develop-a.b_c"}, []string{"develop", "xdevelop-1", "main-1", "develop-\n"}},
		{`regex:v\d+`, []string{"v1", "v42"}, []string{"xv1", "v1x", "v", "v1\n"}},
		{`regex:^v\d+$`, []string{"v1"}, []string{"v1x"}},
		{`regex:a|b`, []string{"a", "b"}, []string{"ab", "xa"}}, // the anchor covers the alternation
		{"semver:^1.2", []string{"1.2.0", "v1.9.9", "1.2", "1.3.0-alpine", "1.3.0-rc.1"}, []string{"1.1.9", "2.0.0", "latest", "1.2.3.4", "1.0"}},
		{"semver:>=4", []string{"4.3.2", "2022.1"}, []string{"3.9"}},
	}
	for _, tt := range tests {
		p := mustCompile(t, config.Update{Pattern: tt.pattern})
		for _, tag := range tt.yes {
			if !p.Manages(tag) {
				t.Errorf("%s: Manages(%q) = false", tt.pattern, tag)
			}
		}
		for _, tag := range tt.no {
			if p.Manages(tag) {
				t.Errorf("%s: Manages(%q) = true", tt.pattern, tag)
			}
		}
	}
}

func TestCandidates(t *testing.T) {
	long := strings.Repeat("a", 129)
	tests := []struct {
		name     string
		u        config.Update
		current  string
		tags     []string
		kept     []string
		rejected map[string]Outcome
	}{{
		name:    "default excludes",
		u:       config.Update{Pattern: "glob:*"},
		current: "1.0.0",
		tags:    []string{"1.1.0", "sha256-abc.sig", "sha256-abc.att", "x.sbom", "sha256-abc", "1.1.0", "1.0.0"},
		kept:    []string{"1.0.0", "1.1.0"},
		rejected: map[string]Outcome{
			"sha256-abc.sig": Excluded, "sha256-abc.att": Excluded, "x.sbom": Excluded, "sha256-abc": Excluded,
		},
	}, {
		name:     "own excludes replace the defaults",
		u:        config.Update{Pattern: "glob:*", ExcludeTags: []string{"*-debug"}},
		current:  "1.0.0",
		tags:     []string{"1.1.0-debug", "sha256-abc.sig"},
		kept:     []string{"sha256-abc.sig"},
		rejected: map[string]Outcome{"1.1.0-debug": Excluded},
	}, {
		name:    "hostile tags",
		u:       config.Update{Pattern: "glob:*"},
		current: "a",
		tags:    []string{"a\nLaminar-Promote: x", "../../etc", strings.Repeat("b", 200), long, "ünicode", "with space", "-x", ".x", "", strings.Repeat("c", 128), "_ok"},
		kept:    []string{"_ok", strings.Repeat("c", 128)},
		rejected: map[string]Outcome{
			"a\nLaminar-Promote: x": Invalid, "../../etc": Invalid, strings.Repeat("b", 200): Invalid, long: Invalid,
			"ünicode": Invalid, "with space": Invalid, "-x": Invalid, ".x": Invalid, "": Invalid,
		},
	}, {
		name:     "semver range and pre-releases",
		u:        config.Update{Pattern: "semver:^1.2"},
		current:  "1.2.3",
		tags:     []string{"1.2.4", "1.3.0-rc.1", "2.0.0", "latest", "1.2.3.4"},
		kept:     []string{"1.2.4"},
		rejected: map[string]Outcome{"1.3.0-rc.1": Filtered, "2.0.0": Filtered, "latest": Filtered, "1.2.3.4": Filtered},
	}, {
		name:     "semver pre-releases when the current tag is one",
		u:        config.Update{Pattern: "semver:^1.2"},
		current:  "1.3.0-rc.1",
		tags:     []string{"1.3.0-rc.2", "1.3.0"},
		kept:     []string{"1.3.0", "1.3.0-rc.2"},
		rejected: map[string]Outcome{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.u)
			kept, rejected := p.Candidates(tt.current, tt.tags)
			if d := cmp.Diff(tt.kept, kept); d != "" {
				t.Errorf("kept (-want +got):\n%s", d)
			}
			got := map[string]Outcome{}
			for _, v := range rejected {
				got[v.Tag] = v.Outcome
				if v.Reason == "" || strings.ContainsAny(v.Reason, "\n\r") {
					t.Errorf("reason for %q is empty or multi-line: %q", v.Tag, v.Reason)
				}
			}
			if d := cmp.Diff(tt.rejected, got); d != "" {
				t.Errorf("rejected (-want +got):\n%s", d)
			}
		})
	}
}

func TestNeedsCreated(t *testing.T) {
	tests := []struct {
		u       config.Update
		current string
		kept    []string
		want    bool
	}{
		{config.Update{Pattern: "semver:^1"}, "1.0.0", []string{"1.0.0", "1.1.0"}, false},
		{config.Update{Pattern: "semver:^1", MinAge: time.Hour}, "1.0.0", []string{"1.1.0"}, true},
		{config.Update{Pattern: "semver:^1", MinAge: time.Hour}, "1.0.0", []string{"1.0.0"}, false},
		{config.Update{Pattern: "glob:*"}, "1.0.0", []string{"1.1.0"}, false},
		{config.Update{Pattern: "glob:main-*"}, "main-abc", []string{"main-def"}, true},
		{config.Update{Pattern: "glob:main-*"}, "main-abc", nil, false},
		{config.Update{Pattern: "glob:*", Order: "newest-build"}, "1.0.0", []string{"1.1.0"}, true},
		{config.Update{Pattern: `regex:b-(\d+)`, Order: "numeric", Extract: "$1"}, "b-1", []string{"b-2"}, false},
		{config.Update{Pattern: "glob:latest", Order: "digest"}, "latest", []string{"latest"}, false},
		{config.Update{Pattern: "glob:latest", Order: "digest", MinAge: time.Hour}, "latest", []string{"latest"}, true},
	}
	for _, tt := range tests {
		p := mustCompile(t, tt.u)
		if got := p.NeedsCreated(tt.current, tt.kept); got != tt.want {
			t.Errorf("%+v: NeedsCreated(%q, %q) = %v, want %v", tt.u, tt.current, tt.kept, got, tt.want)
		}
	}
}
