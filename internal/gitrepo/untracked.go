package gitrepo

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// UntrackedFiles lists the files of the working tree that the index does
// not hold and git does not ignore, as `git ls-files --others
// --exclude-standard` does: slash-separated paths relative to Root, sorted.
// Ignore rules come from .gitignore files, $GIT_COMMON_DIR/info/exclude and
// core.excludesFile (default $XDG_CONFIG_HOME/git/ignore). Ignored
// directories are not entered; nested repositories (a directory with its
// own .git) are left out, as are the .git directory and files that are
// neither regular files nor symlinks.
func (r *Repo) UntrackedFiles() ([]string, error) {
	idx, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	tracked := make(map[string]bool, len(idx.entries))
	for _, e := range idx.entries {
		tracked[e.name] = true
	}
	cfg, err := r.config()
	if err != nil {
		return nil, err
	}
	var base []gitignore.Pattern
	excludes := cfg.get("core.excludesfile")
	if excludes == "" {
		xdg := os.Getenv("XDG_CONFIG_HOME")
		if xdg == "" && os.Getenv("HOME") != "" {
			xdg = filepath.Join(os.Getenv("HOME"), ".config")
		}
		if xdg != "" {
			excludes = filepath.Join(xdg, "git", "ignore")
		}
	} else if excludes, err = expandPath(excludes); err != nil {
		return nil, fmt.Errorf("core.excludesFile: %w", err)
	}
	for _, f := range []string{excludes, filepath.Join(r.CommonDir, "info", "exclude")} {
		if f == "" {
			continue
		}
		ps, err := readIgnorePatterns(f, nil)
		if err != nil {
			return nil, err
		}
		base = append(base, ps...)
	}
	var out []string
	if err := r.walkUntracked("", base, tracked, &out); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

func (r *Repo) walkUntracked(dir string, patterns []gitignore.Pattern, tracked map[string]bool, out *[]string) error {
	full := filepath.Join(r.Root, filepath.FromSlash(dir))
	var domain []string
	if dir != "" {
		domain = strings.Split(dir, "/")
	}
	own, err := readIgnorePatterns(filepath.Join(full, ".gitignore"), domain)
	if err != nil {
		return err
	}
	if len(own) > 0 {
		patterns = append(append([]gitignore.Pattern(nil), patterns...), own...)
	}
	matcher := gitignore.NewMatcher(patterns)
	entries, err := os.ReadDir(full)
	if err != nil {
		if dir != "" && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		name := e.Name()
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		if dir == "" && name == ".git" {
			continue
		}
		parts := append(append([]string(nil), domain...), name)
		switch t := e.Type(); {
		case t.IsDir():
			if tracked[p] { // a sparse-index directory entry
				continue
			}
			if _, err := os.Lstat(filepath.Join(full, name, ".git")); err == nil {
				continue // a nested repository or submodule
			}
			if matcher.Match(parts, true) {
				continue
			}
			if err := r.walkUntracked(p, patterns, tracked, out); err != nil {
				return err
			}
		case t.IsRegular() || t&fs.ModeSymlink != 0:
			if !tracked[p] && !matcher.Match(parts, false) {
				*out = append(*out, p)
			}
		}
	}
	return nil
}

// readIgnorePatterns reads one ignore file; a missing file has none.
func readIgnorePatterns(path string, domain []string) ([]gitignore.Pattern, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || isDirErr(err) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}
