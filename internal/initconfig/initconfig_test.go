package initconfig

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/scan"
)

func match(t testing.TB, path string, line int, ref string) scan.Match {
	t.Helper()
	r, err := imageref.Parse(ref)
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	return scan.Match{Path: path, Line: line, Column: 1, Ref: r}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		tag, pattern, order string
		manages, skips      []string
	}{
		{tag: "1.4.2", pattern: "semver:^1", manages: []string{"1.9.0", "1.4.3"}, skips: []string{"2.0.0", "0.9.0"}},
		{tag: "v2.1", pattern: "semver:^2", manages: []string{"v2.3"}, skips: []string{"v3.0"}},
		{tag: "1.25.3-alpine", pattern: "semver:^1", manages: []string{"1.25.3-alpine", "1.26.0-alpine"}},
		{tag: "0.3.1", pattern: "semver:~0.3", manages: []string{"0.3.9"}, skips: []string{"0.4.0", "1.0.0"}},
		{tag: "0.0.4", pattern: "semver:~0.0", manages: []string{"0.0.5"}, skips: []string{"0.1.0"}},
		{tag: "2024.05.1", pattern: "semver:>=2024", manages: []string{"2025.1.0"}, skips: []string{"1.0.0"}},
		{tag: "develop-3f2a9c1", pattern: "glob:develop-*", order: "newest-build", manages: []string{"develop-aaaaaaa"}, skips: []string{"main-aaaaaaa"}},
		{tag: "feature-x-0123456789abcdef0123456789abcdef01234567", pattern: "glob:feature-x-*", order: "newest-build"},
		{tag: "main-" + strings.Repeat("0123456789abcdef", 4), pattern: "glob:main-*", order: "newest-build"}, // a SHA-256 commit
		{tag: "main-" + strings.Repeat("0123456789abcdef", 4) + "0"},
		{tag: "42", pattern: "regex:^[0-9]+$", order: "numeric", manages: []string{"43"}, skips: []string{"4.3"}},
		{tag: "stable"},
		{tag: "develop"},
		{tag: "main-xyz1234"},
	} {
		tr, ok := classify(tc.tag)
		if tc.pattern == "" {
			if ok {
				t.Errorf("%s: classified as %s, want no track", tc.tag, tr.pattern)
			}
			continue
		}
		if !ok || tr.pattern != tc.pattern || tr.order != tc.order {
			t.Errorf("%s: got %q order %q (ok %v), want %q order %q", tc.tag, tr.pattern, tr.order, ok, tc.pattern, tc.order)
			continue
		}
		// The rule must manage the very tag it was proposed for.
		p, err := policy.Compile(config.Update{Pattern: tr.pattern, Order: tr.order})
		if err != nil {
			t.Fatalf("%s: %v", tc.tag, err)
		}
		if !p.Manages(tc.tag) {
			t.Errorf("%s: %s does not manage the tag it was made for", tc.tag, tr.pattern)
		}
		for _, m := range tc.manages {
			if !p.Manages(m) {
				t.Errorf("%s: %s does not manage %s", tc.tag, tr.pattern, m)
			}
		}
		for _, m := range tc.skips {
			if p.Manages(m) {
				t.Errorf("%s: %s manages %s", tc.tag, tr.pattern, m)
			}
		}
	}
}

// assigned loads a proposal and says which rule manages each match, as
// promote's Rules.Assign decides.
func assigned(t *testing.T, text []byte, ms []scan.Match) map[scan.Match]string {
	t.Helper()
	cfg, err := config.Parse(config.FileName, text)
	if err != nil {
		t.Fatalf("proposal does not load: %v\n%s", err, text)
	}
	out := map[scan.Match]string{}
	for _, m := range ms {
		under := slices.ContainsFunc(cfg.Registries, func(r config.Registry) bool { return imageref.UnderPrefix(m.Ref, r.Prefix) })
		if !under || m.Ref.Tag == "" {
			continue
		}
		for _, u := range cfg.Updates {
			p, err := policy.Compile(u)
			if err != nil {
				t.Fatal(err)
			}
			if u.Covers(m.Path) && u.ManagesImage(m.Ref.Image(), m.Ref.Name) && p.Manages(m.Ref.Tag) {
				out[m] = u.Name
				break
			}
		}
	}
	return out
}

func TestProposeAssigns(t *testing.T) {
	ms := []scan.Match{
		match(t, "k8s/app.yaml", 3, "registry.example.com:5000/acme/team/app:1.4.0"),
		match(t, "k8s/app.yaml", 9, "registry.example.com:5000/acme/team/api:v2.0.1"),
		match(t, "k8s/web.yaml", 1, "registry.example.com:5000/acme/web:feature-x-abcdef1"),
		match(t, "k8s/web.yaml", 2, "registry.example.com:5000/acme/web:feature-abcdef1"),
		match(t, "compose.yaml", 1, "ghcr.io/acme/tool:0.3.1-slim"),
		match(t, "compose.yaml", 2, "ghcr.io/other/thing:7"),
		match(t, "compose.yaml", 3, "nginx:1.25"),
		match(t, "compose.yaml", 4, "acme/worker:latest"),
		match(t, "Dockerfile", 1, "registry.k8s.io/pause:3.9"),
		match(t, "my dir/[x] *.yaml", 1, "registry.example.com:5000/acme/web:feature-abcdef1"),
	}
	text := Propose(ms, Options{})
	got := assigned(t, text, ms)
	want := map[string]string{
		"k8s/app.yaml:3": "v1", "k8s/app.yaml:9": "v2",
		"k8s/web.yaml:1": "feature-x", "k8s/web.yaml:2": "feature", "my dir/[x] *.yaml:1": "feature",
		"compose.yaml:1": "v0.3", "compose.yaml:2": "build-number",
	}
	for _, m := range ms {
		key := m.Path + ":" + itoa(m.Line)
		if got[m] != want[key] {
			t.Errorf("%s (%s): managed by %q, want %q\n%s", key, m.Ref.Original, got[m], want[key], text)
		}
	}
	for _, p := range []string{`prefix = "registry.example.com:5000/acme"`, `prefix = "ghcr.io/acme"`, `prefix = "ghcr.io/other"`, `prefix = "docker.io/acme"`} {
		if !strings.Contains(string(text), p+"\n") {
			t.Errorf("proposal lacks %s:\n%s", p, text)
		}
	}
	if strings.Contains(string(text), "library") || strings.Contains(string(text), `prefix = "registry.k8s.io"`) {
		t.Errorf("public images proposed without --all-registries:\n%s", text)
	}
	all := string(Propose(ms, Options{AllRegistries: true}))
	for _, p := range []string{`prefix = "docker.io/library"`, `prefix = "registry.k8s.io"`} {
		if !strings.Contains(all, p+"\n") {
			t.Errorf("--all-registries proposal lacks %s:\n%s", p, all)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestProposeDeterministic(t *testing.T) {
	var ms []scan.Match
	for i := range 40 {
		tag := []string{"1.0.", "develop-abcdef", "0.2.", "main-1234567"}[i%4]
		if !strings.Contains(tag, "-") {
			tag += itoa(i % 10)
		} else if tag == "develop-abcdef" {
			tag += itoa(i % 10)
		}
		ms = append(ms, match(t, "f"+itoa(i%7)+".yaml", i+1, "registry.example.com/acme/app"+itoa(i%3)+":"+tag))
	}
	want := Propose(ms, Options{})
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		if got := Propose(ms, Options{}); string(got) != string(want) {
			t.Fatalf("the order of the references changed the proposal:\n%s\n---\n%s", got, want)
		}
	}
	if !strings.Contains(string(want), "... and 5 more\n") {
		t.Errorf("a rule of 10 references should name 5 and count the rest:\n%s", want)
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{`plain`, `a"b`, `back\slash`, "tab\tnl\ncr\r", "del\x7f", "\u0085c1", "ünï", `"""`, `'`} {
		text := []byte("[[registry]]\nprefix = \"r.example.com\"\n[[update]]\nname = " + Quote(s) + "\npattern = \"glob:*\"\n")
		cfg, err := config.Parse(config.FileName, text)
		if err != nil {
			t.Errorf("%q: %v\n%s", s, err, text)
			continue
		}
		if got := cfg.Updates[0].Name; got != s {
			t.Errorf("Quote(%q) reads back as %q", s, got)
		}
	}
}

// A registry host written in capitals cannot stand in an images entry
// (entries are lowercase): that rule is scoped by its files instead, and
// still manages its references.
func TestProposeFilesFallback(t *testing.T) {
	ms := []scan.Match{
		match(t, "a.yaml", 1, "Registry.Example.com/acme/app:1.0.0"),
		match(t, "b.yaml", 1, "registry.example.com/acme/api:develop-abcdef1"),
	}
	text := Propose(ms, Options{})
	if ms[0].Ref.Registry != strings.ToLower(ms[0].Ref.Registry) {
		if !strings.Contains(string(text), "files = [\"a.yaml\"]\n") {
			t.Errorf("want the v1 rule scoped by files:\n%s", text)
		}
	}
	if !strings.Contains(string(text), "images = [\"registry.example.com/acme/api\"]\n") {
		t.Errorf("want the develop rule scoped by images:\n%s", text)
	}
	got := assigned(t, text, ms)
	if got[ms[0]] != "v1" || got[ms[1]] != "develop" {
		t.Errorf("assigned %v\n%s", got, text)
	}
}

// An escaped path, as a files entry, covers that file and no other.
func TestEscapeGlob(t *testing.T) {
	paths := []string{"plain.yaml", "a/[x] *.yaml", "a/[x] y.yaml", "q?.yaml", "qq.yaml", " lead.yaml", "trail.yaml ", "C:x.yaml", `back\slash.yaml`, "**/x.yaml", "a/b/x.yaml", "\u00a0nbsp.yaml"}
	for _, p := range paths {
		text := "[[registry]]\nprefix = \"r.example.com\"\n[[update]]\npattern = \"glob:*\"\nfiles = [" + Quote(EscapeGlob(p)) + "]\n"
		cfg, err := config.Parse(config.FileName, []byte(text))
		if err != nil {
			t.Errorf("%q: %v\n%s", p, err, text)
			continue
		}
		for _, other := range paths {
			want := other == p
			if got := cfg.Updates[0].Covers(other); got != want {
				t.Errorf("files = [%s] covers %q: %v, want %v", Quote(EscapeGlob(p)), other, got, want)
			}
		}
	}
}
