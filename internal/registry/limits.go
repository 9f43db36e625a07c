package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
)

// A registry is written by someone else: a broken or hostile one may send
// a tag list without end, a tag of a gigabyte, a manifest or config that
// declares (and sends) any size, a Link that leads back to a page already
// read, or pages that each link to a new one. Every answer is therefore
// read through a guard that stops at a limit and fails with an error
// naming it, never truncating in silence; a Content-Length over the limit
// fails before the body is read, and a smaller one is not trusted either.
// Each repository also has a budget of requests per run, so that a
// registry that makes every step cost a request cannot keep one image busy
// for ever. The limits are far above what real registries send; what
// exceeded one is never cached.

// Default limits, see Limits.
const (
	// DefaultMaxTagPage bounds one page of a tag list: a hundred tags are
	// a dozen kilobytes; a registry that ignores n= and sends a repository
	// whole, with Google's map of digests and build times, a few
	// megabytes for tens of thousands of tags.
	DefaultMaxTagPage = 16 << 20
	// DefaultMaxTagList bounds the pages of one listing together.
	DefaultMaxTagList = 64 << 20
	// DefaultMaxListTags bounds the tags of one listing whatever max_tags
	// says: past it the listing fails rather than keep going.
	DefaultMaxListTags = 1_000_000
	// MaxTagLength is the longest tag the OCI distribution spec allows
	// ([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}). A longer one cannot be pulled
	// by name: a listing passes it over.
	MaxTagLength = 128
	// DefaultMaxManifest is the manifest size the distribution registry
	// itself refuses to accept beyond.
	DefaultMaxManifest = 4 << 20
	// DefaultMaxConfig bounds an image config blob: kilobytes usually, a
	// few hundred with a long history.
	DefaultMaxConfig = 16 << 20
	// DefaultMaxErrorBody bounds the body of an answer other than 2xx, as
	// ggcr reads no more of it anyway.
	DefaultMaxErrorBody = 64 << 10
	// DefaultMaxOther bounds any other answer: pings, tokens.
	DefaultMaxOther = 1 << 20
	// maxHeaderBytes bounds the headers of an answer.
	maxHeaderBytes = 1 << 20
	// DefaultRequestBudget is the requests one repository may cost in one
	// run, besides twice the tag list pages its max_tags needs: enough to
	// read about a thousand images never seen before (a manifest, a config
	// and, for an index, a child manifest each) for ranking by build time.
	// What was read is cached, so a repository that runs out makes
	// progress and the next run goes on from there.
	DefaultRequestBudget = 3000
)

// Limits bound what one answer, one listing and one repository may cost.
// Zero fields take the defaults above.
type Limits struct {
	TagPage   int64 // bytes of one tag list (or Harbor artifact) page
	TagList   int64 // bytes of all the pages of one listing
	ListTags  int   // tags of one listing, whatever MaxTags says
	Manifest  int64 // bytes of a manifest or index
	Config    int64 // bytes of a config blob
	ErrorBody int64 // bytes of the body of an answer other than 2xx
	Other     int64 // bytes of any other answer (token, ping)
	// Requests is a repository's budget of HTTP requests per run on top of
	// two per tag list page that MaxTags needs; negative: no budget.
	Requests int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.TagPage, DefaultMaxTagPage)
	def(&l.TagList, DefaultMaxTagList)
	def(&l.Manifest, DefaultMaxManifest)
	def(&l.Config, DefaultMaxConfig)
	def(&l.ErrorBody, DefaultMaxErrorBody)
	def(&l.Other, DefaultMaxOther)
	if l.ListTags <= 0 {
		l.ListTags = DefaultMaxListTags
	}
	if l.Requests == 0 {
		l.Requests = DefaultRequestBudget
	}
	return l
}

// ErrLimit is the kind of an *Error for a registry that sent more than a
// limit allows, or cost more requests than a repository's budget: a
// broken or hostile registry, or (rarely) a repository far larger than
// usual. The message names the limit.
var ErrLimit = errors.New("registry answer over a limit")

// LimitError says which limit an answer or a listing went over.
type LimitError struct {
	What  string // "tag list page", "manifest", "request budget", ...
	Limit string // the limit, as a person reads it: "16 MiB", "3000 requests"
	Why   string // optional detail
	Msg   string // the whole message, for a limit that is not a number
}

func (e *LimitError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	s := e.What + " over the limit of " + e.Limit
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

// size is a byte count as a person reads it.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// guard makes resp's body fail once it has given more than limit bytes,
// and fails at once when the declared Content-Length is larger. what
// names the answer in the error.
func guard(resp *http.Response, limit int64, what string) error {
	if resp.ContentLength > limit {
		resp.Body.Close()
		return &LimitError{What: what, Limit: size(limit), Why: fmt.Sprintf("Content-Length %d", resp.ContentLength)}
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: limit, err: &LimitError{What: what, Limit: size(limit)}}
	return nil
}

// limitedBody is an io.LimitReader that ends in an error, not in EOF.
type limitedBody struct {
	io.ReadCloser
	left int64
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	// One byte more than allowed tells a body at the limit from one over.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), b.err
	}
	return n, err
}

// guardAnswer puts the limit for its kind on an answer from a registry.
func (l Limits) guardAnswer(req *http.Request, resp *http.Response) error {
	if req.Method == http.MethodHead || resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return guard(resp, l.ErrorBody, fmt.Sprintf("body of the %d answer to %s", resp.StatusCode, describe(req)))
	}
	p := req.URL.Path
	switch {
	case isAPIPage(req):
		return guard(resp, l.TagPage, "API listing page")
	case strings.HasPrefix(p, "/v2/") && strings.HasSuffix(p, "/tags/list"):
		return guard(resp, l.TagPage, "tag list page")
	case strings.HasPrefix(p, "/v2/") && strings.Contains(p, "/manifests/"):
		return guard(resp, l.Manifest, "manifest")
	case strings.HasPrefix(p, "/v2/") && strings.Contains(p, "/blobs/"):
		// Only config blobs are read: layers are never pulled.
		return guard(resp, l.Config, "config blob")
	case strings.HasPrefix(p, harborAPIPrefix):
		return guard(resp, l.TagPage, "Harbor API answer")
	}
	return guard(resp, l.Other, "answer to "+describe(req))
}

// describe names a request for messages without its query, which may
// carry a scope or a cursor the registry chose.
func describe(req *http.Request) string {
	return req.Method + " " + req.URL.Path
}

// budget is what one repository may still cost in requests this run.
type budget struct {
	repo  string
	limit int
	used  atomic.Int64
}

// take charges one request, or fails when the budget is used up.
func (b *budget) take() error {
	if b == nil || b.limit < 0 {
		return nil
	}
	if n := b.used.Add(1); n > int64(b.limit) {
		return &LimitError{What: "request budget of " + b.repo, Limit: fmt.Sprintf("%d requests in one run", b.limit),
			Why: "what was read is cached: the next run goes on from there"}
	}
	return nil
}

type budgetKey struct{}

// budgets holds each repository's budget for the run.
type budgets struct {
	mu sync.Mutex
	by map[string]*budget
}

// withBudget returns ctx charging repository r's requests to its budget.
func (c *Client) withBudget(ctx context.Context, repo string, pageSize, maxTags int) context.Context {
	c.budgets.mu.Lock()
	defer c.budgets.mu.Unlock()
	b, ok := c.budgets.by[repo]
	if !ok {
		limit := c.opt.Limits.Requests
		if limit > 0 {
			tags := maxTags
			if tags <= 0 || tags > c.opt.Limits.ListTags {
				tags = c.opt.Limits.ListTags
			}
			limit += 2 * ((tags + pageSize - 1) / max(pageSize, 1))
		}
		b = &budget{repo: repo, limit: limit}
		if c.budgets.by == nil {
			c.budgets.by = map[string]*budget{}
		}
		c.budgets.by[repo] = b
	}
	return context.WithValue(ctx, budgetKey{}, b)
}

// budgetFor is withBudget for a repository's reads.
func (c *Client) budgetFor(ctx context.Context, r name.Repository) context.Context {
	pageSize, maxTags := c.repoSettings(r)
	return c.withBudget(ctx, r.Name(), pageSize, maxTags)
}

func budgetFrom(ctx context.Context) *budget {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	return b
}
