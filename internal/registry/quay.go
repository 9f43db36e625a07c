package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Quay (quay.io, and Red Hat Quay on a host of its own) lists a
// repository's tags through its API on the registry's own host:
//
//	GET /api/v1/repository/{namespace}/{repository}/tag/?limit=100&page=N&onlyActiveTags=true
//
// Each page is {"tags": [...], "page": N, "has_additional": bool}; each
// tag names its manifest_digest and start_ts, when the tag started
// pointing there (its push), in seconds since the epoch. A public
// repository is listed anonymously. Quay's API takes an OAuth token, not
// a robot account's password: the keychain's credentials for the host are
// sent as a bearer token only when they are one, that is when the
// username is "$oauthtoken" (as docker login takes Quay's tokens) or the
// keychain holds a registry token. A private repository listed without a
// token is refused, and an automatic choice of this API then falls back
// to the tag list, where robot accounts are welcome.

const quayMaxLimit = 100

func init() {
	registerAPI(&api{name: APIQuay, pushTimes: true, list: (*Client).listQuay})
}

func (c *Client) listQuay(ctx context.Context, q *apiQuery) ([]string, bool, error) {
	base, err := c.quayBase(q)
	if err != nil {
		return nil, false, err
	}
	ns, repo, ok := strings.Cut(q.r.RepositoryStr(), "/")
	if !ok {
		return nil, false, fmt.Errorf("%s a Quay repository is <namespace>/<name>, not %s", q.setting(), q.r.RepositoryStr())
	}
	token, err := c.quayToken(ctx, q)
	if err != nil {
		return nil, false, err
	}
	path := base.Path + "/api/v1/repository/" + url.PathEscape(ns) + "/" + escapePath(repo) + "/tag/"
	limit := min(max(q.pageSize, 1), quayMaxLimit)
	seen := map[string]bool{}
	tags := []string{}
	more := true
	for page := 1; more; page++ {
		u := *base
		u.Path, u.RawPath = path, ""
		u.RawQuery = url.Values{"limit": {strconv.Itoa(limit)}, "page": {strconv.Itoa(page)}, "onlyActiveTags": {"true"}}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, false, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		body, _, err := c.apiPage(q, req)
		if err != nil {
			return nil, false, quayFailure(q, err)
		}
		p, err := parseQuayPage(body)
		if err != nil {
			return nil, false, fmt.Errorf("%s page %d of its tag list does not read as Quay's: %w", q.setting(), page, err)
		}
		fresh := false
		for _, t := range p.tags {
			fresh = fresh || !seen[t.name]
			if q.ls.keep(&tags, seen, t.name) {
				q.ls.listed.put(t.name, listedImage{digest: t.digest, pushed: t.pushed})
			}
		}
		more = p.more
		if more && !fresh {
			// A page with nothing new that says more follow would be
			// followed until the budget ran out.
			return nil, false, &LimitError{Msg: fmt.Sprintf("Quay's tag list says more tags follow page %d, which lists none not listed before", page)}
		}
		if len(tags) >= q.ls.maxTags {
			break
		}
	}
	return q.ls.done(tags, more)
}

// quayBase is where q's API is: the user-level api_url, or the registry's
// own host, over the scheme its registry API is spoken to.
func (c *Client) quayBase(q *apiQuery) (*url.URL, error) {
	if q.apiURL != "" {
		return checkAPIURL(q.apiURL)
	}
	return &url.URL{Scheme: c.harbor.scheme(q.r.Registry), Host: q.r.RegistryStr()}, nil
}

// quayToken is the bearer token for q's host: the keychain's credentials
// when they are an OAuth token, else "" (anonymous).
func (c *Client) quayToken(ctx context.Context, q *apiQuery) (string, error) {
	cfg, err := c.authConfig(ctx, q)
	if err != nil || cfg == nil {
		return "", err
	}
	if cfg.RegistryToken != "" {
		return cfg.RegistryToken, nil
	}
	if user, secret := basicOf(cfg); user == "$oauthtoken" {
		return secret, nil
	}
	return "", nil
}

func quayFailure(q *apiQuery, err error) error {
	code, ok := statusOf(err)
	if !ok {
		return err
	}
	why := ""
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		why = `; Quay's API takes an OAuth token (docker login with the username "$oauthtoken"), not a robot account's password`
	case http.StatusNotFound:
		why = "; Quay says so of a repository it does not have"
	}
	return fmt.Errorf("%s its tag API answered %d %s%s: %w", q.setting(), code, http.StatusText(code), why, err)
}

// escapePath escapes each element of a path that may hold "/".
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// quayTag is what a page says of one tag.
type quayTag struct {
	name   string
	digest string    // "" when it does not parse
	pushed time.Time // zero: not said, or not a time of this era
}

type quayPage struct {
	tags []quayTag
	more bool
}

// parseQuayPage reads one page. A page that is not an object with a tags
// array is an error; a tag without a name is passed over, a digest that
// does not parse left out, and a start_ts that is not a whole number of
// seconds of this era left out.
func parseQuayPage(page []byte) (quayPage, error) {
	var p struct {
		Tags *[]struct {
			Name           string          `json:"name"`
			ManifestDigest string          `json:"manifest_digest"`
			StartTS        json.RawMessage `json:"start_ts"`
		} `json:"tags"`
		HasAdditional bool `json:"has_additional"`
	}
	dec := json.NewDecoder(bytes.NewReader(page))
	if err := dec.Decode(&p); err != nil {
		return quayPage{}, err
	}
	if p.Tags == nil {
		return quayPage{}, errors.New("no tags")
	}
	out := quayPage{more: p.HasAdditional}
	for _, t := range *p.Tags {
		if t.Name == "" {
			continue
		}
		qt := quayTag{name: t.Name, pushed: unixSeconds(t.StartTS)}
		if _, err := v1.NewHash(t.ManifestDigest); err == nil {
			qt.digest = t.ManifestDigest
		}
		out.tags = append(out.tags, qt)
	}
	return out, nil
}

// unixSeconds reads a JSON number of seconds since the epoch (a fraction
// allowed); zero for anything else or a time no registry received a tag.
func unixSeconds(raw json.RawMessage) time.Time {
	var f float64
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || f < 1 || f > 253402300799 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return plausible(time.Unix(int64(sec), int64(math.Round(frac*1e9))))
}
