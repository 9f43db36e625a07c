// Package check verifies what git-laminar records before it leaves the
// machine: every managed image reference names an image that exists in its
// registry (the tag is there and, where a digest is pinned, the tag still
// points at it), and every Laminar-* trailer of the commits being pushed is
// well formed. `git laminar hook pre-push` runs it on what a push sends and
// `git laminar verify` on the working tree.
//
// Problems are values, not errors: a check collects all of them so that one
// run lists everything to fix. A registry that cannot be asked (unreachable,
// authentication refused, a server error) is a problem too: the check fails
// closed.
package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/printable"
)

// Kind sorts problems for scripts.
type Kind string

// The kinds of problem.
const (
	NotFound       Kind = "not-found"       // the tag (or the repository) does not exist
	DigestMismatch Kind = "digest-mismatch" // the pinned digest is not the tag's
	Unchecked      Kind = "unchecked"       // the registry could not be asked (unreachable, auth, server error)
	BadTrailer     Kind = "trailer"         // a Laminar-* trailer of a commit is malformed
	BadConfig      Kind = "config"          // laminar.toml (as pushed) cannot be read
)

// Reference is one managed image reference to check.
type Reference struct {
	Path string // slash-separated, relative to the top of the tree
	Line int
	Ref  imageref.Ref
}

// Problem is one thing wrong. The JSON field names are a contract: they are
// printed by `git laminar verify --json`.
type Problem struct {
	File    string `json:"file"`   // file of a reference or of laminar.toml; "" for commits
	Line    int    `json:"line"`   // 1-based; 0 when not about a line
	Image   string `json:"image"`  // as written, without tag or digest
	Tag     string `json:"tag"`    // as written; "" when absent
	Digest  string `json:"digest"` // pinned digest as written; "" when absent
	Commit  string `json:"commit"` // full hash, for trailer problems
	Kind    Kind   `json:"kind"`
	Problem string `json:"problem"` // what is wrong, in words
}

// String is the problem as one line for a person, every value in it
// escaped (file names, what a registry answered, trailer values):
//
//	dev/app.yaml:6: registry.example.com/acme/app:develop-zzz does not exist (tag not found)
//	commit abc1234: Laminar-Promote: malformed value "...": want "<image> <from> -> <to>" ...
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Commit != "":
		b.WriteString("commit " + short(p.Commit))
	case p.File != "":
		b.WriteString(printable.String(p.File))
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Image != "" {
		b.WriteString(printable.String(refString(p.Image, p.Tag, p.Digest)))
		if p.Kind == NotFound {
			b.WriteString(" does not exist (" + printable.String(p.Problem) + ")")
			return b.String()
		}
		b.WriteString(": ")
	}
	b.WriteString(printable.String(p.Problem))
	return b.String()
}

func refString(image, tag, digest string) string {
	s := image
	if tag != "" {
		s += ":" + tag
	}
	if digest != "" {
		s += "@" + digest
	}
	return s
}

func short(hash string) string {
	if len(hash) > 7 {
		return hash[:7]
	}
	return hash
}

// Sort orders problems by file, line, image, then commit problems in the
// order found (they come newest first from RevList), keeping equal ones
// together, and drops exact duplicates (two pushed refs with the same file).
func Sort(ps []Problem) []Problem {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if (a.Commit == "") != (b.Commit == "") {
			return a.Commit == ""
		}
		if a.Commit != "" {
			return false
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return refString(a.Image, a.Tag, a.Digest) < refString(b.Image, b.Tag, b.Digest)
	})
	out := ps[:0]
	seen := map[Problem]bool{}
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Plural is "1 problem" or "n problems".
func Plural(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}
