package diff

// This file ports git's xdl_change_compact (xdiff/xdiffi.c) with the indent
// heuristic that `git diff` enables by default. A run of added or removed
// lines can often slide up or down over identical neighbours without
// changing what the diff means; Myers implementations disagree on where
// such runs land, so without this step the same edit would show
// differently from `git diff`. Sliding every run the way git does makes the
// output identical whenever go-diff and xdiff find the same alignment up to
// such slides, which covers nearly all real edits.

// group is a run of changed lines [start, end) in one file; start == end
// is the empty group between two unchanged lines.
type group struct{ start, end int }

func (s *side) groupInit() group {
	g := group{}
	for s.changed(g.end) {
		g.end++
	}
	return g
}

func (s *side) groupNext(g *group) bool {
	if g.end == s.n() {
		return false
	}
	g.start = g.end + 1
	g.end = g.start
	for s.changed(g.end) {
		g.end++
	}
	return true
}

func (s *side) groupPrevious(g *group) bool {
	if g.start == 0 {
		return false
	}
	g.end = g.start - 1
	g.start = g.end
	for s.changed(g.start - 1) {
		g.start--
	}
	return true
}

func (s *side) slideDown(g *group) bool {
	if g.end < s.n() && s.ids[g.start] == s.ids[g.end] {
		s.mark(g.start, false)
		s.mark(g.end, true)
		g.start++
		g.end++
		for s.changed(g.end) {
			g.end++
		}
		return true
	}
	return false
}

func (s *side) slideUp(g *group) bool {
	if g.start > 0 && s.ids[g.start-1] == s.ids[g.end-1] {
		g.start--
		g.end--
		s.mark(g.start, true)
		s.mark(g.end, false)
		for s.changed(g.start - 1) {
			g.start--
		}
		return true
	}
	return false
}

// compact slides changes in both files as git does: first the old file's
// runs against the new file, then the other way round.
func compact(s *script) {
	compactSide(s.a, s.b)
	compactSide(s.b, s.a)
}

const indentHeuristicMaxSliding = 100

func compactSide(x, o *side) {
	g, og := x.groupInit(), o.groupInit()
	for {
		if g.end != g.start {
			var size, earliestEnd int
			endMatchingOther := -1
			for {
				size = g.end - g.start
				endMatchingOther = -1
				// Shift up as far as possible, merging with runs above.
				for x.slideUp(&g) {
					o.groupPrevious(&og)
				}
				earliestEnd = g.end
				if og.end > og.start {
					endMatchingOther = g.end
				}
				// Then down as far as possible.
				for x.slideDown(&g) {
					o.groupNext(&og)
					if og.end > og.start {
						endMatchingOther = g.end
					}
				}
				if size == g.end-g.start {
					break
				}
			}

			switch {
			case g.end == earliestEnd:
				// The run cannot move.
			case endMatchingOther != -1:
				// Line the run up with the last run of changes in the
				// other file it can sit against.
				for og.end == og.start {
					x.slideUp(&g)
					o.groupPrevious(&og)
				}
			default:
				best := -1
				var bestScore splitScore
				shift := earliestEnd
				if g.end-size-1 > shift {
					shift = g.end - size - 1
				}
				if g.end-indentHeuristicMaxSliding > shift {
					shift = g.end - indentHeuristicMaxSliding
				}
				for ; shift <= g.end; shift++ {
					var sc splitScore
					sc.add(x.measureSplit(shift))
					sc.add(x.measureSplit(shift - size))
					if best == -1 || sc.cmp(bestScore) <= 0 {
						bestScore = sc
						best = shift
					}
				}
				for g.end > best {
					x.slideUp(&g)
					o.groupPrevious(&og)
				}
			}
		}
		if !x.groupNext(&g) {
			break
		}
		o.groupNext(&og)
	}
}

// The indent heuristic scores where a run of added or removed lines is cut
// from its context; the constants are git's, tuned on a corpus of real
// histories.
const (
	maxIndent = 200
	maxBlanks = 20

	startOfFilePenalty             = 1
	endOfFilePenalty               = 21
	totalBlankWeight               = -30
	postBlankWeight                = 6
	relativeIndentPenalty          = -4
	relativeIndentWithBlankPenalty = 10
	relativeOutdentPenalty         = 24
	relativeOutdentWithBlank       = 17
	relativeDedentPenalty          = 23
	relativeDedentWithBlank        = 17
	indentWeight                   = 60
)

// isSpace is C's isspace in the "C" locale, which git uses (XDL_ISSPACE).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// indent returns the width of the leading whitespace of line (tabs to
// multiples of 8), or -1 when the line is blank.
func indent(line []byte) int {
	ret := 0
	for _, c := range line {
		if !isSpace(c) {
			return ret
		}
		switch c {
		case ' ':
			ret++
		case '\t':
			ret += 8 - ret%8
		}
		if ret >= maxIndent {
			return maxIndent
		}
	}
	return -1
}

type splitMeasurement struct {
	endOfFile  bool
	indent     int
	preBlank   int
	preIndent  int
	postBlank  int
	postIndent int
}

func (s *side) measureSplit(split int) splitMeasurement {
	var m splitMeasurement
	if split >= s.n() {
		m.endOfFile = true
		m.indent = -1
	} else {
		m.indent = indent(s.lines[split])
	}
	m.preIndent = -1
	for i := split - 1; i >= 0; i-- {
		m.preIndent = indent(s.lines[i])
		if m.preIndent != -1 {
			break
		}
		m.preBlank++
		if m.preBlank == maxBlanks {
			m.preIndent = 0
			break
		}
	}
	m.postIndent = -1
	for i := split + 1; i < s.n(); i++ {
		m.postIndent = indent(s.lines[i])
		if m.postIndent != -1 {
			break
		}
		m.postBlank++
		if m.postBlank == maxBlanks {
			m.postIndent = 0
			break
		}
	}
	return m
}

type splitScore struct{ effectiveIndent, penalty int }

func (s *splitScore) add(m splitMeasurement) {
	if m.preIndent == -1 && m.preBlank == 0 {
		s.penalty += startOfFilePenalty
	}
	if m.endOfFile {
		s.penalty += endOfFilePenalty
	}
	postBlank := 0
	if m.indent == -1 {
		postBlank = 1 + m.postBlank
	}
	totalBlank := m.preBlank + postBlank
	s.penalty += totalBlankWeight * totalBlank
	s.penalty += postBlankWeight * postBlank

	ind := m.indent
	if ind == -1 {
		ind = m.postIndent
	}
	anyBlanks := totalBlank != 0
	s.effectiveIndent += ind

	switch {
	case ind == -1, m.preIndent == -1, ind == m.preIndent:
	case ind > m.preIndent:
		if anyBlanks {
			s.penalty += relativeIndentWithBlankPenalty
		} else {
			s.penalty += relativeIndentPenalty
		}
	case m.postIndent != -1 && m.postIndent > ind:
		if anyBlanks {
			s.penalty += relativeOutdentWithBlank
		} else {
			s.penalty += relativeOutdentPenalty
		}
	default:
		if anyBlanks {
			s.penalty += relativeDedentWithBlank
		} else {
			s.penalty += relativeDedentPenalty
		}
	}
}

func (s splitScore) cmp(t splitScore) int {
	c := 0
	if s.effectiveIndent > t.effectiveIndent {
		c = 1
	} else if s.effectiveIndent < t.effectiveIndent {
		c = -1
	}
	return indentWeight*c + (s.penalty - t.penalty)
}
