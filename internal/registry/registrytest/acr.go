package registrytest

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With ServerOptions.ACR the server authenticates as an Azure Container
// Registry does, and answers the request of ACR's own API that lists a
// repository's tags:
//
//	GET /acr/v1/{name}/_tags?n=&last=&orderby=
//
// where {name} is the repository, its "/" escaped or not.
//
// Authentication: with Username set, every request but the token
// endpoint must carry "Authorization: Bearer <token>", a token the
// server issued for a scope that covers it (repository:{name}:pull for
// the registry API, repository:{name}:metadata_read for /acr/v1/), or
// gets 401 with ACR's challenge, Bearer realm="http://HOST/oauth2/token",
// service="HOST", scope="repository:{name}:{action}", and ACR's error
// body. The token endpoint, /oauth2/token, issues {"access_token": ...}
// for the scopes asked (scope=, repeated or space separated) to a GET
// with basic auth (Username, Password) or a POST of grant_type=password
// (username, password) or grant_type=refresh_token (refresh_token equal
// to Password, as az acr login's identity token). Without Username the
// registry is open, as one with anonymous pull is.
//
// The tag list is served from what the server notes of manifests pushed
// under a tag (see ListTimes): each tag with its digest, createdTime and
// lastUpdateTime (when it was last pushed), sorted by name, or newest
// first for orderby=timedesc (oldest for timeasc), in pages of n (default
// 100) after the tag last=, with a Link header (relative, rel="next")
// while more follow. An unknown repository is 404 NAME_UNKNOWN.

// ACRTag is a tag as the stand-in serves it.
type ACRTag struct {
	Name                 string          `json:"name"`
	Digest               string          `json:"digest"`
	CreatedTime          time.Time       `json:"createdTime"`
	LastUpdateTime       time.Time       `json:"lastUpdateTime"`
	Signed               bool            `json:"signed"`
	ChangeableAttributes map[string]bool `json:"changeableAttributes"`
	seq                  int64           // order of the push
}

const acrTokenPath = "/oauth2/token"

// isACRPath reports whether p is a path of ACR's own API.
func isACRPath(p string) bool { return strings.HasPrefix(p, "/acr/v1/") }

// acrAuthorize checks a request's bearer token for the scope it needs,
// and answers 401 with ACR's challenge when it falls short.
func (s *Server) acrAuthorize(w http.ResponseWriter, r *http.Request, opt ServerOptions) bool {
	if opt.Username == "" {
		return true
	}
	scope := ""
	if name, ok := acrRepo(r); ok {
		scope = "repository:" + name + ":metadata_read"
	} else if _, repo := KindOf(r); repo != "" {
		scope = "repository:" + repo + ":pull"
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	scopes, issued := s.acrTokens[tok]
	s.mu.Unlock()
	if issued && (scope == "" || slices.Contains(scopes, scope)) {
		return true
	}
	challenge := fmt.Sprintf(`Bearer realm="http://%s%s",service="%s"`, r.Host, acrTokenPath, r.Host)
	if scope != "" {
		challenge += fmt.Sprintf(`,scope="%s"`, scope)
	}
	w.Header().Set("WWW-Authenticate", challenge)
	acrError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.")
	return false
}

// serveACRToken issues tokens for the scopes asked to the right
// credentials.
func (s *Server) serveACRToken(w http.ResponseWriter, r *http.Request, opt ServerOptions) {
	ok := opt.Username == ""
	if u, p, basic := r.BasicAuth(); basic {
		ok = same(u, opt.Username) && same(p, opt.Password)
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			acrError(w, http.StatusBadRequest, "BAD_REQUEST", "malformed form")
			return
		}
		switch r.PostForm.Get("grant_type") {
		case "password":
			ok = same(r.PostForm.Get("username"), opt.Username) && same(r.PostForm.Get("password"), opt.Password)
		case "refresh_token":
			ok = same(r.PostForm.Get("refresh_token"), opt.Password)
		default:
			ok = false
		}
	}
	if !ok {
		acrError(w, http.StatusUnauthorized, "UNAUTHORIZED", "invalid username or password")
		return
	}
	var scopes []string
	for _, v := range append(r.URL.Query()["scope"], r.PostForm["scope"]...) {
		scopes = append(scopes, strings.Fields(v)...)
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := "acr-" + hex.EncodeToString(b)
	s.mu.Lock()
	if s.acrTokens == nil {
		s.acrTokens = map[string][]string{}
	}
	s.acrTokens[tok] = scopes
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok})
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// acrRepo is the repository a request to ACR's tag API names.
func acrRepo(r *http.Request) (string, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/acr/v1/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/_tags")
	return name, ok && name != ""
}

func (s *Server) serveACRTags(w http.ResponseWriter, r *http.Request, _ ServerOptions) {
	repo, ok := acrRepo(r)
	if !ok || r.Method != http.MethodGet {
		acrError(w, http.StatusNotFound, "NOT_FOUND", "not found")
		return
	}
	tags := s.acrTags(repo)
	if tags == nil {
		acrError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry")
		return
	}
	q := r.URL.Query()
	n := 100
	if v := q.Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			acrError(w, http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", "invalid number of results requested")
			return
		}
	}
	switch q.Get("orderby") {
	case "timedesc":
		slices.SortFunc(tags, func(a, b ACRTag) int {
			return cmp.Or(-a.LastUpdateTime.Compare(b.LastUpdateTime), -cmp.Compare(a.seq, b.seq))
		})
	case "timeasc":
		slices.SortFunc(tags, func(a, b ACRTag) int {
			return cmp.Or(a.LastUpdateTime.Compare(b.LastUpdateTime), cmp.Compare(a.seq, b.seq))
		})
	case "":
		slices.SortFunc(tags, func(a, b ACRTag) int { return cmp.Compare(a.Name, b.Name) })
	default:
		acrError(w, http.StatusBadRequest, "UNSUPPORTED", "orderby is timedesc or timeasc")
		return
	}
	if last := q.Get("last"); last != "" {
		i := slices.IndexFunc(tags, func(t ACRTag) bool { return t.Name == last })
		tags = tags[i+1:] // from the start when last is not a tag
	}
	if len(tags) > n {
		tags = tags[:n]
		next := url.Values{"n": {strconv.Itoa(n)}, "last": {tags[n-1].Name}}
		if o := q.Get("orderby"); o != "" {
			next.Set("orderby", o)
		}
		w.Header().Set("Link", fmt.Sprintf(`</acr/v1/%s/_tags?%s>; rel="next"`, repo, next.Encode()))
	}
	writeJSON(w, http.StatusOK, map[string]any{"registry": r.Host, "imageName": repo, "tags": tags})
}

// acrTags describes the tags pushed to repo; nil for a repository
// nothing was pushed to.
func (s *Server) acrTags(repo string) []ACRTag {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pushed[repo] == nil {
		return nil
	}
	out := make([]ACRTag, 0, len(s.pushed[repo]))
	for tag, pm := range s.pushed[repo] {
		out = append(out, ACRTag{
			Name: tag, Digest: pm.Digest, CreatedTime: pm.Uploaded, LastUpdateTime: pm.Uploaded, seq: pm.Seq,
			ChangeableAttributes: map[string]bool{"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true},
		})
	}
	return out
}

func acrError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}
