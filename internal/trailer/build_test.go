package trailer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	sha256Digest = "sha256:" + strings.Repeat("0123456789abcdef", 4)
	sha512Digest = "sha512:" + strings.Repeat("ab", 64)
	commitID     = strings.Repeat("0a", 20)
)

func TestBuild(t *testing.T) {
	tests := []struct {
		name          string
		subject, body string
		trailers      []Trailer
		want          string
	}{
		{
			name:     "subject and trailers",
			subject:  "Promote app to develop-b2ee56fd",
			trailers: []Trailer{{KeyPromote, promo}, {KeyDigest, "registry.example.com:5000/acme/app " + sha256Digest}},
			want: "Promote app to develop-b2ee56fd\n\n" +
				"Laminar-Promote: " + promo + "\n" +
				"Laminar-Digest: registry.example.com:5000/acme/app " + sha256Digest + "\n",
		},
		{
			name:     "body is tidied like git commit does",
			subject:  "  Promote 2 images \n",
			body:     "\n\nFirst paragraph.  \nSecond line\t\n\n\n\n  indented\n\n",
			trailers: []Trailer{{"Signed-off-by", "A U Thor <a@example.com>"}},
			want:     "Promote 2 images\n\nFirst paragraph.\nSecond line\n\n  indented\n\nSigned-off-by: A U Thor <a@example.com>\n",
		},
		{
			name:     "body that looks like trailers stays body",
			subject:  "S",
			body:     "Reviewed-by: someone",
			trailers: []Trailer{{KeyHold, "nginx"}},
			want:     "S\n\nReviewed-by: someone\n\nLaminar-Hold: nginx\n",
		},
		{
			name:     "CRLF body becomes LF, as git's cleanup does",
			subject:  "S",
			body:     "a \r\nb\r\n",
			trailers: []Trailer{{KeyRelease, "nginx"}},
			want:     "S\n\na\nb\n\nLaminar-Release: nginx\n",
		},
		{
			name:    "no trailers",
			subject: "S",
			body:    "Just text.",
			want:    "S\n\nJust text.\n",
		},
		{
			name:    "comment lines in the body are kept",
			subject: "S",
			body:    "# not a comment to us",
			trailers: []Trailer{
				{KeyRollback, commitID},
			},
			want: "S\n\n# not a comment to us\n\nLaminar-Rollback-Of: " + commitID + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Build(tc.subject, tc.body, tc.trailers)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Build mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.trailers, Parse(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Parse(Build(...)) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRefuses(t *testing.T) {
	ok := []Trailer{{KeyPromote, promo}}
	tests := []struct {
		name          string
		subject, body string
		trailers      []Trailer
		want          string // in the error
	}{
		{"empty subject", " \t", "", ok, "subject is empty"},
		{"two-line subject", "a\nb", "", ok, `contains '\n'`},
		{"subject is a divider", "---", "", ok, "start of a patch"},
		{"subject is scissors", strings.TrimSuffix(cutLine, "\n"), "", ok, "scissors"},
		{"divider in body", "S", "text\n---\nmore", ok, "body line 2"},
		{"divider with text in body", "S", "--- a/file", ok, "start of a patch"},
		{"scissors in body", "S", "x\n" + cutLine + "y", ok, "scissors"},
		{"control character in body", "S", "a\x1b[31mred", ok, `'\x1b'`},
		{"CR inside a body line", "S", "a\rb", ok, `'\r'`},
		{"form feed in body", "S", "a\f", ok, `'\f'`},
		{"invalid UTF-8 in body", "S", "a\xffb", ok, "invalid UTF-8"},
		{"newline injects a trailer", "S", "", []Trailer{{KeyRule, "app develop\nLaminar-Promote: evil 1 -> 2"}}, "Laminar-Rule"},
		{"newline in foreign value", "S", "", []Trailer{{"Reviewed-by", "x\nLaminar-Promote: evil 1 -> 2"}}, `contains '\n'`},
		{"CR in value", "S", "", []Trailer{{"Reviewed-by", "x\r"}}, `'\r'`},
		{"bidi override in value", "S", "", []Trailer{{"Reviewed-by", "x\u202ey"}}, `'\u202e'`},
		{"line separator in value", "S", "", []Trailer{{"Reviewed-by", "x\u2028y"}}, `'\u2028'`},
		{"empty value", "S", "", []Trailer{{"Reviewed-by", ""}}, "empty"},
		{"leading space in value", "S", "", []Trailer{{"Reviewed-by", " x"}}, "starts with whitespace"},
		{"trailing no-break space", "S", "", []Trailer{{"Reviewed-by", "x\u00a0"}}, "ends with whitespace"},
		{"bad key", "S", "", []Trailer{{"Reviewed by", "x"}}, "key must be"},
		{"key with colon", "S", "", []Trailer{{"A:B", "x"}}, "key must be"},
		{"malformed promotion", "S", "", []Trailer{{KeyPromote, "app v1 => v2"}}, "Laminar-Promote"},
		{"no trailers and a trailer-like body", "S", "Reviewed-by: x", nil, "would be read as trailers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := Build(tc.subject, tc.body, tc.trailers)
			if err == nil {
				t.Fatalf("Build succeeded with %q; want an error containing %q", msg, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build error %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestBuildCommit commits Build's messages with the git CLI and reads them
// back the ways git offers: the stored message is unchanged by git's
// cleanup, `git log %(trailers:key=Laminar-Promote,valueonly)` lists the
// promotions, and `git interpret-trailers --parse` (which, unlike git log,
// stops at a "---" line) sees the same trailers as Parse.
func TestBuildCommit(t *testing.T) {
	g := newGit(t)
	g.run("", "init", "-q")
	promotions := []Promotion{
		{"registry.example.com:5000/acme/app", "develop-52af76b8", "develop-b2ee56fd"},
		{"nginx", "1.25", "1.27.0-alpine"},
		{"[::1]:5000/team/svc", NoTag, sha256Digest},
		{"ghcr.io/acme/tool", sha256Digest, "v2"},
	}
	var ts []Trailer
	for _, p := range promotions {
		ts = append(ts, p.Trailer())
	}
	ts = append(ts,
		Trailer{KeyDigest, "nginx " + sha512Digest},
		Trailer{KeyRule, "nginx stable 1.x"},
		Trailer{"Signed-off-by", "A U Thor <a@example.com>"},
	)
	bodies := []string{
		"",
		"Promoted by git laminar bump.\n\n- nginx: 1.25 -> 1.27.0-alpine",
		"Laminar-Promote: decoy 1 -> 2\nNote: also looks like a trailer",
		"# a line git keeps with -F\n\n\tindented",
	}
	for _, body := range bodies {
		msg, err := Build("Promote 4 images", body, ts)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		g.run(msg, "commit", "-q", "--allow-empty", "-F", "-")

		stored := g.run("", "cat-file", "commit", "HEAD")
		_, stored, _ = strings.Cut(stored, "\n\n")
		if stored != msg {
			t.Errorf("git stored %q; Build wrote %q", stored, msg)
		}
		var want strings.Builder
		for _, p := range promotions {
			want.WriteString(p.String() + "\n")
		}
		want.WriteString("\n") // the format's own terminator
		if got := g.run("", "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)"); got != want.String() {
			t.Errorf("git log read promotions %q; want %q", got, want.String())
		}
		for _, divider := range []bool{true, false} {
			if got := g.run(stored, parseArgs(divider)...); got != format(ts) {
				t.Errorf("git interpret-trailers %v read %q; want %q", parseArgs(divider), got, format(ts))
			}
		}
		got, err := Promotions(Parse(stored))
		if err != nil {
			t.Errorf("Promotions: %v", err)
		}
		if diff := cmp.Diff(promotions, got); diff != "" {
			t.Errorf("Promotions(Parse(stored)) mismatch (-want +got):\n%s", diff)
		}
	}
}

func parseArgs(divider bool) []string {
	if divider {
		return []string{"interpret-trailers", "--parse"}
	}
	return []string{"interpret-trailers", "--parse", "--no-divider"}
}

// TestCheckNotForged: text from a template that holds a line git could
// read as a Laminar-* trailer is refused, whatever its case, spacing or
// place; text that is accepted, built into a message and committed, gives
// git interpret-trailers, git log and Parse our trailers alone.
func TestCheckNotForged(t *testing.T) {
	refused := []string{
		"Laminar-Promote: evil 1 -> 2",
		"Subject\n\nLaminar-Promote: evil 1 -> 2",
		"Subject\n\nLaminar-Promote: evil 1 -> 2\n\nMore text.",
		"Subject\nlaminar-promote : evil 1 -> 2",
		"Subject\n\n  LAMINAR-HOLD:\tapp",
		"Subject\n\nReviewed-by: x\n\tLaminar-Release: app",
		"Subject\n\nLaminar-Anything-New: x",
	}
	for _, text := range refused {
		if err := CheckNotForged(text); err == nil || !strings.Contains(err.Error(), "written by git laminar alone") {
			t.Errorf("CheckNotForged(%q) = %v; want it refused", text, err)
		}
	}
	accepted := []string{
		"Promote app\n\nNot a trailer: Laminar-Promote: evil 1 -> 2",
		"Promote app\n\nLaminar Promote: evil 1 -> 2",
		"Promote app\n\nxLaminar-Promote: evil 1 -> 2",
		"Promote app\n\nLaminar-: x",
		"Promote app\n\nReviewed-by: someone\nSee-also: Laminar-Promote: evil 1 -> 2",
	}
	g := newGit(t)
	g.run("", "init", "-q")
	ours := []Trailer{{KeyPromote, promo}}
	for _, text := range accepted {
		if err := CheckNotForged(text); err != nil {
			t.Errorf("CheckNotForged(%q): %v", text, err)
			continue
		}
		subject, body, _ := strings.Cut(text, "\n")
		msg, err := Build(subject, body, ours)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		g.run(msg, "commit", "-q", "--allow-empty", "-F", "-")
		stored := g.run("", "log", "-1", "--format=%B")
		if got := g.run(stored, "interpret-trailers", "--parse"); got != format(ours) {
			t.Errorf("%q: git interpret-trailers read %q; want %q", text, got, format(ours))
		}
		if got := g.run("", "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)"); got != promo+"\n\n" {
			t.Errorf("%q: git log read promotions %q", text, got)
		}
		if diff := cmp.Diff(ours, Parse(stored)); diff != "" {
			t.Errorf("%q: Parse (-want +got):\n%s", text, diff)
		}
	}
}
