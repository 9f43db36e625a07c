// Package fleet reads the fleet file of `git laminar serve`: the
// repositories the service keeps promoted, how to reach them, how often
// to run, and where the API token and webhook secrets are found.
//
// The file belongs to the machine's owner (it names keys and secrets), so
// it may point at files and variables; what it may not do is make a
// repository's name leave the state directory or hand git an option.
package fleet

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// Defaults and bounds.
const (
	DefaultInterval    = 5 * time.Minute
	MinInterval        = 10 * time.Second
	DefaultConcurrency = 4
	MaxConcurrency     = 64
	// MaxRepositories bounds what one service takes on; beyond it, shard.
	MaxRepositories = 10000
	maxFileSize     = 4 << 20
)

// Sources are the webhook sources the service understands, each served at
// /webhooks/<source>.
var Sources = []string{"distribution", "dockerhub", "harbor", "quay", "github", "gitlab", "generic"}

// File is a read fleet file.
type File struct {
	Path string
	// TokenEnv names the environment variable that holds the bearer
	// token of /v1/*. Empty: no token, and the API listens on loopback only.
	TokenEnv string
	// Concurrency bounds the promotions running at once across the fleet.
	Concurrency  int
	Repositories []Repository
	// Webhooks maps a source to the variable holding its secret.
	Webhooks map[string]Webhook
}

// Repository is one [[repository]] table.
type Repository struct {
	Name   string
	URL    string
	Branch string // empty: the remote's default branch
	// SSHKey is a private key file for ssh remotes, ~ expanded.
	SSHKey     string
	KnownHosts []string
	Interval   time.Duration
	// Config is laminar.toml's path inside the repository; empty: the
	// repository's laminar.toml.
	Config      string
	PullRequest bool
	Line        int // the line of its [[repository]] header, for messages
}

// Webhook is one [webhooks.<source>] table.
type Webhook struct {
	SecretEnv string
}

// Error is a problem at one place of the fleet file; it reads
// "fleet.toml:12: repository \"x\".interval: ...".
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(printable.String(e.Key) + ": ")
	}
	b.WriteString(printable.String(e.Msg))
	return b.String()
}

type rawFile struct {
	TokenEnv    string                `toml:"token_env"`
	Concurrency *int                  `toml:"concurrency"`
	Repository  []rawRepository       `toml:"repository"`
	Webhooks    map[string]rawWebhook `toml:"webhooks"`
}

type rawRepository struct {
	Name        string   `toml:"name"`
	URL         string   `toml:"url"`
	Branch      string   `toml:"branch"`
	SSHKey      string   `toml:"ssh_key"`
	KnownHosts  []string `toml:"known_hosts"`
	Interval    string   `toml:"interval"`
	Config      string   `toml:"config"`
	PullRequest bool     `toml:"pull_request"`
}

type rawWebhook struct {
	SecretEnv string `toml:"secret_env"`
}

// Load reads and checks the fleet file at path.
func Load(path string) (*File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("fleet file: %w", err)
	}
	if fi.Size() > maxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("%d bytes; a fleet file is at most %d", fi.Size(), maxFileSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fleet file: %w", err)
	}
	return Parse(path, data)
}

var typeErrRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// Parse checks fleet text; path names it in errors.
func Parse(path string, data []byte) (*File, error) {
	fail := func(line int, key, format string, a ...any) error {
		return &Error{File: path, Line: line, Key: key, Msg: fmt.Sprintf(format, a...)}
	}
	if !utf8.Valid(data) {
		return nil, fail(0, "", "not UTF-8 text")
	}
	var raw rawFile
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fail(pe.Position.Line, pe.LastKey, "%s", pe.Message)
		}
		var ppe *toml.ParseError
		if errors.As(err, &ppe) {
			return nil, fail(ppe.Position.Line, ppe.LastKey, "%s", ppe.Message)
		}
		if m := typeErrRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, fail(line, m[2], "%s", m[3])
		}
		return nil, fail(0, "", "%s", strings.TrimPrefix(err.Error(), "toml: "))
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, fail(loc.keyLine(k), k.String(), "unknown key")
	}
	f := &File{Path: path, TokenEnv: raw.TokenEnv, Concurrency: DefaultConcurrency, Webhooks: map[string]Webhook{}}
	if f.TokenEnv != "" && !envName(f.TokenEnv) {
		return nil, fail(loc.topLine("token_env"), "token_env", "%q is not an environment variable name", f.TokenEnv)
	}
	if raw.Concurrency != nil {
		c := *raw.Concurrency
		if c < 1 || c > MaxConcurrency {
			return nil, fail(loc.topLine("concurrency"), "concurrency", "%d is not between 1 and %d", c, MaxConcurrency)
		}
		f.Concurrency = c
	}
	if len(raw.Repository) == 0 {
		return nil, fail(0, "repository", "no [[repository]] table; name at least one repository to keep promoted")
	}
	if len(raw.Repository) > MaxRepositories {
		return nil, fail(0, "repository", "%d repositories; at most %d per service (use --shard)", len(raw.Repository), MaxRepositories)
	}
	seen := map[string]int{}
	for i, r := range raw.Repository {
		line := loc.tableLine("repository", i)
		label := fmt.Sprintf("repository %q", r.Name)
		if r.Name == "" {
			label = fmt.Sprintf("repository #%d", i+1)
		}
		keyLine := func(k string) int {
			if l := loc.keyLineIn("repository", i, k); l > 0 {
				return l
			}
			return line
		}
		key := func(k string) string { return label + "." + k }
		if err := CheckName(r.Name); err != nil {
			return nil, fail(keyLine("name"), key("name"), "%v", err)
		}
		if prev, dup := seen[r.Name]; dup {
			return nil, fail(keyLine("name"), key("name"), "the name is taken by the repository at line %d", prev)
		}
		seen[r.Name] = line
		if err := checkURL(r.URL); err != nil {
			return nil, fail(keyLine("url"), key("url"), "%v", err)
		}
		if r.Branch != "" && !branchName(r.Branch) {
			return nil, fail(keyLine("branch"), key("branch"), "%q is not a branch name", r.Branch)
		}
		repo := Repository{Name: r.Name, URL: localURL(path, r.URL), Branch: r.Branch, Interval: DefaultInterval,
			PullRequest: r.PullRequest, Line: line}
		if r.SSHKey != "" {
			if repo.SSHKey, err = expandHome(r.SSHKey); err != nil {
				return nil, fail(keyLine("ssh_key"), key("ssh_key"), "%v", err)
			}
		}
		for _, kh := range r.KnownHosts {
			p, err := expandHome(kh)
			if err != nil {
				return nil, fail(keyLine("known_hosts"), key("known_hosts"), "%v", err)
			}
			repo.KnownHosts = append(repo.KnownHosts, p)
		}
		if r.Interval != "" {
			d, err := time.ParseDuration(r.Interval)
			if err != nil {
				return nil, fail(keyLine("interval"), key("interval"), "%q is not a duration such as 5m or 90s", r.Interval)
			}
			if d < MinInterval {
				return nil, fail(keyLine("interval"), key("interval"), "%s is shorter than %s", d, MinInterval)
			}
			repo.Interval = d
		}
		if r.Config != "" {
			if err := checkConfigPath(r.Config); err != nil {
				return nil, fail(keyLine("config"), key("config"), "%v", err)
			}
			repo.Config = filepath.FromSlash(r.Config)
		}
		f.Repositories = append(f.Repositories, repo)
	}
	sources := make([]string, 0, len(raw.Webhooks))
	for s := range raw.Webhooks {
		sources = append(sources, s)
	}
	slices.Sort(sources)
	for _, s := range sources {
		w := raw.Webhooks[s]
		line := loc.headerLine("webhooks." + s)
		if !slices.Contains(Sources, s) {
			return nil, fail(line, "webhooks."+s, "unknown source; one of %s", strings.Join(Sources, ", "))
		}
		if w.SecretEnv == "" {
			return nil, fail(line, "webhooks."+s+".secret_env", "missing; name the environment variable that holds the source's secret")
		}
		if !envName(w.SecretEnv) {
			return nil, fail(line, "webhooks."+s+".secret_env", "%q is not an environment variable name", w.SecretEnv)
		}
		f.Webhooks[s] = Webhook{SecretEnv: w.SecretEnv}
	}
	return f, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// CheckName refuses a repository name that could not be a directory of
// its own under the state directory: empty, a path, "..", a name starting
// with a dot or a dash, or characters beyond letters, digits, ".", "_" and "-".
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("missing; give the repository a name (letters, digits, '.', '_', '-')")
	case !nameRE.MatchString(name):
		return fmt.Errorf("%q: a name is 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("%q: a name may not hold \"..\"", name)
	case strings.HasSuffix(strings.ToLower(name), ".lock"):
		return fmt.Errorf("%q: a name may not end in .lock", name)
	}
	return nil
}

// checkURL accepts what git clones from and refuses what would make git
// run a command or read an option: a leading dash, the ext:: and fd::
// transports, control characters.
func checkURL(u string) error {
	switch {
	case u == "":
		return errors.New("missing; the repository's git URL (ssh://, git@host:path, https://, file://)")
	case strings.HasPrefix(u, "-"):
		return fmt.Errorf("%q starts with '-': git would read it as an option", u)
	case strings.ContainsFunc(u, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%q holds a control character", u)
	}
	lower := strings.ToLower(u)
	for _, p := range []string{"ext::", "fd::"} {
		if strings.HasPrefix(lower, p) {
			return fmt.Errorf("%q: the %s transport runs commands and is not allowed", u, strings.TrimSuffix(p, "::"))
		}
	}
	if i := strings.Index(u, "://"); i > 0 {
		switch lower[:i] {
		case "ssh", "git+ssh", "ssh+git", "https", "http", "file", "git":
		default:
			return fmt.Errorf("%q: scheme %q is not ssh, https, http, git or file", u, u[:i])
		}
		if lower[:i] == "http" || lower[:i] == "https" {
			if at := strings.Index(u[i+3:], "@"); at >= 0 && strings.Contains(u[i+3:i+3+at], ":") {
				return errors.New("the URL holds a password; leave credentials to git's credential helpers")
			}
		}
	}
	return nil
}

// localURL makes a relative local path absolute from the fleet file's
// directory: the clones are made elsewhere.
func localURL(fleetPath, u string) string {
	if strings.Contains(u, "://") || filepath.IsAbs(u) {
		return u
	}
	if i := strings.IndexByte(u, ':'); i >= 0 && !strings.Contains(u[:i], "/") {
		return u // scp-like: host:path
	}
	abs, err := filepath.Abs(filepath.Join(filepath.Dir(fleetPath), u))
	if err != nil {
		return u
	}
	return abs
}

func checkConfigPath(p string) error {
	if strings.HasPrefix(p, "/") || filepath.IsAbs(p) {
		return fmt.Errorf("%q is absolute; give a path inside the repository", p)
	}
	for _, part := range strings.Split(filepath.ToSlash(p), "/") {
		if part == ".." {
			return fmt.Errorf("%q leaves the repository", p)
		}
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%q holds a control character", p)
	}
	return nil
}

var branchRE = regexp.MustCompile(`^[A-Za-z0-9._/+-]+$`)

func branchName(b string) bool {
	return branchRE.MatchString(b) && !strings.HasPrefix(b, "-") && !strings.HasPrefix(b, "/") &&
		!strings.HasSuffix(b, "/") && !strings.Contains(b, "..") && !strings.Contains(b, "//") &&
		!strings.HasSuffix(b, ".lock") && !strings.HasPrefix(b, ".")
}

var envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func envName(s string) bool { return envRE.MatchString(s) }

func expandHome(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%q: no home directory: %w", p, err)
		}
		return filepath.Join(home, p[1:]), nil
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%q is relative; give an absolute path or one under ~/", p)
	}
	return p, nil
}

// Shard is a part of the fleet: the repositories whose name hashes to
// Index among Count.
type Shard struct {
	Index, Count int
}

// ParseShard reads "I/N" (0 <= I < N), as --shard and LAMINAR_SHARD give it.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N, such as 0/3", s)
	}
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || cnt < 1 || cnt > 1000 || idx < 0 || idx >= cnt {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 0 <= I < N <= 1000", s)
	}
	return Shard{Index: idx, Count: cnt}, nil
}

// Takes reports whether the shard takes the repository named name. The
// hash is FNV-1a of the name, so every replica agrees without talking.
func (s Shard) Takes(name string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32()%uint32(s.Count)) == s.Index
}

func (s Shard) String() string {
	if s.Count <= 1 {
		return "0/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Select returns the repositories the shard takes, in file order.
func (f *File) Select(s Shard) []Repository {
	var out []Repository
	for _, r := range f.Repositories {
		if s.Takes(r.Name) {
			out = append(out, r)
		}
	}
	return out
}
