package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// APIGHCR lists ghcr.io's repositories through GitHub's packages API (REST, version 2022-11-28),
//
//	GET https://api.github.com/orgs/{org}/packages/container/{package}/versions
//	GET https://api.github.com/users/{user}/packages/container/{package}/versions
//
// instead of /v2/<name>/tags/list. Each package version is one manifest:
// its "name" is the digest, "metadata.container.tags" its tags, and
// "created_at" when it was pushed, which is taken as the push time of its
// tags. ("updated_at" is not: it changes when a tag moves away from the
// version, which would make the tags left on it look freshly pushed.)
// The versions come newest first, per_page at most 100, with a Link
// header (rel="next") while more follow.
//
// The repository ghcr.io/OWNER/NAME is package NAME (with any "/" in it
// escaped as %2F) of OWNER, an organisation or a user: the organisation's
// path is tried first, and the user's when GitHub answers 404; which one
// answered is remembered for the run.
//
// GitHub's API wants a token even for public packages: the password the
// keychain holds for ghcr.io (docker login ghcr.io with a personal access
// token, classic, with read:packages) is sent to api.github.com, and only
// there, as a bearer token.

func init() {
	registerAPI(&api{name: APIGHCR, pushTimes: true, list: (*Client).listGHCR})
}

const (
	githubHost        = "ghcr.io"
	githubAPIBase     = "https://api.github.com"
	githubMaxPageSize = 100
	githubWhat        = "GitHub's packages API"
)

// ghcrOwners remembers, per owner, whether GitHub answered for it as an
// organisation ("orgs") or a user ("users"). The zero value is ready.
type ghcrOwners struct {
	mu   sync.Mutex
	kind map[string]string
}

func (g *ghcrOwners) get(owner string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.kind[owner]
}

func (g *ghcrOwners) set(owner, kind string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.kind == nil {
		g.kind = map[string]string{}
	}
	g.kind[owner] = kind
}

// listGHCR lists repository r through GitHub's packages API, newest
// push first, at most the listing's cap of tags.
func (c *Client) listGHCR(ctx context.Context, q *apiQuery) ([]string, bool, error) {
	r, source, apiURL, ls := q.r, q.source, q.apiURL, q.ls
	setting := q.named()
	owner, pkg, ok := strings.Cut(r.RepositoryStr(), "/")
	if !ok {
		return nil, false, fmt.Errorf("%s, and a GitHub package is ghcr.io/<owner>/<name>", setting)
	}
	if apiURL == "" && r.RegistryStr() != githubHost {
		return nil, false, fmt.Errorf("%s, and GitHub's packages API serves only %s (or the host's api_url)", setting, githubHost)
	}
	ep, err := endpointFor(apiURL, githubAPIBase)
	if err != nil {
		return nil, false, err
	}
	_, token, err := c.apiToken(ctx, r)
	if err != nil {
		return nil, false, err
	}
	if token == "" {
		return nil, false, &CredentialError{Source: source, Msg: fmt.Sprintf("%s, and GitHub's packages API needs a token even for public packages: "+
			"docker login %s with a personal access token (classic) that has read:packages", setting, r.RegistryStr())}
	}
	query := url.Values{"per_page": {strconv.Itoa(min(max(q.pageSize, 1), githubMaxPageSize))}}
	path := func(kind string) string {
		return "/" + kind + "/" + url.PathEscape(owner) + "/packages/container/" + url.PathEscape(pkg) + "/versions"
	}
	kinds := []string{"orgs", "users"}
	if k := c.ghcr.get(owner); k == "users" {
		kinds = []string{"users"}
	}
	col := newCollector(ls, "GitHub package version list")
	var (
		page *url.URL
		body []byte
		hdr  http.Header
	)
	for i, kind := range kinds {
		if page, err = ep.url(path(kind), query); err != nil {
			return nil, false, err
		}
		body, hdr, err = c.githubGet(ctx, page, token)
		var aerr *APIError
		if errors.As(err, &aerr) && aerr.StatusCode == http.StatusNotFound && i+1 < len(kinds) {
			continue
		}
		if err == nil {
			c.ghcr.set(owner, kind)
		}
		break
	}
	for {
		if err != nil {
			return nil, false, githubFailure(setting, owner, pkg, err)
		}
		if err := col.page(body); err != nil {
			return nil, false, err
		}
		tags, err := parseGHCRPage(body)
		if err != nil {
			return nil, false, fmt.Errorf("%s, but a page of its package versions does not read as GitHub's: %w", setting, err)
		}
		// Pages of untagged versions (an index's images, older pushes)
		// are followed too: the request budget and the check for pages
		// read twice bound a listing that never ends.
		full := col.add(tags)
		link := linkNext(hdr)
		if full || link == "" {
			return col.result(link != "")
		}
		if page, err = ep.nextURL(page, link); err != nil {
			return nil, false, err
		}
		if err := col.follow(page.String()); err != nil {
			return nil, false, err
		}
		body, hdr, err = c.githubGet(ctx, page, token)
	}
}

func (c *Client) githubGet(ctx context.Context, u *url.URL, token string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Authorization", "Bearer "+token)
	return c.apiDo(req, githubWhat)
}

// githubFailure explains an answer other than 200, keeping the
// *APIError in the chain for classification.
func githubFailure(setting, owner, pkg string, err error) error {
	var aerr *APIError
	if !errors.As(err, &aerr) {
		return err
	}
	why := ""
	switch {
	case aerr.RateLimited || aerr.StatusCode == http.StatusTooManyRequests:
		why = "; GitHub's API rate limit was reached"
	case aerr.StatusCode == http.StatusNotFound:
		why = fmt.Sprintf("; neither the organisation nor the user %s has a container package %s that the token may see", owner, pkg)
	case aerr.StatusCode == http.StatusUnauthorized:
		why = "; GitHub did not accept the token the keychain holds for ghcr.io"
	case aerr.StatusCode == http.StatusForbidden:
		why = "; the token needs the read:packages scope (and repo for a package that inherits a private repository's access)"
	}
	return fmt.Errorf("%s%s: %w", setting, why, err)
}

// githubVersion is the part of a package version that is read here.
type githubVersion struct {
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
	Metadata  struct {
		Container struct {
			Tags []string `json:"tags"`
		} `json:"container"`
	} `json:"metadata"`
}

// parseGHCRPage reads one page of package versions. A page that is not
// a JSON array of versions is an error; within a version, a name that is
// not a digest or a time that is not a time is passed over (the tags are
// still listed, and resolved the usual way).
func parseGHCRPage(body []byte) ([]apiTag, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return nil, errors.New("not a JSON array of package versions")
	}
	var versions []githubVersion
	if err := json.Unmarshal(body, &versions); err != nil {
		return nil, err
	}
	out := []apiTag{}
	for _, v := range versions {
		digest := apiDigest(v.Name)
		pushed := apiTime(v.CreatedAt)
		for _, tag := range v.Metadata.Container.Tags {
			if tag != "" {
				out = append(out, apiTag{name: tag, digest: digest, pushed: pushed})
			}
		}
	}
	return out, nil
}
