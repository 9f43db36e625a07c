package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Besides the tag list of the distribution API, which every registry
// serves, many registries list a repository's tags through an API of their
// own that says more of each tag: which image it names, and when the
// registry received it (its push time). Ranking by push time then costs
// the listing alone; from the tag list it cannot be had at all.
//
// Settings.API chooses, per host, which API a repository is listed
// through:
//
//   - APIAuto (the default, also ""): by the host's name (see autoAPI),
//     and the tag list for any host not named there;
//   - APIOCI: the tag list, whatever the host;
//   - any other name of apis: that API, for every repository of the host.
//
// What happens when the API fails differs with who chose it. An API
// chosen by the host's name that refuses the client (no credentials for
// it, 401, 403, a repository it does not know) is given up for the rest
// of the run: the host's repositories are listed through the tag list, and
// the first listing says so in one warning. The person did not ask for the
// API, and the tag list may still serve them. An API named in the
// settings fails its repositories with an error naming the setting: a
// quiet fallback would hide a wrong setting behind a run that ranks by
// other means or not at all.
//
// Each API lives in its own file and registers an *api in apis (see
// registerAPI) from an init function: its name, whether its listing says
// push times, and the function that lists a repository through it.

// The values of Settings.API besides APIHarbor (see harbor.go).
const (
	APIAuto      = "auto"      // choose by the host's name; the default
	APIOCI       = "oci"       // the distribution API's tag list
	APIECR       = "ecr"       // AWS ECR's DescribeImages
	APIDockerHub = "dockerhub" // Docker Hub's tags API
	APIQuay      = "quay"      // Quay's tag API
	APIGHCR      = "ghcr"      // GitHub's packages API
	APIGAR       = "gar"       // Google Artifact Registry's API
	APIACR       = "acr"       // Azure Container Registry's API
	APIGitLab    = "gitlab"    // GitLab's container registry API
)

// An api lists repositories through a registry's own API.
type api struct {
	name string
	// pushTimes says that the listing records, for each tag, when the
	// registry received it (listedImage.pushed).
	pushTimes bool
	// list reads q's repository, at most q.ls.maxTags tags, recording in
	// q.ls.listed what the pages say of each tag and holding the pages to
	// q.ls's limits. A repository with no tags gives an empty, non-nil
	// slice; more tags than the cap give the first ones and truncated (or
	// a *LimitError when q.ls.hard).
	list func(c *Client, ctx context.Context, q *apiQuery) (tags []string, truncated bool, err error)
}

// apiQuery is one listing through an api.
type apiQuery struct {
	r        name.Repository
	api      string // the api's name
	explicit bool   // named in the settings, not chosen by the host's name
	source   string // where the settings named it ("file:line"), for messages
	// apiURL is the user-level api_url of the host: where the API is
	// served when not where the api says by default. Only the machine's
	// owner sets it (laminar.toml may not), so credentials may follow it.
	apiURL   string
	pageSize int
	ls       *listing
}

// setting names where api is set, for messages: `api = "quay" (registry
// settings at laminar.toml:7)`, or how it was chosen.
func (q *apiQuery) setting() string {
	if !q.explicit {
		return fmt.Sprintf("api = %q, chosen for %s by its name,", q.api, q.r.RegistryStr())
	}
	return fmt.Sprintf("api = %q is set for %s%s, and", q.api, q.r.RegistryStr(), settingsAt(q.source))
}

var apis = map[string]*api{}

// registerAPI makes a an API that Settings.API may name. Called from init
// functions only.
func registerAPI(a *api) {
	if _, dup := apis[a.name]; dup {
		panic("registry: API " + a.name + " registered twice")
	}
	apis[a.name] = a
}

func init() {
	registerAPI(&api{name: APIOCI, list: func(c *Client, ctx context.Context, q *apiQuery) ([]string, bool, error) {
		return c.listV2(withListing(ctx, q.ls), q.r, q.pageSize)
	}})
	registerAPI(&api{name: APIHarbor, pushTimes: true, list: func(c *Client, ctx context.Context, q *apiQuery) ([]string, bool, error) {
		return c.listHarbor(ctx, q.r, q.source, q.pageSize, q.ls)
	}})
}

// PushTimes reports whether listings through the named API say when the
// registry received each tag.
func PushTimes(apiName string) bool {
	a, ok := apis[apiName]
	return ok && a.pushTimes
}

var (
	ecrHost = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)
	garHost = regexp.MustCompile(`^[a-z0-9-]+-docker\.pkg\.dev$`)
	acrHost = regexp.MustCompile(`^[a-z0-9-]+\.azurecr\.io$`)
)

// autoAPI is the API chosen for a host by its name ("host[:port]"): the
// public services whose own API says more than the tag list. Anything else
// is listed through the tag list.
func autoAPI(host string) string {
	h := strings.ToLower(host)
	switch {
	case ecrHost.MatchString(h):
		return APIECR
	case h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io":
		return APIDockerHub
	case h == "quay.io":
		return APIQuay
	case h == "ghcr.io":
		return APIGHCR
	case garHost.MatchString(h):
		return APIGAR
	case acrHost.MatchString(h):
		return APIACR
	case h == "registry.gitlab.com":
		return APIGitLab
	}
	return APIOCI
}

// hostAPI is autoAPI; tests of what follows an automatic choice make it
// choose for hosts on 127.0.0.1.
var hostAPI = autoAPI

// chooseAPI says which API lists r: the host's setting, or the one its
// name chooses. An API chosen by name that this build does not speak, or
// that failed earlier in the run, is the tag list; fellBack then names it.
func (c *Client) chooseAPI(r name.Repository, pageSize int, ls *listing) (q *apiQuery, fellBack string) {
	hs := c.settings.host(r.RegistryStr())
	q = &apiQuery{r: r, api: hs.api, explicit: true, source: hs.apiSource, apiURL: hs.apiURL, pageSize: pageSize, ls: ls}
	if hs.api == "" || hs.api == APIAuto {
		q.api, q.explicit = hostAPI(r.RegistryStr()), false
		if _, ok := apis[q.api]; !ok {
			q.api = APIOCI
		} else if c.fallbacks.failed(r.RegistryStr()) {
			fellBack, q.api = q.api, APIOCI
		}
	}
	return q, fellBack
}

// apiListing is the outcome of listing a repository through an API.
type apiListing struct {
	tags      []string
	truncated bool
	ls        *listing // what the pages said, and cost
	api       string   // the API that listed it
	fellBack  string   // the API chosen by the host's name that was given up for the tag list
	warning   string
}

// listAPI lists q's repository through its API. An API chosen by the
// host's name that refuses the client is given up for the host (see the
// top of this file): the repository is listed again through the tag list,
// and the first such listing of the host carries a warning.
func (c *Client) listAPI(ctx context.Context, q *apiQuery) (apiListing, error) {
	a, ok := apis[q.api]
	if !ok {
		return apiListing{}, fmt.Errorf("api = %q is set for %s%s, and this client lists no tags through it; leave api out, or set %q", q.api, q.r.RegistryStr(), settingsAt(q.source), APIOCI)
	}
	out := apiListing{ls: q.ls, api: q.api}
	var err error
	out.tags, out.truncated, err = a.list(c, ctx, q)
	if err == nil || q.explicit || q.api == APIOCI || !refused(err) || ctx.Err() != nil {
		return out, err
	}
	host := q.r.RegistryStr()
	if c.fallbacks.fail(host) {
		out.warning = fmt.Sprintf("%s: its own API (api = %q, chosen by the host's name) refused to list %s, so the host's repositories are listed through the tag list, which says no push times; set api = %q for the host to do so without asking, or give credentials the API accepts: %s",
			host, q.api, q.r.RepositoryStr(), APIOCI, printableCause(c, err))
	}
	out.ls, out.api, out.fellBack = q.ls.restart(), APIOCI, q.api
	out.tags, out.truncated, err = c.listV2(withListing(ctx, out.ls), q.r, q.pageSize)
	return out, err
}

// refused reports whether an API's failure is one the tag list may not
// share: the API wants credentials the client has not (or may not use
// there), or does not know the repository under the name it was asked.
func refused(err error) bool {
	switch classify(err) {
	case ErrUnauthorized, ErrNotFound:
		return true
	}
	var nc *noCredentialsError
	return errors.As(err, &nc)
}

// noCredentialsError is an API that needs credentials of its own (AWS's
// for ECR) when none are found.
type noCredentialsError struct {
	api string
	err error
}

func (e *noCredentialsError) Error() string {
	return fmt.Sprintf("no credentials for the %s API: %v", e.api, e.err)
}

func (e *noCredentialsError) Unwrap() error { return e.err }

// printableCause is err's text as an *Error would show it: scrubbed of
// secrets and of a registry's control characters.
func printableCause(c *Client, err error) string {
	return c.wrap("", "", "", err).(*Error).text
}

// fallbacks remembers the hosts whose API, chosen by their name, refused a
// listing this run.
type fallbacks struct {
	mu    sync.Mutex
	hosts map[string]bool
}

// fail notes that host's API failed, and reports whether it is the first
// failure of the host (the one to warn about).
func (f *fallbacks) fail(host string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hosts[host] {
		return false
	}
	if f.hosts == nil {
		f.hosts = map[string]bool{}
	}
	f.hosts[host] = true
	return true
}

func (f *fallbacks) failed(host string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hosts[host]
}

// apiPageKey marks the context of a request for a page of a listing
// through an API: the limiter holds its answer to a tag list page's limit
// (Limits.TagPage) and Stats count it as one (TagListPages).
type apiPageKey struct{}

func isAPIPage(req *http.Request) bool { return req.Context().Value(apiPageKey{}) != nil }

// apiPage sends req, a request for a page of q's listing, through the
// limiter (per-host limits, retries, timeouts, the repository's budget and
// Stats apply), and returns the body of a 200 answer, counted against the
// listing's limit on all pages together, or a *transport.Error for any
// other answer.
func (c *Client) apiPage(q *apiQuery, req *http.Request) ([]byte, http.Header, error) {
	resp, body, err := c.sendAPIPage(c.limiter, req)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, nil, transport.CheckError(resp, http.StatusOK)
	}
	if err := q.ls.charge(len(body), q.api); err != nil {
		return nil, nil, err
	}
	return body, resp.Header, nil
}

// charge counts n bytes of a page against the limit on all the pages of
// the listing together.
func (ls *listing) charge(n int, api string) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.bytes += int64(n)
	if ls.bytes > ls.limits.TagList {
		return &LimitError{What: api + " API listing", Limit: size(ls.limits.TagList), Why: "all pages together"}
	}
	return nil
}

// keep adds tag to tags unless it is too long to be a tag (counted as
// passed over), already kept, or beyond the cap (noted in over). It
// reports whether the tag was kept.
func (ls *listing) keep(tags *[]string, seen map[string]bool, tag string) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	switch {
	case !validTag(tag):
		ls.skipped++
		return false
	case seen[tag]:
		return false
	case len(*tags) >= ls.maxTags:
		ls.over = true
		return false
	}
	seen[tag] = true
	*tags = append(*tags, tag)
	return true
}

// done ends a listing through an API: the tags kept, and whether more
// were left out (truncated), or a *LimitError when the cap is a hard one.
func (ls *listing) done(tags []string, more bool) ([]string, bool, error) {
	ls.mu.Lock()
	over := ls.over || more && len(tags) >= ls.maxTags
	ls.mu.Unlock()
	if over && ls.hard {
		return nil, false, &LimitError{What: "tag list", Limit: fmt.Sprintf("%d tags", ls.maxTags)}
	}
	return tags, over, nil
}

// sameOrigin reports whether next (a page link an API sent) has the
// scheme and host of base: a link elsewhere is never followed, since the
// request carries the API's credentials.
func sameOrigin(base, next *url.URL) bool {
	return next.Scheme == base.Scheme && strings.EqualFold(next.Host, base.Host) && next.User == nil
}

// checkAPIURL validates a user-level api_url: an http(s) URL of a host,
// with a path at most, for messages to name.
func checkAPIURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("api_url %q is not an http(s) URL of a host", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}
