// Package initconfig proposes a starting laminar.toml from the image
// references a scan found: one [[registry]] per private registry prefix and
// one [[update]] rule per track the current tags follow (a major version, a
// branch's builds). It reads nothing and writes nothing; the caller scans
// and writes.
package initconfig

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// Options change what is proposed.
type Options struct {
	// AllRegistries proposes a [[registry]] for public images too:
	// Docker Hub's official images and the public-only registries.
	AllRegistries bool
}

// MaxListed is how many references a comment names before "and N more".
const MaxListed = 5

// publicPrefixes are registries (or parts of them) that serve only public
// images anyone can pull: nobody deploys their own builds there, so they
// are not proposed. Registries that host both public and private
// repositories (Docker Hub outside its official images, ghcr.io, quay.io,
// gcr.io, ECR, ...) are proposed, per namespace.
var publicPrefixes = []string{
	"docker.io/library",
	"registry.k8s.io",
	"k8s.gcr.io",
	"mcr.microsoft.com",
	"public.ecr.aws",
	"docker.elastic.co",
	"gcr.io/distroless",
	"gcr.io/google-containers",
}

// sharedHosts are registries where the first path element is an owner
// (user, organisation, project): a prefix never stops above it, so that
// acme's [[registry]] does not manage everyone else's images there.
var sharedHosts = []string{
	imageref.DockerHub, "ghcr.io", "quay.io", "gcr.io", "registry.gitlab.com", "nvcr.io",
}

// Public reports whether r is an image of a public-only registry (see
// publicPrefixes), which init leaves out unless asked.
func Public(r imageref.Ref) bool {
	for _, p := range publicPrefixes {
		if imageref.UnderPrefix(r, p) {
			return true
		}
	}
	return false
}

func sharedHost(host string) bool {
	if strings.HasSuffix(strings.ToLower(host), ".pkg.dev") || strings.HasSuffix(strings.ToLower(host), ".gcr.io") {
		return true
	}
	return slices.ContainsFunc(sharedHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// Track kinds.
const (
	kindNumber = iota // a build number: 42
	kindSemver        // a version: 1.4.2, v2.0, 1.25.3-alpine, 0.3.1
	kindBranch        // a branch's builds: develop-3f2a9c1
)

// track is one proposed [[update]] rule.
type track struct {
	kind    int
	sortKey string // orders rules within a kind
	name    string
	pattern string
	order   string
	why     string // a comment saying what the rule follows
	refs    []scan.Match
	files   []string
	// suffixed: a current tag has a suffix ("-alpine"), which a version
	// range reads past and the policy keeps.
	suffixed bool
}

// leftOut is a reference with no rule, and why.
type leftOut struct {
	m   scan.Match
	why string
}

var (
	// branchBuild is "<branch>-<commit>": a branch name that starts with a
	// letter, and an abbreviated or full commit hash (64 digits from a
	// SHA-256 repository).
	branchBuild = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9._-]*)-([0-9a-f]{7,64})$`)
	// versionTag is an optional "v", up to three numeric parts and the
	// rest (a pre-release, a suffix such as "-alpine").
	versionTag = regexp.MustCompile(`^(v?)([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?([-_.+].*)?$`)
	numberTag  = regexp.MustCompile(`^[0-9]+$`)
)

// classify returns the track a tag follows: its kind, pattern, order, rule
// name and a note; ok is false when no track is recognised. The pattern
// is one that policy reads as managing the tag: a proposal never leaves
// out the reference it was made for.
func classify(tag string) (t track, ok bool) {
	t, ok = guess(tag)
	if !ok {
		return t, false
	}
	p, err := policy.Compile(config.Update{Pattern: t.pattern, Order: t.order})
	if err != nil || !p.Manages(tag) {
		return track{}, false
	}
	return t, true
}

func guess(tag string) (t track, ok bool) {
	if m := branchBuild.FindStringSubmatch(tag); m != nil && !versionTag.MatchString(m[1]) {
		branch := m[1]
		return track{kind: kindBranch, sortKey: branch, name: branch, pattern: "glob:" + branch + "-*", order: policy.OrderNewestBuild,
			why: "builds of the branch " + branch + " (<branch>-<commit>), newest image first"}, true
	}
	if numberTag.MatchString(tag) && !dateLike(tag) {
		return track{kind: kindNumber, sortKey: "", name: "build-number", pattern: "regex:^[0-9]+$", order: policy.OrderNumeric,
			why: "build numbers, highest first"}, true
	}
	m := versionTag.FindStringSubmatch(tag)
	if m == nil {
		return track{}, false
	}
	major, err := strconv.ParseUint(m[2], 10, 64)
	if err != nil {
		return track{}, false
	}
	switch {
	case dateLike(m[2]):
		// A date-based version (2024.05.1, 20240115): the year moves on,
		// so a caret range would stop at the turn of the year.
		return track{kind: kindSemver, sortKey: fmt.Sprintf("2%020d", major), name: "calver", pattern: "semver:>=" + m[2], order: "",
			why: "date-based versions from " + m[2] + " on"}, true
	case major == 0:
		minor := m[3]
		if minor == "" {
			minor = "0"
		}
		n, err := strconv.ParseUint(minor, 10, 64)
		if err != nil {
			return track{}, false
		}
		// Before 1.0 a minor release may break compatibility, as a
		// major one does after it: only patches of this minor line.
		return track{kind: kindSemver, sortKey: fmt.Sprintf("0%020d", n), name: "v0." + minor, pattern: "semver:~0." + minor, order: "",
			why: "patch releases of 0." + minor + " (before 1.0 a minor release may break)"}, true
	default:
		return track{kind: kindSemver, sortKey: fmt.Sprintf("1%020d", major), name: "v" + m[2], pattern: "semver:^" + m[2], order: "",
			why: "releases of major version " + m[2]}, true
	}
}

// dateLike reports whether a number reads as a year or a date (2024,
// 202405, 20240115), as policy's CalVer check does.
func dateLike(n string) bool {
	if len(n) != 4 && len(n) != 6 && len(n) != 8 {
		return false
	}
	y, err := strconv.Atoi(n[:4])
	return err == nil && y >= 1900 && y <= 2999
}

// registryGroup is one proposed [[registry]].
type registryGroup struct {
	key    string // host, or host/owner on a shared host
	host   string // as written in prefixes: docker.io for Docker Hub
	dirs   [][]string
	public bool
	refs   int
}

func (g *registryGroup) prefix() string {
	common := slices.Clone(g.dirs[0])
	for _, d := range g.dirs[1:] {
		n := 0
		for n < len(common) && n < len(d) && common[n] == d[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) == 0 {
		return g.host
	}
	return g.host + "/" + strings.Join(common, "/")
}

// Propose returns the text of a laminar.toml for the references ms (as a
// scan of every tracked file finds them, in any order). The same
// references give the same text.
func Propose(ms []scan.Match, opt Options) []byte {
	ms = slices.Clone(ms)
	slices.SortStableFunc(ms, func(a, b scan.Match) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})

	groups := map[string]*registryGroup{}
	var skippedPublic []scan.Match
	var managed []scan.Match
	for _, m := range ms {
		r := m.Ref
		if r.Registry == "" || r.Repository == "" {
			continue
		}
		public := Public(r)
		if public && !opt.AllRegistries {
			skippedPublic = append(skippedPublic, m)
			continue
		}
		host := r.Registry
		if host == imageref.DockerHub {
			host = imageref.DockerHubAlias
		}
		parts := strings.Split(r.Repository, "/")
		dir := parts[:len(parts)-1]
		key := strings.ToLower(r.Registry)
		if sharedHost(r.Registry) && len(dir) > 0 {
			key += "/" + dir[0]
		}
		g := groups[key]
		if g == nil {
			g = &registryGroup{key: key, host: host}
			groups[key] = g
		}
		g.dirs = append(g.dirs, dir)
		g.public = g.public || public
		g.refs++
		managed = append(managed, m)
	}

	tracks := map[string]*track{}
	var left []leftOut
	for _, m := range managed {
		tag := m.Ref.Tag
		switch {
		case tag == "" && m.Ref.Digest != "":
			left = append(left, leftOut{m, "pinned by digest only: there is no tag to follow"})
			continue
		case tag == "":
			left = append(left, leftOut{m, "no tag (Docker reads it as latest): write a tag to have it managed"})
			continue
		case tag == "latest":
			left = append(left, leftOut{m, "latest names no version to move from; pin a version or a build to have it managed"})
			continue
		}
		t, ok := classify(tag)
		if !ok {
			left = append(left, leftOut{m, "a tag that follows no track init recognises; write a rule by hand"})
			continue
		}
		if prev := tracks[t.pattern]; prev != nil {
			t = *prev
		}
		t.refs = append(t.refs, m)
		if sm := versionTag.FindStringSubmatch(tag); t.kind == kindSemver && sm != nil && sm[5] != "" {
			t.suffixed = true
		}
		if !slices.Contains(t.files, m.Path) {
			t.files = append(t.files, m.Path)
		}
		tc := t
		tracks[t.pattern] = &tc
	}

	rules := make([]*track, 0, len(tracks))
	for _, t := range tracks {
		slices.Sort(t.files)
		rules = append(rules, t)
	}
	slices.SortFunc(rules, func(a, b *track) int {
		if a.kind != b.kind {
			return a.kind - b.kind
		}
		if a.kind == kindBranch && len(a.sortKey) != len(b.sortKey) {
			// A longer branch first: glob:feature-* would also match
			// the builds of feature-x.
			return len(b.sortKey) - len(a.sortKey)
		}
		return strings.Compare(a.sortKey, b.sortKey)
	})
	names := map[string]int{}
	for _, t := range rules {
		names[t.name]++
		if n := names[t.name]; n > 1 {
			t.name += "-" + strconv.Itoa(n)
		}
	}

	var b strings.Builder
	b.WriteString(header)
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		b.WriteString("# No image of a private registry was found; declare one like this:\n# [[registry]]\n# prefix = \"registry.example.com/acme\"\n")
	}
	for _, k := range keys {
		g := groups[k]
		fmt.Fprintf(&b, "\n# %s under this prefix.\n", upper(plural(g.refs, "reference")))
		if g.public {
			b.WriteString("# Public images (--all-registries): their tags are someone else's releases.\n")
		}
		b.WriteString("[[registry]]\n")
		fmt.Fprintf(&b, "prefix = %s\n", Quote(g.prefix()))
	}

	if len(rules) > 0 {
		b.WriteString(rulesHeader)
	}
	for _, t := range rules {
		fmt.Fprintf(&b, "\n# %s.\n", upper(t.why))
		if t.suffixed {
			b.WriteString("# A tag with a suffix (1.25.3-alpine) moves only to tags with the same suffix.\n")
		}
		b.WriteString("# It manages:\n")
		writeRefs(&b, "   ", t.refs)
		b.WriteString("[[update]]\n")
		fmt.Fprintf(&b, "name = %s\n", Quote(t.name))
		fmt.Fprintf(&b, "pattern = %s\n", Quote(t.pattern))
		if t.order != "" {
			fmt.Fprintf(&b, "order = %s\n", Quote(t.order))
		}
		if images, ok := t.images(); ok {
			writeList(&b, "images", images)
		} else {
			files := make([]string, len(t.files))
			for i, f := range t.files {
				files[i] = EscapeGlob(f)
			}
			writeList(&b, "files", files)
		}
	}

	if len(left) > 0 {
		b.WriteString("\n# Left out, with no rule:\n")
		byWhy := map[string][]scan.Match{}
		var whys []string
		for _, l := range left {
			if byWhy[l.why] == nil {
				whys = append(whys, l.why)
			}
			byWhy[l.why] = append(byWhy[l.why], l.m)
		}
		slices.Sort(whys)
		for _, w := range whys {
			fmt.Fprintf(&b, "# - %s:\n", w)
			writeRefs(&b, "     ", byWhy[w])
		}
	}
	if len(skippedPublic) > 0 {
		fmt.Fprintf(&b, "\n# %s to public images (Docker Hub's official images, registry.k8s.io, ...)\n"+
			"# are left out; git laminar init --all-registries proposes them too.\n", plural(len(skippedPublic), "reference"))
	}
	return []byte(b.String())
}

const header = `# laminar.toml: which images git laminar manages here, and how it chooses
# their tags. Proposed by git laminar init from the references in tracked
# files; review it, then run git laminar status. See laminar.toml.example
# and git help laminar for every key.
#
# Registries: images under a prefix are managed, every other one is left
# alone. Credentials never go here: docker login, or the user-level file
# ~/.config/git-laminar/config.toml.
`

const rulesHeader = `
# Rules: a reference is managed by the first rule whose images (or files)
# take it and whose pattern matches its current tag.
`

// images returns the names the rule's images key lists: each image of its
// references, as the normalised name ("docker.io/acme/app"), so that the
// rule manages these images wherever they are written, and no other. ok is
// false when a name is not one an images entry may hold (uppercase in a
// registry's host): the rule is then scoped by its files.
func (t *track) images() (names []string, ok bool) {
	for _, m := range t.refs {
		n := m.Ref.Image()
		for _, c := range n {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/:", c)) {
				return nil, false
			}
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, true
}

func writeList(b *strings.Builder, key string, list []string) {
	b.WriteString(key + " = [")
	for i, v := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Quote(v))
	}
	b.WriteString("]\n")
}

// writeRefs writes comment lines naming at most MaxListed references.
func writeRefs(b *strings.Builder, lead string, ms []scan.Match) {
	for i, m := range ms {
		if i == MaxListed {
			fmt.Fprintf(b, "#%s... and %d more\n", lead, len(ms)-MaxListed)
			break
		}
		fmt.Fprintf(b, "#%s%s:%d: %s\n", lead, commentText(m.Path), m.Line, commentText(spelling(m.Ref)))
	}
}

func spelling(r imageref.Ref) string {
	s := r.Image()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// commentText is s as it may stand in a comment: as is when it holds only
// characters a file or image name usually has, else quoted, so that no
// line break or control character ends the comment.
func commentText(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/:@+", c)) {
			return Quote(s)
		}
	}
	return s
}

// Quote returns s as a TOML basic string: backslash, quote, control
// characters and DEL escaped, every other character as is.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 || c == 0xfffd:
			fmt.Fprintf(&b, `\u%04X`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// EscapeGlob returns a repository path as a files entry that covers
// exactly that path: glob characters stand for themselves ([*], [?], [[]),
// and what a files entry would read otherwise is kept in a class of one: a
// space at either end (entries are trimmed), a ':' after a first letter
// (read as a Windows drive). A backslash, which entries refuse, becomes '?'
// (any one character).
func EscapeGlob(p string) string {
	var b strings.Builder
	for i, c := range p {
		switch {
		case c == '*' || c == '?' || c == '[':
			b.WriteString("[" + string(c) + "]")
		case c == '\\':
			b.WriteByte('?')
		case c == ':' && i == 1:
			b.WriteString("[:]")
		case unicode.IsSpace(c) && (i == 0 || i+utf8.RuneLen(c) == len(p)):
			b.WriteString("[" + string(c) + "]")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func upper(s string) string {
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// Check parses a proposed configuration as laminar.toml would be read and
// compiles its rules: a proposal that would not load is a bug here.
func Check(text []byte) error {
	cfg, err := config.Parse(config.FileName, text)
	if err != nil {
		return err
	}
	for _, u := range cfg.Updates {
		if _, err := policy.Compile(u); err != nil {
			return fmt.Errorf("update %q: %w", u.Name, err)
		}
	}
	return nil
}
