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

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// APIACR lists an Azure Container Registry's repositories through its
// own API on the registry host,
//
//	GET /acr/v1/{name}/_tags?n=100&orderby=timedesc[&last={tag}]
//
// instead of /v2/<name>/tags/list. Its answer names, for each tag, the
// digest it points to, "createdTime" (when the tag was created) and
// "lastUpdateTime" (when it last changed: pushed again, or moved to
// another image), which is taken as its push time. With orderby=timedesc
// the tags come newest first, so that a listing cut at max_tags keeps
// the newest; a Link header (rel="next", carrying last=) leads on.
//
// The API takes the registry's own bearer tokens, issued by the same
// token exchange as the registry's (a 401 challenge naming the realm at
// /oauth2/token), for the scope repository:{name}:metadata_read: ggcr's
// transport makes that exchange with the keychain's credentials for the
// registry (docker login, az acr login's identity token, a token or
// service principal password). Nothing is sent to any other host.

func init() {
	registerAPI(&api{name: APIACR, pushTimes: true, list: (*Client).listACR})
}

const (
	acrWhat        = "the registry's /acr/v1/ API"
	acrMaxPageSize = 100
)

// listACR lists repository r through ACR's tag API, newest push first.
func (c *Client) listACR(ctx context.Context, q *apiQuery) ([]string, bool, error) {
	r, pageSize, ls := q.r, q.pageSize, q.ls
	setting := q.named()
	auth, err := c.keys.ResolveContext(ctx, r)
	if err != nil {
		return nil, false, err
	}
	rt, err := transport.NewWithContext(ctx, r.Registry, auth, c.limiter, []string{r.Scope("metadata_read")})
	if err != nil {
		return nil, false, err
	}
	ep, err := endpointFor("", r.Registry.Scheme()+"://"+r.RegistryStr())
	if err != nil {
		return nil, false, err
	}
	query := url.Values{"n": {strconv.Itoa(min(max(pageSize, 1), acrMaxPageSize))}, "orderby": {"timedesc"}}
	page, err := ep.url("/acr/v1/"+url.PathEscape(r.RepositoryStr())+"/_tags", query)
	if err != nil {
		return nil, false, err
	}
	col := newCollector(ls, "ACR tag list")
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, page.String(), nil)
		if err != nil {
			return nil, false, err
		}
		body, hdr, err := c.apiDoVia(rt, req, acrWhat)
		if err != nil {
			return nil, false, acrFailure(setting, err)
		}
		if err := col.page(body); err != nil {
			return nil, false, err
		}
		tags, err := parseACRPage(body)
		if err != nil {
			return nil, false, fmt.Errorf("%s, but a page of its tag list does not read as ACR's: %w", setting, err)
		}
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
	}
}

// acrFailure explains an answer other than 200; the cause stays in the
// chain for classification.
func acrFailure(setting string, err error) error {
	var aerr *APIError
	if !errors.As(err, &aerr) {
		return err
	}
	why := ""
	switch aerr.StatusCode {
	case http.StatusNotFound:
		why = "; is the host an Azure Container Registry, and has it the repository?"
	case http.StatusUnauthorized, http.StatusForbidden:
		why = "; the credentials need the right to read the repository's metadata (metadata_read)"
	}
	return fmt.Errorf("%s%s: %w", setting, why, err)
}

// acrTagList is the part of ACR's answer that is read here.
type acrTagList struct {
	Tags []struct {
		Name           string `json:"name"`
		Digest         string `json:"digest"`
		CreatedTime    string `json:"createdTime"`
		LastUpdateTime string `json:"lastUpdateTime"`
	} `json:"tags"`
}

// parseACRPage reads one page of ACR's tag list. A page that is not a
// JSON object with a list of tags is an error; within a tag, a digest or
// time that does not parse is passed over.
func parseACRPage(body []byte) ([]apiTag, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var p acrTagList
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	out := make([]apiTag, 0, len(p.Tags))
	for _, t := range p.Tags {
		if t.Name == "" {
			continue
		}
		pushed := apiTime(t.LastUpdateTime)
		if pushed.IsZero() {
			pushed = apiTime(t.CreatedTime)
		}
		out = append(out, apiTag{name: t.Name, digest: apiDigest(t.Digest), pushed: pushed})
	}
	return out, nil
}
