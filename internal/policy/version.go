package policy

import (
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// version is a tag read as a version number, more leniently than semver and
// with the parts that decide whether two tags belong to the same line of
// releases kept apart:
//
//	v  1 . 25 . 3  rc.1        -alpine
//	^  ^^^^^^^^^^  ^^^^        ^^^^^^^
//	v  nums        pre         variant
//
// A pre-release starts with a known word (alpha, beta, rc, pre, preview, or
// the Python spellings a, b, c when a number follows: "3.8.0b1"), with or
// without a separator, and goes on with numbers ("rc.10", "rc10", "rc-1") and
// further words after dots ("alpha.beta"). Everything after the numbers and
// the pre-release is the variant ("-alpine", "-slim-bookworm"); a variant is
// not a pre-release, so "1.2.0-alpine" is a release of the alpine line.
type version struct {
	v       bool     // written with a leading "v"
	nums    []string // numeric parts, leading zeros removed ("0" stays "0")
	pre     []preTok // nil for a release
	variant string
}

// preTok is one identifier of a pre-release: a number or a known word.
type preTok struct {
	num  string // digits without leading zeros, when the token is a number
	word string // canonical word ("alpha", "b", "rc"), when it is a word
	rank int    // order of words: alpha < beta < rc
}

// preWords ranks the words that start a pre-release. Single letters are the
// Python spellings (3.8.0a1, 3.8.0b1, 3.8.0c1) and only count when a number
// follows them. "dev" and "snapshot" are deliberately absent: on container
// images they usually name a variant ("1.2.3-dev" with a shell), not an
// earlier build of 1.2.3.
var preWords = map[string]int{
	"a": 1, "alpha": 1,
	"b": 2, "beta": 2,
	"c": 3, "rc": 3, "pre": 3, "preview": 3,
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isSep(c byte) bool    { return c == '.' || c == '-' || c == '_' }

// trimZeros removes leading zeros from a run of digits, keeping one digit.
func trimZeros(d string) string {
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	return d
}

// parseVersion reads s as a version; ok is false when s does not start with
// a number (after an optional "v").
func parseVersion(s string) (*version, bool) {
	v := &version{}
	i := 0
	if len(s) > 1 && s[0] == 'v' && isDigit(s[1]) {
		v.v = true
		i = 1
	}
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			return nil, false
		}
		v.nums = append(v.nums, trimZeros(s[i:j]))
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			i = j + 1
			continue
		}
		i = j
		break
	}
	pre, n := parsePre(s[i:])
	v.pre = pre
	v.variant = s[i+n:]
	return v, true
}

// word reads a pre-release word at the start of r and returns it with its
// length; ok is false when r does not start with one.
func preWord(r string) (tok preTok, n int, ok bool) {
	for n < len(r) && isLetter(r[n]) {
		n++
	}
	w := strings.ToLower(r[:n])
	rank, known := preWords[w]
	if !known {
		return preTok{}, 0, false
	}
	if len(w) == 1 && (n == len(r) || !isDigit(r[n])) {
		return preTok{}, 0, false
	}
	return preTok{word: w, rank: rank}, n, true
}

// parsePre reads the pre-release at the start of r (right after the numeric
// parts) and returns its tokens and how many bytes it used.
func parsePre(r string) ([]preTok, int) {
	k := 0
	if k < len(r) && isSep(r[k]) {
		k++
	}
	first, n, ok := preWord(r[k:])
	if !ok {
		return nil, 0
	}
	toks := []preTok{first}
	pos := k + n
	lastWord := true
	for pos < len(r) {
		q := pos
		if isSep(r[q]) {
			q++
		}
		d := q
		for d < len(r) && isDigit(r[d]) {
			d++
		}
		// A number: right after a word ("rc10"), or after a separator ("rc.10", "rc-1").
		if d > q && (q > pos || lastWord) {
			toks = append(toks, preTok{num: trimZeros(r[q:d])})
			pos = d
			lastWord = false
			continue
		}
		// A further word after a dot ("alpha.beta").
		if r[pos] == '.' {
			if tok, n, ok := preWord(r[pos+1:]); ok {
				toks = append(toks, tok)
				pos += 1 + n
				lastWord = true
				continue
			}
		}
		break
	}
	return toks, pos
}

// cmpDigits compares two runs of digits without leading zeros by value.
func cmpDigits(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// cmpVersion orders versions by value: numeric parts (a missing part is 0),
// then a pre-release below its release, then pre-release identifiers:
// numbers by value, words by rank (alpha < beta < rc), a number below a
// word, fewer identifiers below more. Spelling ("v", separators, leading
// zeros) and the variant do not take part; tags that differ only there
// compare equal, and callers break such ties by tag name.
func cmpVersion(a, b *version) int {
	n := max(len(a.nums), len(b.nums))
	for i := range n {
		x, y := "0", "0"
		if i < len(a.nums) {
			x = a.nums[i]
		}
		if i < len(b.nums) {
			y = b.nums[i]
		}
		if c := cmpDigits(x, y); c != 0 {
			return c
		}
	}
	switch {
	case a.pre == nil && b.pre == nil:
		return 0
	case a.pre == nil:
		return 1
	case b.pre == nil:
		return -1
	}
	for i := range min(len(a.pre), len(b.pre)) {
		if c := cmpPreTok(a.pre[i], b.pre[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(a.pre), len(b.pre))
}

func cmpPreTok(a, b preTok) int {
	aw, bw := a.word != "", b.word != ""
	switch {
	case aw && bw:
		return cmpInt(a.rank, b.rank)
	case aw:
		return 1
	case bw:
		return -1
	}
	return cmpDigits(a.num, b.num)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// semver converts v for checking against a Masterminds range. It fails when
// v has more than three numeric parts or a part too large for uint64. The
// pre-release is passed in dotted form ("rc10" becomes "rc.10") so that the
// range compares its numbers by value; the variant is left out, so
// "1.3.0-alpine" is in "^1.2".
func (v *version) semver() (*semver.Version, bool) {
	if len(v.nums) > 3 {
		return nil, false
	}
	var p [3]uint64
	for i, s := range v.nums {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, false
		}
		p[i] = n
	}
	var pre []string
	for _, t := range v.pre {
		if t.word != "" {
			pre = append(pre, t.word)
		} else {
			pre = append(pre, t.num)
		}
	}
	return semver.New(p[0], p[1], p[2], strings.Join(pre, "."), ""), true
}

// dateBased reports whether v looks like a CalVer version: its first part
// is a year (2022, 2022.1) or a date (202401, 20240115).
func (v *version) dateBased() bool {
	f := v.nums[0]
	if len(f) != 4 && len(f) != 6 && len(f) != 8 {
		return false
	}
	y, err := strconv.Atoi(f[:4])
	return err == nil && y >= 1900 && y <= 2999
}

// compatible reports whether cand belongs to the same line of releases as
// cur, and when not, why. Same line means: the same "v" spelling, the same
// number of numeric parts, the same variant, and both or neither date-based.
// Whether pre-releases may be chosen is decided by the caller.
func compatible(cur, cand *version) (bool, string) {
	switch {
	case cand.v != cur.v && cur.v:
		return false, `is written without the leading "v" the current tag has`
	case cand.v != cur.v:
		return false, `is written with a leading "v" the current tag does not have`
	case len(cand.nums) != len(cur.nums):
		return false, "has " + plural(len(cand.nums), "numeric part") + ", the current tag " + strconv.Itoa(len(cur.nums))
	case cand.variant != cur.variant && cur.variant == "":
		return false, "has the suffix " + strconv.Quote(cand.variant) + ", the current tag none"
	case cand.variant != cur.variant:
		return false, "has the suffix " + strconv.Quote(cand.variant) + ", the current tag " + strconv.Quote(cur.variant)
	case cand.dateBased() && !cur.dateBased():
		return false, "is date-based (CalVer), the current tag is not"
	case !cand.dateBased() && cur.dateBased():
		return false, "is not date-based (CalVer), the current tag is"
	}
	return true, ""
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// number is a non-negative decimal read from a tag or an extracted value.
type number struct {
	whole string // digits without leading zeros
	frac  string // digits without trailing zeros
}

// parseNumber reads "42", "007", "1.50"; nothing else.
func parseNumber(s string) (number, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") {
		return number{}, false
	}
	for i := 0; i < len(whole); i++ {
		if !isDigit(whole[i]) {
			return number{}, false
		}
	}
	for i := 0; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return number{}, false
		}
	}
	return number{whole: trimZeros(whole), frac: strings.TrimRight(frac, "0")}, true
}

func cmpNumber(a, b number) int {
	if c := cmpDigits(a.whole, b.whole); c != 0 {
		return c
	}
	return strings.Compare(a.frac, b.frac)
}
