package registry

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Some registries list a repository's tags, with when each was pushed,
// through an API of their own beside the distribution API: GitHub's
// packages API for ghcr.io (github.go), Google Artifact Registry's REST API
// (gar.go), Azure Container Registry's /acr/v1/ API (acr.go) and GitLab's
// GraphQL API (gitlab.go). What they share is here: a page of such an API
// is held to the listing's limits as a tag list page is (one page to
// Limits.TagPage, all pages together to Limits.TagList, the tags to the
// listing's cap), a cursor or next link is followed once and only to the
// API's own scheme and host, and what a page says of a tag is recorded in
// the listing as Harbor's artifact list is (see harbor.go).
//
// Credentials for these APIs are the registry's own, from the keychain:
// they go to the API host that belongs to the registry (api.github.com for
// ghcr.io, artifactregistry.googleapis.com for *-docker.pkg.dev, the
// registry itself for ACR, the GitLab instance for GitLab's registry) and
// nowhere else. That host is fixed by the registry's name, never read from
// laminar.toml; the user-level api_url (Settings.APIURL) is the one way to
// point it elsewhere.

// named says how q's API came to be used, for messages: set in the
// settings (and where), or chosen by the host's name.
func (q *apiQuery) named() string {
	if !q.explicit {
		return fmt.Sprintf("api = %q, chosen for %s by its name", q.api, q.r.RegistryStr())
	}
	return fmt.Sprintf("api = %q is set for %s%s", q.api, q.r.RegistryStr(), settingsAt(q.source))
}

// apiTag is what a registry's own API says of one tag.
type apiTag struct {
	name    string
	digest  string    // "" when not said, or not a digest
	pushed  time.Time // zero: not said (or not a time)
	created time.Time // zero: not said, or not a single image's build time
}

// withAPIPage marks ctx as asking for a page of a listing (see
// apiPageKey).
func withAPIPage(ctx context.Context) context.Context {
	return context.WithValue(ctx, apiPageKey{}, true)
}

// APIError is an answer other than 2xx from a registry's own API: the
// status, and the message the API put in its error body, if any.
type APIError struct {
	API        string // "GitHub's packages API", ...
	StatusCode int
	Message    string // from the body, at most maxAPIMessage bytes; may be empty
	// RateLimited is set for answers that say a rate limit was reached
	// without a 429 (GitHub's 403 with x-ratelimit-remaining: 0).
	RateLimited bool
}

const maxAPIMessage = 300

func (e *APIError) Error() string {
	s := fmt.Sprintf("%s answered %d %s", e.API, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// apiMessage reads the message from an API's error body, in the shapes
// these APIs use: {"message":...} (GitHub), {"error":{"message":...}}
// (Google), {"errors":[{"message":...}]} (ACR, GraphQL),
// {"error":"...","error_description":"..."} (OAuth, GitLab).
func apiMessage(body []byte) string {
	var b struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
		Desc    string          `json:"error_description"`
		Errors  []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	msg := b.Message
	if msg == "" && len(b.Errors) > 0 {
		msg = b.Errors[0].Message
	}
	if msg == "" && len(b.Error) > 0 {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(b.Error, &inner) == nil && inner.Message != "":
			msg = inner.Message
		case json.Unmarshal(b.Error, &s) == nil:
			msg = strings.TrimSpace(s + " " + b.Desc)
		}
	}
	if len(msg) > maxAPIMessage {
		cut := maxAPIMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return msg
}

// apiEndpoint is where a registry's own API is: scheme and host, and a
// path prefix (GitLab's instances may live under a path).
type apiEndpoint struct {
	base *url.URL
}

// endpointFor returns the endpoint of an API: apiURL (the host's
// user-level api_url) when set, else def.
func endpointFor(apiURL, def string) (apiEndpoint, error) {
	raw := cmp.Or(apiURL, def)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" || u.User != nil {
		return apiEndpoint{}, fmt.Errorf("api_url %q is not an http(s) URL of a host", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return apiEndpoint{base: u}, nil
}

// url is the URL of path (escaped, from the root of the API) with query q.
func (e apiEndpoint) url(path string, q url.Values) (*url.URL, error) {
	u := *e.base
	u.RawPath = e.base.EscapedPath() + path
	var err error
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return nil, err
	}
	u.RawQuery = q.Encode()
	return &u, nil
}

// owns reports whether u is on the API's scheme and host: the only place
// its credentials go. A next link elsewhere is refused, not followed.
func (e apiEndpoint) owns(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, e.base.Scheme) && strings.EqualFold(u.Host, e.base.Host) && u.User == nil
}

// nextURL resolves a Link rel="next" (relative to the page it came with)
// and checks that it stays on the API's host.
func (e apiEndpoint) nextURL(page *url.URL, link string) (*url.URL, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("a next link that is not a URL: %w", err)
	}
	next := page.ResolveReference(ref)
	if !e.owns(next) {
		return nil, &LimitError{Msg: fmt.Sprintf("the API's next link leads to another host (%s://%s); only %s is trusted with the credentials",
			next.Scheme, next.Host, e.base.Host)}
	}
	return next, nil
}

// linkNext returns the target of a Link header's rel="next", if any.
func linkNext(h http.Header) string {
	for _, l := range h.Values("Link") {
		for part := range strings.SplitSeq(l, ",") {
			target, params, ok := strings.Cut(part, ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			target = strings.TrimSpace(target)
			if strings.HasPrefix(target, "<") && strings.HasSuffix(target, ">") {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}

// apiToken is the token the keychain holds for r's registry: the password
// (GitHub, Google and GitLab tokens are stored so), or an identity or
// registry token. "" when the keychain has none.
func (c *Client) apiToken(ctx context.Context, r name.Repository) (user, token string, err error) {
	a, err := c.keys.ResolveContext(ctx, r)
	if err != nil || a == authn.Anonymous {
		return "", "", err
	}
	cfg, err := authn.Authorization(ctx, a)
	if err != nil {
		return "", "", err
	}
	switch {
	case cfg.Password != "":
		return cfg.Username, cfg.Password, nil
	case cfg.RegistryToken != "":
		return "", cfg.RegistryToken, nil
	case cfg.IdentityToken != "":
		return "", cfg.IdentityToken, nil
	}
	if cfg.Auth != "" {
		if u, p, ok := decodeAuth(cfg.Auth); ok {
			return u, p, nil
		}
	}
	return "", "", nil
}

// apiDo sends req through the limiter (per-host limits, retries of 429
// and 5xx, timeouts, the repository's budget and Stats apply) as a page
// of a listing, and returns the body of a 2xx answer, or an *APIError.
func (c *Client) apiDo(req *http.Request, api string) ([]byte, http.Header, error) {
	return c.apiDoVia(c.limiter, req, api)
}

// apiDoVia is apiDo through rt, a transport over the limiter (ggcr's
// token exchange, for an API that takes the registry's tokens).
func (c *Client) apiDoVia(rt http.RoundTripper, req *http.Request, api string) ([]byte, http.Header, error) {
	resp, body, err := c.sendAPIPage(rt, req)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{API: api, StatusCode: resp.StatusCode, Message: apiMessage(body)}
		e.RateLimited = resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-Ratelimit-Remaining") == "0"
		return nil, nil, e
	}
	return body, resp.Header, nil
}

// sendAPIPage sends req through rt as a page of a listing, with the
// client's User-Agent and JSON asked for unless req says otherwise, and
// returns the answer with its whole body read (the limiter bounds it: a
// page to Limits.TagPage, an error body to Limits.ErrorBody). The callers
// say what a status means.
func (c *Client) sendAPIPage(rt http.RoundTripper, req *http.Request) (*http.Response, []byte, error) {
	req = req.WithContext(withAPIPage(req.Context()))
	req.Header.Set("User-Agent", c.opt.UserAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

// apiCollector gathers the tags of a listing read through a registry's
// own API, page by page, within the listing's limits.
type apiCollector struct {
	ls    *listing
	what  string // names the listing in limit errors: "GitHub package version list"
	seen  map[string]bool
	pages map[[32]byte]bool // cursors or URLs followed
	tags  []string
}

func newCollector(ls *listing, what string) *apiCollector {
	return &apiCollector{ls: ls, what: what, seen: map[string]bool{}, pages: map[[32]byte]bool{}, tags: []string{}}
}

// follow notes the cursor or URL of the next page, and fails if it was
// followed before: a cursor that leads back would be followed for ever.
func (a *apiCollector) follow(cursor string) error {
	k := sha256.Sum256([]byte(cursor))
	if a.pages[k] {
		return &LimitError{Msg: "the API's next page leads back to a page already read (each page is read once)"}
	}
	a.pages[k] = true
	return nil
}

// page counts a page's bytes against the listing's limit.
func (a *apiCollector) page(body []byte) error {
	if a.ls.bytes += int64(len(body)); a.ls.bytes > a.ls.limits.TagList {
		return &LimitError{What: a.what, Limit: size(a.ls.limits.TagList), Why: "all pages together"}
	}
	return nil
}

// add takes a page's tags: over-long tags are passed over and counted, a
// tag already listed keeps what was first said of it (a listing newest
// first lists a tag's latest push first), and what the page says of a
// tag with a digest is recorded for the run. It reports whether the
// listing holds as many tags as it may.
func (a *apiCollector) add(tags []apiTag) bool {
	for _, t := range tags {
		if t.name == "" || a.seen[t.name] {
			continue
		}
		if !validTag(t.name) {
			a.ls.skipped++
			continue
		}
		if len(a.tags) >= a.ls.maxTags {
			a.ls.over = true
			return true
		}
		a.seen[t.name] = true
		a.tags = append(a.tags, t.name)
		if t.digest != "" {
			a.ls.listed.put(t.name, listedImage{digest: t.digest, created: t.created, pushed: t.pushed})
		}
	}
	return len(a.tags) >= a.ls.maxTags
}

// result ends the listing; more says whether the API had more to list.
// A listing past the hard limit fails rather than being cut short.
func (a *apiCollector) result(more bool) ([]string, bool, error) {
	more = more || a.ls.over
	if len(a.tags) >= a.ls.maxTags && more {
		if a.ls.hard {
			return nil, false, &LimitError{What: a.what, Limit: fmt.Sprintf("%d tags", a.ls.maxTags)}
		}
		return a.tags[:a.ls.maxTags:a.ls.maxTags], true, nil
	}
	return a.tags, false, nil
}

// apiDigest is d if it parses as a digest, else "".
func apiDigest(d string) string {
	if _, err := v1.NewHash(d); err != nil {
		return ""
	}
	return d
}

// apiTime reads an RFC 3339 time; zero when it is not one, or is before
// 1970 (no registry pushed anything then: a placeholder, not a time).
func apiTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Unix() < 0 {
		return time.Time{}
	}
	return t.UTC()
}

// decodeAuth splits docker's "auth", base64 of "user:password".
func decodeAuth(auth string) (user, password string, ok bool) {
	b, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(string(b), ":")
	return user, password, ok && password != ""
}

// errNoToken is the cause when an API that needs a token found none.
var errNoToken = errors.New("no credentials found")
