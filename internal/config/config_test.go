package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const good = `# managed images
[[registry]]
name = "acme"
prefix = "registry.example.com:5000/acme/"

[[update]]
name = "dev"
pattern = "glob:develop-*"
files = ["dev/", "compose.yaml"]
exclude = ["dev/legacy/**"]

[[update]]
name = "prod"
pattern = "semver:^1.2"
min_age = "2d"
exclude_tags = ["*-debug"]

[commit]
author_name = "Laminar Bot"
author_email = "bot@example.com"
`

func TestParseGood(t *testing.T) {
	cfg, err := Parse("laminar.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Registries) != 1 || cfg.Registries[0].Prefix != "registry.example.com:5000/acme" || cfg.Registries[0].Line != 2 {
		t.Errorf("registries = %+v", cfg.Registries)
	}
	if len(cfg.Updates) != 2 {
		t.Fatalf("updates = %+v", cfg.Updates)
	}
	dev, prod := cfg.Updates[0], cfg.Updates[1]
	if dev.Line != 6 || dev.KeyLines["pattern"] != 8 || prod.KeyLines["min_age"] != 15 {
		t.Errorf("lines: dev %d pattern %d min_age %d", dev.Line, dev.KeyLines["pattern"], prod.KeyLines["min_age"])
	}
	if prod.MinAge != 48*time.Hour {
		t.Errorf("min_age = %v", prod.MinAge)
	}
	if cfg.Commit.AuthorName != "Laminar Bot" || cfg.Commit.AuthorEmail != "bot@example.com" {
		t.Errorf("commit = %+v", cfg.Commit)
	}
}

func TestParseErrors(t *testing.T) {
	reg := "[[registry]]\nprefix = \"registry.example.com/acme\"\n"
	tests := []struct {
		name, text string
		want       string // substring of the error, which always starts with the file name
	}{
		{"malformed", "[[registry]]\nprefix = \"x\n", "laminar.toml:2: "},
		{"unknown top key", "colour = 1\n", "laminar.toml:1: colour: unknown key"},
		{"unknown key with typo", reg + "[[update]]\nname = \"dev\"\npatern = \"glob:*\"\n", `laminar.toml:5: update.patern: unknown key; did you mean "pattern"?`},
		{"unknown table", "[registri]\nprefix = \"a\"\n", "laminar.toml:1: registri: unknown key"},
		{"missing pattern", reg + "[[update]]\nname = \"dev\"\n", `laminar.toml:3: update "dev".pattern: missing`},
		{"pattern without kind", reg + "[[update]]\npattern = \"develop-*\"\n", `laminar.toml:4: update #1.pattern: "develop-*" has no kind`},
		{"unknown kind", reg + "[[update]]\npattern = \"wild:x\"\n", `unknown kind "wild"`},
		{"bad glob", reg + "[[update]]\nname=\"a\"\npattern = \"glob:[a-\"\n", `laminar.toml:5: update "a".pattern: bad glob "[a-"`},
		{"bad regex", reg + "[[update]]\npattern = \"regex:^(a\"\n", `laminar.toml:4: update #1.pattern: bad regex "^(a"`},
		{"empty semver", reg + "[[update]]\npattern = \"semver:\"\n", "empty semver range"},
		{"bad order", reg + "[[update]]\npattern = \"glob:*\"\norder = \"newest\"\n", `laminar.toml:5: update #1.order: "newest" is not one of`},
		{"extract without regex", reg + "[[update]]\npattern = \"glob:*\"\nextract = \"$ts\"\n", "extract: needs a regex: pattern"},
		{"bad min_age", reg + "[[update]]\npattern = \"glob:*\"\nmin_age = \"soon\"\n", `min_age: "soon" is not a duration`},
		{"min_age nan", reg + "[[update]]\npattern = \"glob:*\"\nmin_age = \"nand\"\n", `laminar.toml:5: update #1.min_age: "nand" is not a duration`},
		{"min_age inf", reg + "[[update]]\npattern = \"glob:*\"\nmin_age = \"infd\"\n", `laminar.toml:5: update #1.min_age: "infd" is not a duration`},
		{"cache ttl inf", "[cache]\nttl = \"infd\"\n", `laminar.toml:2: cache.ttl: "infd" is not a duration`},
		{"cache tag_ttl nan", "[cache]\ntag_ttl = \"-nand\"\n", `laminar.toml:2: cache.tag_ttl: "-nand" is not a duration`},
		{"bad files glob", reg + "[[update]]\npattern = \"glob:*\"\nfiles = [\"a/[\"]\n", `files: bad glob "a/["`},
		{"files escapes", reg + "[[update]]\npattern = \"glob:*\"\nfiles = [\"../x\"]\n", "leaves the repository"},
		{"wrong type", reg + "[[update]]\npattern = 3\n", "laminar.toml:4: "},
		{"missing prefix", "[[registry]]\nname = \"acme\"\n", `laminar.toml:1: registry "acme".prefix: missing`},
		{"prefix with scheme", "[[registry]]\nprefix = \"https://r.example.com/a\"\n", "without a scheme"},
		{"prefix with tag", "[[registry]]\nprefix = \"r.example.com/a:1.0\"\n", "not a registry host or repository path"},
		{"rules without registry", "[[update]]\npattern = \"glob:*\"\n", "no [[registry]] declared"},
		{"duplicate rule", reg + "[[update]]\nname=\"a\"\npattern=\"glob:*\"\n[[update]]\nname=\"a\"\npattern=\"glob:*\"\n", `laminar.toml:7: update "a".name: another [[update]] rule has the same name`},
		{"bad email", "[commit]\nauthor_email = \"bot\"\n", `laminar.toml:2: commit.author_email: "bot" is not an email address`},
		// What the file says is escaped: the error stays one line.
		{"key with control characters", reg + "\"x\\nLaminar-Promote: evil 1 -> 2\\u001b[2J\" = 1\n", `registry.x\nLaminar-Promote: evil 1 -> 2\x1b[2J: unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("laminar.toml", []byte(tt.text))
			if err == nil {
				t.Fatalf("no error for:\n%s", tt.text)
			}
			if !strings.HasPrefix(err.Error(), "laminar.toml") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("error %q holds a raw control character", err)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), FileName))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestLoadReadsFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(p, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil || cfg.Path != p {
		t.Fatalf("cfg=%v err=%v", cfg, err)
	}
}

func TestCovers(t *testing.T) {
	mk := func(files, exclude []string) Update {
		u, err := buildUpdate(rawUpdate{Pattern: "glob:*", Files: files, Exclude: exclude}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	tests := []struct {
		files, exclude []string
		path           string
		want           bool
	}{
		{nil, nil, "anything/at/all.yaml", true},
		{[]string{"dev/"}, nil, "dev/app.yaml", true},
		{[]string{"dev"}, nil, "dev/sub/app.yaml", true},
		{[]string{"dev/"}, nil, "devx/app.yaml", false},
		{[]string{"dev/"}, nil, "prod/dev/app.yaml", false},
		{[]string{"compose.yaml"}, nil, "compose.yaml", true},
		{[]string{"compose.yaml"}, nil, "sub/compose.yaml", false},
		{[]string{"./compose.yaml"}, nil, "compose.yaml", true},
		{[]string{"*.yaml"}, nil, "a.yaml", true},
		{[]string{"*.yaml"}, nil, "dir/a.yaml", false},
		{[]string{"**/*.yaml"}, nil, "dir/deep/a.yaml", true},
		{[]string{"**/*.yaml"}, nil, "a.yaml", true},
		{[]string{"apps/*/values.yaml"}, nil, "apps/web/values.yaml", true},
		{[]string{"apps/*/values.yaml"}, nil, "apps/web/x/values.yaml", false},
		{[]string{"dev/"}, []string{"dev/legacy/**"}, "dev/legacy/a.yaml", false},
		{[]string{"dev/"}, []string{"dev/legacy/**"}, "dev/legacyx/a.yaml", true},
		{nil, []string{"**/*.md"}, "docs/x.md", false},
		{[]string{"."}, nil, "x/y", true},
	}
	for _, tt := range tests {
		if got := mk(tt.files, tt.exclude).Covers(tt.path); got != tt.want {
			t.Errorf("files=%v exclude=%v Covers(%q) = %v, want %v", tt.files, tt.exclude, tt.path, got, tt.want)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"90m": 90 * time.Minute, "36h": 36 * time.Hour, "7d": 7 * 24 * time.Hour, "0.5d": 12 * time.Hour} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-1h", "7 days", "-2d", "nand", "NaNd", "infd", "+Infd", "-infd", "1e300d", "106752d", "0x1p70d"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) accepted", in)
		}
	}
}
