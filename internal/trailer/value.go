package trailer

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NoTag is the From of a promotion whose reference had neither tag nor
// digest (an implicit "latest"). It is "-" because that cannot be a tag
// (tags start with a letter, digit or '_') or a digest, and it keeps the
// value three space-free fields. The Go value and the text use the same
// spelling, so String and ParsePromotion are exact inverses.
const NoTag = "-"

// Error says which trailer is malformed and why. The value is quoted with
// %q when printed, so a hostile value cannot put control sequences on a
// terminal.
type Error struct {
	Key    string // the trailer's key
	Value  string // the offending value
	Reason string // what is wrong, in words
}

func (e *Error) Error() string {
	return fmt.Sprintf("trailer %s %q: %s", e.Key, e.Value, e.Reason)
}

// Promotion is one image moved from one tag (or digest) to another: the
// value of a Laminar-Promote trailer, "<image> <from> -> <to>".
//
// Image is the repository name as written in the manifest, without tag or
// digest ("registry.example.com:5000/acme/app", "nginx"); it is not
// normalised, so history matches what the files say. From and To are each an
// OCI tag or a digest ("sha256:<64 hex>" or "sha512:<128 hex>"); a reference
// pinned by tag and digest is recorded by its tag, and its digest goes in a
// Laminar-Digest trailer. From is NoTag when the reference had no tag. From
// and To differ: a trailer records a change.
type Promotion struct {
	Image, From, To string
}

// String returns the trailer value "<image> <from> -> <to>". For every p,
// ParsePromotion(p.String()) returns p exactly when p.Validate() is nil, and
// fails otherwise.
func (p Promotion) String() string { return p.Image + " " + p.From + " -> " + p.To }

// Trailer returns p as a Laminar-Promote trailer.
func (p Promotion) Trailer() Trailer { return Trailer{Key: KeyPromote, Value: p.String()} }

// Validate reports whether p is well formed, as ParsePromotion would require.
func (p Promotion) Validate() error {
	if err := checkPromotion(p); err != nil {
		return &Error{KeyPromote, p.String(), err.Error()}
	}
	return nil
}

func checkPromotion(p Promotion) error {
	if err := checkImage(p.Image); err != nil {
		return err
	}
	if p.From != NoTag {
		if err := checkTagOrDigest(p.From); err != nil {
			return fmt.Errorf("from: %v", err)
		}
	}
	if err := checkTagOrDigest(p.To); err != nil {
		return fmt.Errorf("to: %v", err)
	}
	if p.From == p.To {
		return errors.New("from and to are the same; a promotion records a change")
	}
	return nil
}

// ParsePromotion reads a Laminar-Promote value. It is strict: exactly
// "<image> <from> -> <to>" with single spaces, each part well formed (see
// Promotion), from possibly NoTag. So a value that parses is exactly what
// String writes for the result.
func ParsePromotion(value string) (Promotion, error) {
	f := strings.Split(value, " ")
	if len(f) != 4 || f[2] != "->" {
		return Promotion{}, &Error{KeyPromote, value, `want "<image> <from> -> <to>" separated by single spaces`}
	}
	p := Promotion{Image: f[0], From: f[1], To: f[3]}
	if err := checkPromotion(p); err != nil {
		return Promotion{}, &Error{KeyPromote, value, err.Error()}
	}
	return p, nil
}

// Promotions returns the Laminar-Promote trailers among trailers (key
// compared without regard to case, as git's key= filter does), in order. A
// malformed value is left out and reported in the joined error, so a reader
// can keep what is good and still say what is not.
func Promotions(trailers []Trailer) ([]Promotion, error) {
	var ps []Promotion
	var errs []error
	for _, v := range Values(trailers, KeyPromote) {
		p, err := ParsePromotion(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ps = append(ps, p)
	}
	return ps, errors.Join(errs...)
}

var laminarKeys = []string{KeyPromote, KeyDigest, KeyRule, KeyRollback, KeyHold, KeyRelease}

// Validate checks that t's key is a trailer token (ASCII letters, digits and
// '-', starting with a letter or digit) and, for a key starting with
// "Laminar-" in any case, that it is one of ours spelled exactly as the Key
// constants (so a typo is caught before it is pushed, not silently missed by
// `git laminar log`) and that the value follows that key's grammar. Values of
// other keys are someone else's and are not judged; Build additionally
// requires every value to fit on one line.
func Validate(t Trailer) error {
	if !isToken(t.Key) {
		return &Error{t.Key, t.Value, "key must be ASCII letters, digits and '-', starting with a letter or digit"}
	}
	if len(t.Key) < len("Laminar-") || !strings.EqualFold(t.Key[:len("Laminar-")], "Laminar-") {
		return nil
	}
	known := ""
	for _, k := range laminarKeys {
		if strings.EqualFold(t.Key, k) {
			known = k
		}
	}
	if known == "" {
		return &Error{t.Key, t.Value, fmt.Sprintf("unknown Laminar trailer; known keys are %s", strings.Join(laminarKeys, ", "))}
	}
	if known != t.Key {
		return &Error{t.Key, t.Value, fmt.Sprintf("spell the key %s", known)}
	}
	var err error
	switch t.Key {
	case KeyPromote:
		_, err = ParsePromotion(t.Value)
		return err // already an *Error
	case KeyDigest:
		err = checkImageAnd(t.Value, "<image> <digest>", checkDigest)
	case KeyRule:
		err = checkImageAnd(t.Value, "<image> <rule name>", checkRuleName)
	case KeyRollback:
		err = checkCommitID(t.Value)
	case KeyHold, KeyRelease:
		err = checkImage(t.Value)
	}
	if err != nil {
		return &Error{t.Key, t.Value, err.Error()}
	}
	return nil
}

func isToken(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// checkImageAnd checks "<image> <rest>" split at the first space.
func checkImageAnd(v, want string, rest func(string) error) error {
	image, r, ok := strings.Cut(v, " ")
	if !ok || r == "" {
		return fmt.Errorf("want %q", want)
	}
	if err := checkImage(image); err != nil {
		return err
	}
	return rest(r)
}

// checkImage checks an image name without tag or digest by the grammar of
// the distribution reference package: an optional registry host (domain
// name or [IPv6], optional :port), then path components of lowercase letters
// and digits joined by '.', '_', "__" or '-'s, at most 255 characters.
func checkImage(s string) error {
	if s == "" {
		return errors.New("image is empty")
	}
	if len(s) > 255 {
		return fmt.Errorf("image name is %d characters; at most 255 are allowed", len(s))
	}
	parts := strings.Split(s, "/")
	if strings.Contains(s, "@") || strings.Contains(parts[len(parts)-1], ":") {
		return fmt.Errorf("image %q: want a repository name without tag or digest", s)
	}
	if len(parts) > 1 && isDomain(parts[0]) {
		parts = parts[1:]
	}
	for _, c := range parts {
		if !isPathComponent(c) {
			return fmt.Errorf("image %q: path component %q must be lowercase letters and digits joined by '.', '_', '__' or '-'", s, c)
		}
	}
	return nil
}

func isDomain(h string) bool {
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		i := strings.IndexByte(h, ']')
		if i < 0 {
			return false
		}
		host = h[1:i]
		if host == "" || strings.Trim(host, "0123456789abcdefABCDEF:") != "" {
			return false
		}
		rest := h[i+1:]
		if rest != "" {
			if rest[0] != ':' {
				return false
			}
			return isDigits(rest[1:])
		}
		return true
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
		if !isDigits(port) {
			return false
		}
	}
	for _, c := range strings.Split(host, ".") {
		if c == "" || c[0] == '-' || c[len(c)-1] == '-' {
			return false
		}
		for i := 0; i < len(c); i++ {
			if !isAlnum(c[i]) && c[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func isPathComponent(c string) bool {
	i := 0
	for {
		j := i
		for j < len(c) && isLowerAlnum(c[j]) {
			j++
		}
		if j == i {
			return false
		}
		if i = j; i == len(c) {
			return true
		}
		switch c[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(c) && c[i] == '_' {
				i++
			}
		case '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// checkTagOrDigest accepts an OCI tag, [A-Za-z0-9_][A-Za-z0-9._-]{0,127},
// or a digest.
func checkTagOrDigest(s string) error {
	if strings.Contains(s, ":") {
		return checkDigest(s)
	}
	if s == "" {
		return errors.New("empty; want a tag or digest")
	}
	if len(s) > 128 {
		return fmt.Errorf("tag is %d characters; at most 128 are allowed", len(s))
	}
	if c := s[0]; !isAlnum(c) && c != '_' {
		return fmt.Errorf("tag %q must start with a letter, digit or '_'", s)
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return fmt.Errorf("tag %q: %q is not allowed; tags are letters, digits, '_', '.' and '-'", s, string(rune(c)))
		}
	}
	return nil
}

// checkDigest accepts the digests of the algorithms OCI registers: sha256
// and sha512, in lowercase hex.
func checkDigest(s string) error {
	alg, hex, _ := strings.Cut(s, ":")
	n := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if n == 0 {
		return fmt.Errorf("digest %q: want sha256:<64 hex> or sha512:<128 hex>", s)
	}
	if len(hex) != n || !isLowerHex(hex) {
		return fmt.Errorf("digest %q: want %s:<%d lowercase hex digits>", s, alg, n)
	}
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// checkCommitID accepts a full object name: 40 (SHA-1) or 64 (SHA-256)
// lowercase hex digits. Abbreviations are refused; they can become
// ambiguous as history grows.
func checkCommitID(s string) error {
	if (len(s) != 40 && len(s) != 64) || !isLowerHex(s) {
		return errors.New("want a full commit id: 40 or 64 lowercase hex digits")
	}
	return nil
}

// checkRuleName accepts any one-line name, since rule names are free text
// in laminar.toml.
func checkRuleName(s string) error {
	if err := checkLine(s); err != nil {
		return fmt.Errorf("rule name: %v", err)
	}
	return nil
}

// checkLine checks that v reads back unchanged from one trailer line and
// shows as what it is: not empty, valid UTF-8, no surrounding whitespace, no
// control, line-separator or bidi-override characters.
func checkLine(v string) error {
	if v == "" {
		return errors.New("value is empty")
	}
	if r, bad := unsafeRune(v, false); bad {
		return fmt.Errorf("value contains %s; it must be one line of printable text", r)
	}
	if r, _ := utf8.DecodeRuneInString(v); unicode.IsSpace(r) {
		return errors.New("value starts with whitespace")
	}
	if r, _ := utf8.DecodeLastRuneInString(v); unicode.IsSpace(r) {
		return errors.New("value ends with whitespace")
	}
	return nil
}

// unsafeRune finds the first byte sequence in s that has no place in one
// line of a commit message: invalid UTF-8, a control character (tab only if
// allowTab), U+2028/U+2029, or a bidirectional control that could make
// text display in another order than git reads it. It returns a quoted
// description of it.
func unsafeRune(s string, allowTab bool) (string, bool) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return fmt.Sprintf("invalid UTF-8 at byte %d", i), true
		case r == '\t' && allowTab:
		case unicode.IsControl(r), r == '\u2028', r == '\u2029',
			'\u202A' <= r && r <= '\u202E', '\u2066' <= r && r <= '\u2069',
			r == '\u200E', r == '\u200F', r == '\u061C':
			return fmt.Sprintf("%+q", r), true
		}
	}
	return "", false
}
