package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// APIHarbor is the Settings.API of a Harbor (goharbor.io, v2.x): its
// repositories are listed through Harbor's artifact API,
//
//	GET /api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts
//
// instead of /v2/<name>/tags/list. One page of it names, for each
// artifact, its digest, its tags, and in "extra_attrs" what Harbor read
// from an image's config when it was pushed, "created" among it: ranking
// tags by creation time then costs the listing alone, where the tag list
// costs a manifest and a config request per tag never seen.
//
// What this relies on, as Harbor's swagger.yaml (api/v2.0) and its source
// say:
//
//   - the project is the first element of the repository path, and
//     repository_name is the rest with "/" escaped twice ("a/b" is
//     "a%252Fb"); Harbor unescapes the parameter once more itself;
//   - page and page_size (at most 100) page through the artifacts, with
//     X-Total-Count and a Link header (rel="next") while more follow;
//     Harbor writes the Link's query unescaped, so the next page's URL is
//     built here rather than taken from it;
//   - q=tags=* lists only tagged artifacts, each with all its tags
//     (with_tag=true is the default; it is sent anyway), newest push first;
//   - media_type is the config's media type for a manifest (the manifest's
//     own for an index), manifest_media_type the manifest's; for a manifest
//     whose config is an image config, extra_attrs.created is that config's
//     "created" (null when it has none); an index has no "created";
//   - basic auth with a user's or robot account's name and secret (which
//     needs the permission to list artifacts), or none for a public
//     project; 401 and 403 answers carry the error body the registry API
//     uses.
//
// What the listing says is used as listed.go's tag lists that carry times
// are: every tag's digest, and a single image's build time, are recorded as
// resolutions made now; an index's creation time is never taken from the
// listing, since this client defines it as the index's annotation or its
// linux/amd64 image's (see Info), which is read as usual.
//
// A host that does not answer as Harbor fails its repositories with an
// error saying that api = "harbor" is set for it: falling back to the tag
// list would hide a wrong setting (or a robot account that may pull but
// not list artifacts) behind a run that quietly costs what the setting
// was meant to save.
const APIHarbor = "harbor"

const (
	// harborAPIPrefix starts the path of every request to Harbor's API.
	harborAPIPrefix = "/api/v2.0/"
	// harborMaxPageSize is the most artifacts Harbor serves per page.
	harborMaxPageSize = 100
)

// listHarbor lists repository r through Harbor's artifact API, at most
// the listing's cap of tags, in Harbor's order (newest push first), and
// records in the listing what the pages say of each tag. source is where
// api = "harbor" was set, for messages. The pages are held to the
// listing's limits as tag list pages are (see listed.go).
func (c *Client) listHarbor(ctx context.Context, r name.Repository, source string, pageSize int, ls *listing) (tags []string, truncated bool, err error) {
	maxTags, listed := ls.maxTags, ls.listed
	project, repo, ok := strings.Cut(r.RepositoryStr(), "/")
	if !ok {
		return nil, false, fmt.Errorf("api = %q is set for %s%s, and a Harbor repository is <project>/<name>", APIHarbor, r.RegistryStr(), settingsAt(source))
	}
	auth, err := c.harborAuth(ctx, r)
	if err != nil {
		return nil, false, err
	}
	pageSize = min(max(pageSize, 1), harborMaxPageSize)
	base := harborPath(project, repo)
	seen := map[string]bool{}    // tags, in case one moved between pages
	digests := map[string]bool{} // artifacts, to stop on a page that repeats
	tags = []string{}
	for page := 1; ; page++ {
		q := url.Values{
			"with_tag":  {"true"},
			"q":         {"tags=*"},
			"page":      {strconv.Itoa(page)},
			"page_size": {strconv.Itoa(pageSize)},
		}
		body, hdr, err := c.harborGet(ctx, r, auth, base+"/artifacts", q)
		if err != nil {
			return nil, false, harborFailure(r, project, source, err)
		}
		if ls.bytes += int64(len(body)); ls.bytes > ls.limits.TagList {
			return nil, false, &LimitError{What: "Harbor artifact list", Limit: size(ls.limits.TagList), Why: "all pages together"}
		}
		arts, err := parseHarborPage(body)
		if err != nil {
			return nil, false, fmt.Errorf("api = %q is set for %s%s, but page %d of its artifact list does not read as Harbor's: %w", APIHarbor, r.RegistryStr(), settingsAt(source), page, err)
		}
		if page == 1 && len(arts) == 0 {
			// Harbor lists no artifacts for a repository that does not
			// exist; the tag list would say NAME_UNKNOWN.
			if _, _, err := c.harborGet(ctx, r, auth, base, nil); err != nil {
				var terr *transport.Error
				if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
					return nil, false, fmt.Errorf("Harbor at %s has no repository %s in project %s: %w", r.RegistryStr(), repo, project, err)
				}
				return nil, false, harborFailure(r, project, source, err)
			}
			return tags, false, nil
		}
		fresh := false
		for _, a := range arts {
			if a.digest != "" {
				fresh = fresh || !digests[a.digest]
				digests[a.digest] = true
			} else {
				fresh = true
			}
			for _, tag := range a.tags {
				if !validTag(tag) {
					ls.skipped++
					continue
				}
				if seen[tag] {
					continue
				}
				seen[tag] = true
				tags = append(tags, tag)
				listed.put(tag, listedImage{digest: a.digest, created: a.created, pushed: a.pushed[tag]})
			}
		}
		more := fresh && harborMore(hdr, page, pageSize)
		if len(tags) >= maxTags {
			over := len(tags) > maxTags || more
			if over && ls.hard {
				return nil, false, &LimitError{What: "Harbor artifact list", Limit: fmt.Sprintf("%d tags", maxTags)}
			}
			return tags[:maxTags:maxTags], over, nil
		}
		if !more {
			return tags, false, nil
		}
	}
}

// harborPath is the path of a repository in Harbor's API: repository_name
// escaped twice, as Harbor asks of names with a "/" in them.
func harborPath(project, repo string) string {
	return harborAPIPrefix + "projects/" + url.PathEscape(project) +
		"/repositories/" + url.PathEscape(url.PathEscape(repo))
}

// harborMore reports whether a page is followed by another: Harbor says so
// with a Link rel="next"; without a Link header, X-Total-Count tells.
func harborMore(h http.Header, page, pageSize int) bool {
	links := h.Values("Link")
	for _, l := range links {
		for part := range strings.SplitSeq(l, ",") {
			if _, params, ok := strings.Cut(part, ";"); ok && strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				return true
			}
		}
	}
	if len(links) > 0 {
		return false
	}
	total, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Total-Count")))
	return err == nil && page*pageSize < total
}

// harborFailure explains an answer other than 200: the setting is named,
// since a host that is not Harbor, or credentials that may pull but not
// list artifacts, are the usual causes. The transport error stays in the
// chain, so that the failure is classified as any other (ErrNotFound,
// ErrUnauthorized, ...).
func harborFailure(r name.Repository, project, source string, err error) error {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return err
	}
	why := ""
	switch terr.StatusCode {
	case http.StatusNotFound:
		why = fmt.Sprintf("; is the host a Harbor, and has it a project %s?", project)
	case http.StatusUnauthorized, http.StatusForbidden:
		why = "; Harbor asks for credentials that may list the project's artifacts (a robot account needs that permission), or none for a public project"
	}
	return fmt.Errorf("api = %q is set for %s%s, and its Harbor API answered %d %s%s: %w",
		APIHarbor, r.RegistryStr(), settingsAt(source), terr.StatusCode, http.StatusText(terr.StatusCode), why, err)
}

// harborCredentials are what a request to Harbor's API is sent with.
type harborCredentials struct{ user, secret string } // zero: anonymous

// harborAuth finds the credentials for r as ggcr would (c.keys, which
// remembers the secrets so that errors are scrubbed of them). Harbor's API
// takes basic auth: a username and password, or docker's "auth" holding
// both. Tokens for a registry's token service are no use to it; they are
// not sent.
func (c *Client) harborAuth(ctx context.Context, r name.Repository) (harborCredentials, error) {
	a, err := c.keys.ResolveContext(ctx, r)
	if err != nil {
		return harborCredentials{}, err
	}
	if a == authn.Anonymous {
		return harborCredentials{}, nil
	}
	cfg, err := authn.Authorization(ctx, a)
	if err != nil {
		return harborCredentials{}, err
	}
	if cfg.Username != "" && cfg.Password != "" {
		return harborCredentials{cfg.Username, cfg.Password}, nil
	}
	if cfg.Auth != "" {
		if b, err := base64.StdEncoding.DecodeString(cfg.Auth); err == nil {
			if u, p, ok := strings.Cut(string(b), ":"); ok && u != "" {
				return harborCredentials{u, p}, nil
			}
		}
	}
	return harborCredentials{}, nil
}

// harborGet sends GET path?q to r's host through the limiter (per-host
// limits, retries, timeouts and Stats apply) and returns the body and
// headers of a 200 answer, or a *transport.Error for any other.
func (c *Client) harborGet(ctx context.Context, r name.Repository, auth harborCredentials, path string, q url.Values) ([]byte, http.Header, error) {
	host := r.RegistryStr()
	scheme := c.harbor.scheme(r.Registry)
	body, hdr, err := c.harborGetOnce(ctx, scheme, host, auth, path, q)
	if next, retry := c.harbor.failed(r.Registry, scheme, err); retry && ctx.Err() == nil {
		return c.harborGetOnce(ctx, next, host, auth, path, q)
	}
	return body, hdr, err
}

func (c *Client) harborGetOnce(ctx context.Context, scheme, host string, auth harborCredentials, path string, q url.Values) ([]byte, http.Header, error) {
	u := &url.URL{Scheme: scheme, Host: host, RawPath: path, RawQuery: q.Encode()}
	var err error
	if u.Path, err = url.PathUnescape(path); err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opt.UserAgent)
	if auth.user != "" {
		req.SetBasicAuth(auth.user, auth.secret)
	}
	resp, err := c.limiter.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	c.harbor.answered(host, scheme)
	if resp.StatusCode != http.StatusOK {
		return nil, nil, transport.CheckError(resp, http.StatusOK)
	}
	// The limiter bounds the body to a page's limit (Limits.TagPage).
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return body, resp.Header, nil
}

// harborHosts remembers, per host, the scheme its API answered on, where
// that had to be found out (see scheme). The zero value is ready for use.
type harborHosts struct {
	mu      sync.Mutex
	schemes map[string]string // host → "https" or "http"
}

// scheme is the scheme of requests to reg's API, chosen as ggcr chooses
// for the registry: HTTPS, except that a private (RFC 1918) address is
// tried with HTTPS first and spoken to over plain HTTP if it does not
// speak TLS, and loopback and localhost get plain HTTP at once (a registry
// on the machine itself is a test's or a developer's). CA bundles, client
// certificates and insecure then apply in the limiter.
func (h *harborHosts) scheme(reg name.Registry) string {
	if reg.Scheme() == "https" {
		return "https"
	}
	h.mu.Lock()
	s, ok := h.schemes[reg.RegistryStr()]
	h.mu.Unlock()
	switch {
	case ok:
		return s
	case isLoopback(reg.RegistryStr()):
		return "http"
	}
	return "https"
}

// failed decides, after a request over scheme ended with err, whether to
// try plain HTTP: only after HTTPS to a host ggcr would also speak plain
// HTTP to, when the host did not complete a TLS handshake, and only unless
// the host answered over HTTPS before. (A request that set out before
// another found plain HTTP is sent again over it.)
func (h *harborHosts) failed(reg name.Registry, scheme string, err error) (string, bool) {
	if err == nil || scheme != "https" || reg.Scheme() != "http" || !notTLS(err) {
		return "", false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if known, ok := h.schemes[reg.RegistryStr()]; ok {
		return known, known != scheme
	}
	h.set(reg.RegistryStr(), "http")
	return "http", true
}

// answered notes that host answered over scheme, if nothing is noted yet.
func (h *harborHosts) answered(host, scheme string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, known := h.schemes[host]; !known {
		h.set(host, scheme)
	}
}

// set notes a scheme; called with h.mu held.
func (h *harborHosts) set(host, scheme string) {
	if h.schemes == nil {
		h.schemes = map[string]string{}
	}
	h.schemes[host] = scheme
}

// isLoopback reports whether host ("name[:port]") is this machine.
func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// harborArtifact is what one artifact of a page says of its tags.
type harborArtifact struct {
	tags    []string
	pushed  map[string]time.Time // when Harbor received each tag, where it says
	digest  string               // "" when the artifact's digest does not parse
	created time.Time            // zero: not said, or not trusted (not a single image)
}

// harborPage is the part of an artifact Harbor lists that is read here.
type harborPage []struct {
	Digest            string          `json:"digest"`
	MediaType         string          `json:"media_type"`
	ManifestMediaType string          `json:"manifest_media_type"`
	Tags              []harborTag     `json:"tags"`
	ExtraAttrs        json.RawMessage `json:"extra_attrs"`
}

type harborTag struct {
	Name     string          `json:"name"`
	PushTime json.RawMessage `json:"push_time"`
}

// parseHarborPage reads one page of the artifact list. A page that is not
// a JSON array of artifacts is an error: its tags would be lost. Within an
// artifact, what does not make sense is passed over: a digest that does
// not parse (the tags are listed, and resolved the usual way), and a build
// time that is not an RFC 3339 time in extra_attrs or that belongs to
// anything but a single image with an image config.
func parseHarborPage(page []byte) ([]harborArtifact, error) {
	page = bytes.TrimSpace(page)
	if string(page) == "null" {
		return nil, nil // no artifacts, as a JSON encoder may write it
	}
	if len(page) == 0 || page[0] != '[' {
		return nil, errors.New("not a JSON array of artifacts")
	}
	var p harborPage
	if err := json.Unmarshal(page, &p); err != nil {
		return nil, err
	}
	out := make([]harborArtifact, 0, len(p))
	for _, a := range p {
		var ha harborArtifact
		for _, t := range a.Tags {
			if t.Name != "" {
				ha.tags = append(ha.tags, t.Name)
				if p := jsonTime(t.PushTime); !p.IsZero() {
					if ha.pushed == nil {
						ha.pushed = map[string]time.Time{}
					}
					ha.pushed[t.Name] = p
				}
			}
		}
		if _, err := v1.NewHash(a.Digest); err == nil {
			ha.digest = a.Digest
			if harborImageConfig(a.MediaType) && types.MediaType(a.ManifestMediaType).IsImage() {
				ha.created = harborCreated(a.ExtraAttrs)
			}
		}
		out = append(out, ha)
	}
	return out, nil
}

// harborImageConfig reports whether a manifest's config media type (what
// Harbor calls the artifact's media_type) is an image config: only then is
// extra_attrs.created the config's "created", as this client reads it.
func harborImageConfig(mt string) bool {
	switch types.MediaType(mt) {
	case types.OCIConfigJSON, types.DockerConfigJSON:
		return true
	}
	return false
}

// harborCreated reads extra_attrs.created; zero when it is missing, null,
// not a time, or the zero time (this client then reads the manifest's
// annotation, which Harbor does not consult).
func harborCreated(extra json.RawMessage) time.Time {
	var attrs struct {
		Created *string `json:"created"`
	}
	if len(extra) == 0 || json.Unmarshal(extra, &attrs) != nil || attrs.Created == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, *attrs.Created)
	if err != nil || t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// jsonTime reads a JSON string holding an RFC 3339 time; zero when it is
// anything else, or the zero time (Harbor's "0001-01-01T00:00:00Z" for
// "never"), or before the Unix epoch or after 9999: no registry received
// a tag then.
func jsonTime(raw json.RawMessage) time.Time {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return plausible(t)
}

// plausible is t in UTC when it may be a time a registry received a tag,
// else zero.
func plausible(t time.Time) time.Time {
	if t.Before(time.Unix(1, 0)) || t.Year() > 9999 {
		return time.Time{}
	}
	return t.UTC()
}

// settingsAt names where registry settings were written, if known.
func settingsAt(source string) string {
	if source == "" {
		return ""
	}
	return " (registry settings at " + source + ")"
}
