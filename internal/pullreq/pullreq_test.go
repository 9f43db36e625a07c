package pullreq

import (
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/config"
)

func TestRepositoryOf(t *testing.T) {
	for in, want := range map[string]string{
		"git@github.com:acme/deploy.git":                "acme/deploy",
		"github.com:acme/deploy":                        "acme/deploy",
		"ssh://git@github.com/acme/deploy.git":          "acme/deploy",
		"ssh://git@gitlab.example.com:2222/g/sub/p.git": "g/sub/p",
		"https://github.com/acme/deploy":                "acme/deploy",
		"https://user:pw@gitlab.com/group/sub/proj.git": "group/sub/proj",
		"https://gitea.example.com/acme/deploy.git/":    "acme/deploy",
		"file:///srv/git/acme/deploy.git":               "",
		"/srv/git/deploy.git":                           "",
		"https://github.com/deploy":                     "",
		"https://github.com/acme/../etc":                "",
		"git@github.com:acme/de ploy.git":               "",
	} {
		if got := RepositoryOf(in); got != want {
			t.Errorf("RepositoryOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRepositoryOf(f *testing.F) {
	for _, s := range []string{"git@github.com:acme/deploy.git", "https://gitlab.com/a/b/c", "ssh://h:22/~u/r.git", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := RepositoryOf(s)
		if r == "" {
			return
		}
		// What it returns is safe to put in an API path and in config.
		if !repoPathRE.MatchString(r) || strings.Contains(r, "..") || strings.HasSuffix(r, ".git") && r == s {
			t.Fatalf("RepositoryOf(%q) = %q", s, r)
		}
	})
}

func TestMarkdownText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                  "plain",
		"a|b":                    `a\|b`,
		"@alice #12 [x](y)":      `\@alice \#12 \[x\]\(y\)`,
		"<img src=x>":            `\<img src\=x\>`,
		"line\nbreak\x1b[2J":     `line\\nbreak\\x1b\[2J`,
		"`code`":                 "\\`code\\`",
		"ünïcode stays":          "ünïcode stays",
		"back\\slash":            `back\\slash`,
		"\u202egnp.exe":          `\\u202egnp\.exe`,
		"registry:5000/acme/app": `registry\:5000\/acme\/app`,
	} {
		if got := MarkdownText(in); got != want {
			t.Errorf("MarkdownText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzMarkdownText(f *testing.F) {
	for _, s := range []string{"a|b", "@x", "\n", "<script>", "\\|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := MarkdownText(s)
		// No unescaped cell separator and no line break: one cell stays one cell.
		if strings.ContainsAny(out, "\n\r") {
			t.Fatalf("MarkdownText(%q) = %q holds a line break", s, out)
		}
		for i := 0; i < len(out); i++ {
			if out[i] == '\\' {
				i++
				continue
			}
			if strings.IndexByte("|<>@[]`", out[i]) >= 0 {
				t.Fatalf("MarkdownText(%q) = %q: unescaped %q at %d", s, out, out[i], i)
			}
		}
	})
}

func TestBodyIsATableOfEscapedCells(t *testing.T) {
	ps := []Promotion{{Image: "r/acme/app|evil", From: "1", To: "2\n| x | y |", Rule: "app", Files: []string{"a.yaml", "b|c.yaml"}}}
	body := Body(ps, "main")
	var rows []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "| ") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 2 {
		t.Fatalf("want a header and one row, got %q", rows)
	}
	if cells := strings.Count(strings.ReplaceAll(rows[1], `\|`, ""), "|"); cells != 6 {
		t.Errorf("row %q has %d separators, want 6", rows[1], cells)
	}
	many := make([]Promotion, maxRows+5)
	if !strings.Contains(Body(many, "main"), "and 5 more") {
		t.Error("a long table is not cut")
	}
}

func TestBranchFor(t *testing.T) {
	for rule, want := range map[string]string{
		"app":                    "laminar/app",
		"prod api":               "laminar/prod-api",
		"../../refs/x":           "laminar/refs-x",
		"-":                      "laminar/rule-",
		"at line 12":             "laminar/at-line-12",
		"ünicode":                "laminar/nicode",
		"a\nb":                   "laminar/a-b",
		strings.Repeat("x", 101): "laminar/rule-",
	} {
		got := BranchFor(config.PullRequest{}, rule)
		if !strings.HasPrefix(got, want) || !config.ValidBranch(got) {
			t.Errorf("BranchFor(%q) = %q, want %q (and a valid branch)", rule, got, want)
		}
	}
	if got := BranchFor(config.PullRequest{Branch: "bots/laminar"}, "app"); got != "bots/laminar" {
		t.Errorf("configured branch: %q", got)
	}
}

func TestTitle(t *testing.T) {
	d := TitleData{Rule: "app", Subject: "Promote app", Promotions: []Promotion{{Image: "r/app", To: "v2\x1b[31m\nx"}}}
	got, err := Title("Bump {{.Rule}}: {{range .Promotions}}{{.Image}} {{.To}}{{end}}", d)
	if err != nil || got != `Bump app: r/app v2\x1b[31m\nx` {
		t.Errorf("Title = %q, %v", got, err)
	}
	if got, _ := Title("", d); got != "Promote app" {
		t.Errorf("default title %q", got)
	}
	if _, err := Title("{{.Nope}}", d); err == nil {
		t.Error("a missing field is not an error")
	}
}
