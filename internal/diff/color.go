package diff

import (
	"bytes"
	"strconv"
)

// git's default diff colours (color.diff.*), as escape sequences.
const (
	colorReset = "\x1b[m"
	colorMeta  = "\x1b[1m"  // bold
	colorFrag  = "\x1b[36m" // cyan
	colorOld   = "\x1b[31m" // red
	colorNew   = "\x1b[32m" // green
	colorWS    = "\x1b[41m" // red background: whitespace errors
)

const noNewline = `\ No newline at end of file`

// painter writes diff lines, plain or coloured. The coloured form copies
// the byte layout of git's diff.c (emit_line_0, ws_check_emit) for git's
// default whitespace rules, so a terminal shows the same thing it shows
// for `git diff --color`, including the red background on whitespace that
// an added line introduces at its end or before a tab.
type painter struct {
	buf   *bytes.Buffer
	color bool

	// Line numbers and blank-at-eof thresholds as git's emit_callback
	// keeps them, to paint blank lines added at the end of a file.
	lnoPre, lnoPost       int
	blankEOFPre, blankEOF int
}

func newPainter(buf *bytes.Buffer, color bool) *painter {
	return &painter{buf: buf, color: color}
}

func (p *painter) meta(line string) { p.metaTail(line, "") }

// metaTail writes a meta line whose tail (the tab git adds after a name
// with a space) follows the colour reset, as in git's diff.c.
func (p *painter) metaTail(line, tail string) {
	if p.color {
		p.buf.WriteString(colorMeta + line + colorReset + tail + "\n")
		return
	}
	p.buf.WriteString(line + tail + "\n")
}

// binary writes git's note for a binary change; git leaves it uncoloured.
func (p *painter) binary(path string) {
	p.buf.WriteString("Binary files " + quotePath("a/", path) + " and " + quotePath("b/", path) + " differ\n")
}

// hunkHeaderMax is the size of git's hunk header buffer
// (xdl_emit_hunk_hdr); the function text is cut to fit in it.
const hunkHeaderMax = 128

func (p *painter) hunkHeader(rng string, fn []byte) {
	if n := hunkHeaderMax - (len(rng) + 1) - 1; len(fn) > n {
		fn = fn[:max(n, 0)]
	}
	fn = validUTF8Prefix(fn)
	p.lnoPre, p.lnoPost = headerLineNumbers(rng)
	if !p.color {
		p.buf.WriteString(rng)
		if len(fn) > 0 {
			p.buf.WriteByte(' ')
			p.buf.Write(fn)
		}
		p.buf.WriteByte('\n')
		return
	}
	p.buf.WriteString(colorFrag + rng + colorReset)
	if len(fn) > 0 {
		p.buf.WriteString(" " + colorReset)
		p.buf.Write(fn)
		p.buf.WriteString(colorReset)
	}
	p.buf.WriteByte('\n')
}

// headerLineNumbers reads the two start numbers back from a hunk range, as
// git's find_lno does.
func headerLineNumbers(rng string) (pre, post int) {
	num := func(s string) int {
		end := 0
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		n, _ := strconv.Atoi(s[:end])
		return n
	}
	i := bytes.IndexByte([]byte(rng), '-')
	j := bytes.IndexByte([]byte(rng), '+')
	return num(rng[i+1:]), num(rng[j+1:])
}

// fileStart prepares the blank-at-eof check for a file pair
// (check_blank_at_eof in git's diff.c).
func (p *painter) fileStart(a, b [][]byte) {
	p.blankEOFPre, p.blankEOF = 0, 0
	if !p.color {
		return
	}
	l1, l2 := trailingBlank(a), trailingBlank(b)
	if l2 <= l1 {
		return
	}
	p.blankEOFPre = len(a) - l1 + 1
	p.blankEOF = len(b) - l2 + 1
}

// line writes one diff line: sign is ' ', '-' or '+'; content is the
// file's line including its '\n', if it has one.
func (p *painter) line(sign byte, content []byte) {
	switch sign {
	case ' ':
		p.lnoPre++
		p.lnoPost++
	case '-':
		p.lnoPre++
	case '+':
		p.lnoPost++
	}
	body, eol := content, false
	if n := len(body); n > 0 && body[n-1] == '\n' {
		body, eol = body[:n-1], true
	}
	if !p.color {
		p.buf.WriteByte(sign)
		p.buf.Write(body)
	} else {
		switch sign {
		case ' ':
			p.plainLine("", ' ', body)
		case '-':
			p.plainLine(colorOld, '-', body)
		case '+':
			if p.blankAtEOF(content) {
				p.plainLine(colorWS, '+', body)
			} else {
				p.buf.WriteString(colorNew + "+" + colorReset)
				p.wsCheck(body)
			}
		}
	}
	p.buf.WriteByte('\n')
	if !eol {
		p.lnoPre++ // git counts the marker as a preimage line
		p.buf.WriteString(noNewline)
		if p.color {
			p.buf.WriteString(colorReset)
		}
		p.buf.WriteByte('\n')
	}
}

// plainLine is git's emit_line_0 with a sign colour: colour, sign, text,
// reset, and a final CR kept after the reset.
func (p *painter) plainLine(set string, sign byte, body []byte) {
	cr := len(body) > 0 && body[len(body)-1] == '\r'
	if cr {
		body = body[:len(body)-1]
	}
	p.buf.WriteString(set)
	p.buf.WriteByte(sign)
	p.buf.Write(body)
	p.buf.WriteString(colorReset)
	if cr {
		p.buf.WriteByte('\r')
	}
}

// wsCheck writes an added line's text (without its '\n') in green,
// highlighting git's default whitespace errors: blank-at-eol (which
// includes a CR, as core.whitespace has no cr-at-eol by default) and
// space-before-tab in the indentation (ws_check_emit_1 in git's ws.c).
func (p *painter) wsCheck(line []byte) {
	trailing := len(line)
	for i := len(line) - 1; i >= 0 && isSpace(line[i]); i-- {
		trailing = i
	}
	written := 0
	for i := 0; i < trailing; i++ {
		if line[i] == ' ' {
			continue
		}
		if line[i] != '\t' {
			break
		}
		if written < i {
			p.buf.WriteString(colorWS)
			p.buf.Write(line[written:i])
			p.buf.WriteString(colorReset)
			p.buf.WriteByte('\t')
		} else {
			p.buf.Write(line[written : i+1])
		}
		written = i + 1
	}
	if trailing > written {
		p.buf.WriteString(colorNew)
		p.buf.Write(line[written:trailing])
		p.buf.WriteString(colorReset)
	}
	if trailing < len(line) {
		p.buf.WriteString(colorWS)
		p.buf.Write(line[trailing:])
		p.buf.WriteString(colorReset)
	}
}

func (p *painter) blankAtEOF(content []byte) bool {
	if p.blankEOFPre == 0 || p.blankEOF == 0 || p.blankEOFPre > p.lnoPre || p.blankEOF > p.lnoPost {
		return false
	}
	return isBlank(content)
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// trailingBlank counts the whitespace-only lines at the end of a file the
// way git's count_trailing_blank does, quirks included: the scan stops
// before the first byte of the file, so a blank first line of one byte or
// less is never counted.
func trailingBlank(lines [][]byte) int {
	data := bytes.Join(lines, nil)
	if len(data) == 0 {
		return 0
	}
	ptr := len(data) - 1
	if data[ptr] == '\n' {
		ptr--
	}
	cnt := 0
	for 0 < ptr {
		prev := ptr
		for ; 0 <= prev; prev-- {
			if data[prev] == '\n' {
				break
			}
		}
		if !isBlank(data[prev+1 : ptr+1]) {
			break
		}
		cnt++
		ptr = prev - 1
	}
	return cnt
}

// validUTF8Prefix cuts b at its first byte that does not start a valid
// UTF-8 sequence. git passes every hunk header through
// sane_truncate_line, so a function line cut in the middle of a character
// (or holding Latin-1 text) ends there. Validity follows git's
// pick_one_utf8_char, which unlike Go also rejects U+FFFE and U+FFFF.
func validUTF8Prefix(b []byte) []byte {
	cont := func(c byte) bool { return c&0xc0 == 0x80 }
	for i := 0; i < len(b); {
		s, rest := b[i], len(b)-i
		var n int
		switch {
		case s < 0x80:
			n = 1
		case s&0xe0 == 0xc0:
			if rest < 2 || !cont(b[i+1]) || s&0xfe == 0xc0 {
				return b[:i]
			}
			n = 2
		case s&0xf0 == 0xe0:
			if rest < 3 || !cont(b[i+1]) || !cont(b[i+2]) ||
				s == 0xe0 && b[i+1]&0xe0 == 0x80 ||
				s == 0xed && b[i+1]&0xe0 == 0xa0 ||
				s == 0xef && b[i+1] == 0xbf && b[i+2]&0xfe == 0xbe {
				return b[:i]
			}
			n = 3
		case s&0xf8 == 0xf0:
			if rest < 4 || !cont(b[i+1]) || !cont(b[i+2]) || !cont(b[i+3]) ||
				s == 0xf0 && b[i+1]&0xf0 == 0x80 ||
				s == 0xf4 && b[i+1] > 0x8f || s > 0xf4 {
				return b[:i]
			}
			n = 4
		default:
			return b[:i]
		}
		i += n
	}
	return b
}
