package diff

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// Stat is how many lines a change adds and removes: what `git diff
// --numstat` reports, and what a summary such as "3 files changed" needs.
type Stat struct {
	Path    string
	Added   int
	Deleted int
	Binary  bool // git counts no lines in binary files
}

// Count returns the Stat of f, using the same alignment as Unified.
func Count(f File, opt Options) (Stat, error) {
	st := Stat{Path: f.Path}
	if bytes.Equal(f.Old, f.New) {
		return st, nil
	}
	if isBinary(f.Old) || isBinary(f.New) {
		st.Binary = true
		return st, nil
	}
	s, err := align(splitLines(f.Old), splitLines(f.New), opt.timeout())
	if err != nil {
		return st, fmt.Errorf("diff %s: %w", f.Path, err)
	}
	for _, c := range changes(s) {
		st.Deleted += c.n1
		st.Added += c.n2
	}
	return st, nil
}

// Numstat writes `git diff --numstat` lines for the files that changed:
// "added<TAB>deleted<TAB>path", with "-" for both counts of a binary file.
func Numstat(w io.Writer, files []File, opt Options) error {
	var buf bytes.Buffer
	for _, f := range files {
		if bytes.Equal(f.Old, f.New) {
			continue
		}
		st, err := Count(f, opt)
		if err != nil {
			return err
		}
		if st.Binary {
			buf.WriteString("-\t-\t")
		} else {
			buf.WriteString(strconv.Itoa(st.Added) + "\t" + strconv.Itoa(st.Deleted) + "\t")
		}
		buf.WriteString(quotePath("", st.Path) + "\n")
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("numstat: write: %w", err)
	}
	return nil
}
