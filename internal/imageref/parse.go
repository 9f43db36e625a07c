package imageref

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
)

// The registry Docker Hub references resolve to, and the familiar alias
// people write. These follow go-containerregistry's pkg/name.
const (
	DockerHub      = name.DefaultRegistry
	DockerHubAlias = "docker.io"
	officialNS     = "library"
)

// ErrInvalid is wrapped by every error Parse returns.
var ErrInvalid = errors.New("invalid image reference")

func invalid(s, why string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalid, s, why)
}

// Parse splits an image reference as written ("nginx:1.25",
// "registry.example.com:5000/acme/app:develop-1@sha256:...") into a Ref.
//
// The rules are those of go-containerregistry's pkg/name with weak
// validation (a missing registry means Docker Hub, "docker.io" means
// "index.docker.io", a one-element Docker Hub repository lives under
// "library/"), made stricter where the scanner needs certainty: the
// repository must follow the distribution grammar (lowercase path
// components joined by '.', '_', '__' or '-'), a tag must be an OCI tag and a
// digest must be sha256 or sha512 in lowercase hex. A tag and a digest may
// both be present; both are kept.
//
// The registry and repository are those of pkg/name's NewRepository; the
// stricter checks run first, so pkg/name only sees names already valid.
func Parse(s string) (Ref, error) {
	r, why := parse(s)
	if why != "" {
		return Ref{}, invalid(s, why)
	}
	return r, nil
}

// TryParse is Parse for callers that try many strings that are mostly not
// references, such as a scanner: it reports failure without building an
// error.
func TryParse(s string) (Ref, bool) {
	r, why := parse(s)
	return r, why == ""
}

// parse does the work of Parse; why says what is wrong, "" when nothing.
func parse(s string) (Ref, string) {
	if s == "" {
		return Ref{}, "empty"
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return Ref{}, "must not contain a URL scheme"
	}
	rest := s
	var tag, dig string
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		dig = rest[i+1:]
		if !ValidDigest(dig) {
			return Ref{}, "bad digest"
		}
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		tag = rest[i+1:]
		if !ValidTag(tag) {
			return Ref{}, "bad tag"
		}
		rest = rest[:i]
	}
	reg, repo, why := normalise(rest)
	if why != "" {
		return Ref{}, why
	}
	return Ref{
		Original:   s,
		Name:       rest,
		Registry:   reg,
		Repository: repo,
		Tag:        tag,
		Digest:     dig,
	}, ""
}

// normalised is the outcome of normalising one name.
type normalised struct{ registry, repository, why string }

// names caches normalise by name: a repository repeats the same few
// hundred names in thousands of places, and go-containerregistry's check
// (a URL parse) costs more than the rest of a scan's work on a reference.
// The cache is bounded; past the bound, names are normalised uncached.
var names struct {
	sync.Map // string -> normalised
	n        atomic.Int64
}

const maxCachedNames = 1 << 14

// normalise splits a name without tag or digest into its normalised
// registry and repository, and checks that go-containerregistry agrees.
func normalise(rest string) (registry, repository, why string) {
	if v, ok := names.Load(rest); ok {
		n := v.(normalised)
		return n.registry, n.repository, n.why
	}
	reg, repo, why := splitName(rest)
	if why == "" {
		// Normalise with go-containerregistry, which the registry client
		// uses too, so both agree on what a name means.
		gr, err := name.NewRepository(rest, name.WeakValidation)
		switch {
		case err != nil:
			why = "rejected by go-containerregistry"
		case gr.RegistryStr() != reg || gr.RepositoryStr() != repo:
			why = "normalised differently by go-containerregistry"
		}
	}
	if why != "" {
		return "", "", why // failures are cheap: splitName says why
	}
	if names.n.Load() < maxCachedNames {
		if _, loaded := names.LoadOrStore(strings.Clone(rest), normalised{reg, repo, why}); !loaded {
			names.n.Add(1)
		}
	}
	return reg, repo, ""
}

// splitName splits a name without tag or digest into its normalised
// registry and repository.
func splitName(name string) (registry, repository, why string) {
	if name == "" {
		return "", "", "empty name"
	}
	repo := name
	if i := strings.IndexByte(name, '/'); i >= 0 {
		first := name[:i]
		if first == "localhost" || strings.ContainsAny(first, ".:") {
			registry, repo = first, name[i+1:]
			if !validRegistry(registry) {
				return "", "", "bad registry"
			}
		}
	}
	if !validRepository(repo) {
		return "", "", "bad repository"
	}
	registry = normRegistry(registry)
	if registry == DockerHub && !strings.Contains(repo, "/") {
		repo = officialNS + "/" + repo
	}
	return registry, repo, ""
}

func normRegistry(r string) string {
	if r == "" || r == DockerHubAlias {
		return DockerHub
	}
	return r
}

// Repo is the canonical "registry/repository" used for registry API calls,
// as go-containerregistry spells it: "index.docker.io/library/nginx",
// "registry.example.com:5000/acme/app".
func (r Ref) Repo() string { return r.Registry + "/" + r.Repository }

// Image is the familiar canonical name for display and trailers:
// "docker.io/library/nginx", "registry.example.com:5000/acme/app".
func (r Ref) Image() string {
	if r.Registry == DockerHub {
		return DockerHubAlias + "/" + r.Repository
	}
	return r.Registry + "/" + r.Repository
}

// UnderPrefix reports whether the reference's canonical repository equals
// prefix or lies below it at a path boundary. The prefix is normalised like
// a reference: "docker.io/library" manages "nginx";
// "registry.example.com:5000/acme" manages ".../acme/app" but not
// ".../acmex/app". A first element with '.' or ':' or "localhost" is a
// registry even on its own ("ghcr.io" manages everything on ghcr.io). A
// prefix without a registry is on Docker Hub; a one-element Docker Hub
// prefix ("bitnami") manages both that namespace ("bitnami/redis") and the
// official image of that name ("library/bitnami"). Registry host names
// compare case-insensitively. A prefix with a tag or digest manages nothing.
func UnderPrefix(r Ref, prefix string) bool {
	prefix = strings.TrimSuffix(strings.TrimSpace(prefix), "/")
	if prefix == "" || r.Registry == "" || r.Repository == "" || strings.ContainsAny(prefix, "@ \t") {
		return false
	}
	reg, path := "", prefix
	first, rest, hasSlash := strings.Cut(prefix, "/")
	if first == "localhost" || strings.ContainsAny(first, ".:") {
		if !validRegistry(first) {
			return false
		}
		reg, path = first, ""
		if hasSlash {
			path = rest
		}
	}
	if path != "" && !validPath(path) {
		return false
	}
	reg = normRegistry(reg)
	if !strings.EqualFold(reg, r.Registry) {
		return false
	}
	if path == "" {
		return true
	}
	under := func(p string) bool {
		return r.Repository == p || strings.HasPrefix(r.Repository, p+"/")
	}
	if reg == DockerHub && !strings.Contains(path, "/") && path != officialNS {
		return under(path) || under(officialNS+"/"+path)
	}
	return under(path)
}

// ValidTag reports whether s is an OCI tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
func ValidTag(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidDigest reports whether s is "sha256:" followed by 64 lowercase hex
// digits or "sha512:" followed by 128.
func ValidDigest(s string) bool {
	var hex string
	switch {
	case strings.HasPrefix(s, "sha256:"):
		hex = s[len("sha256:"):]
		if len(hex) != 64 {
			return false
		}
	case strings.HasPrefix(s, "sha512:"):
		hex = s[len("sha512:"):]
		if len(hex) != 128 {
			return false
		}
	default:
		return false
	}
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// validRepository checks the distribution grammar: one or more path
// components separated by '/', each [a-z0-9]+ joined by '.', '_', '__' or
// runs of '-'; at most 255 bytes.
func validRepository(s string) bool {
	return len(s) <= 255 && validPath(s)
}

// validPath is validRepository without the length limit, for prefixes (a
// canonical Docker Hub name may exceed it by its implicit "library/").
func validPath(s string) bool {
	if len(s) == 0 {
		return false
	}
	for comp := range strings.SplitSeq(s, "/") {
		if !validComponent(comp) {
			return false
		}
	}
	return true
}

func validComponent(c string) bool {
	if c == "" {
		return false
	}
	alnum := func(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	if !alnum(c[0]) || !alnum(c[len(c)-1]) {
		return false
	}
	for i := 1; i < len(c); {
		b := c[i]
		if alnum(b) {
			i++
			continue
		}
		// A separator: '.', '_', '__' or one or more '-', followed by an
		// alphanumeric (the last byte is alphanumeric, so one follows).
		switch b {
		case '.':
			i++
		case '_':
			i++
			if c[i] == '_' {
				i++
			}
		case '-':
			for c[i] == '-' {
				i++
			}
		default:
			return false
		}
		if !alnum(c[i]) {
			return false
		}
	}
	return true
}

// validRegistry accepts host[:port] where host is a DNS name (letters,
// digits, '-', '.'), "localhost" or a bracketed IPv6 address, and port is
// decimal.
func validRegistry(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		for _, c := range s[1:end] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
				return false
			}
		}
		if end == 1 {
			return false
		}
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return false
			}
			port = rest[1:]
			if port == "" {
				return false
			}
		}
		host = ""
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if port == "" {
			return false
		}
	}
	if len(port) > 5 {
		return false
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	if host == "" {
		return strings.HasPrefix(s, "[")
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
