package diff

import "strconv"

// writeHunks writes the hunks for the changes cs, following xdl_emit_diff:
// changes whose unchanged gap is at most 2*ctx lines share a hunk (the
// context after one would touch or overlap the context before the next),
// and each hunk header carries the nearest "function" line above it.
func writeHunks(p *painter, a, b [][]byte, cs []change, ctx int) {
	fn := funcFinder{lines: a, limit: -1}
	for start := 0; start < len(cs); {
		end := start
		for end+1 < len(cs) && cs[end+1].i1-(cs[end].i1+cs[end].n1) <= 2*ctx {
			end++
		}
		first, last := cs[start], cs[end]

		s1 := max(first.i1-ctx, 0)
		s2 := max(first.i2-ctx, 0)
		post := min(ctx, len(a)-(last.i1+last.n1), len(b)-(last.i2+last.n2))
		e1 := last.i1 + last.n1 + post
		e2 := last.i2 + last.n2 + post

		p.hunkHeader(hunkRange(s1, e1-s1, s2, e2-s2), fn.before(s1))

		// Context is taken from the new file, as git does; both sides
		// are equal there.
		for ; s2 < first.i2; s2++ {
			p.line(' ', b[s2])
		}
		for k := start; k <= end; k++ {
			c := cs[k]
			if k > start {
				prev := cs[k-1]
				for j := prev.i2 + prev.n2; j < c.i2; j++ {
					p.line(' ', b[j])
				}
			}
			for i := c.i1; i < c.i1+c.n1; i++ {
				p.line('-', a[i])
			}
			for j := c.i2; j < c.i2+c.n2; j++ {
				p.line('+', b[j])
			}
		}
		for j := last.i2 + last.n2; j < e2; j++ {
			p.line(' ', b[j])
		}
		start = end + 1
	}
}

// hunkRange formats "@@ -s1,c1 +s2,c2 @@" from 0-based starts the way
// xdl_format_hunk_hdr does: a count of 1 is left out, and an empty side
// names the line before it (so an empty file is "-0,0").
func hunkRange(s1, c1, s2, c2 int) string {
	buf := make([]byte, 0, 32)
	buf = append(buf, "@@ -"...)
	buf = appendSide(buf, s1, c1)
	buf = append(buf, " +"...)
	buf = appendSide(buf, s2, c2)
	buf = append(buf, " @@"...)
	return string(buf)
}

func appendSide(buf []byte, start, count int) []byte {
	if count > 0 {
		start++
	}
	buf = strconv.AppendInt(buf, int64(start), 10)
	if count != 1 {
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(count), 10)
	}
	return buf
}

// funcLineMax is the size of the buffer git keeps the function line in
// (struct func_line in xdiff/xemit.c); longer lines are cut to it.
const funcLineMax = 80

// funcFinder finds the text git shows after a hunk's "@@": the nearest line
// above the hunk that starts with a letter, '_' or '$' (def_ff, git's rule
// when no diff driver sets a funcname pattern). Like git it remembers the
// last line it found and never scans a stretch of the file twice, so many
// hunks in a large file stay linear.
type funcFinder struct {
	lines [][]byte
	limit int // lines at or below this index were already searched
	found []byte
}

// before returns the function line for a hunk whose first line (in the old
// file) is s1.
func (f *funcFinder) before(s1 int) []byte {
	for l := s1 - 1; l > f.limit && l >= 0 && l < len(f.lines); l-- {
		if fl, ok := funcLine(f.lines[l]); ok {
			f.found = fl
			break
		}
	}
	f.limit = s1 - 1
	return f.found
}

func funcLine(line []byte) ([]byte, bool) {
	if len(line) == 0 {
		return nil, false
	}
	c := line[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$') {
		return nil, false
	}
	if len(line) > funcLineMax {
		line = line[:funcLineMax]
	}
	for len(line) > 0 && isSpace(line[len(line)-1]) {
		line = line[:len(line)-1]
	}
	return line, true
}
