// Package registry is the only part of git-laminar that speaks HTTP to
// container registries. It lists the tags of repositories, reads the digest
// and creation time of a tag, and resolves a tag to a digest.
//
// It is a layer over go-containerregistry's remote package, adding what a
// bump run at scale needs:
//
//   - each repository listed once per run, many at once, within limits on
//     requests in flight overall and per registry host and a rate per host
//     that adapts to the host's 429s, 503s and quota headers (see pace.go),
//     so that a slow, failing or throttling registry holds up only its own
//     images;
//   - per-request timeouts, and retries of 429, 408 and 5xx answers with
//     exponential backoff and jitter that honour Retry-After;
//   - tag lists read in pages of a configurable size, up to a cap;
//   - credentials found the way docker finds them, then per-registry
//     Settings (a password or token from a variable or file), CA bundles,
//     client certificates;
//   - a cache on disk shared by every process of the user (see cache.go),
//     and Stats counting requests by kind and cache hits;
//   - errors that name the image, fall into a few kinds a person can act on
//     (see ErrNotFound and friends), and never carry a secret.
//
// Repositories are passed as canonical strings, "host[:port]/path", the
// Registry and Repository of an imageref.Ref joined by "/". Loopback and
// private (RFC 1918) hosts are spoken to over plain HTTP, as ggcr decides,
// unless their Settings give TLS files; everything else over HTTPS.
package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/singleflight"
)

// Defaults, each chosen for a bastion that bumps many repositories every
// few minutes against public registries, and each overridable per registry
// (see Settings) or for the whole client (see Options).
const (
	// DefaultConcurrency bounds requests in flight across all registries.
	DefaultConcurrency = 32
	// DefaultHostConcurrency bounds requests in flight to one registry
	// host: enough to hide latency, few enough not to look like abuse. A
	// slow host fills its own slots, not the others'.
	DefaultHostConcurrency = 8
	// DefaultPageSize is the n= of tag list requests: the largest page
	// every major registry accepts (Quay rejects more than 100; ECR takes
	// up to 1000, GHCR and Docker Hub return up to 100 anyway). A thousand
	// tags cost ten requests, once per TTL.
	DefaultPageSize = 100
	// DefaultMaxTags caps the tags read per repository (a hundred pages):
	// a repository that tags every commit would otherwise cost hundreds of
	// requests per run. Reaching it is reported in TagList.Warning.
	DefaultMaxTags = 10000
	// DefaultTimeout bounds one request, body included.
	DefaultTimeout = 30 * time.Second
	// DefaultRetryBudget bounds the time one request may spend on retries:
	// a Retry-After longer than what is left is not waited for.
	DefaultRetryBudget = 30 * time.Second
	// DefaultCacheTTL is how long a tag list (and the digests its tags
	// resolved to) is reused from the cache. Short enough that a bump run
	// every few minutes sees the previous cycle's pushes; long enough that
	// the many repositories bumped in one cycle share one listing.
	DefaultCacheTTL = time.Minute
	// DefaultTagTTL bounds how long a resolved tag is trusted to point at
	// the same image for ranking by creation time (see Options.TagTTL).
	DefaultTagTTL = 24 * time.Hour
)

// DefaultBackoff governs retries unless Options.Backoff says otherwise:
// four tries, waiting about 0.5s, 1s and 2s (each half random), or what
// the registry's Retry-After asks.
var DefaultBackoff = remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 4, Cap: 8 * time.Second}

// Options configure a Client. The zero value is ready for real use (with
// no cache on disk).
type Options struct {
	// Keychain finds credentials per registry. Default authn.DefaultKeychain:
	// ~/.docker/config.json (or $DOCKER_CONFIG), credHelpers, credsStore.
	// It is asked first; the credentials in Registries come after it.
	Keychain authn.Keychain
	// Registries are per-registry settings: credentials, TLS, paging and
	// limits. See Settings for which applies where.
	Registries []Settings
	// Getenv reads the variables named by Settings.PasswordEnv. Default
	// os.LookupEnv (an empty variable counts as set).
	Getenv func(string) string
	// Transport carries the requests. Default: a clone of
	// remote.DefaultTransport, shared by every host without TLS settings
	// of its own. Hosts with TLS settings need it to be an *http.Transport.
	Transport http.RoundTripper
	// Concurrency bounds the requests in flight across all registries.
	// Default DefaultConcurrency.
	Concurrency int
	// HostConcurrency bounds the requests in flight to one registry host.
	// Default DefaultHostConcurrency; Settings.Concurrency overrides it.
	HostConcurrency int
	// RPS is a hard cap on the request rate per registry host, with a
	// burst of as many. Default (zero or negative): none; every host's rate
	// adapts to its answers either way (see pace.go). Settings.RPS
	// overrides it.
	RPS float64
	// Timeout bounds one request. Default DefaultTimeout.
	Timeout time.Duration
	// PageSize is the n= of tag list requests. Default DefaultPageSize.
	PageSize int
	// MaxTags caps the tags read per repository. Default DefaultMaxTags;
	// negative: no cap.
	MaxTags int
	// UserAgent is sent with every request (ggcr appends its own). Default
	// "git-laminar/<module version>".
	UserAgent string
	// Backoff governs retries of 429, 408 and 5xx answers and of dropped
	// connections: Steps tries in all, waiting Duration, then Factor times
	// more each time up to Cap, with the Jitter fraction random; a
	// Retry-After header replaces the computed wait. Default DefaultBackoff.
	// Steps: 1 turns retries off. Tests use a tiny backoff to stay fast.
	Backoff remote.Backoff
	// RetryBudget bounds the time one request spends retrying. Default
	// DefaultRetryBudget.
	RetryBudget time.Duration
	// CacheDir is where the cache on disk lives (shared by all processes
	// that name the same directory); empty: no cache on disk, only what
	// the Client learns itself during its run.
	CacheDir string
	// CacheTTL is how long tag lists and tag → digest resolutions from
	// earlier runs are reused. Default DefaultCacheTTL; negative: never.
	// Creation times of digests are kept for good either way.
	CacheTTL time.Duration
	// TagTTL is how long a tag, once resolved to a digest, is taken to
	// still point there when Image is asked for its creation time: tags
	// that name builds do not move, so ranking by creation time needs
	// requests only for tags never seen. Digest always asks within CacheTTL
	// rules, since it serves mutable tags and pinned digests. Default
	// DefaultTagTTL; negative: every earlier resolution is checked with a HEAD.
	TagTTL time.Duration
	// Refresh ignores tag lists and resolutions from earlier runs, as if
	// their TTL had passed (creation times of digests are still used).
	Refresh bool
	// Now is the clock of the cache. Default time.Now.
	Now func() time.Time
	// Limits bound what a registry may send and what a repository may cost
	// in requests per run (see limits.go). Zero fields: the defaults.
	Limits Limits
}

// Client talks to registries. It is safe for concurrent use, and should be
// shared: it keeps one authenticated connection state per repository, so
// the token exchange with a registry happens once, not once per call. A
// Client is one run's view of the registries: what it has listed or
// resolved it does not ask again.
type Client struct {
	opt      Options
	keys     *watchedKeychain
	settings *settingsSet
	limiter  *limiter
	cache    *cache
	stats    *counters

	harbor    harborHosts // schemes of hosts listed through Harbor's API
	fallbacks fallbacks   // hosts whose API, chosen by their name, refused this run
	hubTokens dockerHubTokens
	ecr       ecrClients
	ghcr      ghcrOwners // whether GitHub owners are organisations or users

	images singleflight.Group // Image calls in flight, by repo and tag
	heads  singleflight.Group // manifest HEADs in flight, by canonical reference

	budgets budgets // requests each repository may still cost this run

	mu      sync.Mutex
	pullers map[int]*remote.Puller // by page size
}

// New returns a Client for opt. It does no I/O.
func New(opt Options) *Client {
	if opt.Keychain == nil {
		opt.Keychain = authn.DefaultKeychain
	}
	if opt.Transport == nil {
		if t, ok := remote.DefaultTransport.(*http.Transport); ok {
			opt.Transport = t.Clone()
			// Headers are bounded too (net/http's default is 10 MiB):
			// real registries send a few kilobytes.
			opt.Transport.(*http.Transport).MaxResponseHeaderBytes = maxHeaderBytes
		} else {
			opt.Transport = remote.DefaultTransport
		}
	}
	opt.Concurrency = cmp.Or(max(opt.Concurrency, 0), DefaultConcurrency)
	opt.HostConcurrency = cmp.Or(max(opt.HostConcurrency, 0), DefaultHostConcurrency)
	opt.RPS = max(opt.RPS, 0)
	opt.Timeout = cmp.Or(max(opt.Timeout, 0), DefaultTimeout)
	opt.PageSize = cmp.Or(max(opt.PageSize, 0), DefaultPageSize)
	switch {
	case opt.MaxTags == 0:
		opt.MaxTags = DefaultMaxTags
	case opt.MaxTags < 0:
		opt.MaxTags = 0 // no cap
	}
	if opt.UserAgent == "" {
		opt.UserAgent = defaultUserAgent()
	}
	if opt.Backoff.Steps <= 0 {
		opt.Backoff = DefaultBackoff
	}
	opt.RetryBudget = cmp.Or(max(opt.RetryBudget, 0), DefaultRetryBudget)
	if opt.TagTTL == 0 {
		opt.TagTTL = DefaultTagTTL
	}
	if opt.CacheTTL == 0 {
		opt.CacheTTL = DefaultCacheTTL
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Limits = opt.Limits.withDefaults()

	c := &Client{opt: opt, settings: newSettingsSet(opt.Registries), stats: &counters{}, pullers: map[int]*remote.Puller{}}
	var keychain authn.Keychain = opt.Keychain
	if len(opt.Registries) > 0 {
		keychain = authn.NewMultiKeychain(opt.Keychain, &settingsKeychain{set: c.settings, getenv: opt.Getenv})
	}
	c.keys = newWatchedKeychain(keychain)
	c.limiter = newLimiter(opt.Transport, opt.Concurrency, retryPolicy{
		attempts: opt.Backoff.Steps,
		base:     opt.Backoff.Duration,
		factor:   cmp.Or(opt.Backoff.Factor, 1),
		jitter:   opt.Backoff.Jitter,
		max:      opt.Backoff.Cap,
		budget:   opt.RetryBudget,
	}, hostSettings{rps: opt.RPS, concurrency: opt.HostConcurrency, timeout: opt.Timeout}, c.settings, c.stats)
	c.limiter.keys = c.keys
	c.limiter.limits = opt.Limits
	c.cache = newCache(opt.CacheDir, opt.CacheTTL, opt.Refresh, opt.Now, c.stats)
	c.cache.tagTTL = opt.TagTTL
	return c
}

// Stats returns what the Client has done so far.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// Flush writes to the cache on disk what the Client learned and has not
// written yet (see cache.go: answers are written in batches). A run calls
// it once, at its end; the Client stays usable afterwards. The error is
// the first file that could not be written: worth a warning at most, as
// the cache only saves requests. A nil Client has nothing to flush.
func (c *Client) Flush() error {
	if c == nil {
		return nil
	}
	return c.cache.flush()
}

// puller returns the ggcr puller listing with pageSize. One per page size,
// shared by listing and reading, so a repository authenticates once.
// ggcr's own retries are off: the limiter under it retries, within the
// host's limits.
func (c *Client) puller(pageSize int) (*remote.Puller, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pullers[pageSize]; ok {
		return p, nil
	}
	p, err := remote.NewPuller(
		remote.WithAuthFromKeychain(c.keys),
		remote.WithTransport(listingTap{next: c.limiter}),
		remote.WithUserAgent(c.opt.UserAgent),
		remote.WithPageSize(pageSize),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithRetryStatusCodes(),
	)
	if err != nil {
		return nil, err
	}
	c.pullers[pageSize] = p
	return p, nil
}

// repoSettings returns the page size, cap and puller for a repository.
func (c *Client) repoSettings(r name.Repository) (pageSize, maxTags int) {
	rs := c.settings.repo(r.RegistryStr(), r.RepositoryStr())
	return cmp.Or(rs.pageSize, c.opt.PageSize), cmp.Or(rs.maxTags, c.opt.MaxTags)
}

func (c *Client) pullerFor(r name.Repository) (*remote.Puller, error) {
	pageSize, _ := c.repoSettings(r)
	return c.puller(pageSize)
}

func defaultUserAgent() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "git-laminar/" + v
}

// Tags lists the tags of repo ("host[:port]/path"), following pagination
// (Link headers), in the order the registry returns them (usually sorted;
// newest push first from Harbor's API and others, see api.go),
// at most the repository's MaxTags (see TagsOf for the warning). A
// repository with no tags gives an empty, non-nil slice.
func (c *Client) Tags(ctx context.Context, repo string) ([]string, error) {
	tl := c.tags(ctx, repo)
	return tl.Tags, afterDeadline(ctx, tl.Err)
}

func (c *Client) tags(ctx context.Context, repo string) TagList {
	const op = "listing tags of"
	r, err := c.repository(op, repo)
	if err != nil {
		return TagList{Err: err}
	}
	pageSize, maxTags := c.repoSettings(r)
	e := c.cache.entry(r.Name())
	ls := newListing(c.opt.Limits, maxTags)
	q, fellBack := c.chooseAPI(r, pageSize, ls)
	want := cmp.Or(fellBack, q.api) // the choice, before any fallback
	if cl, ok := e.tags(maxTags, want); ok {
		return TagList{Tags: cl.tags, Warning: capWarning(repo, cl.truncated, maxTags), API: cl.api, FellBack: cmp.Or(fellBack, cl.fellBack), Pushed: cl.pushed}
	}
	ctx = c.withBudget(ctx, r.Name(), pageSize, maxTags)
	out, err := c.listAPI(ctx, q)
	if err != nil {
		// Nothing of a listing that failed is cached, limits included.
		return TagList{Err: c.wrap(op, repo, r.RegistryStr(), err)}
	}
	fellBack = cmp.Or(fellBack, out.fellBack)
	pushed := e.putTags(out.tags, maxTags, out.truncated, out.ls.listed, want, out.api, fellBack)
	return TagList{
		Tags:     out.tags,
		Warning:  joinWarnings(out.warning, capWarning(repo, out.truncated, maxTags), out.ls.skippedWarning(repo)),
		API:      out.api,
		FellBack: fellBack,
		Pushed:   pushed,
	}
}

// listV2 reads the tag list of the distribution API, /v2/<name>/tags/list,
// page by page up to the listing's cap. listingTap, under ggcr's lister,
// holds the pages to the limits and records what they say of their tags
// beyond their names (see listed.go); ctx carries the listing.
func (c *Client) listV2(ctx context.Context, r name.Repository, pageSize int) (tags []string, truncated bool, err error) {
	ls := listingFrom(ctx)
	p, err := c.puller(pageSize)
	if err != nil {
		return nil, false, err
	}
	lister, err := p.Lister(ctx, r)
	if err != nil {
		return nil, false, err
	}
	tags = []string{}
	for lister.HasNext() {
		page, err := lister.Next(ctx)
		if err != nil {
			return nil, false, err
		}
		tags = append(tags, page.Tags...)
		if len(tags) >= ls.maxTags {
			more := ls.over || lister.HasNext()
			if more && ls.hard {
				return nil, false, &LimitError{What: "tag list", Limit: fmt.Sprintf("%d tags", ls.maxTags)}
			}
			return tags[:ls.maxTags:ls.maxTags], more, nil
		}
		if len(page.Tags) == 0 && ls.skippedNone() {
			break // an empty page that links on would loop for ever
		}
	}
	return tags, false, nil
}

func capWarning(repo string, truncated bool, maxTags int) string {
	if !truncated {
		return ""
	}
	return fmt.Sprintf("%s has more than %d tags; only the first %d the registry listed were read (raise max_tags for it)", repo, maxTags, maxTags)
}

// skippedWarning says how many tags a listing passed over, if any: never
// the tags themselves, which may be of any length or bytes.
func (ls *listing) skippedWarning(repo string) string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.skipped == 0 {
		return ""
	}
	return fmt.Sprintf("%s: the registry listed %d tag(s) longer than the %d characters a tag may have; passed over", repo, ls.skipped, MaxTagLength)
}

// skippedNone reports whether no tag has been passed over yet.
func (ls *listing) skippedNone() bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.skipped == 0
}

func joinWarnings(ws ...string) string {
	var out []string
	for _, w := range ws {
		if w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, "; ")
}

// TagList is the outcome of listing one repository: its tags or why not.
type TagList struct {
	Tags []string
	Err  error
	// Warning, when not empty, says the list is incomplete (the repository
	// has more tags than its MaxTags), or that the API chosen by the host's
	// name refused it. For the caller to show; never printed here.
	Warning string
	// API is the API the tags were listed through: APIOCI, APIHarbor,
	// APIECR, ... (see api.go).
	API string
	// FellBack names the API the host's name chose, when it refused this
	// run and the tag list took its place (API is then APIOCI).
	FellBack string
	// Pushed says when the registry received each tag, for an API whose
	// listing says so (see PushTimes); nil for any other. A tag missing
	// from it had no time the client could read. The spellings of one
	// repository in TagsEach share it: read it, do not change it.
	Pushed map[string]time.Time
}

// TagsOf lists many repositories at once, within the limits on requests in
// flight overall and per registry host, so that a slow registry delays
// only its own repositories. The result has one entry per distinct input
// string. Repositories that name the same thing ("docker.io/nginx" and
// "index.docker.io/library/nginx") are listed once and share the result.
//
// One repository failing does not stop the others: each entry carries its
// own error, so a run can bump what it can and report the rest. When ctx is
// cancelled, repositories not yet listed get ctx's error.
func (c *Client) TagsOf(ctx context.Context, repos []string) map[string]TagList {
	out := make(map[string]TagList, len(repos))
	var mu sync.Mutex
	c.TagsEach(ctx, repos, func(repo string, tl TagList) {
		mu.Lock()
		out[repo] = tl
		mu.Unlock()
	})
	return out
}

// TagsEach is TagsOf handing each entry to fn as soon as it is known, so
// that a caller can work on a repository while the others are still being
// listed. fn is called once per distinct input string, from several
// goroutines at once; each call owns its TagList. TagsEach returns when
// every call has returned.
func (c *Client) TagsEach(ctx context.Context, repos []string, fn func(repo string, tl TagList)) {
	failed, groups := c.group(repos)
	for _, repo := range repos {
		if tl, ok := failed[repo]; ok {
			delete(failed, repo) // once per distinct string
			fn(repo, tl)
		}
	}
	var wg sync.WaitGroup
	for _, spellings := range groups {
		wg.Go(func() {
			var tl TagList
			if err := ctx.Err(); err != nil {
				tl.Err = c.wrap("listing tags of", spellings[0], "", err)
			} else {
				tl = c.tags(ctx, spellings[0])
			}
			tl.Err = afterDeadline(ctx, tl.Err)
			for i, s := range spellings {
				if i > 0 && tl.Tags != nil {
					// Each entry owns its slice; callers may sort or filter.
					tl.Tags = slices.Clone(tl.Tags)
				}
				fn(s, tl)
			}
		})
	}
	wg.Wait()
}

// group sorts the input of TagsEach into spellings of the same
// repository, in order of first appearance. Spellings that do not parse are
// not grouped: they get their error in failed.
func (c *Client) group(repos []string) (failed map[string]TagList, groups [][]string) {
	failed = map[string]TagList{}
	seen := map[string]bool{}
	index := map[string]int{} // canonical name → position in groups
	for _, repo := range repos {
		if seen[repo] {
			continue
		}
		seen[repo] = true
		r, err := c.repository("listing tags of", repo)
		if err != nil {
			failed[repo] = TagList{Err: err}
			continue
		}
		i, ok := index[r.Name()]
		if !ok {
			i = len(groups)
			index[r.Name()] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], repo)
	}
	return failed, groups
}

// repository parses a canonical repository string. A parse error is
// classified as "other" and still names what was asked for.
func (c *Client) repository(op, repo string) (name.Repository, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return name.Repository{}, c.wrap(op, repo, "", fmt.Errorf("invalid repository name: %w", err))
	}
	return r, nil
}

// wrap turns a failure into an *Error: classified, naming image, scrubbed
// of secrets, and for authorization failures saying whether credentials
// for host were found at all.
func (c *Client) wrap(op, image, host string, err error) error {
	e := &Error{Op: op, Image: image, Kind: classify(err), Err: err}
	if e.Kind == ErrUnauthorized && host != "" {
		if consulted, found := c.keys.credentials(host); consulted {
			if found {
				e.Hint = "the credentials found for " + host + " were rejected or lack access"
			} else {
				e.Hint = "no credentials found for " + host
			}
		}
	}
	// The cause may quote the registry's answer: its text is escaped here,
	// once, so that no message of ours carries a registry's escape
	// sequences or line breaks.
	e.text = printable.String(c.keys.redact(err.Error()))
	if lerr := (*LimitError)(nil); errors.As(err, &lerr) {
		// The limit says it all; the URL before it is the registry's
		// choice, of any length.
		e.text = lerr.Error()
	}
	return e
}
