package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	formatcfg "github.com/go-git/go-git/v5/plumbing/format/config"
)

// The repository's own configuration file ($GIT_COMMON_DIR/config, what
// `git config --local` reads and writes) holds settings that only the
// local user can make: nobody can push a change to it. Values are edited
// in the text, under git's config.lock, so that comments, order and every
// other setting stay as they were.

// LocalConfig returns every value of key ("section.name", no subsection)
// in the repository's local configuration file, in file order.
func (r *Repo) LocalConfig(key string) ([]string, error) {
	if _, _, err := splitSimpleKey(key); err != nil {
		return nil, err
	}
	text, err := os.ReadFile(r.localConfigPath())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	c := newGitConfig()
	if err := c.readText(text); err != nil {
		return nil, fmt.Errorf("%s: %w", r.localConfigPath(), err)
	}
	return c.vals[canonicalKey(key)], nil
}

// AddLocalConfig adds a value for key to the local configuration, like
// `git config --local --add key value`. A value already present is not
// added twice.
func (r *Repo) AddLocalConfig(key, value string) error {
	section, name, err := splitSimpleKey(key)
	if err != nil {
		return err
	}
	if strings.ContainsAny(value, "\n\x00") {
		return fmt.Errorf("config %s: value contains a newline or NUL", key)
	}
	return r.editLocalConfig(func(text []byte) ([]byte, error) {
		c := newGitConfig()
		if err := c.readText(text); err != nil {
			return nil, err
		}
		for _, v := range c.vals[canonicalKey(key)] {
			if v == value {
				return text, nil
			}
		}
		line := "\t" + name + " = " + quoteConfigValue(value) + "\n"
		// After the last line of the last [section] block, else a new block.
		lines := splitLinesKeep(text)
		insert := -1
		in := false
		for i, l := range lines {
			if h, ok := sectionHeader(l); ok {
				in = strings.EqualFold(h, section)
				if in {
					insert = i + 1
				}
				continue
			}
			if in {
				insert = i + 1
			}
		}
		var out bytes.Buffer
		if insert < 0 {
			out.Write(text)
			if len(text) > 0 && !bytes.HasSuffix(text, []byte("\n")) {
				out.WriteByte('\n')
			}
			out.WriteString("[" + section + "]\n" + line)
			return out.Bytes(), nil
		}
		for i, l := range lines {
			out.WriteString(l)
			if i == insert-1 {
				if !strings.HasSuffix(l, "\n") {
					out.WriteByte('\n')
				}
				out.WriteString(line)
			}
		}
		return out.Bytes(), nil
	})
}

// UnsetLocalConfig removes the values of key for which keep returns false
// (every value when keep is nil), like `git config --local --unset-all`.
// It returns how many were removed.
func (r *Repo) UnsetLocalConfig(key string, keep func(value string) bool) (int, error) {
	section, name, err := splitSimpleKey(key)
	if err != nil {
		return 0, err
	}
	removed := 0
	err = r.editLocalConfig(func(text []byte) ([]byte, error) {
		removed = 0
		var out bytes.Buffer
		in := false
		for _, l := range splitLinesKeep(text) {
			if h, ok := sectionHeader(l); ok {
				in = strings.EqualFold(h, section)
				out.WriteString(l)
				continue
			}
			if in {
				if k, v, ok := simpleAssignment(l); ok && strings.EqualFold(k, name) && (keep == nil || !keep(v)) {
					removed++
					continue
				}
			}
			out.WriteString(l)
		}
		return out.Bytes(), nil
	})
	return removed, err
}

func (r *Repo) localConfigPath() string { return filepath.Join(r.CommonDir, "config") }

// editLocalConfig rewrites the local configuration under config.lock and
// checks that git's parser still reads the result.
func (r *Repo) editLocalConfig(edit func([]byte) ([]byte, error)) error {
	path := r.localConfigPath()
	lock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer lock.rollback()
	text, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	out, err := edit(text)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(out, text) {
		return nil
	}
	if err := newGitConfig().readText(out); err != nil {
		return fmt.Errorf("%s: the edited file would not parse: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil {
		if err := lock.f.Chmod(fi.Mode().Perm()); err != nil {
			return err
		}
	}
	return lock.commit(out)
}

// readText adds the values of configuration text to c, without following
// includes.
func (c *gitConfig) readText(text []byte) error {
	raw := formatcfg.New()
	if err := formatcfg.NewDecoder(bytes.NewReader(text)).Decode(raw); err != nil {
		return fmt.Errorf("bad config: %w", err)
	}
	for _, s := range raw.Sections {
		sec := strings.ToLower(s.Name)
		for _, o := range s.Options {
			c.add(sec+"."+o.Key, o.Value)
		}
		for _, ss := range s.Subsections {
			for _, o := range ss.Options {
				c.add(sec+"."+ss.Name+"."+o.Key, o.Value)
			}
		}
	}
	return nil
}

var simpleKeyRE = regexp.MustCompile(`^([A-Za-z0-9-]+)\.([A-Za-z][A-Za-z0-9-]*)$`)

func splitSimpleKey(key string) (section, name string, err error) {
	m := simpleKeyRE.FindStringSubmatch(key)
	if m == nil {
		return "", "", fmt.Errorf("config key %q: want section.name", key)
	}
	return m[1], m[2], nil
}

func splitLinesKeep(text []byte) []string {
	var out []string
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			out = append(out, string(text))
			break
		}
		out = append(out, string(text[:i+1]))
		text = text[i+1:]
	}
	return out
}

// sectionHeader reads a "[section]" line without a subsection; a header
// with a subsection reports ok with a name that matches no simple section.
func sectionHeader(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "[") {
		return "", false
	}
	end := strings.IndexByte(t, ']')
	if end < 0 {
		return "", false
	}
	h := strings.TrimSpace(t[1:end])
	if strings.ContainsAny(h, " \t\".") {
		return "\x00" + h, true // "[section "sub"]" or "[section.sub]"
	}
	return h, true
}

// simpleAssignment reads a "name = value" line with a plain or quoted
// value, as AddLocalConfig writes them.
func simpleAssignment(line string) (name, value string, ok bool) {
	t := strings.TrimSpace(line)
	k, v, found := strings.Cut(t, "=")
	if !found || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
		return "", "", false
	}
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(v[1 : len(v)-1])
	}
	return strings.TrimSpace(k), v, true
}

func quoteConfigValue(v string) string {
	if v != "" && !strings.ContainsAny(v, "\"\\#; \t") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
