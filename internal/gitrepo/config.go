package gitrepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	formatcfg "github.com/go-git/go-git/v5/plumbing/format/config"
)

// gitConfig holds git configuration values in the order they were read,
// keyed by canonical name: "section.key" or "section.subsection.key" with
// section and key in lower case (subsections are case sensitive).
type gitConfig struct {
	vals map[string][]string
}

func newGitConfig() *gitConfig { return &gitConfig{vals: map[string][]string{}} }

// get returns the last value of key ("" when unset).
func (c *gitConfig) get(key string) string {
	v := c.vals[canonicalKey(key)]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func (c *gitConfig) has(key string) bool { return len(c.vals[canonicalKey(key)]) > 0 }

// getBool interprets key as git does; a key written without "=" reads as
// "" here and counts as true.
func (c *gitConfig) getBool(key string, def bool) (bool, error) {
	if !c.has(key) {
		return def, nil
	}
	switch strings.ToLower(c.get(key)) {
	case "", "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("bad boolean config value %q for %s", c.get(key), key)
}

func (c *gitConfig) add(key, value string) {
	k := canonicalKey(key)
	c.vals[k] = append(c.vals[k], value)
}

func canonicalKey(key string) string {
	first := strings.IndexByte(key, '.')
	last := strings.LastIndexByte(key, '.')
	if first < 0 {
		return strings.ToLower(key)
	}
	return strings.ToLower(key[:first]) + key[first:last] + strings.ToLower(key[last:])
}

// loadConfigFile reads one config file without following includes. A
// missing file is empty.
func loadConfigFile(path string) (*gitConfig, error) {
	c := newGitConfig()
	return c, c.readFile(path, nil, 0)
}

// readFile adds the values of one config file to c. Files named by
// include.path, and by includeIf.<cond>.path when include is non-nil and
// says the condition holds, are read after the including file's own
// values (git reads them in place; the difference only shows when the same
// key is set both before and after an include in one file).
func (c *gitConfig) readFile(path string, include func(cond string) bool, depth int) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if depth > 10 {
		return fmt.Errorf("%s: include depth exceeded", path)
	}
	raw := formatcfg.New()
	if err := formatcfg.NewDecoder(f).Decode(raw); err != nil {
		return fmt.Errorf("%s: bad config: %w", path, err)
	}
	var includes []string
	for _, s := range raw.Sections {
		sec := strings.ToLower(s.Name)
		for _, o := range s.Options {
			c.add(sec+"."+o.Key, o.Value)
			if sec == "include" && strings.EqualFold(o.Key, "path") {
				includes = append(includes, o.Value)
			}
		}
		for _, ss := range s.Subsections {
			for _, o := range ss.Options {
				c.add(sec+"."+ss.Name+"."+o.Key, o.Value)
				if sec == "includeif" && strings.EqualFold(o.Key, "path") && include != nil && include(ss.Name) {
					includes = append(includes, o.Value)
				}
			}
		}
	}
	for _, inc := range includes {
		p, err := expandPath(inc)
		if err != nil {
			return fmt.Errorf("%s: include %q: %w", path, inc, err)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		if err := c.readFile(p, include, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// expandPath expands a leading "~/" like git's interpolate_path.
func expandPath(p string) (string, error) {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home := os.Getenv("HOME")
		if home == "" {
			return "", errors.New("HOME is not set")
		}
		return filepath.Join(home, rest), nil
	}
	return p, nil
}

// config loads the configuration git would see in this worktree: system
// (unless GIT_CONFIG_NOSYSTEM), global ($XDG_CONFIG_HOME/git/config, then
// ~/.gitconfig, or GIT_CONFIG_GLOBAL), local, worktree (with
// extensions.worktreeConfig), GIT_CONFIG_COUNT pairs and the `git -c`
// values git passes in GIT_CONFIG_PARAMETERS. HOME and XDG_CONFIG_HOME come
// from the environment at call time.
func (r *Repo) config() (*gitConfig, error) {
	c := newGitConfig()
	include := r.includeIf
	if !envBool("GIT_CONFIG_NOSYSTEM") {
		sys := os.Getenv("GIT_CONFIG_SYSTEM")
		if sys == "" {
			sys = "/etc/gitconfig"
		}
		if err := c.readFile(sys, include, 0); err != nil {
			return nil, err
		}
	}
	if g, ok := os.LookupEnv("GIT_CONFIG_GLOBAL"); ok {
		if err := c.readFile(g, include, 0); err != nil {
			return nil, err
		}
	} else {
		home := os.Getenv("HOME")
		xdg := os.Getenv("XDG_CONFIG_HOME")
		if xdg == "" && home != "" {
			xdg = filepath.Join(home, ".config")
		}
		if xdg != "" {
			if err := c.readFile(filepath.Join(xdg, "git", "config"), include, 0); err != nil {
				return nil, err
			}
		}
		if home != "" {
			if err := c.readFile(filepath.Join(home, ".gitconfig"), include, 0); err != nil {
				return nil, err
			}
		}
	}
	if err := c.readFile(filepath.Join(r.CommonDir, "config"), include, 0); err != nil {
		return nil, err
	}
	if wc, _ := c.getBool("extensions.worktreeconfig", false); wc {
		if err := c.readFile(filepath.Join(r.GitDir, "config.worktree"), include, 0); err != nil {
			return nil, err
		}
	}
	if n, _ := strconv.Atoi(os.Getenv("GIT_CONFIG_COUNT")); n > 0 {
		for i := 0; i < n; i++ {
			k := os.Getenv(fmt.Sprintf("GIT_CONFIG_KEY_%d", i))
			if k != "" {
				c.add(k, os.Getenv(fmt.Sprintf("GIT_CONFIG_VALUE_%d", i)))
			}
		}
	}
	for _, kv := range parseConfigParameters(os.Getenv("GIT_CONFIG_PARAMETERS")) {
		c.add(kv[0], kv[1])
	}
	return c, nil
}

func envBool(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// includeIf evaluates the conditions git supports for identity-relevant
// includes: gitdir:, gitdir/i: and onbranch:. Others are not included.
func (r *Repo) includeIf(cond string) bool {
	kind, pat, ok := strings.Cut(cond, ":")
	if !ok {
		return false
	}
	switch kind {
	case "gitdir", "gitdir/i":
		p, err := expandPath(pat)
		if err != nil {
			return false
		}
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "./") {
			p = "**/" + p
		}
		if strings.HasSuffix(p, "/") {
			p += "**"
		}
		for _, dir := range []string{r.GitDir, r.CommonDir} {
			if globMatch(p, filepath.ToSlash(dir), kind == "gitdir/i") {
				return true
			}
		}
	case "onbranch":
		_, ref, err := r.readHead()
		if ref == "" && err != nil {
			return false
		}
		if strings.HasSuffix(pat, "/") {
			pat += "**"
		}
		return globMatch(pat, strings.TrimPrefix(ref, "refs/heads/"), false)
	}
	return false
}

// globMatch matches name against a wildmatch pattern in pathname mode:
// "*" and "?" stop at "/", "**/" matches any number of directories.
func globMatch(pattern, name string, fold bool) bool {
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := pattern[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(name)
}

// parseConfigParameters parses GIT_CONFIG_PARAMETERS, which git sets for
// subcommands run as `git -c key=value laminar`: whitespace-separated
// shell-quoted words, either 'key=value' or 'key'='value'.
func parseConfigParameters(s string) [][2]string {
	var out [][2]string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			return out
		}
		var word strings.Builder
		eq := -1 // position of an unquoted '=' in word
		for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' {
			switch s[i] {
			case '\'':
				end := strings.IndexByte(s[i+1:], '\'')
				if end < 0 {
					return out // malformed: ignore the rest, as git errors
				}
				word.WriteString(s[i+1 : i+1+end])
				i += end + 2
			case '\\':
				if i+1 < len(s) {
					word.WriteByte(s[i+1])
				}
				i += 2
			case '=':
				if eq < 0 {
					eq = word.Len()
				}
				word.WriteByte('=')
				i++
			default:
				word.WriteByte(s[i])
				i++
			}
		}
		w := word.String()
		if eq < 0 {
			eq = strings.IndexByte(w, '=')
		}
		if eq < 0 {
			out = append(out, [2]string{w, ""})
		} else {
			out = append(out, [2]string{w[:eq], w[eq+1:]})
		}
	}
}
