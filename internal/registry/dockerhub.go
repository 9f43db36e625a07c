package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Docker Hub lists a repository's tags through its own API, on
// hub.docker.com rather than the registry's host:
//
//	GET /v2/namespaces/{namespace}/repositories/{repository}/tags?page_size=100
//
// Each page is {"count", "next", "previous", "results"}; each result names
// a tag, its digest (an index's for a multi-platform tag), and when it was
// last pushed ("tag_last_pushed"; older answers have "last_updated"
// alone). "next" is the URL of the next page, or null. A public repository
// is listed anonymously; a private one with the short-lived bearer token
// that POST /v2/auth/token ({"identifier", "secret"}) gives for the user's
// Docker Hub username and personal access token (or password), which are
// the keychain's credentials for docker.io.
//
// The API's host is hub.docker.com for docker.io's repositories, or the
// host's user-level api_url (a stand-in in tests): credentials for the
// registry go only there. A "next" link to any other origin is refused:
// the request would carry the token.

const (
	dockerHubAPI         = "https://hub.docker.com"
	dockerHubMaxPageSize = 100
)

func init() {
	registerAPI(&api{name: APIDockerHub, pushTimes: true, list: (*Client).listDockerHub})
}

// isDockerHub reports whether host is Docker Hub's registry.
func isDockerHub(host string) bool {
	switch strings.ToLower(host) {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
}

// listDockerHub lists q's repository through Docker Hub's tags API.
func (c *Client) listDockerHub(ctx context.Context, q *apiQuery) ([]string, bool, error) {
	base, err := c.dockerHubBase(q)
	if err != nil {
		return nil, false, err
	}
	ns, repo, ok := strings.Cut(q.r.RepositoryStr(), "/")
	if !ok || strings.Contains(repo, "/") {
		return nil, false, fmt.Errorf("%s a Docker Hub repository is <namespace>/<name>, not %s", q.setting(), q.r.RepositoryStr())
	}
	token, err := c.dockerHubToken(ctx, q, base)
	if err != nil {
		return nil, false, err
	}
	first := *base
	first.Path = base.Path + "/v2/namespaces/" + url.PathEscape(ns) + "/repositories/" + url.PathEscape(repo) + "/tags"
	first.RawPath = ""
	first.RawQuery = url.Values{"page_size": {strconv.Itoa(min(max(q.pageSize, 1), dockerHubMaxPageSize))}}.Encode()
	next := first.String()
	read := map[string]bool{}
	seen := map[string]bool{}
	tags := []string{}
	for page := 1; next != ""; page++ {
		u, err := url.Parse(next)
		if err != nil || !sameOrigin(base, u) {
			return nil, false, fmt.Errorf("%s page %d of its tag list links on to %s, which is not %s: not followed", q.setting(), page-1, originOf(next), base.Scheme+"://"+base.Host)
		}
		if read[u.String()] {
			return nil, false, &LimitError{Msg: "Docker Hub's tag list links back to a page already read (each page is read once)"}
		}
		read[u.String()] = true
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, false, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		body, _, err := c.apiPage(q, req)
		if err != nil {
			return nil, false, dockerHubFailure(q, err)
		}
		p, err := parseDockerHubPage(body)
		if err != nil {
			return nil, false, fmt.Errorf("%s page %d of its tag list does not read as Docker Hub's: %w", q.setting(), page, err)
		}
		for _, t := range p.tags {
			if q.ls.keep(&tags, seen, t.name) {
				q.ls.listed.put(t.name, listedImage{digest: t.digest, pushed: t.pushed})
			}
		}
		next = p.next
		if len(tags) >= q.ls.maxTags {
			break
		}
	}
	return q.ls.done(tags, next != "")
}

// dockerHubBase is where q's API is: the user-level api_url, or
// hub.docker.com for Docker Hub's own hosts. Any other host has no
// Docker Hub API to send its credentials to.
func (c *Client) dockerHubBase(q *apiQuery) (*url.URL, error) {
	s := q.apiURL
	if s == "" {
		if !isDockerHub(q.r.RegistryStr()) {
			return nil, fmt.Errorf("%s it is not Docker Hub: Docker Hub's API serves only docker.io's repositories; leave api out, or set api_url in the user-level file for a host that serves the same API", q.setting())
		}
		s = dockerHubAPI
	}
	return checkAPIURL(s)
}

// dockerHubFailure explains an answer other than 200; the transport
// error stays in the chain, to be classified as any other.
func dockerHubFailure(q *apiQuery, err error) error {
	code, ok := statusOf(err)
	if !ok {
		return err
	}
	why := ""
	switch code {
	case http.StatusNotFound:
		why = "; Docker Hub says so of a repository it does not have, and of a private one asked for without credentials that may read it"
	case http.StatusUnauthorized, http.StatusForbidden:
		why = "; the credentials for docker.io (docker login) must be allowed to read the repository"
	}
	return fmt.Errorf("%s its tags API answered %d %s%s: %w", q.setting(), code, http.StatusText(code), why, err)
}

// dockerHubTokens remembers the token of each login, by API and user:
// one login per run.
type dockerHubTokens struct {
	mu     sync.Mutex
	tokens map[string]string
}

// dockerHubToken logs in to the API with the keychain's credentials for
// q's registry, if there are any, and returns the bearer token ("" for
// anonymous listing). A refused login is an error: listing anonymously
// would quietly miss a private repository.
func (c *Client) dockerHubToken(ctx context.Context, q *apiQuery, base *url.URL) (string, error) {
	user, secret, err := c.basicCredentials(ctx, q)
	if err != nil || user == "" {
		return "", err
	}
	key := base.String() + "\x00" + user
	c.hubTokens.mu.Lock()
	defer c.hubTokens.mu.Unlock()
	if t, ok := c.hubTokens.tokens[key]; ok {
		return t, nil
	}
	body, _ := json.Marshal(map[string]string{"identifier": user, "secret": secret})
	u := *base
	u.Path = base.Path + "/v2/auth/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	ans, _, err := c.apiPage(q, req)
	if err != nil {
		if code, ok := statusOf(err); ok {
			return "", fmt.Errorf("%s logging in to it as %q with the credentials found for %s answered %d %s: %w", q.setting(), user, q.r.RegistryStr(), code, http.StatusText(code), err)
		}
		return "", err
	}
	var login struct {
		Token string `json:"access_token"`
	}
	if err := json.Unmarshal(ans, &login); err != nil || login.Token == "" {
		return "", fmt.Errorf("%s its login answer holds no access_token", q.setting())
	}
	c.keys.remember(login.Token)
	if c.hubTokens.tokens == nil {
		c.hubTokens.tokens = map[string]string{}
	}
	c.hubTokens.tokens[key] = login.Token
	return login.Token, nil
}

// basicCredentials are the keychain's username and password for q's
// registry ("" when it has none).
func (c *Client) basicCredentials(ctx context.Context, q *apiQuery) (user, secret string, err error) {
	cfg, err := c.authConfig(ctx, q)
	if err != nil || cfg == nil {
		return "", "", err
	}
	user, secret = basicOf(cfg)
	return user, secret, nil
}

// authConfig is what the keychain holds for q's registry; nil for none.
func (c *Client) authConfig(ctx context.Context, q *apiQuery) (*authn.AuthConfig, error) {
	a, err := c.keys.ResolveContext(ctx, q.r)
	if err != nil || a == authn.Anonymous {
		return nil, err
	}
	return authn.Authorization(ctx, a)
}

// basicOf is the username and password of cfg, given as such or in
// docker's "auth" ("" when it holds neither).
func basicOf(cfg *authn.AuthConfig) (user, secret string) {
	if cfg.Username != "" && cfg.Password != "" {
		return cfg.Username, cfg.Password
	}
	if cfg.Auth != "" {
		if b, err := base64.StdEncoding.DecodeString(cfg.Auth); err == nil {
			if u, p, ok := strings.Cut(string(b), ":"); ok && u != "" {
				return u, p
			}
		}
	}
	return "", ""
}

// statusOf is the HTTP status of an API's answer in err's chain.
func statusOf(err error) (int, bool) {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode, true
	}
	return 0, false
}

// originOf names a URL's scheme and host for a message, or a short form
// of what does not parse as one.
func originOf(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return strconv.Quote(u.Scheme + "://" + u.Host)
	}
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}

// dockerHubTag is what one result of a page says of its tag.
type dockerHubTag struct {
	name   string
	digest string    // "" when it does not parse
	pushed time.Time // zero: not said
}

// dockerHubPage is one page of the tags API, as read.
type dockerHubPage struct {
	tags []dockerHubTag
	next string // "" at the last page
}

// parseDockerHubPage reads one page. A page that is not an object with a
// results array is an error; within it, a result without a name is passed
// over, a digest that does not parse is left out, and a push time that is
// not an RFC 3339 time of this era is left out (the tag then has none).
func parseDockerHubPage(page []byte) (dockerHubPage, error) {
	var p struct {
		Next    *string `json:"next"`
		Results *[]struct {
			Name          string          `json:"name"`
			Digest        string          `json:"digest"`
			TagLastPushed json.RawMessage `json:"tag_last_pushed"`
			LastUpdated   json.RawMessage `json:"last_updated"`
		} `json:"results"`
	}
	if err := json.Unmarshal(page, &p); err != nil {
		return dockerHubPage{}, err
	}
	if p.Results == nil {
		return dockerHubPage{}, errors.New("no results")
	}
	var out dockerHubPage
	if p.Next != nil {
		out.next = *p.Next
	}
	for _, r := range *p.Results {
		if r.Name == "" {
			continue
		}
		t := dockerHubTag{name: r.Name, pushed: jsonTime(r.TagLastPushed)}
		if t.pushed.IsZero() {
			t.pushed = jsonTime(r.LastUpdated)
		}
		if _, err := v1.NewHash(r.Digest); err == nil {
			t.digest = r.Digest
		}
		out.tags = append(out.tags, t)
	}
	return out, nil
}
