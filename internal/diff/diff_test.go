package diff

import (
	"bytes"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lines returns n lines "<prefix><i>\n", numbered from 1.
func lines(prefix string, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	return b.String()
}

// edit replaces 1-based lines of s; a replacement may hold several lines
// or none (deletion).
func edit(s string, repl map[int]string) string {
	ls := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for i, l := range ls {
		if r, ok := repl[i+1]; ok {
			b.WriteString(r)
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2.3
          ports:
            - containerPort: 8080
        - name: sidecar
          image: docker.io/library/nginx:1.25.1 # pinned
          resources: {}
      initContainers:
        - name: migrate
          image: ghcr.io/acme/web:1.2.3
`

const cCode = `#include <stdio.h>

static int helper(int x)
{
	return x * 2;
}

int main(void)
{
	int a = helper(1);
	int b = helper(2);
	int c = helper(3);
	printf("%d %d %d\n", a, b, c);
	return 0;
}
`

type diffCase struct {
	name     string
	old, new string
	path     string // default "deploy/app.yaml"
	contexts []int  // default {3}
	// alignmentMayDiffer marks inputs where go-diff and git's xdiff may
	// legitimately pick different but equally minimal alignments; only
	// `git apply` must then reproduce the new file.
	alignmentMayDiffer bool
}

func (c diffCase) file() File {
	p := c.path
	if p == "" {
		p = "deploy/app.yaml"
	}
	return File{Path: p, Old: []byte(c.old), New: []byte(c.new), Mode: "100644"}
}

func (c diffCase) ctxs() []int {
	if len(c.contexts) == 0 {
		return []int{3}
	}
	return c.contexts
}

func ctxOptions(ctx int) Options {
	if ctx == 0 {
		return Options{NoContext: true}
	}
	return Options{Context: ctx}
}

var all = []int{0, 1, 3}

func diffCases() []diffCase {
	base := lines("line ", 40)
	cases := []diffCase{
		{name: "single tag", old: deployment, new: strings.Replace(deployment, "web:1.2.3\n          ports", "web:1.2.4\n          ports", 1), contexts: all},
		{name: "all tags", old: deployment, new: strings.NewReplacer("web:1.2.3", "web:1.3.0", "nginx:1.25.1", "nginx:1.25.3").Replace(deployment), contexts: []int{0, 1, 2, 3, 5, 10}},
		{name: "first line", old: base, new: edit(base, map[int]string{1: "first\n"}), contexts: all},
		{name: "last line", old: base, new: edit(base, map[int]string{40: "last\n"}), contexts: all},
		{name: "first and last", old: base, new: edit(base, map[int]string{1: "first\n", 40: "last\n"}), contexts: all},
		{name: "far apart", old: base, new: edit(base, map[int]string{5: "five\n", 30: "thirty\n"}), contexts: all},
		{name: "insert middle", old: base, new: edit(base, map[int]string{20: "line 20\nnew a\nnew b\n"}), contexts: all},
		{name: "insert at start", old: base, new: "new 0\n" + base, contexts: all},
		{name: "append at end", old: base, new: base + "new 41\nnew 42\n", contexts: all},
		{name: "delete middle", old: base, new: edit(base, map[int]string{10: "", 11: "", 12: ""}), contexts: all},
		{name: "delete first", old: base, new: edit(base, map[int]string{1: ""}), contexts: all},
		{name: "delete last", old: base, new: edit(base, map[int]string{40: ""}), contexts: all},
		{name: "replace block", old: base, new: edit(base, map[int]string{15: "a\nb\nc\nd\n", 16: "", 17: ""}), contexts: all},
		{name: "many small changes", old: lines("v", 200), new: edit(lines("v", 200), map[int]string{3: "x\n", 9: "x\n", 17: "x\n", 24: "x\n", 60: "x\n", 61: "y\n", 120: "", 199: "z\n"}), contexts: []int{0, 1, 2, 3, 4, 8}},

		{name: "empty old", old: "", new: "a\nb\n", contexts: all},
		{name: "empty new", old: "a\nb\n", new: "", contexts: all},
		{name: "empty old no newline", old: "", new: "a", contexts: all},
		{name: "only newline added", old: "a\nb", new: "a\nb\n", contexts: all},
		{name: "only newline removed", old: "a\nb\n", new: "a\nb", contexts: all},
		{name: "no newline old", old: base + "tail", new: edit(base, map[int]string{2: "two\n"}) + "tail\n", contexts: all},
		{name: "no newline new", old: base, new: strings.TrimSuffix(base, "\n"), contexts: all},
		{name: "no newline both last changed", old: base + "tail", new: base + "TAIL", contexts: all},
		{name: "no newline both context", old: base + "tail", new: edit(base, map[int]string{39: "x\n"}) + "tail", contexts: all},
		{name: "no newline both far", old: base + "tail", new: edit(base, map[int]string{3: "x\n"}) + "tail", contexts: all},

		{name: "crlf", old: strings.ReplaceAll(deployment, "\n", "\r\n"), new: strings.ReplaceAll(strings.Replace(deployment, "nginx:1.25.1", "nginx:1.25.3", 1), "\n", "\r\n"), contexts: all},
		{name: "crlf to lf one line", old: "a\r\nb\r\nc\r\n", new: "a\r\nb\nc\r\n", contexts: all},
		{name: "crlf no newline", old: "a\r\nb\r", new: "a\r\nc\r", contexts: all},
		{name: "lone cr", old: "a\rb\nc\n", new: "a\rB\nc\n", contexts: all},

		{name: "func context yaml", old: deployment, new: strings.Replace(deployment, "containerPort: 8080", "containerPort: 9090", 1), contexts: all},
		{name: "func context c", old: cCode, new: strings.Replace(cCode, "helper(3)", "helper(4)", 1), contexts: all},
		{name: "func context none above", old: " x\n y\n z\n w\n v\n u\n t\n", new: " x\n y\n z\n w\n v\n U\n t\n", contexts: all},
		{name: "func context underscore dollar digit", old: "_under\n1digit\n$dollar\n-dash\n a\n b\n c\n d\n e\n", new: "_under\n1digit\n$dollar\n-dash\n a\n b\n c\n d\n E\n", contexts: all},
		{name: "func context long line", old: "func " + strings.Repeat("x", 100) + "\n a\n b\n c\n d\n e\n", new: "func " + strings.Repeat("x", 100) + "\n a\n b\n c\n d\n E\n", contexts: all},
		{name: "func context cut at 80 then spaces", old: "f" + strings.Repeat("y", 70) + "         zzzz\n a\n b\n c\n d\n e\n", new: "f" + strings.Repeat("y", 70) + "         zzzz\n a\n b\n c\n d\n E\n", contexts: all},
		{name: "func context trailing space crlf", old: "key:  \t\r\n a\n b\n c\n d\n e\n", new: "key:  \t\r\n a\n b\n c\n d\n E\n", contexts: all},
		{name: "func context inside hunk ignored", old: "top\n a\n b\nmid\n c\n d\n", new: "top\n a\n b\nmid\n c\n D\n", contexts: all},
		{name: "func context second hunk reuses first", old: "top\n" + lines(" l", 30), new: "top\n" + edit(lines(" l", 30), map[int]string{3: " x\n", 25: " y\n"}), contexts: all},
		{name: "func context latin1", old: "caf\xe9 bar\n a\n b\n c\n d\n e\n", new: "caf\xe9 bar\n a\n b\n c\n d\n E\n", contexts: all},
		{name: "func context utf8 noncharacter", old: "x\xef\xbf\xbey\n a\n b\n c\n d\n e\n", new: "x\xef\xbf\xbey\n a\n b\n c\n d\n E\n", contexts: all},
		{name: "func context utf8 cut", old: "k" + strings.Repeat("é", 50) + "\n a\n b\n c\n d\n e\n", new: "k" + strings.Repeat("é", 50) + "\n a\n b\n c\n d\n E\n", contexts: all},

		{name: "trailing whitespace added", old: "a\nb\nc\n", new: "a\nb \t\nc\n", contexts: all},
		{name: "space before tab", old: "a\nb\nc\n", new: "a\n  \tb\n\tc\n", contexts: all},
		{name: "blank lines at eof", old: "a\nb\n", new: "a\nb\n\n  \n\n", contexts: all},
		{name: "blank lines at eof grow", old: "a\n\n", new: "a\n\n\n\n", contexts: all},
		{name: "blank line in middle", old: "a\nb\n", new: "a\n\nb\n", contexts: all},

		{name: "path with space", path: "dir/my app.yaml", old: "a\n", new: "b\n"},
		{name: "path non-ascii", path: "déploiement/app.yaml", old: "a\n", new: "b\n"},
		{name: "path quote and backslash", path: `we"ird\name.yaml`, old: "a\n", new: "b\n"},
		{name: "path tab", path: "tab\there.yaml", old: "a\n", new: "b\n"},
		{name: "path escape sequence", path: "e\x1b[2Jc.yaml", old: "a\n", new: "b\n"},
		{name: "path newline", path: "a\nLaminar-Promote: evil.yaml", old: "a\n", new: "b\n"},
		{name: "path bidi override", path: "rtl\u202elmay.yaml", old: "a\n", new: "b\n"},
		{name: "path not utf8", path: "bad\xff.yaml", old: "a\n", new: "b\n"},
		{name: "binary", old: "a\x00b\n", new: "a\x00c\n"},
		{name: "binary new side", old: "text\n", new: "te\x00t\n"},
		{name: "nul after 8000", old: strings.Repeat("x", 8000) + "\x00\n", new: strings.Repeat("x", 8000) + "\x00y\n"},
		{name: "equal", old: deployment, new: deployment},

		// Runs of identical lines: the change can slide, and git's
		// compaction and indent heuristic decide where.
		{name: "slide insert in repeated lines", old: "a\nb\nb\nb\nc\n", new: "a\nb\nb\nb\nb\nc\n", contexts: all},
		{name: "slide delete in repeated lines", old: "a\nx\nx\nx\nx\nc\n", new: "a\nx\nx\nc\n", contexts: all},
		{name: "indent heuristic new function", old: "func a() {\n\tone()\n}\n\nfunc c() {\n\tthree()\n}\n", new: "func a() {\n\tone()\n}\n\nfunc b() {\n\ttwo()\n}\n\nfunc c() {\n\tthree()\n}\n", contexts: all},
		{name: "indent heuristic yaml list item", old: "items:\n  - name: a\n    image: a:1\n  - name: c\n    image: c:1\n", new: "items:\n  - name: a\n    image: a:1\n  - name: b\n    image: b:1\n  - name: c\n    image: c:1\n", contexts: all},
		{name: "indent heuristic blank separated", old: "x:\n  1\n\ny:\n  2\n", new: "x:\n  1\n\nz:\n  3\n\ny:\n  2\n", contexts: all},
		{name: "scattered rewrite", old: "a\nb\nc\nd\ne\nf\ng\n", new: "b\na\nd\nc\nf\ne\ng\n", contexts: all, alignmentMayDiffer: true},
		{name: "moved block", old: lines("m", 12), new: edit(lines("m", 12), map[int]string{2: "", 3: "", 10: "m10\nm2\nm3\n"}), contexts: all, alignmentMayDiffer: true},
	}
	// Two changes separated by exactly 2*ctx unchanged lines share a
	// hunk; one line more and they are two hunks.
	for _, ctx := range []int{0, 1, 2, 3, 5} {
		for _, gap := range []int{2 * ctx, 2*ctx + 1} {
			first := 10
			second := first + gap + 1
			cases = append(cases, diffCase{
				name:     fmt.Sprintf("merge boundary U%d gap %d", ctx, gap),
				old:      base,
				new:      edit(base, map[int]string{first: "changed a\n", second: "changed b\n"}),
				contexts: []int{ctx},
			})
		}
	}
	return cases
}

func unified(t testing.TB, f File, opt Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Unified(&buf, f, opt); err != nil {
		t.Fatalf("Unified: %v", err)
	}
	return buf.Bytes()
}

// TestAgainstGit compares every case with git itself: the body with
// `git diff --no-index`, the whole text (headers included) with `git diff`
// in a repository, and checks that `git apply` of our patch turns Old into
// New.
func TestAgainstGit(t *testing.T) {
	needGit(t)
	if testing.Short() {
		t.Skip("runs git many times")
	}
	for _, tc := range diffCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := tc.file()
			repo := newGitRepo(t, f.Path, f.Old)
			for _, ctx := range tc.ctxs() {
				ours := unified(t, f, ctxOptions(ctx))

				noIndex := gitNoIndex(t, f.Old, f.New, ctx)
				inRepo := repo.diff(f.New, ctx, false)
				if tc.alignmentMayDiffer {
					if d := cmp.Diff(string(inRepo), string(ours)); d != "" {
						t.Logf("-U%d: alignment differs from git (allowed) (-git +ours):\n%s", ctx, d)
					}
				} else {
					if d := cmp.Diff(diffBody(noIndex), diffBody(ours)); d != "" {
						t.Errorf("-U%d: body differs from git diff --no-index (-git +ours):\n%s", ctx, d)
					}
					if d := cmp.Diff(string(inRepo), string(ours)); d != "" {
						t.Errorf("-U%d: differs from git diff (-git +ours):\n%s", ctx, d)
					}
				}

				if bytes.Equal(f.Old, f.New) {
					if len(ours) != 0 {
						t.Errorf("equal files: got %q, want no output", ours)
					}
					continue
				}
				if isBinary(f.Old) || isBinary(f.New) {
					continue
				}
				if got := repo.apply(f.Old, ours, ctx); !bytes.Equal(got, f.New) {
					t.Errorf("-U%d: git apply produced (-want +got):\n%s", ctx, cmp.Diff(string(f.New), string(got)))
				}
				if got, err := applyPatch(f.Old, ours); err != nil {
					t.Errorf("-U%d: test applier: %v", ctx, err)
				} else if !bytes.Equal(got, f.New) {
					t.Errorf("-U%d: test applier produced (-want +got):\n%s", ctx, cmp.Diff(string(f.New), string(got)))
				}
			}
		})
	}
}

// TestColorAgainstGit checks that the coloured output is the plain output
// with escape codes added, and that it is what `git diff --color=always`
// writes.
func TestColorAgainstGit(t *testing.T) {
	needGit(t)
	if testing.Short() {
		t.Skip("runs git many times")
	}
	for _, tc := range diffCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := tc.file()
			repo := newGitRepo(t, f.Path, f.Old)
			for _, ctx := range tc.ctxs() {
				opt := ctxOptions(ctx)
				plain := unified(t, f, opt)
				opt.Color = true
				colored := unified(t, f, opt)
				if d := cmp.Diff(string(plain), string(stripANSI(colored))); d != "" {
					t.Errorf("-U%d: stripped colour output differs from plain (-plain +stripped):\n%s", ctx, d)
				}
				if tc.alignmentMayDiffer {
					continue
				}
				if d := cmp.Diff(string(repo.diff(f.New, ctx, true)), string(colored)); d != "" {
					t.Errorf("-U%d: differs from git diff --color=always (-git +ours):\n%s", ctx, d)
				}
			}
		})
	}
}

func TestFiles(t *testing.T) {
	files := []File{
		{Path: "b.yaml", Old: []byte("x: 1\n"), New: []byte("x: 2\n")},
		{Path: "same.yaml", Old: []byte("s\n"), New: []byte("s\n")},
		{Path: "a.yaml", Old: []byte("y: 1\n"), New: []byte("y: 2\n")},
	}
	var buf bytes.Buffer
	if err := Files(&buf, files, Options{}); err != nil {
		t.Fatal(err)
	}
	want := `diff --git a/b.yaml b/b.yaml
--- a/b.yaml
+++ b/b.yaml
@@ -1 +1 @@
-x: 1
+x: 2
diff --git a/a.yaml b/a.yaml
--- a/a.yaml
+++ b/a.yaml
@@ -1 +1 @@
-y: 1
+y: 2
`
	if d := cmp.Diff(want, buf.String()); d != "" {
		t.Errorf("Files (-want +got):\n%s", d)
	}
}

func TestOptions(t *testing.T) {
	f := File{Path: "p", Old: []byte("a\nb\nc\nd\ne\n"), New: []byte("a\nb\nC\nd\ne\n"), Mode: "100755"}
	tests := []struct {
		name string
		opt  Options
		want string
	}{
		{"default context", Options{}, "diff --git a/p b/p\nindex 9405325..d7ec9f7 100755\n--- a/p\n+++ b/p\n@@ -1,5 +1,5 @@\n a\n b\n-c\n+C\n d\n e\n"},
		{"negative context is default", Options{Context: -2}, "diff --git a/p b/p\nindex 9405325..d7ec9f7 100755\n--- a/p\n+++ b/p\n@@ -1,5 +1,5 @@\n a\n b\n-c\n+C\n d\n e\n"},
		{"no context", Options{NoContext: true, Context: 5}, "diff --git a/p b/p\nindex 9405325..d7ec9f7 100755\n--- a/p\n+++ b/p\n@@ -3 +3 @@ b\n-c\n+C\n"},
		{"full index", Options{Context: 1, Abbrev: 40}, "diff --git a/p b/p\nindex " + blobID(f.Old, "") + ".." + blobID(f.New, "") + " 100755\n--- a/p\n+++ b/p\n@@ -2,3 +2,3 @@ a\n b\n-c\n+C\n d\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unified(t, f, tt.opt)
			if d := cmp.Diff(tt.want, string(got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestBlobIDMatchesGit(t *testing.T) {
	needGit(t)
	for _, format := range []string{"sha1", "sha256"} {
		dir := t.TempDir()
		runGit(t, dir, dir, nil, "init", "-q", "--object-format="+format)
		for _, data := range []string{"", "a\n", "x\r\ny", strings.Repeat("z", 9000)} {
			writeFile(t, dir+"/f", []byte(data))
			want := strings.TrimSpace(string(runGit(t, dir, dir, nil, "hash-object", "f")))
			if got := blobID([]byte(data), format); got != want {
				t.Errorf("%s blobID(%q...) = %s, git says %s", format, data[:min(len(data), 10)], got, want)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	if err := Unified(&bytes.Buffer{}, File{Old: []byte("a"), New: []byte("b")}, Options{}); err == nil {
		t.Error("no path: want an error")
	}
	err := Unified(failWriter{}, File{Path: "p", Old: []byte("a"), New: []byte("b")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "diff p: write") {
		t.Errorf("write failure: got %v, want it wrapped with the path", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

// TestRandomTagBumpsMatchGit replaces the tags on random image lines of
// manifests full of repeated lines (blank lines, identical port blocks,
// the same image twice) and requires git's exact output: a line-for-line
// replacement is our main use and leaves no room for alignment choices.
func TestRandomTagBumpsMatchGit(t *testing.T) {
	needGit(t)
	if testing.Short() {
		t.Skip("runs git many times")
	}
	r := rand.New(rand.NewSource(7))
	for i := range 12 {
		old := string(bigManifest(100 + r.Intn(400)))
		old = strings.ReplaceAll(old, "svc-1", "svc") // make some lines repeat
		ls := strings.SplitAfter(old, "\n")
		for j, l := range ls {
			if strings.HasPrefix(l, "  image: ") && r.Intn(6) == 0 {
				ls[j] = strings.TrimSuffix(l, "\n") + "-r" + strconv.Itoa(r.Intn(3)) + "\n"
			}
		}
		new := strings.Join(ls, "")
		if r.Intn(3) == 0 {
			new = strings.ReplaceAll(new, "\n", "\r\n")
			old = strings.ReplaceAll(old, "\n", "\r\n")
		}
		if r.Intn(3) == 0 {
			old, new = strings.TrimSuffix(old, "\n"), strings.TrimSuffix(new, "\n")
		}
		ctx := []int{0, 1, 3, 7}[r.Intn(4)]
		f := File{Path: "m.yaml", Old: []byte(old), New: []byte(new), Mode: "100644"}
		repo := newGitRepo(t, f.Path, f.Old)
		if d := cmp.Diff(string(repo.diff(f.New, ctx, false)), string(unified(t, f, ctxOptions(ctx)))); d != "" {
			t.Errorf("case %d -U%d: differs from git diff (-git +ours):\n%s", i, ctx, d)
		}
	}
}
