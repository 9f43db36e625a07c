package trailer

import (
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const promo = "registry.example.com:5000/acme/app develop-52af76b8 -> develop-b2ee56fd"

// parseCases pins down git's rules. Each want was written by hand and is
// also checked against git itself, so a case documents a rule and proves
// git follows it.
var parseCases = []struct {
	name, msg string
	want      []Trailer
}{
	{"single", "Promote app\n\nLaminar-Promote: " + promo + "\n",
		[]Trailer{{KeyPromote, promo}}},
	{"many", "Promote\n\nbody\n\nLaminar-Promote: a 1 -> 2\nLaminar-Digest: a sha256:00\nLaminar-Rule: a develop\n",
		[]Trailer{{KeyPromote, "a 1 -> 2"}, {KeyDigest, "a sha256:00"}, {KeyRule, "a develop"}}},
	{"no final newline", "S\n\nA: b", []Trailer{{"A", "b"}}},
	{"continuation lines unfold", "S\n\nA: b\n  c\n\td\nE: f\n",
		[]Trailer{{"A", "b c d"}, {"E", "f"}}},
	{"continuation of an empty value", "S\n\nA:\n  b\n", []Trailer{{"A", "b"}}},
	{"whitespace around key and value", "S\n\nA : b  \nB\t:\tc\nC-d-:e\n",
		[]Trailer{{"A", "b"}, {"B", "c"}, {"C-d-", "e"}}},
	{"empty value", "S\n\nA:\nB: c\n", []Trailer{{"A", ""}, {"B", "c"}}},
	{"value keeps inner spacing and colons", "S\n\nA: b  c: d\n", []Trailer{{"A", "b  c: d"}}},
	{"key may start with dash", "S\n\n-A: b\n", []Trailer{{"-A", "b"}}},
	{"with Signed-off-by", "S\n\nLaminar-Promote: a 1 -> 2\nSigned-off-by: A U Thor <a@example.com>\n",
		[]Trailer{{KeyPromote, "a 1 -> 2"}, {"Signed-off-by", "A U Thor <a@example.com>"}}},
	{"only the last paragraph", "S\n\nA: b\n\nC: d\n", []Trailer{{"C", "d"}}},
	{"trailers not in the last paragraph", "S\n\nLaminar-Promote: a 1 -> 2\n\nThanks for reviewing.\n", nil},
	{"earlier paragraph looks like Key: value", "S\n\nNote: this body line\nlooks like a trailer.\n\nLaminar-Promote: a 1 -> 2\n",
		[]Trailer{{KeyPromote, "a 1 -> 2"}}},
	{"one non-trailer line spoils the block", "S\n\nA: b\nnot a trailer\nC: d\n", nil},
	{"25% with Signed-off-by", "S\n\nfoo bar\nbaz\nqux\nA: b\nSigned-off-by: x\n",
		[]Trailer{{"A", "b"}, {"Signed-off-by", "x"}}},
	{"under 25% with Signed-off-by", "S\n\nfoo\nbar\nbaz\nqux\nquux\nSigned-off-by: x\n", nil},
	{"25% needs the space after Signed-off-by:", "S\n\nfoo\nbar\nSigned-off-by:x\n", nil},
	{"25% with cherry-pick line", "S\n\nfoo bar\nA: b\n(cherry picked from commit 0123)\n",
		[]Trailer{{"A", "b"}}},
	{"continuation after non-trailer counts as non-trailer", "S\n\nfoo\n  bar\n  baz\n  qux\nSigned-off-by: x\n", nil},
	{"25% counts continuations of a non-trailer", "S\n\nfoo\n  bar\n  baz\nSigned-off-by: x\n", []Trailer{{"Signed-off-by", "x"}}},
	{"subject alone is never trailers", "A: b\n", nil},
	{"subject paragraph is never trailers", "A: b\nC: d\n", nil},
	{"comment lines do not end the subject", "# comment\nA: b\n\nC: d\n", []Trailer{{"C", "d"}}},
	{"leading blank line: no subject", "\nA: b\n", []Trailer{{"A", "b"}}},
	{"whitespace-only line separates paragraphs", "S\n \t\nA: b\n", []Trailer{{"A", "b"}}},
	{"CRLF", "S\r\n\r\nA: b\r\nC: d\r\n", []Trailer{{"A", "b"}, {"C", "d"}}},
	{"CRLF continuation keeps a CR", "S\r\n\r\nA: b\r\n  c\r\n", []Trailer{{"A", "b\r c"}}},
	{"comment lines", "S\n\nA: b\n# comment\nC: d\n", []Trailer{{"A", "b"}, {"C", "d"}}},
	{"trailing comments and blank lines", "S\n\nA: b\n\n# Please enter the commit message\n#\n\n\n", []Trailer{{"A", "b"}}},
	{"trailing blank lines", "S\n\nA: b\n\n\n\n", []Trailer{{"A", "b"}}},
	{"trailing whitespace-only lines", "S\n\nA: b\n  \n\n", []Trailer{{"A", "b"}}},
	{"trailing CRLF blank line", "S\n\nA: b\n\r\n", []Trailer{{"A", "b"}}},
	{"scissors line", "S\n\nA: b\n# ------------------------ >8 ------------------------\nC: d\n", []Trailer{{"A", "b"}}},
	{"scissors as first line", "# ------------------------ >8 ------------------------\nS\n\nA: b\n", nil},
	{"Conflicts block is ignored", "S\n\nA: b\nConflicts:\n\tpath/one\n\tpath/two\n", []Trailer{{"A", "b"}}},
	{"--- does not end a commit message", "S\n\nA: b\n\n---\n\nC: d\n", []Trailer{{"C", "d"}}},
	{"NUL ends the message", "S\n\nA: b\n\x00C: d\n", []Trailer{{"A", "b"}}},
	{"separator first is not a trailer", "S\n\n: b\n", nil},
	{"space in key is not a trailer", "S\n\nA B: c\n", nil},
	{"non-ASCII key is not a trailer", "S\n\nÄ: b\n", nil},
	{"VT and FF are not git whitespace", "S\n\nA: \vb\f\n", []Trailer{{"A", "\vb\f"}}},
	{"empty", "", nil},
	{"blank lines only", "\n\n\n", nil},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Parse(tc.msg)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.msg, diff)
			}
		})
	}
}

var randomMessages = flag.Int("random", 300, "how many random messages TestParseMatchesGit compares with git")

// TestParseMatchesGit holds Parse to git: the table above, the fuzz seeds,
// and random messages assembled from the lines that matter to git's rules.
func TestParseMatchesGit(t *testing.T) {
	g := newGit(t)
	check := func(t *testing.T, msg string) {
		t.Helper()
		want := g.parse(msg, false)
		if got := format(Parse(msg)); got != want {
			t.Errorf("message %q:\n git: %q\nParse: %q", msg, want, got)
		}
	}
	t.Run("table", func(t *testing.T) {
		for _, tc := range parseCases {
			t.Run(tc.name, func(t *testing.T) { check(t, tc.msg) })
		}
	})
	t.Run("fuzz seeds", func(t *testing.T) {
		for _, msg := range corpus(t, "FuzzParse") {
			check(t, msg[0])
		}
	})
	t.Run("random", func(t *testing.T) {
		n := *randomMessages
		if testing.Short() {
			n = min(n, 30)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range n {
			check(t, randomMessage(r))
		}
	})
}

// randomMessage assembles a message from lines that each touch one of git's
// rules, so that a random mix explores how the rules interact.
func randomMessage(r *rand.Rand) string {
	lines := []string{
		"Subject", "A: b", "Key-2 : v", "Laminar-Promote: a 1 -> 2", "Signed-off-by: X <x@y>",
		"Signed-off-by:x", "(cherry picked from commit 1234)", "plain text", "text: with colon",
		"  continued", "\tcontinued", "", "", "", " ", "\r", "# comment", "#", "---", "--- x", "---x",
		"Conflicts:", "\tpath", "# ------------------------ >8 ------------------------",
		": x", "A:", "a b: c", "A: b\r", "x\x00y", "Ä: b", "A: \vb",
	}
	n := r.IntN(9)
	var b strings.Builder
	for i := range n {
		b.WriteString(lines[r.IntN(len(lines))])
		if i < n-1 || r.IntN(4) > 0 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// corpus reads the string arguments of the seed files in
// testdata/fuzz/<name>.
func corpus(t *testing.T, name string) [][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds for %s: %v", name, err)
	}
	var all [][]string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a fuzz seed file", f)
		}
		var args []string
		for _, l := range lines[1:] {
			s, ok := strings.CutPrefix(l, "string(")
			if !ok || !strings.HasSuffix(s, ")") {
				t.Fatalf("%s: want string arguments, got %q", f, l)
			}
			v, err := strconv.Unquote(strings.TrimSuffix(s, ")"))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			args = append(args, v)
		}
		all = append(all, args)
	}
	return all
}
