package diff

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// writeHeader writes the lines git puts before the hunks of a modified
// file: "diff --git", the optional index line, "---" and "+++" (the last two
// are left to the caller for binary files, which have none).
func writeHeader(p *painter, f File, opt Options) {
	a, b := quotePath("a/", f.Path), quotePath("b/", f.Path)
	p.meta("diff --git " + a + " " + b)
	if f.Mode != "" {
		p.meta("index " + abbrev(blobID(f.Old, opt.ObjectFormat), opt.Abbrev) + ".." + abbrev(blobID(f.New, opt.ObjectFormat), opt.Abbrev) + " " + f.Mode)
	}
	if isBinary(f.Old) || isBinary(f.New) {
		return
	}
	// git ends a name containing a space with a tab on these two lines so
	// that patch(1) and `git apply` know where the name ends.
	tab := ""
	if strings.Contains(f.Path, " ") {
		tab = "\t"
	}
	p.metaTail("--- "+a, tab)
	p.metaTail("+++ "+b, tab)
}

// blobID is the git object id of data stored as a blob, so the index line
// names the same objects `git diff` would.
func blobID(data []byte, format string) string {
	h := sha1.New()
	if format == "sha256" {
		h = sha256.New()
	}
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func abbrev(id string, n int) string {
	if n <= 0 {
		n = 7
	}
	if n < 4 {
		n = 4
	}
	if n > len(id) {
		n = len(id)
	}
	return id[:n]
}

// quotePath returns prefix+path as git writes it in headers: unchanged when
// it is plain, otherwise in double quotes with C escapes (quote_c_style
// with core.quotePath at its default, true), so control characters, quotes,
// backslashes and bytes above 0x7f cannot break the header apart.
func quotePath(prefix, path string) string {
	s := prefix + path
	if !needsQuote(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			if c < 0x20 || c >= 0x7f {
				b.WriteByte('\\')
				b.WriteByte('0' + c>>6)
				b.WriteByte('0' + c>>3&7)
				b.WriteByte('0' + c&7)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func needsQuote(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}
