package gitrepo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func logHashes(t *testing.T, r *Repo, opt LogOptions) []string {
	t.Helper()
	var got []string
	if err := r.LogWith(context.Background(), opt, func(c Commit) error {
		got = append(got, c.Hash)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLogWith(t *testing.T) {
	root := newRepo(t, map[string]string{"f": "0\n"})
	commit := func(msg string) string {
		git(t, root, "commit", "-q", "--allow-empty", "-m", msg)
		return git(t, root, "rev-parse", "HEAD")
	}
	base := git(t, root, "rev-parse", "HEAD")
	a := commit("a\n\nLaminar-Promote: x 1 -> 2")
	commit("b\n\nlaminar is a word here")
	c := commit("c\n\nLAMINAR-HOLD: x")
	r := open(t, root)

	// Grep: case ignored, a fixed string, the other commits never read.
	if got, want := logHashes(t, r, LogOptions{Grep: []string{"laminar-"}}), []string{c, a}; !cmp.Equal(got, want) {
		t.Errorf("Grep = %v, want %v", got, want)
	}
	// Several: any of them.
	if got, want := logHashes(t, r, LogOptions{Grep: []string{"x 1 -> 2", "-hold"}}), []string{c, a}; !cmp.Equal(got, want) {
		t.Errorf("Grep of two = %v, want %v", got, want)
	}
	// Exclude: the commits since base.
	if got := logHashes(t, r, LogOptions{Exclude: base}); len(got) != 3 || got[0] != c || got[2] != a {
		t.Errorf("Exclude = %v", got)
	}
	if err := r.LogWith(context.Background(), LogOptions{Exclude: "HEAD~1"}, func(Commit) error { return nil }); err == nil {
		t.Error("Exclude by a name, not an id, accepted")
	}
	// A revision that looks like an option is a revision, and there is none.
	out := filepath.Join(t.TempDir(), "out")
	if err := r.Log(context.Background(), "--output="+out, func(Commit) error { return nil }); err == nil {
		t.Error("Log(--output=...) succeeded")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("git wrote the --output file")
	}

	// Commits: in the order asked; an unknown id fails.
	var got []string
	err := r.Commits(context.Background(), []string{a, c, base}, func(cm Commit) error {
		got = append(got, cm.Hash)
		return nil
	})
	if err != nil || !cmp.Equal(got, []string{a, c, base}) {
		t.Errorf("Commits = %v, %v", got, err)
	}
	if err := r.Commits(context.Background(), []string{strings.Repeat("e", 40)}, func(Commit) error { return nil }); err == nil {
		t.Error("Commits of an unknown id succeeded")
	}
	if err := r.Commits(context.Background(), []string{"HEAD"}, func(Commit) error { return nil }); err == nil {
		t.Error("Commits of a name, not an id, accepted")
	}
}

// TestLogLongMessage: of a message longer than LogMessageMax the end is
// kept, which holds the trailers, and memory stays bounded.
func TestLogLongMessage(t *testing.T) {
	root := newRepo(t, map[string]string{"f": "0\n"})
	body := "Subject\n\n" + strings.Repeat("a long line of text\n", 3*LogMessageMax/20) + "\nLaminar-Hold: x\n"
	writeFile(t, root, "msg", body)
	git(t, root, "commit", "-q", "--allow-empty", "-F", filepath.Join(root, "msg"))
	r := open(t, root)
	var msg string
	if err := r.Log(context.Background(), "", func(c Commit) error {
		msg = c.Message
		return ErrStop
	}); err != nil {
		t.Fatal(err)
	}
	if len(msg) != LogMessageMax || !strings.HasSuffix(msg, "\n\nLaminar-Hold: x\n") {
		t.Errorf("message of %d bytes, ending %q", len(msg), msg[max(0, len(msg)-40):])
	}
}
