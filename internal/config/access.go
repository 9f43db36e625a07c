package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Access says how to reach the registries under Prefix: credentials, TLS,
// paging and limits. It comes from a [[registry]] table, in laminar.toml or
// in the user-level file. Zero values mean "not set": the registry client's
// defaults apply. It never holds a secret, only where to find one.
type Access struct {
	Prefix string // "host[:port]" or "host[:port]/path", no trailing slash

	Username     string
	PasswordEnv  string // name of the environment variable holding the password or token
	PasswordFile string // file holding the password or token (first line)

	CAFile   string // PEM bundle added to the system roots
	CertFile string // client certificate (PEM), with KeyFile
	KeyFile  string
	Insecure bool // skip TLS verification; fall back to plain HTTP

	PageSize    int           // n= of tag list requests
	MaxTags     int           // cap on tags read per repository
	RPS         float64       // requests per second to the host
	Concurrency int           // requests in flight to the host
	Timeout     time.Duration // per request
	// API names the API the host's tags are listed through: "" or "auto"
	// (chosen by the host's name), "oci" (the distribution API's tag list),
	// or a registry's own: "harbor", "ecr", "dockerhub", "quay", "ghcr",
	// "gar", "acr", "gitlab".
	API string
	// APIURL is where the host's own API is served when not where it is by
	// default ("https://hub.example.com"). User-level file only: the
	// registry's credentials follow it.
	APIURL string

	Source string // "file:line" of the [[registry]] table, for messages
}

// Cache is the [cache] table: where the registry cache lives and how long
// tag lists stay fresh.
type Cache struct {
	Dir string         // empty: the default (the user's cache directory)
	TTL *time.Duration // nil: the default; 0: tag lists are never reused
	// TagTTL is how long a tag, once resolved, is taken to point at the
	// same image when tags are ranked by creation time. nil: the default;
	// 0: ask the registry (a HEAD) every run.
	TagTTL *time.Duration
}

// User is the user-level configuration file: settings of this machine and
// user, never versioned. Its [[registry]] tables only say how to reach
// registries (credentials, TLS, limits); they do not make images managed.
type User struct {
	Path       string
	Registries []Access
	Cache      Cache
	Git        Git // [git]: overrides laminar.toml's, key by key
	// PullRequest holds the keys that say where a forge token goes and
	// which variable holds it (api_url, token_env): see UserKeys.
	PullRequest PullRequest
}

type rawRegistry struct {
	Name         string   `toml:"name"`
	Prefix       string   `toml:"prefix"`
	Username     string   `toml:"username"`
	PasswordEnv  string   `toml:"password_env"`
	PasswordFile string   `toml:"password_file"`
	CAFile       string   `toml:"ca_file"`
	CertFile     string   `toml:"cert_file"`
	KeyFile      string   `toml:"key_file"`
	Insecure     bool     `toml:"insecure"`
	PageSize     *int     `toml:"page_size"`
	MaxTags      *int     `toml:"max_tags"`
	RPS          *float64 `toml:"rps"`
	Concurrency  *int     `toml:"concurrency"`
	Timeout      string   `toml:"timeout"`
	API          string   `toml:"api"`
	APIURL       string   `toml:"api_url"`
}

var registryKeys = []string{
	"name", "prefix", "username", "password_env", "password_file", "ca_file", "cert_file", "key_file",
	"insecure", "page_size", "max_tags", "rps", "concurrency", "timeout", "api", "api_url",
}

// registryAPIs are the values api may take besides "" (which is "auto").
var registryAPIs = []string{"auto", "oci", "harbor", "ecr", "dockerhub", "quay", "ghcr", "gar", "acr", "gitlab"}

type rawCache struct {
	Dir    string `toml:"dir"`
	TTL    string `toml:"ttl"`
	TagTTL string `toml:"tag_ttl"`
}

type rawUser struct {
	Registry []rawRegistry `toml:"registry"`
	Cache    rawCache      `toml:"cache"`
	Git      rawGit        `toml:"git"`

	PullRequest rawPullRequest `toml:"pull_request"`
}

// UserFileName is the user-level file's path below the configuration home.
const UserFileName = "git-laminar/config.toml"

// UserPath is where the user-level file lives:
// $XDG_CONFIG_HOME/git-laminar/config.toml, or
// ~/.config/git-laminar/config.toml when XDG_CONFIG_HOME is unset (on every
// system, so that one path can be documented). getenv reads the
// environment; "" when neither variable is set.
func UserPath(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, filepath.FromSlash(UserFileName))
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", filepath.FromSlash(UserFileName))
	}
	return ""
}

// LoadUser reads the user-level file at path. A missing file (or an empty
// path) is an empty configuration, not an error.
func LoadUser(path string) (*User, error) {
	u := &User{Path: path}
	if path == "" {
		return u, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return u, nil
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return ParseUser(path, data)
}

// ParseUser validates user-level configuration text.
func ParseUser(path string, data []byte) (*User, error) {
	if err := checkEncoding(path, data); err != nil {
		return nil, err
	}
	var raw rawUser
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return nil, decodeError(path, err)
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &Error{File: path, Line: loc.keyLine(k), Key: strings.Join(k, "."), Msg: unknownKey(k)}
	}
	u := &User{Path: path}
	for i, r := range raw.Registry {
		if strings.TrimSpace(r.Prefix) == "" {
			return nil, &Error{File: path, Line: loc.tableLine("registry", i), Key: fmt.Sprintf("registry %s.prefix", label(r.Name, i)),
				Msg: `missing; say which registry these settings are for, e.g. prefix = "ghcr.io" or "ghcr.io/acme"`}
		}
		if err := checkPrefix(r.Prefix); err != nil {
			return nil, &Error{File: path, Line: loc.keyLineIn("registry", i, "prefix"), Key: fmt.Sprintf("registry %s.prefix", label(r.Name, i)), Msg: err.Error()}
		}
		a, err := buildAccess(r, path, loc, i, filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		u.Registries = append(u.Registries, a)
	}
	if u.Cache, err = buildCache(raw.Cache, path, loc, filepath.Dir(path)); err != nil {
		return nil, err
	}
	if u.Git, err = buildGit(raw.Git, path, loc, filepath.Dir(path)); err != nil {
		return nil, err
	}
	if u.PullRequest, err = buildPullRequest(raw.PullRequest, path, loc); err != nil {
		return nil, err
	}
	return u, nil
}

// decodeError turns a TOML decoding error into an *Error with a line.
func decodeError(name string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: name, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	}
	var ppe *toml.ParseError
	if errors.As(err, &ppe) {
		return &Error{File: name, Line: ppe.Position.Line, Key: ppe.LastKey, Msg: ppe.Message}
	}
	if m := typeErrRE.FindStringSubmatch(err.Error()); m != nil {
		line := 0
		fmt.Sscan(m[1], &line)
		return &Error{File: name, Line: line, Key: m[2], Msg: m[3]}
	}
	return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// unknownKey explains an unknown key; a literal secret gets its own advice.
func unknownKey(k []string) string {
	if len(k) == 2 && k[0] == "registry" && (k[1] == "password" || k[1] == "token") {
		return "secrets do not belong in configuration files; name where to find it with password_env or password_file"
	}
	return "unknown key" + suggest(k)
}

func buildAccess(r rawRegistry, file string, loc *locator, i int, dir string) (Access, error) {
	fail := func(key, msg string) (Access, error) {
		return Access{}, &Error{File: file, Line: loc.keyLineIn("registry", i, key),
			Key: fmt.Sprintf("registry %s.%s", label(r.Name, i), key), Msg: msg}
	}
	a := Access{
		Prefix:      strings.TrimSuffix(strings.TrimSpace(r.Prefix), "/"),
		Username:    r.Username,
		PasswordEnv: r.PasswordEnv,
		Insecure:    r.Insecure,
		Source:      fmt.Sprintf("%s:%d", file, loc.tableLine("registry", i)),
	}
	switch {
	case r.PasswordEnv != "" && r.PasswordFile != "":
		return fail("password_file", "set password_env or password_file, not both")
	case r.Username != "" && r.PasswordEnv == "" && r.PasswordFile == "":
		return fail("username", "needs password_env or password_file (a token is a password)")
	case r.Username == "" && (r.PasswordEnv != "" || r.PasswordFile != ""):
		key := "password_env"
		if r.PasswordFile != "" {
			key = "password_file"
		}
		return fail(key, `needs a username (for a token, any name the registry accepts, e.g. username = "token")`)
	case r.PasswordEnv != "" && strings.ContainsAny(r.PasswordEnv, "=$ "):
		return fail("password_env", fmt.Sprintf("%q: give the name of an environment variable, not its value", r.PasswordEnv))
	case (r.CertFile == "") != (r.KeyFile == ""):
		if r.CertFile == "" {
			return fail("cert_file", "key_file needs cert_file")
		}
		return fail("key_file", "cert_file needs key_file")
	}
	for _, f := range []struct {
		key string
		in  string
		out *string
	}{
		{"password_file", r.PasswordFile, &a.PasswordFile},
		{"ca_file", r.CAFile, &a.CAFile},
		{"cert_file", r.CertFile, &a.CertFile},
		{"key_file", r.KeyFile, &a.KeyFile},
	} {
		if f.in == "" {
			continue
		}
		p, err := resolvePath(f.in, dir)
		if err != nil {
			return fail(f.key, err.Error())
		}
		*f.out = p
	}
	for _, n := range []struct {
		key string
		in  *int
		max int
		out *int
	}{
		{"page_size", r.PageSize, 10000, &a.PageSize},
		{"max_tags", r.MaxTags, 1 << 30, &a.MaxTags},
		{"concurrency", r.Concurrency, 256, &a.Concurrency},
	} {
		if n.in == nil {
			continue
		}
		if *n.in < 1 || *n.in > n.max {
			return fail(n.key, fmt.Sprintf("%d is not between 1 and %d", *n.in, n.max))
		}
		*n.out = *n.in
	}
	if r.RPS != nil {
		// TOML has nan and inf: neither is a rate a limiter can keep.
		if !(*r.RPS > 0) || math.IsInf(*r.RPS, 0) {
			return fail("rps", fmt.Sprintf("%v: must be a finite number of requests per second, more than 0", *r.RPS))
		}
		a.RPS = *r.RPS
	}
	if r.Timeout != "" {
		d, err := time.ParseDuration(r.Timeout)
		if err != nil || d <= 0 {
			return fail("timeout", fmt.Sprintf("%q is not a duration like 30s or 2m", r.Timeout))
		}
		a.Timeout = d
	}
	if r.API != "" {
		if !slices.Contains(registryAPIs, r.API) {
			return fail("api", unknownAPI(r.API))
		}
		a.API = r.API
	}
	if r.APIURL != "" {
		u, err := url.Parse(r.APIURL)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
			return fail("api_url", fmt.Sprintf("%q is not a URL like https://hub.example.com (scheme and host, no path)", r.APIURL))
		}
		a.APIURL = u.Scheme + "://" + u.Host
	}
	return a, nil
}

// unknownAPI explains an api value that is not one of registryAPIs,
// offering the nearest, since most are typos or another spelling.
func unknownAPI(v string) string {
	known := make([]string, len(registryAPIs))
	for i, a := range registryAPIs {
		known[i] = strconv.Quote(a)
	}
	msg := fmt.Sprintf("%q is not an API git laminar speaks: leave api out to choose by the registry's host name, or set one of %s", v, strings.Join(known, ", "))
	best, bestD := "", 3
	for _, cand := range registryAPIs {
		if d := editDistance(strings.ToLower(v), cand); d < bestD {
			best, bestD = cand, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return msg
}

func buildCache(r rawCache, file string, loc *locator, dir string) (Cache, error) {
	var c Cache
	if r.Dir != "" {
		p, err := resolvePath(r.Dir, dir)
		if err != nil {
			return c, &Error{File: file, Line: loc.keyLineIn("cache", -1, "dir"), Key: "cache.dir", Msg: err.Error()}
		}
		c.Dir = p
	}
	if r.TTL != "" {
		d, err := ParseAge(r.TTL)
		if r.TTL == "0" {
			d, err = 0, nil
		}
		if err != nil {
			return c, &Error{File: file, Line: loc.keyLineIn("cache", -1, "ttl"), Key: "cache.ttl", Msg: err.Error() + `; "0" turns the cache of tag lists off`}
		}
		c.TTL = &d
	}
	if r.TagTTL != "" {
		d, err := ParseAge(r.TagTTL)
		if r.TagTTL == "0" {
			d, err = 0, nil
		}
		if err != nil {
			return c, &Error{File: file, Line: loc.keyLineIn("cache", -1, "tag_ttl"), Key: "cache.tag_ttl", Msg: err.Error() + `; "0" asks the registry every run`}
		}
		c.TagTTL = &d
	}
	return c, nil
}

// resolvePath makes p absolute: "~/" is the home directory, and relative
// paths are relative to dir, the folder of the file that names them.
func resolvePath(p, dir string) (string, error) {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%q: %v", p, err)
		}
		return filepath.Join(home, filepath.FromSlash(rest)), nil
	}
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	abs, err := filepath.Abs(filepath.Join(dir, p))
	if err != nil {
		return "", fmt.Errorf("%q: %v", p, err)
	}
	return abs, nil
}
