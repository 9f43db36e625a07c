package gitrepo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing/format/gitattributes"
)

// Commit writes the working tree bytes of a file unchanged. git, however,
// runs "clean" conversions when it stages a file: CRLF to LF for text
// (core.autocrlf, text, eol), $Id$ collapsing (ident), re-encoding
// (working-tree-encoding) and filter drivers (filter=lfs and the like). The
// checks below refuse a path whenever such a conversion would change the
// bytes, so we never commit something git would not have committed.

// attrChecker answers attribute questions for paths of one repository,
// caching the .gitattributes files it reads.
type attrChecker struct {
	r        *Repo
	autocrlf string
	global   []gitattributes.MatchAttribute // system + core.attributesFile
	info     []gitattributes.MatchAttribute // $GIT_DIR/info/attributes
	macros   map[string][]gitattributes.Attribute
	dirs     map[string][]gitattributes.MatchAttribute
}

func (r *Repo) newAttrChecker(cfg *gitConfig) (*attrChecker, error) {
	c := &attrChecker{
		r:        r,
		autocrlf: strings.ToLower(cfg.get("core.autocrlf")),
		macros:   map[string][]gitattributes.Attribute{},
		dirs:     map[string][]gitattributes.MatchAttribute{},
	}
	// git's built-in macro.
	bin, _ := gitattributes.ParseAttributesLine("[attr]binary -diff -merge -text", nil, true)
	c.macros["binary"] = bin.Attributes

	var files []string
	if !envBool("GIT_ATTR_NOSYSTEM") {
		files = append(files, "/etc/gitattributes")
	}
	if f := cfg.get("core.attributesfile"); f != "" {
		p, err := expandPath(f)
		if err != nil {
			return nil, err
		}
		files = append(files, p)
	} else if xdg := os.Getenv("XDG_CONFIG_HOME"); xdg != "" {
		files = append(files, filepath.Join(xdg, "git", "attributes"))
	} else if home := os.Getenv("HOME"); home != "" {
		files = append(files, filepath.Join(home, ".config", "git", "attributes"))
	}
	for _, f := range files {
		m, err := c.readFile(f, nil, true)
		if err != nil {
			return nil, err
		}
		c.global = append(c.global, m...)
	}
	m, err := c.readFile(filepath.Join(r.CommonDir, "info", "attributes"), nil, true)
	if err != nil {
		return nil, err
	}
	c.info = m
	return c, nil
}

// readFile parses an attributes file. Macro definitions are honoured only
// where git honours them (not in .gitattributes below the top); lines git
// would warn about are skipped.
func (c *attrChecker) readFile(path string, domain []string, allowMacro bool) ([]gitattributes.MatchAttribute, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || isDirErr(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []gitattributes.MatchAttribute
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		m, err := gitattributes.ParseAttributesLine(sc.Text(), domain, true)
		if err != nil || m.Name == "" {
			continue
		}
		if m.Pattern == nil {
			if allowMacro {
				c.macros[m.Name] = m.Attributes
			}
			continue
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func isDirErr(err error) bool { return errors.Is(err, syscall.EISDIR) }

// attributes returns the attributes of path (slash-separated), applying
// sources from lowest to highest precedence so later ones win, as git's
// attribute stack does.
func (c *attrChecker) attributes(path string) (map[string]gitattributes.Attribute, error) {
	parts := strings.Split(path, "/")
	stack := append([]gitattributes.MatchAttribute(nil), c.global...)
	for i := 0; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/")
		m, ok := c.dirs[dir]
		if !ok {
			var err error
			m, err = c.readFile(filepath.Join(c.r.Root, filepath.FromSlash(dir), ".gitattributes"), parts[:i], i == 0)
			if err != nil {
				return nil, err
			}
			c.dirs[dir] = m
		}
		stack = append(stack, m...)
	}
	stack = append(stack, c.info...)

	res := map[string]gitattributes.Attribute{}
	for _, m := range stack {
		if !m.Pattern.Match(parts) {
			continue
		}
		for _, a := range m.Attributes {
			if a.IsSet() {
				for _, ma := range c.macros[a.Name()] {
					res[ma.Name()] = ma
				}
			}
			if a.IsUnspecified() {
				delete(res, a.Name())
			} else {
				res[a.Name()] = a
			}
		}
	}
	return res, nil
}

// checkConversion returns an error when git would not store content
// byte for byte for path.
func (c *attrChecker) checkConversion(path string, content []byte) error {
	attrs, err := c.attributes(path)
	if err != nil {
		return err
	}
	refuse := func(why string) error {
		return fmt.Errorf("%s: %s; git would convert this file when committing it, so git-laminar will not commit it", path, why)
	}
	if a, ok := attrs["filter"]; ok && a.IsValueSet() {
		return refuse(fmt.Sprintf("attribute filter=%s applies", a.Value()))
	}
	if a, ok := attrs["working-tree-encoding"]; ok && a.IsValueSet() {
		return refuse(fmt.Sprintf("attribute working-tree-encoding=%s applies", a.Value()))
	}
	if a, ok := attrs["ident"]; ok && a.IsSet() && bytes.Contains(content, []byte("$Id")) {
		return refuse("attribute ident applies and the file contains $Id")
	}
	if !bytes.Contains(content, []byte("\r")) {
		return nil // end-of-line conversion only removes CRs
	}
	// Which end-of-line rule applies, in git's order (convert.c).
	text := "" // "", "set", "unset", "auto"
	if a, ok := attrs["text"]; ok {
		switch {
		case a.IsSet():
			text = "set"
		case a.IsUnset():
			text = "unset"
		case a.IsValueSet() && a.Value() == "auto":
			text = "auto"
		}
	} else if a, ok := attrs["crlf"]; ok { // legacy attribute
		switch {
		case a.IsSet():
			text = "set"
		case a.IsUnset():
			text = "unset"
		case a.IsValueSet() && a.Value() == "input":
			text = "set"
		}
	}
	if text == "unset" {
		return nil
	}
	if a, ok := attrs["eol"]; ok && a.IsValueSet() {
		return refuse(fmt.Sprintf("it contains CR characters and attribute eol=%s applies", a.Value()))
	}
	if text != "" {
		return refuse(fmt.Sprintf("it contains CR characters and attribute text%s applies", map[string]string{"set": "", "auto": "=auto"}[text]))
	}
	switch c.autocrlf {
	case "true", "yes", "on", "1", "input":
		return refuse(fmt.Sprintf("it contains CR characters and core.autocrlf=%s applies", c.autocrlf))
	}
	return nil
}
