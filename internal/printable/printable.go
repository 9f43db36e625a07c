// Package printable makes text that comes from outside (a registry's
// answer, a file name, a commit's author or subject, a remote's URL, an exec
// action's output) safe to put in front of a person: on a terminal, in a log
// line or in a chat message it shows as what it is and cannot act.
//
// The characters it escapes are those that a terminal or a reader would
// take for something else: control characters (C0, DEL and the C1 range,
// so escape sequences, bells, carriage returns and line breaks), invisible
// formatting characters (bidirectional overrides such as U+202E, zero-width
// characters, the byte order mark), the Unicode line and paragraph
// separators, and bytes that are not UTF-8. Every other character, ordinary
// printable Unicode included, is kept. Escapes are written as Go writes
// them: \n, \r and \t, \xNN for the other ASCII controls and for bytes that
// are not UTF-8, \uNNNN (or \UNNNNNNNN) for the rest. A backslash is left as
// it is, so escaping twice changes nothing more.
package printable

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// String returns s with every unsafe character escaped: a value from outside
// can then neither act on a terminal nor begin a line of its own.
func String(s string) string { return escape(s, false) }

// Text is String for a message of several lines: newlines and tabs stay,
// everything else String escapes is escaped. It is for text whose line
// breaks are ours; a value from outside inside it must already have been
// through String.
func Text(s string) string { return escape(s, true) }

// Is reports whether s is printable as it is, that is String(s) == s.
func Is(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafe(r, n) {
			return false
		}
		i += n
	}
	return true
}

// Err returns an error that reads as printable.String(err.Error()) and
// unwraps to err, for an error whose text holds what someone else wrote
// (a server's message, a command's output). Nil stays nil.
func Err(err error) error {
	if err == nil {
		return nil
	}
	return &escaped{err: err, text: String(err.Error())}
}

type escaped struct {
	err  error
	text string
}

func (e *escaped) Error() string { return e.text }
func (e *escaped) Unwrap() error { return e.err }

// unsafe reports whether the rune r, n bytes long in its input, must be
// escaped. A RuneError of one byte is a byte that is not UTF-8.
func unsafe(r rune, n int) bool {
	if r == utf8.RuneError && n == 1 {
		return true
	}
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

func escape(s string, keepLines bool) string {
	// Most text is plain ASCII: look before building anything.
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 0x20 && c < 0x7f, keepLines && (c == '\n' || c == '\t'):
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			default:
				writeHexByte(&b, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeHexByte(&b, c)
		case unsafe(r, n):
			writeRune(&b, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

const hex = "0123456789abcdef"

func writeHexByte(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&15])
}

func writeRune(b *strings.Builder, r rune) {
	if r > 0xffff {
		b.WriteString(`\U`)
		s := strconv.FormatInt(int64(r), 16)
		b.WriteString(strings.Repeat("0", 8-len(s)) + s)
		return
	}
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hex[r>>shift&15])
	}
}

// JSON escapes, in JSON text, the characters encoding/json writes raw
// although String would escape them (DEL, the C1 controls, formatting
// characters such as U+202E): each becomes a \uNNNN escape, so the document
// decodes to the same values but shows nothing unsafe when printed.
// encoding/json has already escaped the other controls and replaced bytes
// that are not UTF-8; outside its strings JSON text is plain ASCII.
func JSON(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] != 0x7f && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				out = append(out, `\u007f`...)
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, `\ufffd`...)
		case unsafe(r, n) && r > 0xffff:
			// JSON spells a rune outside the basic plane as two escapes.
			r1, r2 := utf16.EncodeRune(r)
			out = appendU(appendU(out, r1), r2)
		case unsafe(r, n):
			out = appendU(out, r)
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

func appendU(out []byte, r rune) []byte {
	out = append(out, `\u`...)
	for shift := 12; shift >= 0; shift -= 4 {
		out = append(out, hex[r>>shift&15])
	}
	return out
}
