// Package registry is the only part of git-laminar that speaks HTTP to
// container registries. It lists the tags of repositories, reads the digest
// and creation time of a tag, and resolves a tag to a digest.
//
// It is a thin layer over go-containerregistry's remote package, adding what
// a bump run needs: many repositories listed at once under a bound, each
// asked once; credentials found the way docker finds them; and errors that
// name the image, fall into a few kinds a person can act on (see ErrNotFound
// and friends), and never carry a secret.
//
// Repositories are passed as canonical strings, "host[:port]/path", the
// Registry and Repository of an imageref.Ref joined by "/". Loopback and
// private (RFC 1918) hosts are spoken to over plain HTTP, as ggcr decides;
// everything else over HTTPS.
package registry

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DefaultConcurrency is how many repositories TagsOf lists at once unless
// told otherwise: enough to hide latency, few enough not to look like abuse
// to a registry's rate limiter.
const DefaultConcurrency = 8

// Options configure a Client. The zero value is ready for real use.
type Options struct {
	// Keychain finds credentials per registry. Default authn.DefaultKeychain:
	// ~/.docker/config.json (or $DOCKER_CONFIG), credHelpers, credsStore.
	Keychain authn.Keychain
	// Transport carries the requests. Default remote.DefaultTransport.
	// ggcr wraps it with retries and the user agent.
	Transport http.RoundTripper
	// Concurrency bounds how many distinct repositories TagsOf lists at
	// once. Default DefaultConcurrency.
	Concurrency int
	// UserAgent is sent with every request (ggcr appends its own). Default
	// "git-laminar/<module version>".
	UserAgent string
	// Backoff governs retries of temporary failures (429, 5xx, connection
	// resets). The zero value keeps ggcr's default: three tries, waiting 1s
	// and then 3s. Tests use a tiny backoff to stay fast.
	Backoff remote.Backoff
}

// Client talks to registries. It is safe for concurrent use, and should be
// shared: it keeps one authenticated connection state per repository, so
// the token exchange with a registry happens once, not once per call.
type Client struct {
	puller      *remote.Puller
	keys        *watchedKeychain
	concurrency int
	initErr     error
}

// New returns a Client for opt. It does no I/O.
func New(opt Options) *Client {
	if opt.Keychain == nil {
		opt.Keychain = authn.DefaultKeychain
	}
	if opt.Transport == nil {
		opt.Transport = remote.DefaultTransport
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	if opt.UserAgent == "" {
		opt.UserAgent = defaultUserAgent()
	}
	c := &Client{
		keys:        newWatchedKeychain(opt.Keychain),
		concurrency: opt.Concurrency,
	}
	ropts := []remote.Option{
		remote.WithAuthFromKeychain(c.keys),
		remote.WithTransport(opt.Transport),
		remote.WithUserAgent(opt.UserAgent),
	}
	if opt.Backoff.Steps > 0 {
		ropts = append(ropts, remote.WithRetryBackoff(opt.Backoff))
	}
	// NewPuller fails only for contradictory options, which we never pass;
	// keep the error anyway so that a future option cannot turn into a panic.
	c.puller, c.initErr = remote.NewPuller(ropts...)
	return c
}

func defaultUserAgent() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "git-laminar/" + v
}

// Tags lists every tag of repo ("host[:port]/path"), following pagination
// (Link headers), in the order the registry returns them (usually sorted).
// A repository with no tags gives an empty, non-nil slice.
func (c *Client) Tags(ctx context.Context, repo string) ([]string, error) {
	const op = "listing tags of"
	r, err := c.repository(op, repo)
	if err != nil {
		return nil, err
	}
	tags, err := c.puller.List(ctx, r)
	if err != nil {
		return nil, c.wrap(op, repo, r.RegistryStr(), err)
	}
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}

// TagList is the outcome of listing one repository: its tags or why not.
type TagList struct {
	Tags []string
	Err  error
}

// TagsOf lists many repositories at once, at most Options.Concurrency at a
// time. The result has one entry per distinct input string. Repositories
// that name the same thing ("docker.io/nginx" and
// "index.docker.io/library/nginx") are listed once and share the result.
//
// One repository failing does not stop the others: each entry carries its
// own error, so a run can bump what it can and report the rest. When ctx is
// cancelled, repositories not yet listed get ctx's error.
func (c *Client) TagsOf(ctx context.Context, repos []string) map[string]TagList {
	out, groups := c.group(repos)
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, c.concurrency)
	)
	for _, spellings := range groups {
		wg.Go(func() {
			var tl TagList
			select {
			case sem <- struct{}{}:
				tl.Tags, tl.Err = c.Tags(ctx, spellings[0])
				<-sem
			case <-ctx.Done():
				tl.Err = c.wrap("listing tags of", spellings[0], "", ctx.Err())
			}
			mu.Lock()
			for i, s := range spellings {
				if i > 0 && tl.Tags != nil {
					// Each entry owns its slice; callers may sort or filter.
					tl.Tags = slices.Clone(tl.Tags)
				}
				out[s] = tl
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// group sorts the input of TagsOf into spellings of the same repository, in
// order of first appearance. Spellings that do not parse get their error in
// out at once; the others get a placeholder there.
func (c *Client) group(repos []string) (out map[string]TagList, groups [][]string) {
	out = make(map[string]TagList, len(repos))
	index := map[string]int{} // canonical name → position in groups
	for _, repo := range repos {
		if _, done := out[repo]; done {
			continue
		}
		r, err := c.repository("listing tags of", repo)
		if err != nil {
			out[repo] = TagList{Err: err}
			continue
		}
		out[repo] = TagList{}
		i, ok := index[r.Name()]
		if !ok {
			i = len(groups)
			index[r.Name()] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], repo)
	}
	return out, groups
}

// repository parses a canonical repository string. A parse error is
// classified as "other" and still names what was asked for.
func (c *Client) repository(op, repo string) (name.Repository, error) {
	if c.initErr != nil {
		return name.Repository{}, c.wrap(op, repo, "", c.initErr)
	}
	r, err := name.NewRepository(repo)
	if err != nil {
		return name.Repository{}, c.wrap(op, repo, "", fmt.Errorf("invalid repository name: %w", err))
	}
	return r, nil
}

// wrap turns a failure into an *Error: classified, naming image, scrubbed
// of secrets, and for authorization failures saying whether credentials
// for host were found at all.
func (c *Client) wrap(op, image, host string, err error) error {
	e := &Error{Op: op, Image: image, Kind: classify(err), Err: err}
	if e.Kind == ErrUnauthorized && host != "" {
		if consulted, found := c.keys.credentials(host); consulted {
			if found {
				e.Hint = "the credentials found for " + host + " were rejected or lack access"
			} else {
				e.Hint = "no credentials found for " + host
			}
		}
	}
	e.text = c.keys.redact(err.Error())
	return e
}
