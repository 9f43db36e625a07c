package scan

import (
	"bytes"
	"strings"

	"github.com/git-laminar/git-laminar/internal/imageref"
)

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// isRefChar reports whether c may appear in an image reference.
func isRefChar(c byte) bool { return refChars[c] }

var refChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == '/' || c == ':' || c == '@'
	}
	return t
}()

// tokenBefore reports whether c may precede a reference that stands alone.
func tokenBefore(c byte) bool {
	switch c {
	case ' ', '\t', '"', '\'', '`', '=', ',', '[', '(', '{':
		return true
	}
	return false
}

// tokenAfter reports whether c may follow a reference that stands alone.
func tokenAfter(c byte) bool {
	switch c {
	case ' ', '\t', '"', '\'', '`', ',', ']', ')', '}', ';':
		return true
	}
	return false
}

// imageKey reports whether a key names an image: "image", or a key ending
// in "image" at a word boundary ("cacheImage", "TENSORBOARD_IMAGE",
// "--sidecar-image", "controller.image"), or ending in "image name"
// ("IMAGE_NAME", "imageName").
func imageKey(k []byte) bool {
	k = trimDashDotLeft(k)
	n := len(k)
	if n < 5 {
		return false
	}
	for _, suffix := range []string{"image", "imagename", "image_name", "image-name"} {
		m := len(suffix)
		if n < m || !bytes.EqualFold(k[n-m:], []byte(suffix)) {
			continue
		}
		if suffix == "imagename" && k[n-4] != 'N' {
			continue // only "imageName", "IMAGENAME": a word boundary
		}
		if n == m {
			return true
		}
		c := k[n-m-1]
		if c == '_' || c == '-' || c == '.' || k[n-m] == 'I' {
			return !excludedImageKey(k)
		}
	}
	return false
}

// imageListKey reports whether a key names a list of images: "images", or
// a key ending in "images" at a word boundary ("extraImages",
// "PRELOAD_IMAGES", "--images").
func imageListKey(k []byte) bool {
	k = trimDashDotLeft(k)
	n := len(k)
	if n < 6 || !bytes.EqualFold(k[n-6:], []byte("images")) {
		return false
	}
	if n == 6 {
		return true
	}
	c := k[n-7]
	return c == '_' || c == '-' || c == '.' || k[n-6] == 'I'
}

// excludedImageKey lists keys that end in "Image" but name something other
// than a container image.
func excludedImageKey(k []byte) bool {
	for _, x := range []string{"vmimage", "osimage", "diskimage", "machineimage", "bootimage", "amiimage"} {
		if bytes.EqualFold(k, []byte(x)) {
			return true
		}
	}
	return false
}

// nullish are YAML scalars that are not strings.
func nullish(v string) bool {
	switch v {
	case "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE",
		"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF":
		return true
	}
	return false
}

// imageKeys finds "key: value", "key = value" and "KEY=value" assignments
// whose key names an image, wherever they occur on the line (block YAML,
// flow mappings, JSON, jsonnet, HCL, .env, "--image=x" arguments).
func (s *scanner) imageKeys(start int, code []byte) {
	for j := 0; j+5 <= len(code); j++ {
		c := code[j] | 0x20
		if c != 'i' || !bytes.EqualFold(code[j:j+5], []byte("image")) {
			continue
		}
		end := j + 5
		// Extend over "name", "_name", "-name".
		for end < len(code) && isKeyChar(code[end]) {
			end++
		}
		ks := j
		for ks > 0 && isKeyChar(code[ks-1]) {
			ks--
		}
		key := code[ks:end]
		if !imageKey(key) {
			j = end
			continue
		}
		j = end - 1
		p := end
		quoted := false
		if p < len(code) && (code[p] == '"' || code[p] == '\'') && ks > 0 && code[ks-1] == code[p] {
			quoted = true
			p++
		}
		before := byte(' ')
		if ks > 0 {
			before = code[ks-1]
			if quoted && ks > 1 {
				before = code[ks-2]
			} else if quoted {
				before = ' '
			}
		}
		// A command-line flag ("--image=x") stands in an argument list:
		// after a quote (args: ["--image=x"]), its value ends at a blank.
		flag := !quoted && ks+2 < end && code[ks] == '-' && code[ks+1] == '-' && p < len(code) && code[p] == '='
		if !keyBefore(before) && !(flag && (before == '"' || before == '\'')) {
			continue
		}
		for p < len(code) && (code[p] == ' ' || code[p] == '\t') {
			p++
		}
		if p >= len(code) {
			continue
		}
		if s.syn == synMakefile {
			// "image: deps" is a rule; only assignments name values:
			// "IMAGE = x", "IMAGE ?= x", "IMAGE := x", "IMAGE ::= x".
			q := p
			for q < len(code) && (code[q] == ':' || code[q] == '?') {
				q++
			}
			if q == len(code) || code[q] != '=' || q-p > 3 {
				continue
			}
			p = q
		}
		switch code[p] {
		case ':':
			for p < len(code) && code[p] == ':' {
				p++
			}
			if !quoted && p < len(code) && code[p] != ' ' && code[p] != '\t' && code[p] != '"' && code[p] != '\'' {
				continue
			}
		case '=':
			p++
			if p < len(code) && code[p] == '=' {
				continue
			}
		default:
			continue
		}
		for p < len(code) && (code[p] == ' ' || code[p] == '\t') {
			p++
		}
		if s.syn == synYAML {
			p = skipProps(code, p)
		}
		if p < len(code) && code[p] != '"' && code[p] != '\'' && s.expressionSyntax() {
			continue // an unquoted HCL, jsonnet or JSON value is an expression
		}
		var vs, ve int
		var ok bool
		if flag && p < len(code) && code[p] != '"' && code[p] != '\'' {
			vs, ve, ok = p, flagValueEnd(code, p), true
		} else {
			vs, ve, ok = scalarAt(code, p)
		}
		if !ok || vs == ve {
			continue
		}
		v := string(code[vs:ve])
		if nullish(v) {
			continue
		}
		if strings.IndexAny(v, "/:@") < 0 && (!exactImageKey(key) || s.syn == synMarkdown && !s.inFence) {
			// A bare word is an image only under a key that is nothing
			// but "image" ("image: nginx"): "podspec-volumes-image:
			// disabled" and Markdown prose hold other words.
			continue
		}
		r, ok := imageref.TryParse(v)
		if !ok {
			continue
		}
		s.addInline(start+vs, r)
		j = ve - 1
	}
}

// flagValueEnd returns the end of the unquoted value of a command-line
// flag that starts at code[p]: the next blank, quote, backtick or ';'.
func flagValueEnd(code []byte, p int) int {
	for p < len(code) {
		switch code[p] {
		case ' ', '\t', '"', '\'', '`', ';', ',', ']', ')', '}':
			return p
		}
		p++
	}
	return p
}

// expressionSyntax reports whether an unquoted value is an expression, not
// a string: HCL ("disk_image = var.x"), jsonnet ("image: image") and JSON.
func (s *scanner) expressionSyntax() bool {
	return s.syn == synHCL || s.syn == synJsonnet || s.syn == synJSON
}

// exactImageKey reports whether an image key is the word "image" or
// "image name" itself, not a longer key that ends in it.
func exactImageKey(k []byte) bool {
	k = trimDashDotLeft(k)
	for _, x := range []string{"image", "imagename", "image_name", "image-name"} {
		if bytes.EqualFold(k, []byte(x)) {
			return true
		}
	}
	return false
}

// continuedLiteral reports whether the quoted string code[open:close+1]
// is only part of a string built at run time: joined with another by an
// operator ('quay.io/x:v' + $.version, "a" .. b, "img:%s" % v,
// "img:{}".format(v)), glued to a variable in shell ("repo:v"$TAG), or an
// f-string. Its bytes are not the reference, and rewriting them would
// corrupt the expression.
func continuedLiteral(code []byte, open, close int) bool {
	if k := close + 1; k < len(code) {
		switch c := code[k]; {
		case isKeyChar(c) || c == '$' || c == '{' || c == '(' || c == '[' || c == '`':
			return true
		}
		for k < len(code) && (code[k] == ' ' || code[k] == '\t') {
			k++
		}
		if k < len(code) {
			switch code[k] {
			case '+', '%', '~', '|':
				if code[k] == '|' && (k+1 >= len(code) || code[k+1] != '|') {
					break // a shell pipe, a YAML block
				}
				if code[k] == '~' && k > close+1 {
					break
				}
				return true
			case '.':
				if k+1 < len(code) && (code[k+1] == '.' || isKeyChar(code[k+1])) {
					return true
				}
				// PHP and Perl: "app:v" . $version
				if r := trimBlanksLeft(code[k+1:]); len(r) > 0 && r[0] == '$' {
					return true
				}
			}
		}
	}
	if k := open - 1; k >= 0 {
		switch c := code[k]; {
		case c == 'f' || c == 'F' || c == '$' || c == '}' || c == ')':
			if c != 'f' && c != 'F' || k == 0 || !isKeyChar(code[k-1]) {
				return true
			}
		}
		for k >= 0 && (code[k] == ' ' || code[k] == '\t') {
			k--
		}
		if k >= 0 && (code[k] == '+' || code[k] == '.' && k > 0 && code[k-1] == '.') {
			return true
		}
	}
	return false
}

func keyBefore(c byte) bool {
	switch c {
	case ' ', '\t', '{', ',', '(', '[':
		return true
	}
	return false
}

// scalarAt reads the single scalar value that starts at code[p]: a quoted
// string (returning its contents) or a bare word that is the last thing on
// the line or in its flow collection. ok is false for anything else, such
// as a value of several words or a quoted string with escapes.
func scalarAt(code []byte, p int) (vs, ve int, ok bool) {
	if p >= len(code) {
		return p, p, false
	}
	if q := code[p]; q == '"' || q == '\'' {
		i := bytes.IndexByte(code[p+1:], q)
		if i < 0 {
			return 0, 0, false
		}
		vs, ve = p+1, p+1+i
		if q == '"' && bytes.IndexByte(code[vs:ve], '\\') >= 0 {
			return 0, 0, false
		}
		if q == '\'' && ve+1 < len(code) && code[ve+1] == '\'' {
			return 0, 0, false // '' escape
		}
		if continuedLiteral(code, p, ve) {
			return 0, 0, false
		}
		return vs, ve, true
	}
	vs = p
	ve = p
	for ve < len(code) && !isSpaceOrFlowEnd(code[ve]) {
		ve++
	}
	rest := trimBlanksLeft(code[ve:])
	if len(rest) > 0 {
		switch rest[0] {
		case ',', '}', ']', ')', ';':
		default:
			return 0, 0, false
		}
	}
	return vs, ve, true
}

func isSpaceOrFlowEnd(c byte) bool {
	switch c {
	case ' ', '\t', ',', '}', ']', ')', ';':
		return true
	}
	return false
}

// inlineTokens finds free-standing tokens that are unambiguous references:
// they parse, and carry a digest, or a tag and a path ('/'), so that
// "host:port", "key:value", "10:30" and bare "name:tag" are left alone.
func (s *scanner) inlineTokens(start int, code []byte) {
	for i := 0; i < len(code); i++ {
		if !isRefChar(code[i]) {
			continue
		}
		j := i
		colon := false
		for j < len(code) && isRefChar(code[j]) {
			if code[j] == ':' || code[j] == '@' {
				colon = true
			}
			j++
		}
		if !colon || (i > 0 && !tokenBefore(code[i-1])) || (j < len(code) && !tokenAfter(code[j])) {
			i = j
			continue
		}
		if i > 0 && j < len(code) && (code[i-1] == '"' || code[i-1] == '\'' || code[i-1] == '`' && s.syn != synMarkdown) &&
			code[j] == code[i-1] && continuedLiteral(code, i-1, j) {
			i = j
			continue
		}
		tok := bytes.TrimRight(code[i:j], ".")
		at := i
		if t, ok := bytes.CutPrefix(tok, []byte("oci://")); ok {
			// An OCI artifact with a tag or digest lives in a registry
			// like an image: "oci://ghcr.io/org/mcp-server:1.2".
			tok, at = t, i+len("oci://")
		}
		for _, scheme := range []string{"docker://", "docker-image://"} {
			if t, ok := bytes.CutPrefix(tok, []byte(scheme)); ok {
				// The scheme says it is an image, even without a '/':
				// "uses: docker://alpine:3.19", skopeo's
				// "docker://quay.io/x:1", buildx's
				// "--build-context base=docker-image://alpine:3.19".
				if r, ok := imageref.TryParse(string(t)); ok && (r.Tag != "" || r.Digest != "") {
					s.addInline(start+i+len(scheme), r)
				}
				tok = nil
			}
		}
		if r, ok := strongRef(tok); ok && len(tok) > 0 {
			s.addInline(start+at, r)
		}
		i = j
	}
}

// imageLists finds flow sequences and JSON arrays under a key that names a
// list of images ("images": ["nginx:1.25", "redis"], images = [...]) and
// reports their items, even untagged. A list that does not close on its
// line continues on the next ones.
func (s *scanner) imageLists(start int, code []byte) {
	for i := 0; i < len(code); i++ {
		if code[i] != '[' {
			continue
		}
		k := i - 1
		for k >= 0 && (code[k] == ' ' || code[k] == '\t') {
			k--
		}
		if k < 0 || code[k] != ':' && code[k] != '=' {
			continue
		}
		for k >= 0 && (code[k] == ':' || code[k] == '=' || code[k] == ' ' || code[k] == '\t') {
			k--
		}
		if k >= 0 && (code[k] == '"' || code[k] == '\'') {
			k--
		}
		ke := k + 1
		for k >= 0 && isKeyChar(code[k]) {
			k--
		}
		if !imageListKey(code[k+1 : ke]) {
			continue
		}
		s.listDepth = 1
		s.list = true
		s.listItems(start, code, i+1)
		return
	}
}

// listItems reads the items of a list of images from code[i:], at depth
// s.listDepth; items nested in inner collections are not images.
func (s *scanner) listItems(start int, code []byte, i int) {
	depth := s.listDepth
	for i < len(code) && depth > 0 {
		switch c := code[i]; c {
		case ' ', '\t', ',':
			i++
		case '[', '{':
			depth++
			i++
		case ']', '}':
			depth--
			i++
		case '"', '\'':
			j := bytes.IndexByte(code[i+1:], c)
			if j < 0 {
				i = len(code)
				break
			}
			if depth == 1 && !continuedLiteral(code, i, i+1+j) {
				s.listItem(start, code[i+1:i+1+j], start+i+1)
			}
			i += j + 2
		default:
			j := i
			for j < len(code) && !isSpaceOrFlowEnd(code[j]) && code[j] != '[' && code[j] != '{' {
				j++
			}
			if j == i {
				j++
			} else if depth == 1 && s.syn == synYAML {
				s.listItem(start, code[i:j], start+i)
			}
			i = j
		}
	}
	s.listDepth = depth
	s.list = depth > 0
}

// strongRef parses tok and reports whether it is an unambiguous reference
// outside an image key: a digest, or a tag on a name with a path.
func strongRef(tok []byte) (imageref.Ref, bool) {
	if bytes.IndexByte(tok, '/') < 0 && bytes.IndexByte(tok, '@') < 0 {
		return imageref.Ref{}, false
	}
	r, ok := imageref.TryParse(string(tok))
	if !ok {
		return r, false
	}
	if r.Digest != "" {
		return r, true
	}
	return r, r.Tag != "" && strings.Contains(r.Name, "/")
}

// runners are the commands whose first argument after "run", "pull" or
// "create" (and their flags) is an image.
var runners = [][]byte{[]byte("docker "), []byte("podman "), []byte("nerdctl ")}

func hasRunner(code []byte) bool {
	for _, r := range runners {
		if bytes.Contains(code, r) {
			return true
		}
	}
	return false
}

// flagsWithValue are docker run/create/pull/push flags whose value is
// the next word ("-a" is one only for run and create).
var flagsWithValue = map[string]bool{
	"--cpu-shares": true, "--cpuset-cpus": true, "--cpuset-mems": true, "--memory-swap": true,
	"--memory-reservation": true, "--health-cmd": true, "--health-interval": true,
	"--health-timeout": true, "--health-retries": true, "--health-start-period": true,
	"--sysctl": true, "--userns": true, "--uts": true, "--cgroupns": true, "--cgroup-parent": true,
	"--network-alias": true, "--dns-search": true, "--dns-option": true, "--pids-limit": true,
	"--stop-timeout": true, "--label-file": true, "--mac-address": true, "--ip6": true,
	"--annotation": true, "--pod": true, "--arch": true, "--os": true, "--authfile": true,
	"--creds": true, "--cert-dir": true, "--secret": true, "--storage-opt": true,
	"--volume-driver": true, "--device-cgroup-rule": true, "--oom-score-adj": true,
	"--blkio-weight": true, "--cpu-period": true, "--cpu-quota": true, "--isolation": true,
	"--log-level": true, "--namespace": true, "--snapshotter": true, "--hooks-dir": true,
	"-v": true, "--volume": true, "-e": true, "--env": true, "-p": true, "--publish": true,
	"--name": true, "--network": true, "--net": true, "-w": true, "--workdir": true,
	"--entrypoint": true, "--platform": true, "-u": true, "--user": true, "--mount": true,
	"--env-file": true, "-l": true, "--label": true, "--add-host": true, "-h": true,
	"--hostname": true, "--cpus": true, "-m": true, "--memory": true, "--runtime": true,
	"--restart": true, "--pull": true, "--ulimit": true, "--device": true, "--cap-add": true,
	"--cap-drop": true, "--log-driver": true, "--log-opt": true, "--security-opt": true,
	"--tmpfs": true, "--dns": true, "--link": true, "--expose": true, "--shm-size": true,
	"--ipc": true, "--pid": true, "--gpus": true, "--cidfile": true, "--stop-signal": true,
	"--volumes-from": true, "--attach": true, "--group-add": true, "--ip": true,
}

// runnerRefs finds the images of "docker run|pull|create|push [flags]
// image", "docker tag image image" and "docker build|buildx build -t
// image". The command words are parsed: "docker buildx create" and
// "docker compose run" are other commands, "docker image push" and
// "docker container run" are the same ones. A command that starts in an
// inline code span or a command substitution (backticks) ends with it; in
// Markdown prose it ends with its sentence, and its argument must look
// like a reference (a '/', a tag or a digest), not an English word ("the
// docker push image.").
func (s *scanner) runnerRefs(start int, code []byte) {
	prose := s.syn == synMarkdown && !s.inFence || s.proseFile
	for _, rn := range runners {
		from := 0
		for {
			i := bytes.Index(code[from:], rn)
			if i < 0 {
				break
			}
			i += from
			from = i + len(rn)
			if i > 0 && (isKeyChar(code[i-1]) || code[i-1] == ':' || code[i-1] == '@') {
				continue // "x-docker run", "app:docker run": the tag of another word
			}
			cmd := code
			strict := prose || !commandPosition(code, i, !s.proseFile)
			if bytes.Count(code[:i], []byte("`"))%2 == 1 {
				if k := bytes.IndexByte(code[i:], '`'); k >= 0 {
					cmd = code[:i+k]
				}
				strict = false
			} else if prose {
				cmd = code[:sentenceEnd(code, i)]
			}
			s.runnerCommand(start, cmd, from, strict)
		}
	}
}

// commandPosition reports whether the program name at code[i] stands
// where a command starts: first on the line or after a shell operator,
// a quote, a key's ':' or '=', a prompt, or a word that runs the next
// one (sudo, exec, then; not in prose files, where those are English).
// After any other word it is prose ("runs docker push of the image"),
// where an image argument must look like one.
func commandPosition(code []byte, i int, keywords bool) bool {
	k := i
	for k > 0 && (code[k-1] == ' ' || code[k-1] == '\t') {
		k--
	}
	if k == 0 {
		return true
	}
	switch code[k-1] {
	case ':', '-', '$', '#', '&', '|', ';', '(', '`', '"', '\'', '=', '>', '{', '[', ',', '!', '/':
		return true
	}
	e := k
	for k > 0 && code[k-1] != ' ' && code[k-1] != '\t' {
		k--
	}
	if bytes.IndexByte(code[k:e], '=') >= 0 {
		return true // an environment assignment: "FOO=1 docker run x"
	}
	if !keywords {
		return false // in prose "then" and "do" are English
	}
	switch string(code[k:e]) {
	case "sudo", "exec", "then", "do", "else", "time", "command", "xargs", "nohup", "env", "RUN", "run", "&&", "||":
		return true
	}
	return false
}

// sentenceEnd returns the end of the sentence of prose that holds code[i]:
// after a '.', '!' or '?' that ends a word, or the end of the line.
func sentenceEnd(code []byte, i int) int {
	for k := i; k < len(code); k++ {
		switch code[k] {
		case '.', '!', '?':
			if k+1 == len(code) || code[k+1] == ' ' || code[k+1] == '\t' {
				return k + 1
			}
		}
	}
	return len(code)
}

// runnerCommand reads the words of one docker, podman or nerdctl command
// from cmd[p:], after the program's name.
func (s *scanner) runnerCommand(start int, cmd []byte, p int, strict bool) {
	w, we := word(cmd, p)
	// Global options come before the command: "docker --context x run".
	for w < we && cmd[w] == '-' {
		p = we
		if arg := string(cmd[w:we]); globalFlagsWithValue[arg] {
			_, p = word(cmd, p)
		}
		w, we = word(cmd, p)
	}
	sub := string(cmd[w:we])
	group := ""
	switch sub {
	case "buildx", "builder", "image", "container":
		group = sub
		w, we = word(cmd, we)
		sub = string(cmd[w:we])
	}
	positional := 0
	switch {
	case (group == "" || group == "container") && (sub == "run" || sub == "create"):
		positional = 1
	case (group == "" || group == "image") && (sub == "pull" || sub == "push"):
		positional = 1
	case (group == "" || group == "image") && sub == "tag":
		positional = 2
	case sub == "build" && group != "container":
	default:
		return
	}
	p = we
	for {
		w, we = word(cmd, p)
		if w == we || cmd[w] == ';' || cmd[w] == '|' || cmd[w] == '&' || cmd[w] == ')' {
			return
		}
		arg := string(cmd[w:we])
		p = we
		if strings.HasPrefix(arg, "-") {
			name, val, hasVal := strings.Cut(arg, "=")
			if sub == "build" && (name == "-t" || name == "--tag") {
				if hasVal {
					s.runnerArg(start, cmd, we-len(val), we, strict)
				} else {
					vw, vwe := word(cmd, p)
					s.runnerArg(start, cmd, vw, vwe, strict)
					p = vwe
				}
				continue
			}
			if !hasVal && (flagsWithValue[arg] || arg == "-a" && (sub == "run" || sub == "create") ||
				sub == "build" && buildFlagsWithValue[arg]) {
				_, p = word(cmd, p)
			}
			continue
		}
		if positional == 0 {
			continue // the context of a build: its -t may follow
		}
		if !s.runnerArg(start, cmd, w, we, strict) {
			return
		}
		positional--
		if positional == 0 {
			return
		}
	}
}

// globalFlagsWithValue are options of docker, podman and nerdctl
// themselves whose value is the next word.
var globalFlagsWithValue = map[string]bool{
	"--context": true, "-c": true, "-H": true, "--host": true, "--config": true,
	"--log-level": true, "-l": true, "--connection": true, "--url": true,
	"--namespace": true, "-n": true, "--address": true, "--root": true,
	"--runroot": true, "--storage-driver": true, "--cgroup-manager": true,
}

// buildFlagsWithValue are docker build options whose value is the next
// word.
var buildFlagsWithValue = map[string]bool{
	"-f": true, "--file": true, "--build-arg": true, "--target": true, "--cache-from": true,
	"--cache-to": true, "--secret": true, "--ssh": true, "-o": true, "--output": true,
	"--progress": true, "--builder": true, "--iidfile": true, "--metadata-file": true,
	"--build-context": true, "--attest": true, "--allow": true, "--annotation": true,
}

// runnerArg reports the image in the argument code[w:we] of a docker
// command, without the shell or Markdown punctuation around it
// ("'nginx:1.25'", "nginx:1.25`.", "nginx:1.25;").
func (s *scanner) runnerArg(start int, code []byte, w, we int, strict bool) bool {
	for w < we && (code[w] == '"' || code[w] == '\'') {
		w++
	}
	e := w
	for e < we && isRefChar(code[e]) {
		e++
	}
	for k := e; k < we; k++ {
		if strings.IndexByte(";\"')`.,", code[k]) < 0 {
			return false // glued to other text: "$IMAGE", "a+b"
		}
	}
	for e > w && code[e-1] == '.' {
		e--
	}
	if e == w {
		return false
	}
	if strict && bytes.IndexAny(code[w:e], "/:@") < 0 {
		return false
	}
	r, ok := imageref.TryParse(string(code[w:e]))
	if ok {
		s.addInline(start+w, r)
	}
	return ok
}

// word returns the bounds of the next whitespace-separated word at or
// after p.
func word(code []byte, p int) (int, int) {
	for p < len(code) && (code[p] == ' ' || code[p] == '\t') {
		p++
	}
	e := p
	for e < len(code) && code[e] != ' ' && code[e] != '\t' {
		e++
	}
	return p, e
}

// markerLine reports the value on a line carrying "# laminar: <image>".
// The value is what follows the line's first key separator (": ", "=",
// " = "), or the list item, unquoted; it must be a tag or a digest.
func (s *scanner) markerLine(start int, code []byte, name string) {
	nr, ok := imageref.TryParse(name)
	if !ok || nr.Tag != "" || nr.Digest != "" {
		return
	}
	p := 0
	for p < len(code) && (code[p] == ' ' || code[p] == '\t') {
		p++
	}
	if p+1 < len(code) && code[p] == '-' && code[p+1] == ' ' {
		p += 2
	}
	sep := -1
	for i := p; i < len(code); i++ {
		c := code[i]
		if c == '=' || c == ':' && (i+1 == len(code) || code[i+1] == ' ' || code[i+1] == '\t') {
			sep = i + 1
			break
		}
		if c == '"' || c == '\'' {
			// A quoted key: skip to its end.
			if k := bytes.IndexByte(code[i+1:], c); k >= 0 {
				i += k + 1
			}
		}
	}
	if sep >= 0 {
		p = sep
	}
	for p < len(code) && (code[p] == ' ' || code[p] == '\t') {
		p++
	}
	vs, ve, ok := scalarAt(code, p)
	if !ok {
		return
	}
	v := string(code[vs:ve])
	m := Match{Path: s.path, Line: s.line, Column: start + vs - s.lineStart + 1, Kind: Marker, Tag: none, Digest: none}
	var ref string
	switch {
	case imageref.ValidTag(v):
		ref = name + ":" + v
		m.Tag = Span{start + vs, start + ve}
	case imageref.ValidDigest(v):
		ref = name + "@" + v
		m.Digest = Span{start + vs, start + ve}
	default:
		return
	}
	r, ok := imageref.TryParse(ref)
	if !ok {
		return
	}
	m.Ref = r
	s.matches = append(s.matches, m)
}
