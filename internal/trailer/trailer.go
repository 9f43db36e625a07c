// Package trailer writes and reads the Laminar-* trailers that make each
// promotion commit its own audit record.
//
// A promotion commit ends with a trailer block such as
//
//	Laminar-Promote: registry.example.com:5000/acme/app develop-52af76b8 -> develop-b2ee56fd
//	Laminar-Digest: registry.example.com:5000/acme/app sha256:0123…
//	Laminar-Rule: registry.example.com:5000/acme/app develop
//
// The record is only worth something if every reader sees the same
// trailers: `git log --format='%(trailers:key=Laminar-Promote,valueonly)'`,
// `git interpret-trailers --parse`, and this package (used by `git laminar
// log` and the pre-push check). So Parse is a port of git's own rules
// (trailer.c and commit.c of git 2.39), checked against the git CLI in the
// tests, and Build refuses any input that would make those readers disagree
// with what it was asked to write.
//
// The package is pure: no I/O, standard library only. It assumes git's
// defaults: core.commentChar '#', trailer.separators ":" and no
// trailer.<token>.key configuration (which could rename or recognise keys).
package trailer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Keys of the trailers git-laminar writes. Each value fits on one line and
// names the image first, so one trailer is a self-contained record that can
// be read with a single `%(trailers:key=...)`.
const (
	KeyPromote  = "Laminar-Promote"     // "<image> <from> -> <to>"; see Promotion
	KeyDigest   = "Laminar-Digest"      // "<image> <digest>": the digest the promoted tag had
	KeyRule     = "Laminar-Rule"        // "<image> <rule name>": the [[update]] rule that chose the tag
	KeyRollback = "Laminar-Rollback-Of" // "<commit id>": full hex object name of the reverted commit
	KeyHold     = "Laminar-Hold"        // "<image>": stop promoting this image
	KeyRelease  = "Laminar-Release"     // "<image>": lift a hold
)

// Trailer is one "Key: Value" line of a trailer block, as git reads it:
// Key and Value without surrounding whitespace, continuation lines unfolded.
type Trailer struct {
	Key, Value string
}

// String is the line Build writes for t (without the newline).
func (t Trailer) String() string { return t.Key + ": " + t.Value }

// Values returns the values of the trailers whose key is key, compared
// without regard to case and in order, which is what
// `%(trailers:key=<key>,valueonly)` selects.
func Values(trailers []Trailer, key string) []string {
	var vs []string
	for _, t := range trailers {
		if strings.EqualFold(t.Key, key) {
			vs = append(vs, t.Value)
		}
	}
	return vs
}

// Build returns a full commit message: the subject line, a blank line, the
// body (if any) and a blank line, and the trailer block, one trailer per
// line, ending in a single "\n".
//
// Values may come from a registry and are untrusted, so Build refuses rather
// than writes anything a reader could take differently: every trailer must
// pass Validate and its value must fit on one line (valid UTF-8, no control,
// line-separator or bidi-override characters, no surrounding whitespace, not
// empty). The returned error names the trailer and what is wrong. Build does
// not drop or reorder trailers; with no trailers it refuses a body whose last
// paragraph git would read as trailers.
//
// The subject must be one non-blank line of printable text; surrounding
// whitespace is removed. The body is tidied the way `git commit`
// (cleanup=whitespace) would: trailing spaces, tabs and CRs go from every
// line (so CRLF becomes LF), runs of blank lines become one, leading and
// trailing blank lines go. So a go-git commit stores byte for byte what
// `git commit -F` would. Neither subject nor body may hold a line git reads
// as the start of a patch ("---" and whitespace, where `git
// interpret-trailers` and `git am` stop reading) or the "# ---- >8 ----"
// scissors line (after which git ignores everything); the body may hold no
// control characters but tab.
func Build(subject, body string, trailers []Trailer) (string, error) {
	subject = strings.TrimSpace(subject)
	if subject == "" {
		return "", errors.New("commit subject is empty")
	}
	if r, bad := unsafeRune(subject, false); bad {
		return "", fmt.Errorf("commit subject %q: contains %s; the subject must be one line of printable text", subject, r)
	}
	if err := checkMessageLine(subject); err != nil {
		return "", fmt.Errorf("commit subject %q: %v", subject, err)
	}
	body, err := tidyBody(body)
	if err != nil {
		return "", err
	}
	for _, t := range trailers {
		if err := Validate(t); err != nil {
			return "", err
		}
		if err := checkLine(t.Value); err != nil {
			return "", &Error{Key: t.Key, Value: t.Value, Reason: err.Error()}
		}
	}

	var b strings.Builder
	b.WriteString(subject)
	b.WriteString("\n")
	if body != "" {
		b.WriteString("\n")
		b.WriteString(body)
		b.WriteString("\n")
	}
	if len(trailers) > 0 {
		b.WriteString("\n")
		for _, t := range trailers {
			b.WriteString(t.String())
			b.WriteString("\n")
		}
	}
	msg := b.String()

	// The rules above are meant to make this hold; checking it costs little
	// and turns any gap in them into an error instead of a wrong record.
	got := Parse(msg)
	if len(trailers) == 0 && len(got) > 0 {
		return "", fmt.Errorf("commit body: its last paragraph would be read as trailers (%q); add trailers or rephrase it", got[0].String())
	}
	if len(trailers) > 0 && !slices.Equal(got, trailers) {
		return "", fmt.Errorf("commit message: git would read its trailers as %q, not as given", got)
	}
	if findPatchStart(msg) != len(msg) {
		return "", errors.New("commit message: contains a patch divider line")
	}
	return msg, nil
}

// checkMessageLine rejects a line (without its newline) that would change
// where git looks for trailers.
func checkMessageLine(line string) error {
	if isPatchDivider(line + "\n") {
		return errors.New(`git reads a line of "---" and whitespace as the start of a patch and would miss the trailers`)
	}
	if line+"\n" == cutLine {
		return errors.New("git ignores everything from this scissors line on, trailers included")
	}
	return nil
}

// tidyBody applies git's whitespace cleanup to body and rejects lines that
// would change where git looks for trailers.
func tidyBody(body string) (string, error) {
	var lines []string
	blank := false
	for n, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, " \t\r") // git's isspace, as its cleanup uses
		if r, bad := unsafeRune(line, true); bad {
			return "", fmt.Errorf("commit body line %d: contains %s; only printable text and tabs are allowed", n+1, r)
		}
		if err := checkMessageLine(line); err != nil {
			return "", fmt.Errorf("commit body line %d %q: %v", n+1, line, err)
		}
		if line == "" {
			blank = true
			continue
		}
		if blank && len(lines) > 0 {
			lines = append(lines, "")
		}
		blank = false
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), nil
}

// CheckNotForged refuses text that was written by someone other than
// git-laminar (laminar.toml's commit message template) and is to become a
// message's subject and body, when a line of it could be read as a
// Laminar-* trailer: the record of what was promoted comes from the tool
// alone. Build keeps such lines out of the trailer block already; refusing
// them also keeps them from every other reader (git log --grep, a
// paragraph a later amend turns into the last one, a person). A line
// counts as git would read it, key case ignored and spaces allowed around
// the key, continuation-line indentation included.
func CheckNotForged(text string) error {
	for n, line := range strings.Split(text, "\n") {
		l := strings.TrimLeft(line, " \t")
		sep := findSeparator(l)
		if sep <= 0 {
			continue
		}
		key := strings.TrimRight(l[:sep], " \t")
		if len(key) > len(keyPrefix) && strings.EqualFold(key[:len(keyPrefix)], keyPrefix) {
			return fmt.Errorf("line %d: %q reads as a %s trailer; Laminar-* trailers are written by git laminar alone", n+1, line, key)
		}
	}
	return nil
}

const keyPrefix = "Laminar-"
