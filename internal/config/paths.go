package config

import (
	"fmt"
	"path"
	"strings"
)

// pathPattern is one entry of an update rule's files or exclude list.
// Entries are relative to the repository root, like git pathspecs: "dev/"
// or "dev" covers everything below dev, "compose.yaml" covers that file,
// and globs use path.Match per segment with "**" for any number of segments.
type pathPattern struct {
	segments []string
}

func compilePaths(list []string) ([]pathPattern, error) {
	var out []pathPattern
	for _, raw := range list {
		p := strings.TrimPrefix(strings.TrimSpace(raw), "./")
		p = strings.Trim(p, "/")
		if p == "" || p == "." {
			// The whole repository.
			out = append(out, pathPattern{segments: []string{"**"}})
			continue
		}
		if strings.Contains(p, `\`) {
			return nil, fmt.Errorf("%q: use forward slashes", raw)
		}
		segs := strings.Split(p, "/")
		for _, s := range segs {
			if s == ".." {
				return nil, fmt.Errorf("%q leaves the repository", raw)
			}
			if s == "**" {
				continue
			}
			if _, err := path.Match(s, ""); err != nil {
				return nil, fmt.Errorf("bad glob %q: %v", raw, err)
			}
		}
		out = append(out, pathPattern{segments: segs})
	}
	return out, nil
}

// match reports whether the slash-separated repository path p is covered:
// the pattern matches p itself or one of its parent folders.
func (pp pathPattern) match(p string) bool {
	segs := strings.Split(p, "/")
	for n := len(segs); n >= 1; n-- {
		if matchSegments(pp.segments, segs[:n]) {
			return true
		}
	}
	return false
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// Covers reports whether the rule applies to the file at the repository
// path p: inside files (or files unset) and not inside exclude.
func (u Update) Covers(p string) bool {
	if len(u.files) > 0 {
		in := false
		for _, pp := range u.files {
			if pp.match(p) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	for _, pp := range u.exclude {
		if pp.match(p) {
			return false
		}
	}
	return true
}
