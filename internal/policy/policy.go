// Package policy chooses the tag an image reference should move to.
//
// A Policy is compiled from one [[update]] rule. It is pure and
// deterministic: it does no I/O, and the same current tag and the same set of
// registry tags, in any order, give the same Choice, down to the order of
// its verdicts and the text of its reasons.
//
// Choosing happens in three steps:
//
//  1. Filtering (Candidates): tags that are not valid OCI tags, that do not
//     match the pattern, or that match exclude_tags are rejected.
//  2. Ordering: the remaining tags are put in the rule's order (see Order*).
//     Tags the order cannot place lose as "unordered"; versions of another
//     shape than the current tag lose as "incompatible"; tags younger than
//     min_age lose as "too-young".
//  3. Choosing (Select): the best remaining tag wins if it is newer than the
//     current tag. A tag that is not newer is never chosen (no silent
//     downgrades) unless allow_downgrade is set and the registry no longer
//     lists the current tag. When the policy cannot order tags honestly it
//     chooses nothing and says why in Choice.Err.
//
// Every tag considered gets a Verdict with a short reason.
package policy

import (
	"fmt"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"

	"github.com/git-laminar/git-laminar/internal/config"
)

// The values of the "order" key.
const (
	// OrderSemver orders tags as versions: numeric parts by value, a
	// pre-release below its release, pre-release numbers by value (rc10 >
	// rc9, rc.10 > rc.9), alpha < beta < rc. Only tags of the current tag's
	// shape take part (see Select).
	OrderSemver = "semver"
	// OrderNumeric orders by the number in the extracted value (or the whole
	// tag): "42", "007", "1.50". Other values are unordered.
	OrderNumeric = "numeric"
	// OrderAlphabetical orders by the bytes of the extracted value (or the
	// whole tag); the greatest is the newest.
	OrderAlphabetical = "alphabetical"
	// OrderNewestBuild orders by image creation time. Tags created at the
	// same instant are ordered by name: the byte-wise smaller name ranks
	// first and wins.
	OrderNewestBuild = "newest-build"
	// OrderNewestPush orders by when the registry received each tag: what
	// a registry's own listing API says (see Tag.Pushed), and what still
	// tells builds apart when reproducible builds fix their creation
	// time. Ties and min_age as for OrderNewestBuild, by the push time.
	OrderNewestPush = "newest-push"
	// OrderDigest never moves to another tag: it keeps the current tag and
	// follows its digest (Choice.FollowDigest).
	OrderDigest = "digest"
)

// DefaultExcludeTags are the exclude_tags used when a rule sets none: the
// tags cosign and similar tools push next to images for signatures,
// attestations and SBOMs.
func DefaultExcludeTags() []string {
	return []string{"*.sig", "*.att", "*.sbom", "sha256-*"}
}

// Tag is one tag as the registry reports it.
type Tag struct {
	Name    string
	Created time.Time // zero when unknown
	Pushed  time.Time // when the registry received the tag; zero when unknown
	Digest  string    // may be empty
}

// Outcome is what became of one tag.
type Outcome string

// The outcomes of a Verdict.
const (
	Chosen       Outcome = "chosen"       // the tag the reference moves to
	Current      Outcome = "current"      // the current tag (staying, or replaced)
	Filtered     Outcome = "filtered"     // does not match the pattern
	Excluded     Outcome = "excluded"     // matches exclude_tags
	Older        Outcome = "older"        // ordered, but not newer than the current or the chosen tag
	TooYoung     Outcome = "too-young"    // created (pushed, by newest-push) less than min_age ago, or at an unknown time
	Invalid      Outcome = "invalid"      // not a valid OCI tag
	Unordered    Outcome = "unordered"    // the order cannot place it
	Incompatible Outcome = "incompatible" // a version of another shape than the current tag
)

// Verdict says what became of one tag and why.
type Verdict struct {
	Tag     string // as given; may hold any bytes when Outcome is Invalid
	Outcome Outcome
	Reason  string // a short sentence; tag names in it are quoted
}

// Choice is the result of Select.
type Choice struct {
	Current string
	Tag     string // the chosen tag; equals Current when nothing newer
	Digest  string // the registry's digest of Tag, when known
	Changed bool   // Tag != Current
	// FollowDigest is set by order "digest": the tag stays and the caller
	// refreshes the digest the reference pins to Digest.
	FollowDigest bool
	Order        string // the order used: one of the Order* values
	Reason       string // one sentence on the outcome, e.g. why Tag won
	// Verdicts covers every tag considered, the current one included. Tags
	// the order placed come first, best first (ties by tag name); then the
	// others by outcome and tag name.
	Verdicts []Verdict
	// Err is set when the policy cannot decide honestly, e.g. tags with
	// neither a version nor a creation time; then Tag is Current and
	// Changed is false.
	Err error
}

// Error is a problem with one key of a rule.
type Error struct {
	Key     string // "pattern", "order", "extract", "exclude_tags[1]", "min_age"
	Value   string
	Problem string
}

func (e *Error) Error() string { return fmt.Sprintf("%s %q: %s", e.Key, e.Value, e.Problem) }

type patternKind int

const (
	kindGlob patternKind = iota
	kindRegex
	kindSemver
)

type order int

const (
	orderAuto order = iota // glob/regex without "order": semver if the current tag is a version, else creation time
	orderSemver
	orderNumeric
	orderAlphabetical
	orderCreated
	orderPushed
	orderDigest
)

func (o order) String() string {
	switch o {
	case orderNumeric:
		return OrderNumeric
	case orderAlphabetical:
		return OrderAlphabetical
	case orderCreated:
		return OrderNewestBuild
	case orderPushed:
		return OrderNewestPush
	case orderDigest:
		return OrderDigest
	}
	return OrderSemver
}

// Policy is a compiled [[update]] rule.
type Policy struct {
	pattern        string
	kind           patternKind
	glob           string
	re             *regexp.Regexp
	cons, consPre  *semver.Constraints // consPre also admits pre-releases
	order          order
	extract        int // regex group to order by; -1 for the whole tag
	extractSpec    string
	exclude        []string
	minAge         time.Duration
	allowDowngrade bool
}

// Compile validates a rule and prepares it for use. Errors are *Error and
// name the key: pattern, order, extract, exclude_tags[i] or min_age.
//
// Pattern forms: "glob:<glob>" (path.Match syntax; '*' matches any run of
// tag characters), "regex:<re>" (Go RE2, anchored: the whole tag must match
// whether or not the rule writes ^ and $), "semver:<range>" (Masterminds
// constraint syntax; tags may start with "v").
func Compile(u config.Update) (*Policy, error) {
	p := &Policy{
		pattern:        u.Pattern,
		extract:        -1,
		minAge:         u.MinAge,
		allowDowngrade: u.AllowDowngrade,
	}
	bad := func(key, value, format string, args ...any) error {
		return &Error{Key: key, Value: value, Problem: fmt.Sprintf(format, args...)}
	}

	kind, body, _ := strings.Cut(u.Pattern, ":")
	switch kind {
	case "glob":
		if body == "" {
			return nil, bad("pattern", u.Pattern, "empty glob; use glob:* to match every tag")
		}
		if _, err := path.Match(body, ""); err != nil {
			return nil, bad("pattern", u.Pattern, "%v", err)
		}
		p.kind, p.glob = kindGlob, body
	case "regex":
		if body == "" {
			return nil, bad("pattern", u.Pattern, "empty regular expression")
		}
		if _, err := syntax.Parse(body, syntax.Perl); err != nil {
			return nil, bad("pattern", u.Pattern, "%s", regexProblem(err))
		}
		re, err := regexp.Compile(`^(?:` + body + `)$`)
		if err != nil {
			return nil, bad("pattern", u.Pattern, "%s", regexProblem(err))
		}
		p.kind, p.re = kindRegex, re
	case "semver":
		if strings.TrimSpace(body) == "" {
			return nil, bad("pattern", u.Pattern, `empty range; write e.g. "semver:^1.2" or "semver:>=0"`)
		}
		c, err := semver.NewConstraint(body)
		if err != nil {
			return nil, bad("pattern", u.Pattern, "%v", err)
		}
		withPre := *c
		withPre.IncludePrerelease = true
		p.kind, p.cons, p.consPre = kindSemver, c, &withPre
	default:
		return nil, bad("pattern", u.Pattern, `must start with "glob:", "regex:" or "semver:"`)
	}

	switch u.Order {
	case "":
		p.order = orderAuto
		if p.kind == kindSemver {
			p.order = orderSemver
		}
	case OrderSemver:
		p.order = orderSemver
	case OrderNumeric, OrderAlphabetical:
		if p.kind == kindSemver {
			return nil, bad("order", u.Order, "a semver: pattern orders by version; use a regex: pattern (with extract) to order by %s", u.Order)
		}
		p.order = orderNumeric
		if u.Order == OrderAlphabetical {
			p.order = orderAlphabetical
		}
	case OrderNewestBuild:
		p.order = orderCreated
	case OrderNewestPush:
		p.order = orderPushed
	case OrderDigest:
		p.order = orderDigest
	default:
		return nil, bad("order", u.Order, "must be one of %s, %s, %s, %s, %s or %s",
			OrderSemver, OrderNumeric, OrderAlphabetical, OrderNewestBuild, OrderNewestPush, OrderDigest)
	}

	if u.Extract != "" {
		switch {
		case p.kind != kindRegex:
			return nil, bad("extract", u.Extract, "needs a regex: pattern to take a group from")
		case p.order == orderCreated || p.order == orderPushed || p.order == orderDigest:
			return nil, bad("extract", u.Extract, "order %q does not use it", u.Order)
		}
		g, err := group(p.re, u.Extract)
		if err != nil {
			return nil, bad("extract", u.Extract, "%v", err)
		}
		p.extract, p.extractSpec = g, u.Extract
	}

	p.exclude = DefaultExcludeTags()
	if len(u.ExcludeTags) > 0 {
		p.exclude = slices.Clone(u.ExcludeTags)
		for i, g := range p.exclude {
			key := "exclude_tags[" + strconv.Itoa(i) + "]"
			if g == "" {
				return nil, bad(key, g, "empty glob")
			}
			if _, err := path.Match(g, ""); err != nil {
				return nil, bad(key, g, "%v", err)
			}
		}
	}

	if u.MinAge < 0 {
		return nil, bad("min_age", u.MinAge.String(), "must not be negative")
	}
	return p, nil
}

// regexProblem renders a regexp error without the "error parsing regexp:"
// preamble: "missing closing ): `^(a`".
func regexProblem(err error) string {
	if se, ok := err.(*syntax.Error); ok {
		return fmt.Sprintf("%s: `%s`", se.Code, se.Expr)
	}
	return err.Error()
}

// group resolves "$1", "$name" or "${name}" to a group index of re.
func group(re *regexp.Regexp, spec string) (int, error) {
	name, ok := strings.CutPrefix(spec, "$")
	if !ok || name == "" {
		return 0, fmt.Errorf(`must name a group of the pattern, as "$1" or "$name"`)
	}
	if inner, ok := strings.CutPrefix(name, "{"); ok {
		if inner, ok = strings.CutSuffix(inner, "}"); !ok || inner == "" {
			return 0, fmt.Errorf(`must name a group of the pattern, as "$1" or "$name"`)
		}
		name = inner
	}
	if n, err := strconv.Atoi(name); err == nil && name[0] != '+' && name[0] != '-' {
		if n > re.NumSubexp() {
			return 0, fmt.Errorf("the pattern has %s", plural(re.NumSubexp(), "group"))
		}
		return n, nil
	}
	if i := re.SubexpIndex(name); i > 0 {
		return i, nil
	}
	return 0, fmt.Errorf("the pattern has no group named %q", name)
}

// checkTag returns why t is not a valid OCI tag
// ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}), or "" when it is.
func checkTag(t string) string {
	if t == "" {
		return "empty tag"
	}
	if len(t) > 128 {
		return fmt.Sprintf("%d bytes long; a tag has at most 128", len(t))
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case isLetter(c), isDigit(c), c == '_':
		case (c == '.' || c == '-') && i > 0:
		case c == '.' || c == '-':
			return fmt.Sprintf("starts with %q; a tag starts with a letter, a digit or \"_\"", rune(c))
		default:
			r, _ := utf8.DecodeRuneInString(t[i:])
			return fmt.Sprintf("contains %q; a tag holds only letters, digits, \"_\", \".\" and \"-\"", r)
		}
	}
	return ""
}

// value returns the part of tag the order looks at: the extract group, or
// the whole tag. ok is false when the group did not take part in the match.
func (p *Policy) value(tag string) (string, bool) {
	if p.extract < 0 {
		return tag, true
	}
	m := p.re.FindStringSubmatchIndex(tag)
	if m == nil || m[2*p.extract] < 0 {
		return "", false
	}
	return tag[m[2*p.extract]:m[2*p.extract+1]], true
}

// isPre reports whether tag reads as a pre-release version.
func (p *Policy) isPre(tag string) bool {
	val, ok := p.value(tag)
	if !ok {
		return false
	}
	v, ok := parseVersion(val)
	return ok && v.pre != nil
}

// Manages reports whether a reference whose current tag is current falls
// under this rule: the current tag is a valid tag and matches the pattern.
// For a semver: range a pre-release current tag matches when its version is
// in the range, even if the range names no pre-release.
func (p *Policy) Manages(current string) bool {
	if checkTag(current) != "" {
		return false
	}
	ok, _ := p.matches(current, true)
	return ok
}

// matches reports whether tag matches the pattern, and when not, why.
// includePre admits pre-releases into a semver range that names none.
func (p *Policy) matches(tag string, includePre bool) (bool, string) {
	switch p.kind {
	case kindGlob:
		if ok, _ := path.Match(p.glob, tag); ok {
			return true, ""
		}
	case kindRegex:
		if p.re.MatchString(tag) {
			return true, ""
		}
	case kindSemver:
		v, ok := parseVersion(tag)
		if !ok {
			return false, "not a version; pattern " + strconv.Quote(p.pattern)
		}
		sv, ok := v.semver()
		if !ok {
			return false, "not a semantic version (more than 3 numeric parts, or a part too large); pattern " + strconv.Quote(p.pattern)
		}
		if p.cons.Check(sv) || includePre && p.consPre.Check(sv) {
			return true, ""
		}
		if p.consPre.Check(sv) {
			return false, "a pre-release; neither the range nor the current tag is one"
		}
		return false, "outside the range of pattern " + strconv.Quote(p.pattern)
	}
	return false, "does not match pattern " + strconv.Quote(p.pattern)
}

// filter returns the outcome and reason of a rejected tag, or "" when tag is
// a candidate. curPre says the current tag is a pre-release.
func (p *Policy) filter(tag string, curPre bool) (Outcome, string) {
	if why := checkTag(tag); why != "" {
		return Invalid, "not a valid tag: " + why
	}
	if ok, why := p.matches(tag, curPre); !ok {
		return Filtered, why
	}
	for _, g := range p.exclude {
		if ok, _ := path.Match(g, tag); ok {
			return Excluded, "matches exclude_tags " + strconv.Quote(g)
		}
	}
	return "", ""
}

// Candidates filters raw registry tags: invalid OCI tags, tags that do not
// match the pattern and tags that match exclude_tags are rejected. Both
// results are sorted by tag and free of duplicates.
func (p *Policy) Candidates(current string, tags []string) (kept []string, rejected []Verdict) {
	curPre := p.isPre(current)
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	for _, t := range sorted {
		if o, why := p.filter(t, curPre); o != "" {
			rejected = append(rejected, Verdict{Tag: t, Outcome: o, Reason: why})
		} else {
			kept = append(kept, t)
		}
	}
	return kept, rejected
}

// Sieve filters one repository's tag list for a rule once for every
// current tag of a kind, however many references ask: the filter looks at
// the current tag only to know whether it is a pre-release. It is safe for
// concurrent use; the slices it returns are shared and must not be changed.
type Sieve struct {
	p    *Policy
	tags []string
	once [2]sync.Once
	kept [2][]string
	rej  [2][]Verdict
}

// Sieve returns a Sieve of tags for p.
func (p *Policy) Sieve(tags []string) *Sieve { return &Sieve{p: p, tags: tags} }

// Candidates is p.Candidates(current, tags).
func (s *Sieve) Candidates(current string) (kept []string, rejected []Verdict) {
	k := 0
	if s.p.isPre(current) {
		k = 1
	}
	s.once[k].Do(func() { s.kept[k], s.rej[k] = s.p.Candidates(current, s.tags) })
	return s.kept[k], s.rej[k]
}

// NeedsCreated reports whether Select needs the creation times of kept (and
// of the current tag) to choose, so that the caller fetches them only then:
// with min_age (but under newest-push, which measures it by push time),
// with order newest-build, and with the default order of a glob: or regex:
// pattern when the current tag is not a version.
func (p *Policy) NeedsCreated(current string, kept []string) bool {
	others := slices.ContainsFunc(kept, func(t string) bool { return t != current })
	if p.order == orderDigest {
		return p.minAge > 0 && slices.Contains(kept, current)
	}
	if !others || p.order == orderPushed {
		return false
	}
	switch {
	case p.minAge > 0, p.order == orderCreated:
		return true
	case p.order == orderAuto:
		return p.effectiveOrder(current) == orderCreated
	}
	return false
}

// NeedsPushed reports whether Select needs the push times of the tags
// (Tag.Pushed): under order newest-push, when there is a tag other than
// the current one to rank. The caller reads them from a listing that says
// them, and when the registry's listing cannot, explains with
// PushTimesError rather than letting every tag lose as unordered.
func (p *Policy) NeedsPushed(current string, kept []string) bool {
	return p.order == orderPushed && slices.ContainsFunc(kept, func(t string) bool { return t != current })
}

// PushTimesError is why a rule ordered by newest-push cannot rank an
// image's tags: its registry was listed through an API whose listing does
// not say when each tag was pushed.
type PushTimesError struct {
	Image string // the image, "host/path"
	API   string // the API the tags were listed through ("oci", ...)
	// FellBack names the API chosen by the registry's host name that
	// refused the listing, when the tag list took its place.
	FellBack string
}

func (e *PushTimesError) Error() string {
	how := fmt.Sprintf("through api = %q", e.API)
	if e.API == "oci" {
		how = `through the distribution API's tag list (api = "oci")`
	}
	if e.FellBack != "" {
		how += fmt.Sprintf(", since its own API (%q, chosen by the host's name) refused the listing", e.FellBack)
	}
	return fmt.Sprintf("order %q cannot rank the tags of %s: it ranks by when the registry received each tag, and %s is listed %s, which does not say it; "+
		"list it through an API that does (api = \"ecr\", \"dockerhub\", \"quay\", \"harbor\", ...) or use another order (\"newest-build\" ranks by build time)",
		OrderNewestPush, e.Image, e.Image, how)
}

// effectiveOrder resolves the default order of glob: and regex: patterns:
// by version when the current tag (its extracted value) is a version, else
// by creation time.
func (p *Policy) effectiveOrder(current string) order {
	if p.order != orderAuto {
		return p.order
	}
	if val, ok := p.value(current); ok {
		if _, ok := parseVersion(val); ok {
			return orderSemver
		}
	}
	return orderCreated
}
