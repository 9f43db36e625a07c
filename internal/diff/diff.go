// Package diff renders the change to a file as unified diff text that reads
// like `git diff` and that `git apply` accepts.
//
// The bump command shows this text for review before it commits, so it must
// look exactly like what users already read every day: the same headers,
// the same hunk boundaries, the same function context after "@@", the same
// "\ No newline at end of file" markers. Line alignment comes from
// sergi/go-diff in line mode; go-diff has no unified-diff writer, so the hunk
// grouping, sliding of ambiguous changes and the text itself follow git's
// xdiff rules, ported in this package.
package diff

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// File is one file's content before and after a change.
type File struct {
	Path string // slash-separated path relative to the repository root
	Old  []byte
	New  []byte
	// Mode is the git file mode, such as "100644". When set, an
	// "index <old>..<new> <mode>" line with the git blob ids of Old and New
	// is written, as git does for a tracked file.
	Mode string
}

// DefaultContext is git's default number of context lines (-U3).
const DefaultContext = 3

// DefaultTimeout bounds the quick alignment of a large file with very many
// differences. A few edited lines in a file of 50,000 lines align exactly
// in well under a second whatever the limit; it only matters for inputs
// like a shuffled file, where the exact diff would take minutes and
// go-diff's quicker, possibly longer (but still correct) diff is used.
const DefaultTimeout = 2 * time.Second

// Options control how a diff is written.
type Options struct {
	// Context is the number of unchanged lines shown around each change.
	// Zero means DefaultContext; set NoContext for a real -U0.
	Context int
	// NoContext writes hunks without any context lines, like `git diff -U0`.
	// Such patches need `git apply --unidiff-zero`.
	NoContext bool
	// Color colours the output like git's default palette: bold meta
	// lines, cyan hunk ranges, red removals, green additions.
	Color bool
	// Abbrev is the number of hex digits of the blob ids on the index line.
	// Zero means 7, git's minimum abbreviation; 40 or more (64 in a
	// SHA-256 repository) means full ids.
	Abbrev int
	// ObjectFormat names the blob ids on the index line as the
	// repository does: "sha256" for a SHA-256 repository; empty or
	// "sha1" for SHA-1.
	ObjectFormat string
	// Timeout bounds the quick alignment of a large, very different file.
	// Zero means DefaultTimeout; negative means no limit, so the diff is
	// always minimal however long that takes.
	Timeout time.Duration
}

func (o Options) context() int {
	switch {
	case o.NoContext:
		return 0
	case o.Context <= 0:
		return DefaultContext
	default:
		return o.Context
	}
}

func (o Options) timeout() time.Duration {
	switch {
	case o.Timeout < 0:
		return 0
	case o.Timeout == 0:
		return DefaultTimeout
	default:
		return o.Timeout
	}
}

// Unified writes the diff of one file: "diff --git a/P b/P", an index line
// when f.Mode is set, "--- a/P", "+++ b/P" and the hunks. Binary content
// (a NUL byte in the first 8000 bytes of either side, git's test) gets git's
// "Binary files a/P and b/P differ" line instead of hunks. Nothing is written
// when Old equals New.
func Unified(w io.Writer, f File, opt Options) error {
	var buf bytes.Buffer
	if err := render(&buf, f, opt); err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("diff %s: write: %w", f.Path, err)
	}
	return nil
}

// Files writes several files' diffs in the order given, like one `git diff`
// over several paths.
func Files(w io.Writer, files []File, opt Options) error {
	for _, f := range files {
		if err := Unified(w, f, opt); err != nil {
			return err
		}
	}
	return nil
}

// render writes the whole diff of f into buf, so that a failure part-way
// leaves the caller's writer untouched.
func render(buf *bytes.Buffer, f File, opt Options) error {
	if bytes.Equal(f.Old, f.New) {
		return nil
	}
	if f.Path == "" {
		return fmt.Errorf("diff: file has no path")
	}
	p := newPainter(buf, opt.Color)
	writeHeader(p, f, opt)
	if isBinary(f.Old) || isBinary(f.New) {
		p.binary(f.Path)
		return nil
	}
	a, b := splitLines(f.Old), splitLines(f.New)
	s, err := align(a, b, opt.timeout())
	if err != nil {
		return fmt.Errorf("diff %s: %w", f.Path, err)
	}
	compact(s)
	p.fileStart(a, b)
	writeHunks(p, a, b, changes(s), opt.context())
	return nil
}

// firstBytes is how much of a file git inspects to decide it is binary.
const firstBytes = 8000

// isBinary reports whether data looks binary to git: a NUL byte among the
// first 8000 bytes (buffer_is_binary in git's xdiff-interface.c).
func isBinary(data []byte) bool {
	if len(data) > firstBytes {
		data = data[:firstBytes]
	}
	return bytes.IndexByte(data, 0) >= 0
}

// splitLines splits data after every '\n'. Each line keeps its terminator,
// so a final line without one stays distinguishable, and a CR before the LF
// is part of the line, exactly like git's records.
func splitLines(data []byte) [][]byte {
	n := bytes.Count(data, []byte{'\n'})
	lines := make([][]byte, 0, n+1)
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i+1:i+1])
		data = data[i+1:]
	}
	return lines
}
