package rules

import (
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/scan"
)

const toml = `[[registry]]
prefix = "r.example.com/acme"

[[update]]
name = "dev"
files = ["dev/"]
pattern = "glob:develop-*"

[[update]]
pattern = "semver:^1"

[[update]]
name = "all-dev"
pattern = "glob:develop-*"
`

func compile(t *testing.T, text string) *Rules {
	t.Helper()
	cfg, err := config.Parse("laminar.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestAssign(t *testing.T) {
	rs := compile(t, toml)
	tests := []struct {
		path, line string
		rule       string // "" unmanaged
		passed     string // "rule: why; ..."
	}{
		{"dev/a.yaml", "image: r.example.com/acme/app:develop-1", "dev", "#2: its pattern semver:^1 does not match the current tag; all-dev: rule dev comes first"},
		{"prod/a.yaml", "image: r.example.com/acme/app:develop-1", "all-dev", "dev: not in its files; #2: its pattern semver:^1 does not match the current tag"},
		{"prod/a.yaml", "image: r.example.com/acme/app:1.2.0", "#2", "dev: not in its files; all-dev: its pattern glob:develop-* does not match the current tag"},
		{"prod/a.yaml", "image: r.example.com/other/app:1.2.0", "", ""},
		{"prod/a.yaml", "image: r.example.com/acme/app@sha256:" + strings.Repeat("a", 64), "", ""},
	}
	for _, tt := range tests {
		ms := scan.File(tt.path, []byte(tt.line+"\n"))
		if len(ms) != 1 {
			t.Fatalf("%s: %d matches", tt.line, len(ms))
		}
		a := rs.Assign(ms[0])
		var passed []string
		for _, p := range a.Passed {
			passed = append(passed, p.Rule+": "+p.Why)
		}
		if a.Rule != tt.rule || a.Managed() != (tt.rule != "") || strings.Join(passed, "; ") != tt.passed {
			t.Errorf("%s in %s: rule %q (managed %v), passed %q; want %q, %q", tt.line, tt.path, a.Rule, a.Managed(), strings.Join(passed, "; "), tt.rule, tt.passed)
		}
		if a.Managed() && rs.Label(a.Index) != a.Rule {
			t.Errorf("Label(%d) = %q, want %q", a.Index, rs.Label(a.Index), a.Rule)
		}
	}
	if !rs.Covers("anything.yaml") || len(rs.List()) != 3 || rs.Empty() {
		t.Errorf("Covers, List or Empty wrong")
	}
}
