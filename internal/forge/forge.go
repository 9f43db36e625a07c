// Package forge opens, finds, updates and closes pull requests (GitHub,
// Gitea and Forgejo) and merge requests (GitLab) through each forge's REST
// API. It is the only package that speaks to forges: plain net/http, one
// file per forge.
//
// What a forge answers is someone else's text: answers are read up to
// MaxResponse bytes, error messages are escaped with printable before they
// reach an error, and redirects are refused, so that the token (sent in a
// header) only ever reaches the host of the API URL it was configured for.
// No error ever holds the token.
package forge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// MaxResponse bounds the bytes read of one answer.
const MaxResponse = 4 << 20

// DefaultTimeout bounds each request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxPages bounds how many pages of a listing are read.
const maxPages = 20

// Config says which forge, where its API is and who we are there.
type Config struct {
	Forge      string // "github", "gitlab" or "gitea"
	APIURL     string // e.g. https://api.github.com, https://gitlab.com/api/v4, https://gitea.example/api/v1
	Repository string // owner/name; GitLab: the project's full path
	Token      string
	Timeout    time.Duration
	// Transport, when set, replaces http.DefaultTransport (tests).
	Transport http.RoundTripper
}

// Request is an open pull or merge request.
type Request struct {
	Number int    // the number people see: GitHub's and Gitea's number, GitLab's iid
	URL    string // its web page
	Title  string
	Body   string
	nodeID string // GitHub's GraphQL id, for auto-merge

	// What the forge said the request has, as Find saw it, so that Settle
	// asks only for what is missing.
	labels    []string
	reviewers []string // user names asked to review
	// reviewerIDs are GitLab's ids of reviewers, which its reviewer_ids
	// replaces rather than adds to.
	reviewerIDs []int
	autoMerge   bool
	draft       bool
}

// Spec is what a new request should be.
type Spec struct {
	Head, Base  string // branch names
	Title, Body string
	Labels      []string
	Reviewers   []string // user names
	Draft       bool
	AutoMerge   bool
}

// Forge is one repository on one forge.
type Forge interface {
	// Find returns the open request from head into base, or nil.
	Find(ctx context.Context, head, base string) (*Request, error)
	// Create opens a request, then labels it, asks its reviewers and
	// turns auto-merge on, as spec says.
	Create(ctx context.Context, spec Spec) (*Request, error)
	// Update replaces the title and the description.
	Update(ctx context.Context, r *Request, title, body string) error
	// Settle brings a request Find returned to spec's labels, reviewers,
	// draft and auto-merge. It only adds: labels and reviewers people
	// added stay, and nothing already there is asked for again, so a
	// second call sends no additions.
	Settle(ctx context.Context, r *Request, spec Spec) error
	// Close comments on the request and closes it.
	Close(ctx context.Context, r *Request, comment string) error
}

// New returns the client for c.Forge.
func New(c Config) (Forge, error) {
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("forge API URL %q is not an http(s) URL", printable.String(c.APIURL))
	}
	owner, name, ok := strings.Cut(c.Repository, "/")
	if !ok || owner == "" || name == "" {
		return nil, fmt.Errorf("repository %q is not owner/name", printable.String(c.Repository))
	}
	if c.Token == "" {
		return nil, errors.New("no token for the forge API")
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	a := &api{base: strings.TrimRight(c.APIURL, "/"), token: c.Token, http: &http.Client{
		Timeout: timeout, Transport: c.Transport,
		// A redirect could lead the token's header to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return errRedirect },
	}}
	switch c.Forge {
	case "github":
		a.auth = func(h http.Header) {
			h.Set("Authorization", "Bearer "+a.token)
			h.Set("Accept", "application/vnd.github+json")
			h.Set("X-GitHub-Api-Version", "2022-11-28")
		}
		return &github{repoAPI{a, owner, name}}, nil
	case "gitlab":
		a.auth = func(h http.Header) { h.Set("PRIVATE-TOKEN", a.token) }
		return &gitlab{api: a, project: strings.ReplaceAll(url.PathEscape(c.Repository), "/", "%2F")}, nil
	case "gitea":
		a.auth = func(h http.Header) { h.Set("Authorization", "token "+a.token) }
		return &gitea{repoAPI{a, owner, name}}, nil
	}
	return nil, fmt.Errorf("forge %q is not one of github, gitlab, gitea", printable.String(c.Forge))
}

var errRedirect = errors.New("the forge API answered with a redirect; set api_url to the address it redirects to")

// APIError is a forge's refusal: its status and its own message, escaped.
type APIError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, msg)
}

type api struct {
	base, token string
	auth        func(http.Header)
	http        *http.Client
}

// do sends one request: in JSON, out decoded from JSON when not nil.
// path is already escaped. It returns the response headers for paging.
func (a *api) do(ctx context.Context, method, path string, query url.Values, in, out any) (http.Header, error) {
	target := a.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	a.auth(req.Header)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "git-laminar")
	resp, err := a.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is ours and already in the message
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, printable.Err(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, printable.Err(err))
	}
	if len(data) > MaxResponse {
		return nil, fmt.Errorf("%s %s: the answer is larger than %d bytes", method, path, MaxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: errorMessage(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, printable.Err(err))
		}
	}
	return resp.Header, nil
}

// errorMessage picks the forge's words from an error body: GitHub's and
// Gitea's {"message": ...} (with GitHub's "errors" list), GitLab's
// {"message": ...} or {"error": ...}. They are cut and escaped.
func errorMessage(data []byte) string {
	var e struct {
		Message any `json:"message"`
		Error   any `json:"error"`
		Errors  []struct {
			Message string `json:"message"`
			Code    string `json:"code"`
			Field   string `json:"field"`
		} `json:"errors"`
	}
	msg := ""
	if json.Unmarshal(data, &e) == nil {
		for _, v := range []any{e.Message, e.Error} {
			switch v := v.(type) {
			case string:
				msg = v
			case nil:
			default:
				b, _ := json.Marshal(v)
				msg = string(b)
			}
			if msg != "" {
				break
			}
		}
		for _, x := range e.Errors {
			d := first(x.Message, strings.TrimSpace(x.Field+" "+x.Code))
			if d != "" {
				msg += "; " + d
			}
		}
	} else {
		msg = string(data)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return printable.String(strings.TrimSpace(msg))
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func seg(s string) string { return url.PathEscape(s) }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// missing returns the names of want that are not in have, compared as the
// forges compare user and label names: without regard to case.
func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) &&
			!slices.ContainsFunc(out, func(h string) bool { return strings.EqualFold(h, w) }) {
			out = append(out, w)
		}
	}
	return out
}

// repoAPI is a repository under GitHub's REST layout, which Gitea and
// Forgejo copy: /repos/{owner}/{repo}/..., pull requests that are issues.
type repoAPI struct {
	*api
	owner, repo string
}

func (g repoAPI) path(rest string) string { return "/repos/" + seg(g.owner) + "/" + seg(g.repo) + rest }

// closePull comments on a pull request, then closes it: the comment goes
// through the issues API, the state through the pulls API, on both forges.
func (g repoAPI) closePull(ctx context.Context, r *Request, comment string) error {
	n := strconv.Itoa(r.Number)
	if _, err := g.do(ctx, http.MethodPost, g.path("/issues/"+n+"/comments"), nil, map[string]any{"body": comment}, nil); err != nil {
		return fmt.Errorf("commenting on pull request #%d: %w", r.Number, err)
	}
	if _, err := g.do(ctx, http.MethodPatch, g.path("/pulls/"+n), nil, map[string]any{"state": "closed"}, nil); err != nil {
		return fmt.Errorf("closing pull request #%d: %w", r.Number, err)
	}
	return nil
}
