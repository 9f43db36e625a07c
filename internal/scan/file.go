package scan

import (
	"bytes"
	"path"
	"slices"
	"strings"

	"github.com/git-laminar/git-laminar/internal/imageref"
)

// syntax is the family of a file, which decides its comment syntax and
// which recognisers run.
type syntax int

const (
	synOther syntax = iota // shell-like: '#' comments
	synYAML
	synJSON
	synJsonnet
	synHCL
	synEnv
	synDockerfile
	synMarkdown
	synMakefile
)

func syntaxOf(p string) syntax {
	base := path.Base(p)
	lower := strings.ToLower(base)
	switch {
	case dockerfileName(lower):
		return synDockerfile
	case lower == "makefile" || lower == "gnumakefile" || strings.HasPrefix(lower, "makefile.") ||
		strings.HasSuffix(lower, ".mk"):
		return synMakefile
	case lower == ".env" || strings.HasPrefix(lower, ".env.") || strings.HasSuffix(lower, ".env"):
		return synEnv
	}
	switch path.Ext(lower) {
	case ".yaml", ".yml":
		return synYAML
	case ".json", ".json5":
		return synJSON
	case ".jsonnet", ".libsonnet":
		return synJsonnet
	case ".tf", ".hcl", ".tfvars", ".nomad":
		return synHCL
	case ".md", ".markdown", ".mdx":
		return synMarkdown
	}
	return synOther
}

// proseFile reports whether a file other than Markdown is prose that may
// show commands: reStructuredText, AsciiDoc, plain text, HTML.
func proseFile(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".rst", ".adoc", ".asciidoc", ".txt", ".html", ".htm":
		return true
	}
	return false
}

// gitlabCI reports whether a YAML file is GitLab CI's: .gitlab-ci.yml,
// *.gitlab-ci.yml, or any under a .gitlab folder (where included CI
// files are kept).
func gitlabCI(p string) bool {
	lower := strings.ToLower(p)
	base := path.Base(lower)
	return base == ".gitlab-ci.yml" || base == ".gitlab-ci.yaml" || strings.HasSuffix(base, ".gitlab-ci.yml") ||
		strings.HasSuffix(base, ".gitlab-ci.yaml") || strings.HasPrefix(lower, ".gitlab/") || strings.Contains(lower, "/.gitlab/")
}

// dockerfileName reports whether a lowercased base name is a Dockerfile's:
// "dockerfile", "containerfile", with a suffix after '.', '-' or '_'
// ("dockerfile.prod", "dockerfile-base", "containerfile_dev"), or as the
// extension ("app.dockerfile", "dev.containerfile").
func dockerfileName(lower string) bool {
	for _, n := range []string{"dockerfile", "containerfile"} {
		if rest, ok := strings.CutPrefix(lower, n); ok {
			if rest == "" || rest[0] == '-' || rest[0] == '_' {
				return true
			}
			if rest[0] == '.' {
				// "dockerfile.go" is source about Dockerfiles.
				switch path.Ext(rest) {
				case ".go", ".py", ".js", ".ts", ".rs", ".java", ".rb", ".md", ".txt", ".json", ".yaml", ".yml", ".toml", ".html":
					return false
				}
				return true
			}
		}
		if strings.HasSuffix(lower, "."+n) {
			return true
		}
	}
	return false
}

// File finds every image reference in one file's content. path is
// slash-separated and relative to the repository root; its name decides the
// syntax (see the package documentation). File is pure and safe for
// concurrent use.
func File(path string, content []byte) []Match {
	syn := syntaxOf(path)
	t := scanTriggers(content, isScript(path, syn))
	if !t.any() && syn != synDockerfile && !(syn == synYAML && gitlabCI(path)) {
		return nil
	}
	s := &scanner{path: path, src: content, syn: syn, t: t}
	s.proseFile = proseFile(path)
	if syn == synYAML && gitlabCI(path) {
		// GitLab CI's services: are images, with or without an image key
		// elsewhere in the file.
		s.gitlab = true
		s.t.split = true
	}
	s.run()
	return s.finish()
}

type scanner struct {
	path    string
	src     []byte
	syn     syntax
	t       triggers
	matches []Match

	// per line
	line      int // 1-based
	lineStart int // offset of the line's first byte
	claimed   []Span

	// Dockerfile stage names seen so far, lowercased.
	stages []string
	// pastDirectives is set after a Dockerfile's parser directives.
	pastDirectives bool

	// YAML structure, for kustomize and Helm values.
	y yamlState

	inBlockComment bool // inside /* */ (jsonnet, HCL)
	runners        bool // the file mentions docker, podman or nerdctl
	inFence        bool // inside a fenced code block (Markdown)
	gitlab         bool // a GitLab CI file, whose services: are images
	proseFile      bool // reStructuredText, AsciiDoc, plain text: prose with commands in it

	// cont is the offset of the first line of a logical line continued
	// with a trailing backslash (Dockerfile, shell), or -1.
	cont int

	// list is set while inside a multi-line list under an images key
	// ("images": [ ... ]).
	list      bool
	listDepth int

	// dropped are positions (line, column) of values that look like image
	// references but are known not to be (a Ceph RBD image).
	dropped [][2]int
}

func (s *scanner) run() {
	src := s.src
	off := 0
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		off = 3
	}
	s.lineStart = 0
	s.line = 1
	if s.syn == synYAML {
		s.y.init()
	}
	s.runners = s.t.runners
	s.cont = -1
	for off <= len(src) {
		end := bytes.IndexByte(src[off:], '\n')
		next := 0
		if end < 0 {
			end = len(src)
			next = len(src) + 1
		} else {
			end += off
			next = end + 1
		}
		lineEnd := end
		if lineEnd > off && src[lineEnd-1] == '\r' {
			lineEnd--
		}
		s.scanLine(off, lineEnd)
		s.line++
		s.lineStart = next
		off = next
	}
	if s.syn == synYAML {
		s.yamlEnd()
		s.yamlFinish()
	}
}

// scanLine scans src[start:end], one line without its terminator.
func (s *scanner) scanLine(start, end int) {
	s.claimed = s.claimed[:0]
	l := s.src[start:end]
	if s.syn == synDockerfile {
		s.dockerPhysical(start, end)
		return
	}
	if s.syn == synMarkdown {
		t := trimBlanksLeft(l)
		if bytes.HasPrefix(t, []byte("```")) || bytes.HasPrefix(t, []byte("~~~")) {
			s.inFence = !s.inFence
			return
		}
	}
	if s.runners && (s.syn == synOther || s.syn == synMarkdown || s.syn == synMakefile) {
		defer s.shellContinued(start, end)
	}
	if s.inBlockComment {
		i := bytes.Index(l, []byte("*/"))
		if i < 0 {
			return
		}
		s.inBlockComment = false
		// Blank out what was comment by scanning only the rest; offsets
		// stay absolute.
		start += i + 2
		l = s.src[start:end]
	}
	codeLen, comment, hasComment := s.splitComment(l)
	code := l[:codeLen]
	if (s.syn == synJsonnet || s.syn == synHCL) && bytes.HasPrefix(trimBlanksLeft(code), []byte("/*")) {
		if !bytes.Contains(code, []byte("*/")) {
			s.inBlockComment = true
		}
		return
	}
	ignore := false
	var marker []byte
	if hasComment && s.t.marker {
		marker, ignore = parseMarker(comment)
	}
	if s.syn == synYAML && (s.t.image || s.t.split) {
		s.yamlLine(start, code)
	}
	if ignore {
		return
	}
	if len(code) > 0 && !allSpace(code) {
		s.scanCode(start, code)
	}
	if marker != nil {
		s.markerLine(start, code, string(marker))
	}
}

func allSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// scanCode runs the line recognisers over the code part of a line that
// starts at absolute offset start.
func (s *scanner) scanCode(start int, code []byte) {
	if s.list {
		s.listItems(start, code, 0)
	} else if s.t.image && bytes.IndexByte(code, '[') >= 0 {
		s.imageLists(start, code)
	}
	// Cheap pre-filter: every recogniser but "docker run" needs one of
	// ':', '@' or '='.
	if !hasSeparator(code) {
		if s.runners && hasRunner(code) {
			s.runnerRefs(start, code)
		}
		return
	}
	if s.t.image && lineHasImage(code) {
		s.imageKeys(start, code)
	}
	if (s.t.image || s.t.split) && bytes.IndexByte(code, '{') >= 0 && bytes.Contains(code, []byte("tag")) {
		s.flowLine(start, code)
	}
	if s.runners && hasRunner(code) {
		s.runnerRefs(start, code)
	}
	// An unambiguous inline reference has a '/' or a digest's '@'.
	if s.t.strong && hasStrongCandidate(code) {
		s.inlineTokens(start, code)
	}
}

// splitComment returns the length of the code part of l and the comment
// text after the comment introducer.
func (s *scanner) splitComment(l []byte) (int, []byte, bool) {
	if s.syn == synMarkdown && !s.inFence {
		return len(l), nil, false // prose: '#' is a heading, not a comment
	}
	hash := s.syn != synJSON
	slash := s.syn == synJSON || s.syn == synJsonnet || s.syn == synHCL
	if bytes.IndexByte(l, '#') < 0 && (!slash || bytes.IndexByte(l, '/') < 0) {
		return len(l), nil, false
	}
	var q byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		if q != 0 {
			if c == '\\' && q == '"' {
				i++
				continue
			}
			if c == q {
				q = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			if i == 0 || quoteOpener(l[i-1]) {
				q = c
			}
		case '#':
			if hash && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t') {
				return i, l[i+1:], true
			}
		case '/':
			if slash && i+1 < len(l) && l[i+1] == '/' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t' || l[i-1] == ',' || l[i-1] == ';') {
				return i, l[i+2:], true
			}
		}
	}
	return len(l), nil, false
}

func quoteOpener(c byte) bool {
	switch c {
	case ' ', '\t', '[', '{', ',', ':', '=', '(':
		return true
	}
	return false
}

// parseMarker reads a "laminar:" comment. It returns the image name of a
// marker, or ignore for "laminar:ignore".
func parseMarker(comment []byte) (name []byte, ignore bool) {
	c := bytes.TrimLeft(comment, " \t#/")
	rest, ok := bytes.CutPrefix(c, []byte("laminar:"))
	if !ok {
		return nil, false
	}
	rest = bytes.TrimLeft(rest, " \t")
	word := rest
	if i := bytes.IndexAny(rest, " \t"); i >= 0 {
		word = rest[:i]
	}
	if string(word) == "ignore" {
		return nil, true
	}
	if len(word) == 0 {
		return nil, false
	}
	return word, false
}

// overlaps reports whether [a, b) overlaps a reference already reported on
// this line; later recognisers never report the same bytes twice.
func (s *scanner) overlaps(a, b int) bool {
	for _, c := range s.claimed {
		if a < c.End && c.Start < b {
			return true
		}
	}
	return false
}

// addInline reports the reference spelled at src[at:at+len(r.Original)].
func (s *scanner) addInline(at int, r imageref.Ref) {
	if r.Tag == "" && r.Digest == "" && fileLike(r.Name) {
		return
	}
	end := at + len(r.Original)
	if s.overlaps(at, end) {
		return
	}
	s.claimed = append(s.claimed, Span{at, end})
	line, ls := s.lineOf(at)
	s.matches = append(s.matches, inlineMatch(s.path, line, at-ls+1, at, r))
}

// fileLike reports whether an untagged name is a file's: a picture under
// an image key ("image: images/cover.png" in a page's front matter) or a
// disk image ("image: ubuntu-22.04-server-cloudimg-amd64.img").
func fileLike(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || strings.IndexByte(name[i:], '/') >= 0 {
		return false
	}
	switch strings.ToLower(name[i+1:]) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif",
		"img", "iso", "qcow2", "raw", "vmdk", "vhd", "vhdx", "ova", "ovf", "tar", "gz", "tgz", "xz", "zst", "zip", "bin",
		"yaml", "yml", "json", "txt", "md", "html", "sh":
		return true
	}
	return false
}

// lineOf returns the line and line start of an absolute offset at or
// before the current line (a logical line continued over several physical
// lines reports each reference on its own line).
func (s *scanner) lineOf(at int) (line, lineStart int) {
	if at >= s.lineStart {
		return s.line, s.lineStart
	}
	line, lineStart = s.line, s.lineStart
	for lineStart > at {
		i := bytes.LastIndexByte(s.src[:lineStart-1], '\n')
		line--
		lineStart = i + 1
	}
	return line, lineStart
}

// continued reports whether a line ends in a backslash that continues it
// on the next line (trailing blanks and a CR allowed).
func continued(l []byte) bool {
	l = trimBlanksCRRight(l)
	return len(l) > 0 && l[len(l)-1] == '\\'
}

// joinLogical copies the logical line src[from:to], made of physical lines
// continued with a trailing backslash, with the backslashes, line breaks
// and (when dropComments) whole '#' comment lines blanked, so that
// offsets into the copy are offsets into src.
func joinLogical(src []byte, from, to int, dropComments bool) []byte {
	b := slices.Clone(src[from:to])
	ls := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != '\n' {
			continue
		}
		line := b[ls:i]
		if dropComments && ls > 0 {
			if t := trimBlanksLeft(line); len(t) > 0 && t[0] == '#' {
				for k := range line {
					line[k] = ' '
				}
			}
		}
		t := trimBlanksCRRight(line)
		if len(t) > 0 && t[len(t)-1] == '\\' {
			t[len(t)-1] = ' '
		}
		for k := len(t); k < len(line); k++ {
			line[k] = ' '
		}
		if i < len(b) {
			b[i] = ' '
		}
		ls = i + 1
	}
	return b
}

// shellContinued follows shell commands continued over several lines with
// a trailing backslash, so that "docker run \ --rm \ image" is read as one
// command.
func (s *scanner) shellContinued(start, end int) {
	l := s.src[start:end]
	more := continued(l) && end < len(s.src)
	if s.cont < 0 {
		if more {
			s.cont = start
		}
		return
	}
	if more {
		return
	}
	from := s.cont
	s.cont = -1
	logical := joinLogical(s.src, from, end, true)
	if hasRunner(logical) {
		s.runnerRefs(from, logical)
	}
}

// inlineMatch is the match of r spelled at absolute offset at.
func inlineMatch(path string, line, col, at int, r imageref.Ref) Match {
	m := Match{Path: path, Line: line, Column: col, Ref: r, Kind: Inline, Tag: none, Digest: none}
	if r.Tag != "" {
		ts := at + len(r.Name) + 1
		m.Tag = Span{ts, ts + len(r.Tag)}
	}
	if r.Digest != "" {
		end := at + len(r.Original)
		m.Digest = Span{end - len(r.Digest), end}
	}
	return m
}

// finish sorts the matches and drops duplicates: matches that start at
// the same place or rewrite the same tag or digest bytes are one
// reference, reported once in its most specific form (a marker, then a
// split form, then inline).
func (s *scanner) finish() []Match {
	ms := s.matches
	if len(s.dropped) > 0 {
		ms = slices.DeleteFunc(ms, func(m Match) bool {
			return m.Kind == Inline && slices.Contains(s.dropped, [2]int{m.Line, m.Column})
		})
	}
	if len(ms) == 0 {
		return nil
	}
	if len(ms) == 1 {
		return ms
	}
	sortByPosition(ms)
	type key struct{ kind, a, b int }
	seen := make(map[key]int, len(ms))
	out := ms[:0]
	var buf [3]key
	for _, m := range ms {
		keys := append(buf[:0], key{0, m.Line, m.Column})
		if m.Tag.Start >= 0 {
			keys = append(keys, key{1, m.Tag.Start, 0})
		}
		if m.Digest.Start >= 0 {
			keys = append(keys, key{2, m.Digest.Start, 0})
		}
		dup := -1
		for _, k := range keys {
			if i, ok := seen[k]; ok {
				dup = i
				break
			}
		}
		if dup < 0 {
			for _, k := range keys {
				seen[k] = len(out)
			}
			out = append(out, m)
			continue
		}
		if priority(m.Kind) > priority(out[dup].Kind) {
			out[dup] = m
			for _, k := range keys {
				seen[k] = dup
			}
		}
	}
	sortByPosition(out)
	return out
}

func priority(k Kind) int {
	switch k {
	case Marker:
		return 3
	case Kustomize, HelmValues:
		return 2
	}
	return 1
}

// sortByPosition sorts the matches of one file.
func sortByPosition(ms []Match) {
	cmp := func(a, b Match) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	}
	if !slices.IsSortedFunc(ms, cmp) {
		slices.SortStableFunc(ms, cmp)
	}
}

func sortMatches(ms []Match) {
	slices.SortStableFunc(ms, func(a, b Match) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}
