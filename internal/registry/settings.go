package registry

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/imageref"
)

// Settings say how to reach the registries under Prefix: credentials, TLS,
// paging and limits. Zero values mean "not set". They come from [[registry]]
// tables, in laminar.toml or in the user-level file.
//
// Which setting applies: entries are taken most specific prefix first
// ("ghcr.io/acme/app" before "ghcr.io/acme" before "ghcr.io"), and in the
// order given among equal prefixes (the command line passes the user-level
// file first, so it wins over laminar.toml). Each key is taken from the
// first entry that sets it:
//
//   - per repository (the prefix must cover the repository): the
//     credentials (username with password_env or password_file, as a unit),
//     PageSize, MaxTags;
//   - per host (the prefix must name the host; its path does not matter):
//     CAFile, CertFile with KeyFile, Insecure, RPS, Concurrency, Timeout,
//     API, APIURL.
type Settings struct {
	Prefix string // "host[:port]" or "host[:port]/path"

	Username     string
	PasswordEnv  string // environment variable holding the password or token
	PasswordFile string // file holding the password or token (surrounding space trimmed)

	CAFile   string // PEM bundle trusted besides the system roots; makes the host HTTPS
	CertFile string // client certificate (PEM), with KeyFile; makes the host HTTPS
	KeyFile  string
	// Insecure skips TLS verification for the host and falls back to plain
	// HTTP when it does not speak TLS. Loopback and private (RFC 1918)
	// addresses get plain HTTP without it.
	Insecure bool

	PageSize    int           // n= of tag list requests; default DefaultPageSize
	MaxTags     int           // tags read per repository at most; default DefaultMaxTags
	RPS         float64       // hard cap on requests per second to the host; default none (adaptive)
	Concurrency int           // requests in flight to the host; default DefaultHostConcurrency
	Timeout     time.Duration // per request, body included; default DefaultTimeout
	// API names the API the host's repositories are listed through: ""
	// or APIAuto to choose by the host's name, APIOCI for the tag list
	// of the distribution API every registry speaks, or a registry's own
	// (APIHarbor, APIECR, ...). See api.go.
	API string
	// APIURL is where the host's own API is served when that is not
	// where the API says by default (Docker Hub's is hub.docker.com, a
	// Quay's its own host): "scheme://host[:port]". Credentials for the
	// registry follow it, so it must come from the machine's owner (the
	// user-level file), never from laminar.toml.
	APIURL string

	Source string // where the entry was written ("file:line"), for messages
}

func (s *Settings) hasCredentials() bool {
	return s.Username != "" && (s.PasswordEnv != "" || s.PasswordFile != "")
}

// settingsSet answers which settings apply to a repository or a host.
type settingsSet struct {
	list []Settings // most specific first
}

func newSettingsSet(in []Settings) *settingsSet {
	list := slices.Clone(in)
	slices.SortStableFunc(list, func(a, b Settings) int {
		return -cmp.Compare(len(prefixPath(a.Prefix)), len(prefixPath(b.Prefix)))
	})
	return &settingsSet{list: list}
}

// splitPrefix returns the registry host a prefix names (Docker Hub when it
// names none, as in image references) and its path.
func splitPrefix(prefix string) (host, path string) {
	prefix = strings.TrimSuffix(strings.TrimSpace(prefix), "/")
	first, rest, hasSlash := strings.Cut(prefix, "/")
	if first == "localhost" || strings.ContainsAny(first, ".:") {
		if first == imageref.DockerHubAlias {
			first = imageref.DockerHub
		}
		if !hasSlash {
			rest = ""
		}
		return strings.ToLower(first), rest
	}
	return imageref.DockerHub, prefix
}

func prefixPath(prefix string) string { _, p := splitPrefix(prefix); return p }

// forRepo returns the entries covering repository path of host, most
// specific first.
func (s *settingsSet) forRepo(host, path string) []*Settings {
	var out []*Settings
	ref := imageref.Ref{Registry: strings.ToLower(host), Repository: path}
	for i := range s.list {
		if imageref.UnderPrefix(ref, s.list[i].Prefix) {
			out = append(out, &s.list[i])
		}
	}
	return out
}

// forHost returns the entries naming host, most specific first.
func (s *settingsSet) forHost(host string) []*Settings {
	var out []*Settings
	for i := range s.list {
		if h, _ := splitPrefix(s.list[i].Prefix); h == strings.ToLower(host) {
			out = append(out, &s.list[i])
		}
	}
	return out
}

// repoSettings are the settings of one repository.
type repoSettings struct {
	cred     *Settings // nil: none configured
	pageSize int
	maxTags  int
}

func (s *settingsSet) repo(host, path string) repoSettings {
	var rs repoSettings
	for _, e := range s.forRepo(host, path) {
		if rs.cred == nil && e.hasCredentials() {
			rs.cred = e
		}
		if rs.pageSize == 0 {
			rs.pageSize = e.PageSize
		}
		if rs.maxTags == 0 {
			rs.maxTags = e.MaxTags
		}
	}
	return rs
}

// hostSettings are the settings of one host; zero values are unset.
type hostSettings struct {
	caFile, certFile, keyFile string
	insecure                  bool
	rps                       float64
	concurrency               int
	timeout                   time.Duration
	source                    string // of the entry giving TLS settings, for messages
	api, apiSource            string // API, and the entry that set it
	apiURL                    string
}

func (s *settingsSet) host(host string) hostSettings {
	var hs hostSettings
	insecureSet := false
	for _, e := range s.forHost(host) {
		if hs.caFile == "" && e.CAFile != "" {
			hs.caFile = e.CAFile
			hs.source = cmp.Or(hs.source, e.Source)
		}
		if hs.certFile == "" && e.CertFile != "" {
			hs.certFile, hs.keyFile = e.CertFile, e.KeyFile
			hs.source = cmp.Or(hs.source, e.Source)
		}
		if !insecureSet && e.Insecure {
			hs.insecure, insecureSet = true, true
		}
		hs.rps = cmp.Or(hs.rps, e.RPS)
		hs.concurrency = cmp.Or(hs.concurrency, e.Concurrency)
		hs.timeout = cmp.Or(hs.timeout, e.Timeout)
		if hs.api == "" && e.API != "" {
			hs.api, hs.apiSource = e.API, e.Source
		}
		hs.apiURL = cmp.Or(hs.apiURL, e.APIURL)
	}
	return hs
}
