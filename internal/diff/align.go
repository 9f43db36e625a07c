package diff

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// side is one file as git's xdiff sees it: its lines, an identity per line
// (equal ids mean equal bytes, in both files) and which lines are changed.
type side struct {
	lines [][]byte
	ids   []rune
	// rchg has a false sentinel at each end, as in xdiff, so that
	// rchg[k+1] is line k and neighbours of the first and last line can be
	// read without bounds checks.
	rchg []bool
}

func (s *side) n() int             { return len(s.lines) }
func (s *side) changed(k int) bool { return s.rchg[k+1] }
func (s *side) mark(k int, v bool) { s.rchg[k+1] = v }

// script is the aligned pair of files.
type script struct{ a, b *side }

// maxDistinctLines is how many different lines go-diff's line mode can
// encode: it maps each distinct line to one Unicode code point and panics
// past the last one.
const maxDistinctLines = 1_100_000

// align marks the changed lines of a and b using go-diff in line mode: each
// distinct line becomes one rune, the rune strings are diffed, and the runs
// of each operation are counted back to lines. The rune of a line doubles
// as its identity for sliding changes later.
//
// We skip DiffCharsToLines: re-joining the text of each run only to split
// it again would cost a copy of both files and tell us nothing the rune
// counts do not.
func align(a, b [][]byte, timeout time.Duration) (s *script, err error) {
	if len(a)+len(b) >= maxDistinctLines {
		if n := distinct(a, b); n >= maxDistinctLines {
			return nil, fmt.Errorf("align: %d distinct lines, more than the %d go-diff can encode", n, maxDistinctLines)
		}
	}
	defer func() {
		// go-diff panics on inputs it cannot encode; report, do not crash
		// the caller over a diff we merely display.
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("align: go-diff: %v", r)
		}
	}()

	dmp := diffmatchpatch.New()
	r1, r2, _ := dmp.DiffLinesToRunes(joinLines(a), joinLines(b))
	if len(r1) != len(a) || len(r2) != len(b) {
		return nil, fmt.Errorf("align: go-diff split %d/%d lines, expected %d/%d", len(r1), len(r2), len(a), len(b))
	}
	sa := &side{lines: a, ids: r1, rchg: make([]bool, len(a)+2)}
	sb := &side{lines: b, ids: r2, rchg: make([]bool, len(b)+2)}

	i, j := 0, 0
	for _, d := range lineDiff(dmp, r1, r2, timeout) {
		n := utf8.RuneCountInString(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			i += n
			j += n
		case diffmatchpatch.DiffDelete:
			for k := i; k < i+n && k < len(a); k++ {
				sa.mark(k, true)
			}
			i += n
		case diffmatchpatch.DiffInsert:
			for k := j; k < j+n && k < len(b); k++ {
				sb.mark(k, true)
			}
			j += n
		}
	}
	if i != len(a) || j != len(b) {
		return nil, fmt.Errorf("align: go-diff covered %d/%d lines, expected %d/%d", i, j, len(a), len(b))
	}
	return &script{a: sa, b: sb}, nil
}

// Costs of go-diff's exact Myers bisection, which runs in O((N+M)·D) time
// for N and M lines that differ in D lines; about 2·10⁸ of that is a
// second or two.
const (
	smallInput  = 2000
	exactBudget = 200_000_000
)

// lineDiff aligns the line runes r1 and r2 with go-diff.
//
// Without a deadline go-diff computes a minimal diff, as git does, but a
// file whose lines were shuffled can take minutes. With a deadline it also
// takes a "half match" shortcut that may give a longer diff than git's.
// So large inputs first get the quick diff under the deadline; its number
// of changed lines D bounds the minimal one, and when (N+M)·D shows that
// the exact diff is affordable we compute that instead. A tag bump (few
// changed lines, any file size) always ends up exact. timeout 0 means
// always exact.
func lineDiff(dmp *diffmatchpatch.DiffMatchPatch, r1, r2 []rune, timeout time.Duration) []diffmatchpatch.Diff {
	exact := func() []diffmatchpatch.Diff {
		dmp.DiffTimeout = 0
		return dmp.DiffMainRunes(r1, r2, false)
	}
	// Only the middle between the common prefix and suffix is diffed.
	p := 0
	for p < len(r1) && p < len(r2) && r1[p] == r2[p] {
		p++
	}
	s := 0
	for s < len(r1)-p && s < len(r2)-p && r1[len(r1)-1-s] == r2[len(r2)-1-s] {
		s++
	}
	n := len(r1) + len(r2) - 2*(p+s)
	if timeout == 0 || n <= smallInput {
		return exact()
	}
	dmp.DiffTimeout = timeout
	quick := dmp.DiffMainRunes(r1, r2, false)
	d := 0
	for _, x := range quick {
		if x.Type != diffmatchpatch.DiffEqual {
			d += utf8.RuneCountInString(x.Text)
		}
	}
	if n*d <= exactBudget {
		return exact()
	}
	return quick
}

func joinLines(lines [][]byte) string {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	buf := make([]byte, 0, n)
	for _, l := range lines {
		buf = append(buf, l...)
	}
	return string(buf)
}

func distinct(a, b [][]byte) int {
	seen := make(map[string]struct{})
	for _, ls := range [][][]byte{a, b} {
		for _, l := range ls {
			seen[string(l)] = struct{}{}
		}
	}
	return len(seen)
}

// change is one run of removed and added lines: old lines [i1, i1+n1)
// become new lines [i2, i2+n2).
type change struct{ i1, n1, i2, n2 int }

// changes lists the runs of changed lines in order (xdl_build_script).
func changes(s *script) []change {
	var out []change
	a, b := s.a, s.b
	i, j := 0, 0
	for i < a.n() || j < b.n() {
		if (i < a.n() && a.changed(i)) || (j < b.n() && b.changed(j)) {
			c := change{i1: i, i2: j}
			for i < a.n() && a.changed(i) {
				i++
			}
			for j < b.n() && b.changed(j) {
				j++
			}
			c.n1, c.n2 = i-c.i1, j-c.i2
			out = append(out, c)
			continue
		}
		i++
		j++
	}
	return out
}
