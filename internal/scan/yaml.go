package scan

import (
	"bytes"
	"path"
	"strings"

	"github.com/git-laminar/git-laminar/internal/imageref"
)

// The YAML structure tracker knows just enough block YAML to see which keys
// are siblings in one mapping and what the parent key of that mapping is.
// That is all the split forms need: a kustomize images: entry and a Helm
// values image mapping are mappings of scalars.

// entry is one "key: value" of a block or flow mapping.
type entry struct {
	key    string
	line   int // line of the value
	vcol   int // 1-based column of the value
	vs, ve int // absolute span of the scalar value (unquoted); vs<0 if none
}

// internKey returns the keys the split forms look at as constant strings,
// any key naming an image as "image", and "" for every other key, so that
// the structure tracker allocates nothing for the keys it does not need.
func internKey(b []byte) string {
	switch string(b) {
	case "name":
		return "name"
	case "newName":
		return "newName"
	case "newTag":
		return "newTag"
	case "digest":
		return "digest"
	case "repository":
		return "repository"
	case "repo":
		return "repo"
	case "registry":
		return "registry"
	case "tag":
		return "tag"
	case "image":
		return "image"
	case "value":
		return "value"
	case "images":
		return "images"
	case "steps":
		return "steps"
	case "services":
		return "services"
	case "rbd":
		return "rbd"
	case "pool":
		return "pool"
	case "monitors":
		return "monitors"
	case "template":
		return "template"
	case "templateRef":
		return "templateRef"
	case "uses":
		return "uses"
	case "run":
		return "run"
	case "with":
		return "with"
	case "inline":
		return "inline"
	case "arguments":
		return "arguments"
	case "when":
		return "when"
	case "ref":
		return "ref"
	case "args":
		return "args"
	case "entrypoint":
		return "entrypoint"
	case "id":
		return "id"
	case "secretEnv":
		return "secretEnv"
	case "waitFor":
		return "waitFor"
	case "dir":
		return "dir"
	case "script":
		return "script"
	case "env":
		return "env"
	case "timeout":
		return "timeout"
	case "volumes":
		return "volumes"
	case "allowFailure":
		return "allowFailure"
	}
	if imageKey(b) {
		return "image"
	}
	if imageListKey(b) {
		return "images"
	}
	return ""
}

// newGroup returns a group from the scanner's slab, with room for a few
// entries from its entry slab: a file's mappings cost a few allocations,
// not several each.
func (s *scanner) newGroup(parent string) *group {
	y := &s.y
	if len(y.slab) == cap(y.slab) {
		y.slab = make([]group, 0, 16)
	}
	y.slab = append(y.slab, group{parent: parent})
	g := &y.slab[len(y.slab)-1]
	if len(y.entries)+4 > cap(y.entries) {
		y.entries = make([]entry, 0, 64)
	}
	n := len(y.entries)
	y.entries = y.entries[:n+4]
	g.entries = y.entries[n : n : n+4]
	return g
}

// group is one mapping: its parent key and its scalar entries.
type group struct {
	parent  string
	entries []entry
}

func (g *group) get(k string) (entry, bool) {
	for _, e := range g.entries {
		if e.key == k {
			return e, true
		}
	}
	return entry{}, false
}

type frame struct {
	col     int    // column of the keys of this mapping
	g       *group // nil until the mapping has an entry worth keeping
	parent  string // interned key of the parent mapping's entry
	lastKey string // interned
	open    bool   // lastKey has no value on its line (a collection follows)
}

type yamlState struct {
	stack  []frame
	groups []*group
	// blockCol is the key column of a block scalar ("key: |") whose
	// content lines are being skipped; -1 when not in one.
	blockCol int
	// pend is an image key whose value starts on a later line.
	pend pending

	slab    []group // where groups are allocated from
	entries []entry // where groups' first entries are allocated from
}

// pending is the value of an image key that starts on the line after the
// key: a plain or quoted scalar ("image:" / "  nginx:1.25") or a block
// scalar ("image: >-" / "  nginx:1.25"). It is a reference only when it
// is one line long.
type pending struct {
	active bool
	keyCol int
	lines  int // content lines seen
	line   int // line of the first content line
	vs, ve int // absolute span of the first content line's scalar; vs<0 if none
}

func (y *yamlState) init() { y.blockCol = -1 }

// yamlLine feeds one line (its code part, comments removed) to the
// structure tracker.
func (s *scanner) yamlLine(start int, code []byte) {
	y := &s.y
	p := 0
	for p < len(code) && code[p] == ' ' {
		p++
	}
	if p == len(code) || code[p] == '\t' {
		return // blank line (or tab-indented, which block YAML forbids)
	}
	if y.pend.active {
		if p > y.pend.keyCol && s.pendingLine(start, code, p) {
			return
		}
		s.yamlEnd()
	}
	if y.blockCol >= 0 {
		if p > y.blockCol {
			return
		}
		y.blockCol = -1
	}
	if p == 0 && (bytes.HasPrefix(code, []byte("---")) || bytes.HasPrefix(code, []byte("..."))) {
		y.stack = y.stack[:0]
		return
	}
	indent := p
	item := false
	for p+1 < len(code) && code[p] == '-' && (code[p+1] == ' ' || code[p+1] == '\t') {
		item = true
		p += 2
		for p < len(code) && (code[p] == ' ' || code[p] == '\t') {
			p++
		}
	}
	if item && p == len(code) {
		return
	}
	if item && code[p] == '-' && p+1 == len(code) {
		return
	}
	if item {
		s.yamlListItem(start, indent, code, p)
	}
	col := p
	// The key: quoted, or plain up to ": " or a final ':'.
	var key string
	var q int
	if code[p] == '"' || code[p] == '\'' {
		i := bytes.IndexByte(code[p+1:], code[p])
		if i < 0 {
			return
		}
		key = internKey(code[p+1 : p+1+i])
		q = p + 2 + i
		for q < len(code) && code[q] == ' ' {
			q++
		}
		if q >= len(code) || code[q] != ':' {
			s.yamlItemFlow(start, indent, item, code, p)
			return
		}
	} else {
		q = p
		for q < len(code) {
			if code[q] == ':' && (q+1 == len(code) || code[q+1] == ' ' || code[q+1] == '\t') {
				break
			}
			if code[q] == '{' || code[q] == '[' || code[q] == '"' || code[q] == '\'' {
				if q == p {
					s.yamlItemFlow(start, indent, item, code, p)
				}
				return
			}
			q++
		}
		if q >= len(code) {
			return // a scalar list item or a continuation line
		}
		key = internKey(trimBlanksRight(code[p:q]))
	}
	q++ // the ':'
	for q < len(code) && (code[q] == ' ' || code[q] == '\t') {
		q++
	}
	f := s.yamlPlace(col, item, key)
	e := entry{key: key, line: s.line, vs: -1, ve: -1}
	q = skipProps(code, q)
	f.open = q >= len(code)
	if f.open && key == "image" {
		y.pend = pending{active: true, keyCol: col, vs: -1}
	}
	if q < len(code) {
		switch code[q] {
		case '|', '>':
			y.blockCol = col
			if key == "image" {
				y.pend = pending{active: true, keyCol: col, vs: -1}
			}
		case '{':
			s.yamlFlow(start, key, code, q)
		case '*':
			// an alias: not a scalar we manage
		default:
			if vs, ve, ok := scalarAt(code, q); ok {
				e.vs, e.ve = start+vs, start+ve
			} else if vs, ve := yamlPlain(code, q); vs < ve {
				e.vs, e.ve = start+vs, start+ve
			}
			e.vcol = e.vs - s.lineStart + 1
		}
	}
	if key == "" {
		return
	}
	if f.g == nil {
		f.g = s.newGroup(f.parent)
		y.groups = append(y.groups, f.g)
	}
	f.g.entries = append(f.g.entries, e)
}

// skipProps skips the YAML node properties (an anchor "&name", a tag
// "!tag" or "!!str") and the blanks after them at code[q].
func skipProps(code []byte, q int) int {
	for q < len(code) && (code[q] == '&' || code[q] == '!') {
		r := q
		for r < len(code) && code[r] != ' ' && code[r] != '\t' {
			r++
		}
		if r == len(code) && code[q] == '!' && r-q == 1 {
			return q
		}
		for r < len(code) && (code[r] == ' ' || code[r] == '\t') {
			r++
		}
		q = r
	}
	return q
}

// pendingLine feeds a line indented under an image key whose value starts
// on a later line. It reports false when the line is not part of a scalar
// value (a mapping key or a list item: the image key holds a collection).
func (s *scanner) pendingLine(start int, code []byte, p int) bool {
	pd := &s.y.pend
	pd.lines++
	if pd.lines > 1 {
		return true // a scalar of several lines: not a reference
	}
	rest := trimBlanksRight(code[p:])
	if s.y.blockCol < 0 {
		// A plain or quoted scalar: not "key: value", not "- item", not a
		// flow collection.
		if rest[0] == '-' && (len(rest) == 1 || rest[1] == ' ') || rest[0] == '{' || rest[0] == '[' ||
			rest[0] == '&' || rest[0] == '*' || rest[0] == '!' || rest[0] == '|' || rest[0] == '>' {
			pd.active = false
			return false
		}
		if rest[0] != '"' && rest[0] != '\'' && bytes.Contains(rest, []byte(": ")) || bytes.HasSuffix(rest, []byte(":")) {
			pd.active = false
			return false
		}
		if vs, ve, ok := scalarAt(code, p); ok {
			pd.vs, pd.ve = start+vs, start+ve
		}
	} else {
		pd.vs, pd.ve = start+p, start+p+len(rest)
	}
	pd.line = s.line
	return true
}

// yamlEnd reports the pending value of an image key when it was a scalar
// of one line.
func (s *scanner) yamlEnd() {
	pd := s.y.pend
	s.y.pend = pending{}
	if !pd.active || pd.lines != 1 || pd.vs < 0 || pd.vs == pd.ve {
		return
	}
	v := string(s.src[pd.vs:pd.ve])
	if nullish(v) {
		return
	}
	if r, ok := imageref.TryParse(v); ok {
		ls := bytes.LastIndexByte(s.src[:pd.vs], '\n') + 1
		s.matches = append(s.matches, inlineMatch(s.path, pd.line, pd.vs-ls+1, pd.vs, r))
	}
}

// yamlListItem reports a scalar item of a block sequence under a key that
// names a list of images ("images:" / "- nginx:1.25"), even untagged.
func (s *scanner) yamlListItem(start, indent int, code []byte, p int) {
	st := s.y.stack
	n := len(st) - 1
	for n >= 0 && st[n].col > indent {
		n--
	}
	if n < 0 || !(st[n].lastKey == "images" || st[n].lastKey == "services" && s.gitlab) || !st[n].open {
		return
	}
	vs, ve, ok := scalarAt(code, p)
	if !ok || vs == ve {
		return
	}
	s.listItem(start, code[vs:ve], start+vs)
}

// listItem reports one item of a list of images at absolute offset at.
func (s *scanner) listItem(start int, v []byte, at int) {
	if len(v) == 0 || nullish(string(v)) || bytes.IndexFunc(v, func(r rune) bool { return r >= 'a' && r <= 'z' }) < 0 {
		return
	}
	if r, ok := imageref.TryParse(string(v)); ok {
		s.addInline(at, r)
	}
}

// yamlPlain reads a block plain scalar that runs to the end of the code.
func yamlPlain(code []byte, q int) (int, int) {
	e := len(code)
	for e > q && (code[e-1] == ' ' || code[e-1] == '\t') {
		e--
	}
	return q, e
}

// yamlPlace finds or starts the mapping a key at column col belongs to.
func (s *scanner) yamlPlace(col int, item bool, key string) *frame {
	y := &s.y
	for len(y.stack) > 0 && y.stack[len(y.stack)-1].col > col {
		y.stack = y.stack[:len(y.stack)-1]
	}
	if n := len(y.stack); n > 0 && y.stack[n-1].col == col {
		if !item {
			y.stack[n-1].lastKey = key
			return &y.stack[n-1]
		}
		y.stack = y.stack[:n-1]
	}
	parent := ""
	if n := len(y.stack); n > 0 {
		parent = y.stack[n-1].lastKey
	}
	y.stack = append(y.stack, frame{col: col, parent: parent, lastKey: key})
	return &y.stack[len(y.stack)-1]
}

// yamlItemFlow handles a list item that is a flow mapping: "- {name: x}".
func (s *scanner) yamlItemFlow(start, indent int, item bool, code []byte, p int) {
	if !item || code[p] != '{' {
		return
	}
	y := &s.y
	for len(y.stack) > 0 && y.stack[len(y.stack)-1].col > indent {
		y.stack = y.stack[:len(y.stack)-1]
	}
	parent := ""
	if n := len(y.stack); n > 0 {
		parent = y.stack[n-1].lastKey
	}
	s.yamlFlow(start, parent, code, p)
}

// yamlFlow reads a one-line flow mapping "{k: v, k: v}" at code[p] into a
// group with the given parent key.
func (s *scanner) yamlFlow(start int, parent string, code []byte, p int) {
	if g, _ := s.parseFlow(start, code, p); g != nil {
		g.parent = parent
		s.y.groups = append(s.y.groups, g)
	}
}

// flowEnd returns the index of the '}' that closes the '{' at code[p], or
// -1 when it is not on this line.
func flowEnd(code []byte, p int) int {
	depth := 0
	var q byte
	for i := p; i < len(code); i++ {
		c := code[i]
		if q != 0 {
			if c == q {
				q = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			q = c
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				if c != '}' {
					return -1
				}
				return i
			}
		}
	}
	return -1
}

// parseFlow reads the one-line flow mapping (or JSON object) "{k: v, ...}"
// that opens at code[p] into a group of its scalar entries, skipping
// nested collections. It returns nil when the mapping does not close on
// the line, and the index of its closing brace.
func (s *scanner) parseFlow(start int, code []byte, p int) (*group, int) {
	end := flowEnd(code, p)
	if end < 0 {
		return nil, -1
	}
	var g *group
	i := p + 1
	for i < end {
		for i < end && (code[i] == ' ' || code[i] == '\t' || code[i] == ',') {
			i++
		}
		if i >= end {
			break
		}
		var key string
		if code[i] == '"' || code[i] == '\'' {
			k := bytes.IndexByte(code[i+1:end], code[i])
			if k < 0 {
				return nil, -1
			}
			key = internKey(code[i+1 : i+1+k])
			i += k + 2
		} else {
			k := i
			for k < end && code[k] != ':' && code[k] != ',' && code[k] != '{' && code[k] != '[' {
				k++
			}
			key = internKey(trimBlanksRight(code[i:k]))
			i = k
		}
		for i < end && (code[i] == ' ' || code[i] == '\t') {
			i++
		}
		if i >= end || code[i] != ':' {
			for i < end && code[i] != ',' {
				if code[i] == '{' || code[i] == '[' {
					return g, end // not a mapping of scalars we can follow
				}
				i++
			}
			continue
		}
		i++
		for i < end && (code[i] == ' ' || code[i] == '\t') {
			i++
		}
		e := entry{key: key, line: s.line, vs: -1, ve: -1}
		if i < end && (code[i] == '{' || code[i] == '[') {
			c := flowEnd(code, i)
			if code[i] == '[' {
				// find the matching ']' by depth
				depth := 0
				for c = i; c < end; c++ {
					if code[c] == '[' || code[c] == '{' {
						depth++
					} else if code[c] == ']' || code[c] == '}' {
						depth--
						if depth == 0 {
							break
						}
					}
				}
			}
			if c < 0 || c >= end {
				return g, end
			}
			i = c + 1
		} else if vs, ve, ok := scalarAt(code[:end], i); ok {
			e.vs, e.ve = start+vs, start+ve
			e.vcol = e.vs - s.lineStart + 1
			i = ve
			if i < end && (code[i] == '"' || code[i] == '\'') {
				i++
			}
		}
		if key != "" {
			if g == nil {
				g = s.newGroup("")
			}
			g.entries = append(g.entries, e)
		}
		for i < end && code[i] != ',' {
			i++
		}
	}
	return g, end
}

// flowLine evaluates every one-line flow mapping or JSON object on a line
// of any syntax as a possible split reference ({image: x, tag: y}).
func (s *scanner) flowLine(start int, code []byte) {
	for p := 0; p < len(code); p++ {
		if code[p] != '{' {
			continue
		}
		// Inner mappings are visited too, at their own '{'.
		if g, _ := s.parseFlow(start, code, p); g != nil {
			s.helmValues(g)
		}
	}
}

// yamlFinish turns the mappings into kustomize and Helm values matches.
func (s *scanner) yamlFinish() {
	base := strings.ToLower(path.Base(s.path))
	kustomization := base == "kustomization.yaml" || base == "kustomization.yml"
	for _, g := range s.y.groups {
		switch {
		case g.parent == "images":
			s.kustomizeEntry(g, kustomization)
		case g.parent == "steps":
			s.cloudBuildStep(g)
		case g.parent == "services" && s.gitlab:
			s.gitlabService(g)
		default:
			s.helmValues(g)
			s.namedValue(g)
			s.notContainerImage(g)
		}
	}
}

// namedValue reports the value of a name/value pair whose name names an
// image: an environment variable ("- name: BUSYBOX_IMAGE / value: busybox:1")
// or a workflow parameter ("- name: image / value: alpine:3.6").
func (s *scanner) namedValue(g *group) {
	name, ok := g.get("name")
	if !ok || name.vs < 0 || !imageKey(s.src[name.vs:name.ve]) {
		return
	}
	v, ok := g.get("value")
	if !ok || v.vs < 0 || nullish(s.val(v)) {
		return
	}
	r, ok := imageref.TryParse(s.val(v))
	if !ok {
		return
	}
	s.matches = append(s.matches, inlineMatch(s.path, v.line, v.vcol, v.vs, r))
}

// notContainerImage drops the image: of a Ceph RBD volume (beside pool and
// monitors), which names a block device image, not a container image.
func (s *scanner) notContainerImage(g *group) {
	img, ok := g.get("image")
	if !ok || img.vs < 0 {
		return
	}
	_, pool := g.get("pool")
	_, monitors := g.get("monitors")
	if g.parent == "rbd" || pool && monitors {
		s.dropped = append(s.dropped, [2]int{img.line, img.vcol})
	}
}

// empty reports whether an entry has no value or an empty one.
func (s *scanner) empty(e entry) bool { return e.vs < 0 || e.vs == e.ve }

func (s *scanner) val(e entry) string {
	if e.vs < 0 {
		return ""
	}
	return string(s.src[e.vs:e.ve])
}

// splitMatch composes a reference from split fields and reports it.
func (s *scanner) splitMatch(kind Kind, at entry, name string, tag, dig entry, hasTag, hasDig bool) bool {
	ref := name
	tagSpan, digSpan := none, none
	if hasTag {
		if t := s.val(tag); t != "" {
			if !imageref.ValidTag(t) {
				return false
			}
			ref += ":" + t
			tagSpan = Span{tag.vs, tag.ve}
		}
	}
	if hasDig {
		if d := s.val(dig); d != "" {
			if !imageref.ValidDigest(d) {
				return false
			}
			ref += "@" + d
			digSpan = Span{dig.vs, dig.ve}
		}
	}
	r, ok := imageref.TryParse(ref)
	if !ok {
		return false
	}
	// The name field must not carry a tag or digest of its own: the spans
	// would not cover them.
	if (r.Tag == "") != (tagSpan == none) || (r.Digest == "") != (digSpan == none) {
		return false
	}
	s.matches = append(s.matches, Match{
		Path: s.path, Line: at.line, Column: at.vcol, Ref: r, Kind: kind, Tag: tagSpan, Digest: digSpan,
	})
	return true
}

// kustomizeEntry reports an entry of a kustomization images: list: it has
// a name and, unless the file is a kustomization, newName, newTag or digest.
func (s *scanner) kustomizeEntry(g *group, kustomization bool) {
	name, ok := g.get("name")
	if !ok || s.empty(name) {
		return
	}
	newName, hasNewName := g.get("newName")
	tag, hasTag := g.get("newTag")
	dig, hasDig := g.get("digest")
	if !kustomization && !hasNewName && !hasTag && !hasDig {
		return
	}
	if _, isChart := g.get("image"); isChart {
		return // Chart.yaml annotations list name/image pairs
	}
	n := s.val(name)
	if hasNewName && !s.empty(newName) {
		n = s.val(newName)
	}
	if !s.splitMatch(Kustomize, name, n, tag, dig, hasTag, hasDig) {
		// newName, newTag or digest is a placeholder
		// ("CONTAINER_IMAGES_REGISTRY/x", "${TAG}"): the literal
		// reference is the name, and what it becomes is unknown.
		s.splitMatch(Kustomize, name, s.val(name), entry{}, entry{}, false, false)
	}
}

// helmValues reports a Helm values image mapping: a repository with a
// registry, tag or digest beside it, or under a key that names an image;
// also an image with a tag beside it ({image: debian, tag: "9.1"}).
func (s *scanner) helmValues(g *group) {
	repo, ok := g.get("repository")
	if !ok && (g.parent == "image") {
		repo, ok = g.get("repo")
		if !ok {
			repo, ok = g.get("name")
		}
	}
	if !ok {
		if _, hasTag := g.get("tag"); hasTag {
			repo, ok = g.get("image")
		}
	}
	if !ok || s.empty(repo) {
		return
	}
	reg, hasReg := g.get("registry")
	tag, hasTag := g.get("tag")
	dig, hasDig := g.get("digest")
	if !(g.parent == "image") && s.empty(tag) && s.empty(dig) {
		return
	}
	n := s.val(repo)
	if hasReg && !s.empty(reg) {
		n = s.val(reg) + "/" + n
	}
	s.splitMatch(HelmValues, repo, n, tag, dig, hasTag, hasDig)
}

// gitlabService reports the name of a GitLab CI service given as a
// mapping ("- name: postgres:16" / "alias: db"): the image it runs.
func (s *scanner) gitlabService(g *group) {
	name, ok := g.get("name")
	if !ok || name.vs < 0 || nullish(s.val(name)) {
		return
	}
	r, ok := imageref.TryParse(s.val(name))
	if !ok || r.Tag == "" && r.Digest == "" && fileLike(r.Name) {
		return
	}
	s.matches = append(s.matches, inlineMatch(s.path, name.line, name.vcol, name.vs, r))
}

// cloudBuildStep reports the image in the name of a Cloud Build step: a
// steps: entry with name and Cloud Build fields (args, entrypoint, id, ...)
// and none of the fields of Argo, Tekton or GitHub Actions steps.
func (s *scanner) cloudBuildStep(g *group) {
	name, ok := g.get("name")
	if !ok || name.vs < 0 {
		return
	}
	cb := false
	for _, e := range g.entries {
		switch e.key {
		case "image", "template", "templateRef", "uses", "run", "with", "inline", "arguments", "steps", "when", "ref":
			return
		case "args", "entrypoint", "id", "secretEnv", "waitFor", "dir", "script", "env", "timeout", "volumes", "allowFailure":
			cb = true
		}
	}
	if !cb {
		return
	}
	r, ok := imageref.TryParse(s.val(name))
	if !ok {
		return
	}
	s.matches = append(s.matches, inlineMatch(s.path, name.line, name.vcol, name.vs, r))
}
