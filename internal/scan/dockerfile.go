package scan

import (
	"bytes"
	"slices"
	"strings"

	"github.com/git-laminar/git-laminar/internal/imageref"
)

// dockerPhysical feeds one physical line of a Dockerfile: an instruction
// continued with a trailing backslash is scanned as one logical line once
// it ends, with comment lines inside it ignored, as docker does.
func (s *scanner) dockerPhysical(start, end int) {
	l := s.src[start:end]
	more := continued(l) && end < len(s.src)
	if !s.pastDirectives {
		if s.dockerDirective(start, l) {
			return
		}
		s.pastDirectives = true
	}
	if s.cont < 0 {
		if !more {
			s.dockerLine(start, l)
			return
		}
		t := trimBlanksLeft(l)
		if len(t) > 0 && t[0] == '#' {
			return // a comment ending in a backslash continues nothing
		}
		s.cont = start
		return
	}
	if more {
		return
	}
	from := s.cont
	s.cont = -1
	s.dockerLine(from, joinLogical(s.src, from, end, true))
}

// dockerLine scans one logical line of a Dockerfile or Containerfile: the image of
// FROM (not "scratch", not an earlier stage), the image of COPY --from= and
// RUN --mount=...,from=, and on other instructions (ARG, ENV, LABEL, RUN)
// the same image keys and unambiguous inline references as any text file.
// Comments are lines whose first non-blank byte is '#'.
func (s *scanner) dockerLine(start int, l []byte) {
	p := 0
	for p < len(l) && (l[p] == ' ' || l[p] == '\t') {
		p++
	}
	if p == len(l) || l[p] == '#' {
		return
	}
	w, we := word(l, p)
	instr := strings.ToUpper(string(l[w:we]))
	switch instr {
	case "FROM":
		s.dockerFrom(start, l, we)
		return
	case "COPY", "RUN", "ADD":
		s.dockerFromFlags(start, l, we)
	}
	if hasSeparator(l) {
		s.imageKeys(start, l)
		s.inlineTokens(start, l)
	}
	if s.runners && hasRunner(l) {
		s.runnerRefs(start, l)
	}
}

// dockerDirective reads a parser directive, a "# name=value" comment
// before anything else in the file, and reports the frontend image of
// "# syntax=docker/dockerfile:1.7". It returns false for any other line,
// after which docker looks for no more directives.
func (s *scanner) dockerDirective(start int, l []byte) bool {
	t := trimBlanksLeft(l)
	if len(t) == 0 || t[0] != '#' {
		return false
	}
	rest := trimBlanksLeft(t[1:])
	name, value, ok := bytes.Cut(rest, []byte("="))
	name = bytes.TrimRight(name, " \t")
	if !ok || len(name) == 0 || bytes.IndexAny(name, " \t") >= 0 {
		return false
	}
	if bytes.EqualFold(name, []byte("syntax")) {
		value = trimBlanksLeft(value)
		v := trimBlanksCRRight(value)
		if len(v) > 0 && bytes.IndexAny(v, " \t") < 0 {
			s.dockerImage(start+len(l)-len(value), v)
		}
	}
	return true
}

func (s *scanner) dockerFrom(start int, l []byte, p int) {
	var img []byte
	imgAt := -1
	for {
		w, we := word(l, p)
		if w == we {
			break
		}
		p = we
		arg := l[w:we]
		if imgAt < 0 {
			if arg[0] == '-' {
				continue // --platform=...
			}
			img, imgAt = arg, w
			continue
		}
		if strings.EqualFold(string(arg), "AS") {
			nw, nwe := word(l, p)
			if nw < nwe {
				s.stages = append(s.stages, strings.ToLower(string(l[nw:nwe])))
			}
		}
		break
	}
	if imgAt < 0 {
		return
	}
	s.dockerImage(start+imgAt, img)
}

// dockerImage reports a FROM or --from= image unless it is "scratch", an
// earlier stage, a stage index or not a reference (such as "${BASE}").
func (s *scanner) dockerImage(at int, img []byte) {
	name := strings.ToLower(string(img))
	if name == "scratch" || slices.Contains(s.stages, name) {
		return
	}
	if strings.Trim(name, "0123456789") == "" {
		return
	}
	r, ok := imageref.TryParse(string(img))
	if !ok {
		return
	}
	s.addInline(at, r)
}

// dockerFromFlags handles "COPY --from=image" and
// "RUN --mount=type=bind,from=image,...".
func (s *scanner) dockerFromFlags(start int, l []byte, p int) {
	for {
		w, we := word(l, p)
		if w == we || l[w] != '-' {
			return
		}
		p = we
		arg := l[w:we]
		if v, ok := bytes.CutPrefix(arg, []byte("--from=")); ok {
			s.dockerImage(start+we-len(v), v)
			continue
		}
		if v, ok := bytes.CutPrefix(arg, []byte("--mount=")); ok {
			off := we - len(v)
			for len(v) > 0 {
				f := v
				if i := bytes.IndexByte(v, ','); i >= 0 {
					f = v[:i]
				}
				if img, ok := bytes.CutPrefix(f, []byte("from=")); ok && len(img) > 0 {
					s.dockerImage(start+off+len("from="), img)
				}
				off += len(f) + 1
				if len(f) >= len(v) {
					break
				}
				v = v[len(f)+1:]
			}
		}
	}
}
