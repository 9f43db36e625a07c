// Package edit applies a plan to file contents at exact byte spans and is the
// only package that writes the working tree. It checks that every span still
// holds the bytes that were scanned, writes each file atomically, and can put
// every file back as it was when a later step fails.
package edit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/git-laminar/git-laminar/internal/plan"
)

// ErrChanged means a file no longer holds what was scanned.
var ErrChanged = errors.New("changed since it was scanned")

// Change is one file's content before and after.
//
// Old may be dropped once it has been shown (see Slim): Write then checks
// the file against the SHA-256 of Old instead of the bytes themselves, and
// keeps the bytes it read for Restore, so a run over thousands of files
// need not hold two copies of each.
type Change struct {
	Path string // slash-separated, relative to the repository root
	Old  []byte
	New  []byte
	Mode fs.FileMode

	oldSum [sha256.Size]byte // of Old, when hasSum
	hasSum bool
}

// Slim returns the change without its Old bytes, keeping their hash so that
// Write can still refuse a file that changed since it was rendered.
func (c Change) Slim() Change {
	if c.Old != nil {
		c.oldSum, c.hasSum = sha256.Sum256(c.Old), true
		c.Old = nil
	}
	return c
}

// holds reports whether current is the content the change was rendered from.
func (c Change) holds(current []byte) bool {
	if c.Old == nil && c.hasSum {
		return sha256.Sum256(current) == c.oldSum
	}
	return bytes.Equal(current, c.Old)
}

// Render computes the new content of every file the plan edits, reading each
// from root. Nothing is written.
func Render(root string, p plan.Plan) ([]Change, error) {
	var changes []Change
	err := RenderEach(root, p, func(c Change) error {
		changes = append(changes, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}

// RenderEach is Render one file at a time, in path order: it calls fn with
// each file's change as soon as it is computed and stops at the first error
// of its own or of fn. Only one file's contents are held at a time, unless
// fn keeps them.
func RenderEach(root string, p plan.Plan, fn func(Change) error) error {
	// The plan's edits are sorted by path, then span (plan.Build), so each
	// file's edits are one run of the slice.
	edits := p.Edits
	if !sort.SliceIsSorted(edits, func(i, j int) bool { return edits[i].Path < edits[j].Path }) {
		edits = append([]plan.Edit(nil), edits...)
		sort.SliceStable(edits, func(i, j int) bool { return edits[i].Path < edits[j].Path })
	}
	for len(edits) > 0 {
		n := 1
		for n < len(edits) && edits[n].Path == edits[0].Path {
			n++
		}
		c, err := render(root, edits[0].Path, edits[:n])
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		edits = edits[n:]
	}
	return nil
}

func render(root, path string, edits []plan.Edit) (Change, error) {
	full := filepath.Join(root, filepath.FromSlash(path))
	info, err := os.Lstat(full)
	if err != nil {
		return Change{}, fmt.Errorf("reading %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return Change{}, fmt.Errorf("%s: not a regular file", path)
	}
	old, err := os.ReadFile(full)
	if err != nil {
		return Change{}, fmt.Errorf("reading %s: %w", path, err)
	}
	updated, err := Apply(old, edits)
	if err != nil {
		return Change{}, fmt.Errorf("%s: %w", path, err)
	}
	return Change{Path: path, Old: old, New: updated, Mode: info.Mode().Perm()}, nil
}

// Apply returns content with the edits made. Each edit's span must hold its
// Old bytes; edits must not overlap.
func Apply(content []byte, edits []plan.Edit) ([]byte, error) {
	sorted := append([]plan.Edit(nil), edits...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Span.Start < sorted[j].Span.Start })
	var out bytes.Buffer
	out.Grow(len(content) + 64*len(edits))
	pos := 0
	for _, e := range sorted {
		s := e.Span
		if s.Start < pos || s.End < s.Start || s.End > len(content) {
			return nil, fmt.Errorf("line %d: edit outside the file or overlapping another", e.Line)
		}
		if string(content[s.Start:s.End]) != e.Old {
			return nil, fmt.Errorf("line %d: expected %q, found %q: %w", e.Line, e.Old, content[s.Start:s.End], ErrChanged)
		}
		out.Write(content[pos:s.Start])
		out.WriteString(e.New)
		pos = s.End
	}
	out.Write(content[pos:])
	return out.Bytes(), nil
}

// Applied records files written by Write so they can be restored.
type Applied struct {
	root    string
	written []Change
}

// Write makes the changes on disk. Before each file is replaced its content
// must still equal Change.Old (or, for a slim change, hash to it); if any file fails, the ones already written are
// restored and the error says which file failed.
func Write(root string, changes []Change) (*Applied, error) {
	a, err := WriteOrStop(root, changes)
	if err != nil {
		if rerr := a.Restore(); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, err
	}
	return a, nil
}

// WriteOrStop is Write that stops at the first file that fails and leaves
// the files already written as they are, for a caller that puts them back
// its own way (from a journal). The returned Applied lists them.
func WriteOrStop(root string, changes []Change) (*Applied, error) {
	a := &Applied{root: root}
	for _, c := range changes {
		full := filepath.Join(root, filepath.FromSlash(c.Path))
		current, err := os.ReadFile(full)
		if err == nil && !c.holds(current) {
			err = fmt.Errorf("%s: %w", c.Path, ErrChanged)
		} else if err != nil {
			err = fmt.Errorf("reading %s: %w", c.Path, err)
		} else if err = writeAtomic(full, c.New, c.Mode); err != nil {
			err = fmt.Errorf("writing %s: %w", c.Path, err)
		}
		if err != nil {
			return a, err
		}
		c.Old = current // what Restore puts back, even for a slim change
		a.written = append(a.written, c)
	}
	return a, nil
}

// Paths lists the files written.
func (a *Applied) Paths() []string {
	out := make([]string, len(a.written))
	for i, c := range a.written {
		out[i] = c.Path
	}
	return out
}

// Restore puts every written file back to its old content. Files that a
// later step changed again (an exec action, say) are restored too: the old
// content is what the user had.
func (a *Applied) Restore() error {
	var errs []error
	for i := len(a.written) - 1; i >= 0; i-- {
		c := a.written[i]
		full := filepath.Join(a.root, filepath.FromSlash(c.Path))
		if err := writeAtomic(full, c.Old, c.Mode); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s: %w", c.Path, err))
		}
	}
	a.written = nil
	return errors.Join(errs...)
}

// writeAtomic replaces path by renaming a fully written temporary file from
// the same directory over it, so a crash leaves either the old or the new
// content, never a torn file.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, "."+base+".laminar-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if mode == 0 {
		mode = 0o644
	}
	if err := os.Chmod(name, mode); err != nil {
		return err
	}
	return os.Rename(name, path)
}
