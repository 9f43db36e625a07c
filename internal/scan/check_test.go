package scan

import (
	"bytes"
	"fmt"
)

// validMatch checks the invariants every match must hold against its
// file's content: spans in bounds and on the reported line, the bytes at
// the spans equal to the Ref's tag and digest, the column on the line.
func validMatch(content []byte, m Match) error {
	if m.Line < 1 || m.Column < 1 {
		return fmt.Errorf("bad position %d:%d", m.Line, m.Column)
	}
	ls := lineStartOf(content, m.Line)
	if ls < 0 {
		return fmt.Errorf("line %d past end", m.Line)
	}
	le := len(content)
	if i := bytes.IndexByte(content[ls:], '\n'); i >= 0 {
		le = ls + i
	}
	if ls+m.Column-1 >= le {
		return fmt.Errorf("column %d past end of line %d", m.Column, m.Line)
	}
	check := func(what string, sp Span, want string) error {
		if sp == none {
			if want != "" {
				return fmt.Errorf("%s %q has no span", what, want)
			}
			return nil
		}
		if sp.Start < 0 || sp.End > len(content) || sp.Start >= sp.End {
			return fmt.Errorf("%s span %v out of bounds", what, sp)
		}
		if bytes.IndexByte(content[sp.Start:sp.End], '\n') >= 0 {
			return fmt.Errorf("%s span %v crosses a line", what, sp)
		}
		if got := string(content[sp.Start:sp.End]); got != want {
			return fmt.Errorf("%s span holds %q, Ref has %q", what, got, want)
		}
		return nil
	}
	if err := check("tag", m.Tag, m.Ref.Tag); err != nil {
		return err
	}
	if err := check("digest", m.Digest, m.Ref.Digest); err != nil {
		return err
	}
	// Inline and marker spans lie on the reported line.
	if m.Kind == Inline || m.Kind == Marker {
		for _, sp := range []Span{m.Tag, m.Digest} {
			if sp != none && (sp.Start < ls || sp.End > le) {
				return fmt.Errorf("span %v not on line %d [%d,%d)", sp, m.Line, ls, le)
			}
		}
	}
	if m.Kind == Inline {
		at := ls + m.Column - 1
		if !bytes.HasPrefix(content[at:], []byte(m.Ref.Original)) {
			return fmt.Errorf("column %d does not start %q", m.Column, m.Ref.Original)
		}
	}
	return nil
}

func lineStartOf(content []byte, line int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(content[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	return off
}
