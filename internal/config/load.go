package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/git-laminar/git-laminar/internal/msgtemplate"
	"github.com/git-laminar/git-laminar/internal/printable"
)

// ErrNotFound is returned (wrapped) when there is no laminar.toml.
var ErrNotFound = errors.New("no " + FileName)

// Error is a problem with one place in a configuration file. Its text reads
// "laminar.toml:12: update \"dev\": pattern: ..." so that editors and humans
// can jump to it.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted key, e.g. `update "dev".pattern`; may be empty
	Msg  string
}

// Error escapes the key and the message: both may quote the file, which
// anyone who can push wrote, and must stay one line that cannot act on a
// terminal.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(printable.String(e.Key))
		b.WriteString(": ")
	}
	b.WriteString(printable.String(e.Msg))
	return b.String()
}

// The raw shapes decoded from TOML. Separate from the public types so the
// public ones can carry derived data (lines, compiled matchers) and so every
// key name lives in exactly one place: these struct tags.
type rawFile struct {
	Registry []rawRegistry `toml:"registry"`
	Update   []rawUpdate   `toml:"update"`
	Commit   rawCommit     `toml:"commit"`
	Cache    rawCache      `toml:"cache"`
	Notify   rawNotify     `toml:"notify"`
	Git      rawGit        `toml:"git"`

	PullRequest rawPullRequest `toml:"pull_request"`
}

type rawUpdate struct {
	Name           string   `toml:"name"`
	Pattern        string   `toml:"pattern"`
	Files          []string `toml:"files"`
	Exclude        []string `toml:"exclude"`
	Images         []string `toml:"images"`
	Order          string   `toml:"order"`
	Extract        string   `toml:"extract"`
	ExcludeTags    []string `toml:"exclude_tags"`
	MinAge         string   `toml:"min_age"`
	AllowDowngrade bool     `toml:"allow_downgrade"`
	Exec           []string `toml:"exec"`
	ExecTimeout    string   `toml:"exec_timeout"`
	ExecTrust      []string `toml:"exec_trust"`
}

type rawCommit struct {
	AuthorName     string `toml:"author_name"`
	AuthorEmail    string `toml:"author_email"`
	CommitterName  string `toml:"committer_name"`
	CommitterEmail string `toml:"committer_email"`
	Message        string `toml:"message"`
}

// Orders lists the values accepted for an update rule's "order" key.
var Orders = []string{"semver", "numeric", "alphabetical", "newest-build", "newest-push", "digest"}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNotFound, path)
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse validates configuration text; path is used only in messages.
func Parse(path string, data []byte) (*Config, error) {
	name := displayName(path)
	if err := checkEncoding(name, data); err != nil {
		return nil, err
	}
	var raw rawFile
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: name, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
		}
		var ppe *toml.ParseError
		if errors.As(err, &ppe) {
			return nil, &Error{File: name, Line: ppe.Position.Line, Key: ppe.LastKey, Msg: ppe.Message}
		}
		// Type mismatches come as plain text: "toml: line 4 (last key "x"): ...".
		if m := typeErrRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: name, Line: line, Key: m[2], Msg: m[3]}
		}
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &Error{File: name, Line: loc.keyLine(k), Key: strings.Join(k, "."),
			Msg: unknownKey(k)}
	}
	if err := checkUserKeys(&raw, name, loc); err != nil {
		return nil, err
	}

	cfg := &Config{Path: path, Hash: hashBytes(data)}
	for i, r := range raw.Registry {
		line := loc.tableLine("registry", i)
		key := func(k string) string { return fmt.Sprintf("registry %s.%s", label(r.Name, i), k) }
		if strings.TrimSpace(r.Prefix) == "" {
			return nil, &Error{File: name, Line: line, Key: key("prefix"), Msg: `missing; say which images are managed, e.g. prefix = "registry.example.com/team"`}
		}
		if err := checkPrefix(r.Prefix); err != nil {
			return nil, &Error{File: name, Line: loc.keyLineIn("registry", i, "prefix"), Key: key("prefix"), Msg: err.Error()}
		}
		acc, err := buildAccess(r, name, loc, i, filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		cfg.Registries = append(cfg.Registries, Registry{Name: r.Name, Prefix: strings.TrimSuffix(r.Prefix, "/"), Line: line, Access: acc})
	}
	if cfg.Cache, err = buildCache(raw.Cache, name, loc, filepath.Dir(path)); err != nil {
		return nil, err
	}

	seen := map[string]bool{}
	for i, r := range raw.Update {
		u, err := buildUpdate(r, i)
		if err != nil {
			var ke *keyError
			if errors.As(err, &ke) {
				return nil, &Error{File: name, Line: loc.keyLineIn("update", i, ke.key),
					Key: fmt.Sprintf("update %s.%s", label(r.Name, i), ke.key), Msg: ke.msg}
			}
			return nil, err
		}
		u.Line = loc.tableLine("update", i)
		u.KeyLines = map[string]int{}
		for _, k := range []string{"pattern", "order", "extract", "exclude_tags", "min_age", "files", "exclude", "images", "exec", "exec_timeout", "exec_trust"} {
			if l := loc.keyLineIn("update", i, k); l > 0 {
				u.KeyLines[k] = l
			}
		}
		if u.Name != "" {
			if seen[u.Name] {
				return nil, &Error{File: name, Line: loc.keyLineIn("update", i, "name"),
					Key: fmt.Sprintf("update %s.name", label(r.Name, i)), Msg: "another [[update]] rule has the same name"}
			}
			seen[u.Name] = true
		}
		cfg.Updates = append(cfg.Updates, u)
	}
	if len(cfg.Registries) == 0 && len(raw.Update) > 0 {
		return nil, &Error{File: name, Key: "registry", Msg: "no [[registry]] declared; rules manage only images under a registry prefix"}
	}

	for _, kv := range []struct{ key, val string }{
		{"author_email", raw.Commit.AuthorEmail}, {"committer_email", raw.Commit.CommitterEmail},
	} {
		if kv.val != "" && !strings.Contains(kv.val, "@") {
			return nil, &Error{File: name, Line: loc.keyLineIn("commit", -1, kv.key), Key: "commit." + kv.key, Msg: fmt.Sprintf("%q is not an email address", kv.val)}
		}
	}
	cfg.Commit = Commit{AuthorName: raw.Commit.AuthorName, AuthorEmail: raw.Commit.AuthorEmail,
		CommitterName: raw.Commit.CommitterName, CommitterEmail: raw.Commit.CommitterEmail, Message: raw.Commit.Message}
	if raw.Commit.Message != "" {
		cfg.Commit.MessageLine = loc.keyLineIn("commit", -1, "message")
		if _, err := msgtemplate.Parse(raw.Commit.Message); err != nil {
			return nil, &Error{File: name, Line: cfg.Commit.MessageLine, Key: "commit.message", Msg: "template " + err.Error()}
		}
	}
	if cfg.Notify, err = buildNotify(raw.Notify, name, loc); err != nil {
		return nil, err
	}
	if cfg.Git, err = buildGit(raw.Git, name, loc, filepath.Dir(path)); err != nil {
		return nil, err
	}
	if cfg.PullRequest, err = buildPullRequest(raw.PullRequest, name, loc); err != nil {
		return nil, err
	}
	return cfg, nil
}

type keyError struct{ key, msg string }

func (e *keyError) Error() string { return e.key + ": " + e.msg }

func buildUpdate(r rawUpdate, i int) (Update, error) {
	u := Update{
		Name: r.Name, Pattern: r.Pattern, Files: r.Files, Exclude: r.Exclude, Images: r.Images,
		Order: r.Order, Extract: r.Extract, ExcludeTags: r.ExcludeTags, AllowDowngrade: r.AllowDowngrade,
	}
	if err := checkPattern(r.Pattern); err != nil {
		return u, &keyError{"pattern", err.Error()}
	}
	if err := buildExec(r, &u); err != nil {
		return u, err
	}
	if r.Order != "" && !slices.Contains(Orders, r.Order) {
		return u, &keyError{"order", fmt.Sprintf("%q is not one of %s", r.Order, strings.Join(Orders, ", "))}
	}
	if r.Extract != "" && !strings.HasPrefix(r.Pattern, "regex:") {
		return u, &keyError{"extract", "needs a regex: pattern with a capture group to extract from"}
	}
	for _, g := range r.ExcludeTags {
		if _, err := filepath.Match(g, ""); err != nil {
			return u, &keyError{"exclude_tags", fmt.Sprintf("bad glob %q: %v", g, err)}
		}
	}
	if r.MinAge != "" {
		d, err := ParseAge(r.MinAge)
		if err != nil {
			return u, &keyError{"min_age", err.Error()}
		}
		u.MinAge = d
	}
	var err error
	if u.files, err = compilePaths(r.Files); err != nil {
		return u, &keyError{"files", err.Error()}
	}
	if u.exclude, err = compilePaths(r.Exclude); err != nil {
		return u, &keyError{"exclude", err.Error()}
	}
	if u.images, err = compileImages(r.Images); err != nil {
		return u, &keyError{"images", err.Error()}
	}
	return u, nil
}

// checkPattern validates the parts of a pattern that need only the standard
// library; semver ranges are validated by the policy that compiles them.
func checkPattern(p string) error {
	kind, expr, ok := strings.Cut(p, ":")
	switch {
	case p == "":
		return errors.New(`missing; e.g. pattern = "glob:develop-*", "regex:^v[0-9]+$" or "semver:^1.0"`)
	case !ok:
		return fmt.Errorf("%q has no kind; write glob:%s, regex:%s or semver:%s", p, p, p, p)
	}
	switch kind {
	case "glob":
		if _, err := filepath.Match(expr, ""); err != nil {
			return fmt.Errorf("bad glob %q: %v", expr, err)
		}
	case "regex":
		if _, err := regexp.Compile(expr); err != nil {
			return fmt.Errorf("bad regex %q: %v", expr, err)
		}
	case "semver":
		if strings.TrimSpace(expr) == "" {
			return errors.New(`empty semver range; e.g. "semver:>=1.0.0" or "semver:*"`)
		}
	default:
		return fmt.Errorf("unknown kind %q in %q; use glob:, regex: or semver:", kind, p)
	}
	return nil
}

var typeErrRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

var prefixRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*/?$`)

func checkPrefix(p string) error {
	if strings.Contains(p, "://") {
		return fmt.Errorf("%q: write the registry host and path without a scheme", p)
	}
	if !prefixRE.MatchString(p) {
		return fmt.Errorf("%q is not a registry host or repository path (no tag or digest)", p)
	}
	return nil
}

// ParseAge reads durations like "90m", "36h" or "7d" (days are what people
// write for build ages, and time.ParseDuration lacks them).
func ParseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		// ParseFloat takes "nan" and "inf", and a float too large for a
		// Duration converts to whatever the machine makes of it.
		if err != nil || !(days >= 0) || days*float64(24*time.Hour) >= math.MaxInt64 {
			return 0, fmt.Errorf("%q is not a duration like 36h or 7d", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 36h or 7d", s)
	}
	return d, nil
}

func label(name string, i int) string {
	if name != "" {
		return strconv.Quote(name)
	}
	return "#" + strconv.Itoa(i+1)
}

var knownKeys = map[string][]string{
	"":             {"registry", "update", "commit", "cache", "notify", "git", "pull_request"},
	"pull_request": pullRequestKeys,
	"git":          gitKeys,
	"registry":     registryKeys,
	"cache":        {"dir", "ttl", "tag_ttl"},
	"update":       {"name", "pattern", "files", "exclude", "images", "order", "extract", "exclude_tags", "min_age", "allow_downgrade", "exec", "exec_timeout", "exec_trust"},
	"notify":       notifyKeys,
	"commit":       {"author_name", "author_email", "committer_name", "committer_email", "message"},
}

// suggest offers the nearest known key, since most unknown keys are typos.
func suggest(k []string) string {
	table := ""
	if len(k) > 1 {
		table = k[0]
	}
	best, bestD := "", 3
	for _, cand := range knownKeys[table] {
		if d := editDistance(k[len(k)-1], cand); d < bestD {
			best, bestD = cand, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func displayName(path string) string {
	if path == "" {
		return FileName
	}
	return path
}
