package scan

import (
	"bytes"
	"path"
	"strings"
)

// triggers say which rules can find anything in a file. They are found
// with a few whole-file searches (memchr speed) before any per-line work:
// most files of a repository hold no reference at all and are dismissed
// here, and in the others each per-line rule runs only when its trigger
// is in the file.
type triggers struct {
	image   bool // "image" ("Image", "IMAGE"): image keys and lists, kustomize, Helm values, name/value pairs
	split   bool // "repository" or "steps": Helm values and Cloud Build without an image key
	strong  bool // a token that may be an unambiguous inline reference, or a digest
	runners bool // "docker ", "podman ", "nerdctl "
	marker  bool // "laminar:"
}

func (t triggers) any() bool {
	return t.image || t.split || t.strong || t.runners || t.marker
}

// scanTriggers finds the triggers of a file with searches anchored on
// rare bytes (memchr speed): every rule but the docker commands starts
// from a ':' or '=' (a key such as "image:", "IMAGE=", "repository:",
// "steps:", "laminar:", a value such as "name: X_IMAGE", a tag) or an '@'
// (a digest); "docker " is found from its 'k', and in scripts "podman "
// and "nerdctl " (see isScript).
func scanTriggers(src []byte, script bool) triggers {
	var t triggers
	t.strong = bytes.Contains(src, []byte("@sha"))
	for off := 0; off < len(src); {
		i := bytes.IndexByte(src[off:], ':')
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		if !t.strong && i > 0 && i+1 < len(src) && tagStart(src[i+1]) && isRefChar(src[i-1]) && strongBefore(src, i) {
			t.strong = true
		}
		k := keyEndingAt(src, i)
		switch {
		case len(k) == 0:
		case imageKey(k) || imageListKey(k):
			t.image = true
		case string(k) == "repository" || string(k) == "steps":
			t.split = true
		case string(k) == "laminar":
			t.marker = true
		case string(k) == "name" && !t.image:
			v := wordAfter(src, i+1)
			t.image = imageKey(v) // "name: X_IMAGE"
		}
	}
	for off := 0; !t.image && off < len(src); {
		i := bytes.IndexByte(src[off:], '=')
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		if k := keyEndingAt(src, i); len(k) > 0 {
			t.image = imageKey(k) || imageListKey(k)
		}
	}
	t.runners = containsAt(src, "docker ", 3) || script && (containsAt(src, "podman ", 0) || containsAt(src, "nerdctl ", 6))
	return t
}

// keyEndingAt returns the key that ends before the separator at b[i]
// (blanks and one quote skipped) when it may be one a trigger looks for:
// it ends like "image", "images", "IMAGE_NAME", "repository", "steps",
// "laminar" or "name". Otherwise it returns nil.
func keyEndingAt(b []byte, i int) []byte {
	e := i
	for e > 0 && (b[e-1] == ' ' || b[e-1] == '\t') {
		e--
	}
	if e > 0 && (b[e-1] == '"' || b[e-1] == '\'') {
		e--
	}
	if e == 0 {
		return nil
	}
	switch b[e-1] {
	case 'e', 'E', 's', 'S', 'y', 'r':
	default:
		return nil
	}
	s := e
	for s > 0 && e-s < 64 && isKeyChar(b[s-1]) {
		s--
	}
	return b[s:e]
}

// wordAfter returns the word that starts after b[i:]'s blanks and quote.
func wordAfter(b []byte, i int) []byte {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '"' || b[i] == '\'') {
		i++
	}
	e := i
	for e < len(b) && e-i < 64 && isKeyChar(b[e]) {
		e++
	}
	return b[i:e]
}

// containsAt reports whether b holds needle, searching for its byte at
// index k, chosen to be rare in text.
func containsAt(b []byte, needle string, k int) bool {
	c := needle[k]
	for off := k; off < len(b); {
		i := bytes.IndexByte(b[off:], c)
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if s := i - k; s+len(needle) <= len(b) && string(b[s:s+len(needle)]) == needle {
			return true
		}
	}
	return false
}

// isScript reports whether a file is where commands are written: a shell
// script or Makefile, a Dockerfile, Markdown. Only there does the
// pre-filter look for podman and nerdctl (whose letters are common, so the
// search costs as much as all the others); "docker " is looked for
// everywhere, from its rare 'k'.
func isScript(p string, syn syntax) bool {
	switch syn {
	case synDockerfile, synMarkdown, synMakefile:
		return true
	case synOther:
	default:
		return false
	}
	base := path.Base(p)
	ext := path.Ext(base)
	switch ext {
	case "", ".sh", ".bash", ".zsh", ".ksh", ".mk", ".ps1", ".bat", ".cmd", ".bats", ".star", ".tiltfile", ".rst", ".adoc", ".txt", ".groovy":
		return ext != ".txt" || strings.EqualFold(base, "readme.txt")
	}
	return strings.EqualFold(base, "makefile") || strings.EqualFold(base, "justfile")
}

// hasStrongCandidate reports whether b may hold an unambiguous inline
// reference: a digest ("@sha256:"), or a ':' that follows a name with a
// '/' and precedes a tag, in a token that is not a URL (other than
// oci://). It is a superset of what inlineTokens reports.
func hasStrongCandidate(b []byte) bool {
	if bytes.Contains(b, []byte("@sha")) {
		return true
	}
	for off := 1; off < len(b); {
		i := bytes.IndexByte(b[off:], ':')
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if i+1 >= len(b) || !tagStart(b[i+1]) || !isRefChar(b[i-1]) {
			continue
		}
		if strongBefore(b, i) {
			return true
		}
	}
	return false
}

// strongBefore reports whether the token that ends at the ':' at b[i] has
// a '/' and is not a URL other than oci://.
func strongBefore(b []byte, i int) bool {
	slash := false
	k := i - 1
	lim := max(0, i-512)
	for ; k >= lim && isRefChar(b[k]); k-- {
		switch b[k] {
		case '/':
			slash = true
		case ':':
			if k+2 < i && b[k+1] == '/' && b[k+2] == '/' {
				// "scheme://": only oci://, docker:// and
				// docker-image:// name a registry artifact.
				return k >= 3 && string(b[k-3:k]) == "oci" || k >= 6 && string(b[k-6:k]) == "docker" ||
					k >= 12 && string(b[k-12:k]) == "docker-image"
			}
		}
	}
	return slash
}

func tagStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// lineHasImage reports whether a line may hold an image word.
func lineHasImage(code []byte) bool {
	return bytes.Contains(code, []byte("mage")) || bytes.Contains(code, []byte("MAGE"))
}

// The trimming helpers below stand in for bytes.TrimLeft and TrimRight
// with constant cutsets, which build a set on every call.

func trimBlanksLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func trimBlanksRight(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func trimBlanksCRRight(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func trimDashDotLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == '-' || b[0] == '.') {
		b = b[1:]
	}
	return b
}

// hasSeparator reports whether a line holds ':', '@' or '='.
func hasSeparator(b []byte) bool {
	return bytes.IndexByte(b, ':') >= 0 || bytes.IndexByte(b, '=') >= 0 || bytes.IndexByte(b, '@') >= 0
}
