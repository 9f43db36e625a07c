package config

import (
	"fmt"
	"path"
	"slices"
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
		if err := checkRepoPath(raw); err != nil {
			return nil, err
		}
		p := strings.TrimPrefix(strings.TrimSpace(raw), "./")
		p = strings.Trim(p, "/")
		if p == "" || p == "." {
			// The whole repository.
			out = append(out, pathPattern{segments: []string{"**"}})
			continue
		}
		segs := strings.Split(p, "/")
		for _, s := range segs {
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

// checkRepoPath refuses a path that cannot name a place in the
// repository: an absolute one (which would otherwise be read as relative,
// covering what its writer did not mean), one that climbs out with "..",
// and one written with backslashes. Paths inside, such as "a/../b", are
// refused too: a rule's files should read as what they cover.
func checkRepoPath(raw string) error {
	p := strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(p, "/") || isDrive(p):
		return fmt.Errorf("%q is an absolute path; write it relative to the repository root", raw)
	case strings.Contains(p, `\`):
		return fmt.Errorf("%q: use forward slashes", raw)
	}
	clean := path.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("%q leaves the repository", raw)
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return fmt.Errorf("%q: write it without \"..\", as %q", raw, clean)
	}
	return nil
}

// isDrive reports whether p starts with a Windows drive, "C:" or "C:/".
func isDrive(p string) bool {
	if len(p) < 2 || p[1] != ':' || !('a' <= p[0]|0x20 && p[0]|0x20 <= 'z') {
		return false
	}
	return len(p) == 2 || p[2] == '/' || p[2] == '\\'
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
