package config

import (
	"fmt"
	"strings"
)

// imagePattern is one entry of an update rule's images list: a glob over
// an image's name, '*' matching any run of characters ('/' included) and
// '?' one character. A leading '!' makes it an exclusion.
type imagePattern struct {
	glob   string
	negate bool
}

// compileImages checks an images list: each entry a non-empty glob of the
// characters image names are made of, in lowercase (names are), '!' only
// in front, with no tag or digest. A list of exclusions alone takes every
// other image.
func compileImages(list []string) ([]imagePattern, error) {
	var out []imagePattern
	for _, raw := range list {
		g, neg := strings.CutPrefix(raw, "!")
		switch {
		case g == "":
			return nil, fmt.Errorf("%q: an empty pattern matches no image", raw)
		case strings.ContainsAny(g, "@"):
			return nil, fmt.Errorf("%q: write the image name without tag or digest", raw)
		case strings.Contains(g, "://"):
			return nil, fmt.Errorf("%q: write the image name without a scheme", raw)
		}
		for _, c := range g {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.ContainsRune("._-/:*?", c):
			case c >= 'A' && c <= 'Z':
				return nil, fmt.Errorf("%q: image names are lowercase", raw)
			default:
				return nil, fmt.Errorf("%q: %q cannot be part of an image name", raw, c)
			}
		}
		if i := strings.LastIndexByte(g, ':'); i >= 0 && !strings.Contains(g[i:], "/") {
			// A ':' after the last '/' is a tag, not a registry port.
			return nil, fmt.Errorf("%q: write the image name without tag; the pattern key chooses tags", raw)
		}
		out = append(out, imagePattern{glob: g, negate: neg})
	}
	return out, nil
}

// globMatch reports whether name matches g, where '*' matches any run of
// characters and '?' any one.
func globMatch(g, name string) bool {
	// Iterative matching with one backtrack point: linear in practice,
	// never exponential on hostile patterns such as "*a*a*a*a*b".
	gi, ni := 0, 0
	star, mark := -1, 0
	for ni < len(name) {
		switch {
		case gi < len(g) && (g[gi] == '?' || g[gi] == name[ni]):
			gi++
			ni++
		case gi < len(g) && g[gi] == '*':
			star, mark = gi, ni
			gi++
		case star >= 0:
			gi = star + 1
			mark++
			ni = mark
		default:
			return false
		}
	}
	for gi < len(g) && g[gi] == '*' {
		gi++
	}
	return gi == len(g)
}

// ManagesImage reports whether the rule's images list takes the image
// known by names (its normalised repository, "docker.io/library/nginx",
// and its name as written, "nginx"): any name matches an entry without
// '!' (or there is none) and no name matches an entry with '!'. A rule
// without images takes every image.
func (u Update) ManagesImage(names ...string) bool {
	included := true
	for _, p := range u.images {
		if !p.negate {
			included = false
			break
		}
	}
	for _, p := range u.images {
		for _, n := range names {
			if globMatch(p.glob, n) {
				if p.negate {
					return false
				}
				included = true
			}
		}
	}
	return included
}
