package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/app"
	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/registry"
)

// AppEngine does the work in this process with internal/app, the code
// behind `git laminar run` and `set`: the same lock, the same pushes.
// Registry clients are shared: the runs of one cycle whose laminar.toml
// asks for the same registry settings use one client, so an image that
// thirty repositories reference is listed once, and the disk cache is
// shared with every other process as always. A run started by the API or
// a webhook gets a client of its own that ignores the cache: it was
// started because the registry changed.
type AppEngine struct {
	// Getenv reads the environment (the user-level file, the cache,
	// password_env); nil: os.Getenv.
	Getenv func(string) string
	// Cycle is how long a shared client is reused (default one minute, the
	// tag-list cache's default lifetime).
	Cycle time.Duration
	// Log receives the runs' step-by-step records; nil: none.
	Log *slog.Logger
	// Status reads `git laminar status` and `log` for the status page.
	StatusReader *StatusCommand

	mu      sync.Mutex
	shared  map[string]*sharedClient
	counted map[[2]string]int64 // requests by host and kind since the last job ended
}

type sharedClient struct {
	c    *registry.Client
	born time.Time
}

// countingTransport counts requests by host and kind for /metrics.
type countingTransport struct {
	base http.RoundTripper
	e    *AppEngine
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.e.mu.Lock()
	if t.e.counted == nil {
		t.e.counted = map[[2]string]int64{}
	}
	t.e.counted[[2]string{req.URL.Host, requestKind(req)}]++
	t.e.mu.Unlock()
	return t.base.RoundTrip(req)
}

// requestKind names what a registry request asks for, as the registry
// package's own counts do.
func requestKind(req *http.Request) string {
	p := req.URL.Path
	switch {
	case p == "/v2/" || p == "/v2":
		return "ping"
	case strings.HasPrefix(p, "/api/v2.0/") && strings.HasSuffix(p, "/artifacts"):
		return "tag_list"
	case !strings.HasPrefix(p, "/v2/"):
		return "other"
	case strings.HasSuffix(p, "/tags/list"):
		return "tag_list"
	case strings.Contains(p, "/manifests/"):
		if req.Method == http.MethodHead {
			return "manifest_head"
		}
		return "manifest_get"
	case strings.Contains(p, "/blobs/"):
		return "blob"
	}
	return "other"
}

var baseTransport = func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxResponseHeaderBytes = 1 << 20
	return t
}()

// source is the registry client of one job: used records the client and
// whether its requests are counted by host already.
func (e *AppEngine) source(refresh bool, used *[]*registry.Client) app.RegistrySource {
	return func(cfg *config.Config) (*registry.Client, error) {
		opt, err := app.RegistryOptions(cfg, app.RegistrySetup{Getenv: e.Getenv, Refresh: refresh})
		if err != nil {
			return nil, err
		}
		tls := false
		for _, s := range opt.Registries {
			if s.CAFile != "" || s.CertFile != "" || s.Insecure {
				tls = true
			}
		}
		// A host with TLS settings needs the registry package's own
		// transport; its requests are counted without a host.
		if !tls {
			opt.Transport = &countingTransport{base: baseTransport, e: e}
		}
		if refresh {
			c := registry.New(opt)
			if tls {
				*used = append(*used, c)
			}
			return c, nil
		}
		keyOpt := opt.Registries
		for i := range keyOpt {
			keyOpt[i].Source = ""
		}
		k, _ := json.Marshal(struct {
			R   []registry.Settings
			Dir string
			TTL time.Duration
			T   bool
		}{keyOpt, opt.CacheDir, opt.CacheTTL, tls})
		key := string(k)
		cycle := e.Cycle
		if cycle <= 0 {
			cycle = time.Minute
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.shared == nil {
			e.shared = map[string]*sharedClient{}
		}
		sc := e.shared[key]
		if sc == nil || time.Since(sc.born) > cycle {
			if sc != nil {
				_ = sc.c.Flush()
			}
			sc = &sharedClient{c: registry.New(opt), born: time.Now()}
			e.shared[key] = sc
		}
		if tls {
			*used = append(*used, sc.c)
		}
		return sc.c, nil
	}
}

// requests drains what was counted since the last job.
func (e *AppEngine) requests(untracked []*registry.Client, before []registry.Stats) []RequestCount {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []RequestCount
	for k, n := range e.counted {
		out = append(out, RequestCount{Host: k[0], Kind: k[1], N: n})
	}
	e.counted = nil
	for i, c := range untracked {
		d := c.Stats()
		var b registry.Stats
		if i < len(before) {
			b = before[i]
		}
		for kind, n := range map[string]int64{
			"tag_list": d.TagListPages - b.TagListPages, "manifest_head": d.ManifestHeads - b.ManifestHeads,
			"manifest_get": d.ManifestGets - b.ManifestGets, "blob": d.BlobGets - b.BlobGets,
			"ping": d.Pings - b.Pings, "other": d.Other - b.Other,
		} {
			if n > 0 {
				out = append(out, RequestCount{Kind: kind, N: n})
			}
		}
	}
	return out
}

func (e *AppEngine) deps(t Target, refresh bool, used *[]*registry.Client) app.Deps {
	d := app.Deps{Registry: e.source(refresh, used), Getenv: e.Getenv}
	if e.Log != nil {
		// Many repositories log at once: each line says whose it is.
		d.Logger = e.Log.With("repository", t.Name)
	}
	return d
}

func configPath(t Target) string {
	if t.Config == "" {
		return ""
	}
	return filepath.Join(t.Dir, t.Config)
}

func promotions(ps []app.Promotion) []Promotion {
	var out []Promotion
	for _, p := range ps {
		out = append(out, Promotion{Image: p.Image, From: p.From, To: p.To})
	}
	return out
}

func failures(fs []app.Failure) []Failure {
	var out []Failure
	for _, f := range fs {
		out = append(out, Failure{Image: f.Image, Error: f.Error})
	}
	return out
}

// Run is one app.Run of the clone.
func (e *AppEngine) Run(ctx context.Context, t Target) (Outcome, error) {
	var used []*registry.Client
	rep, err := app.Run(ctx, app.RunOptions{
		Dir: t.Dir, ConfigPath: configPath(t), Branch: t.Branch, Retries: -1, RetryWait: time.Second,
		Timeout: 10 * time.Minute, PullRequest: t.PullRequest, SSHKey: t.SSHKey, KnownHosts: t.KnownHosts,
	}, e.deps(t, t.Refresh, &used))
	o := Outcome{Commit: rep.Commit, Pushed: rep.Pushed || rep.Proposed(), Failures: failures(rep.Failures)}
	if o.Pushed {
		o.Promotions = promotions(rep.Promotions)
	}
	o.Requests = e.requests(used, nil)
	switch {
	case rep.Locked:
		o.Result = "locked"
	case err != nil:
		o.Result, o.Error = "failed", err.Error()
		return o, err
	case rep.Status == app.StatusPartial:
		o.Result = "partial"
	case len(o.Promotions) > 0:
		o.Result = "promoted"
	default:
		o.Result = "up-to-date"
	}
	return o, nil
}

// Promote sets the tag with app.Promote, unattended: fetch and follow the
// remote first, push (or propose), recompute when the remote moved.
func (e *AppEngine) Promote(ctx context.Context, t Target, p PromoteRequest) (Outcome, error) {
	var used []*registry.Client
	rep, err := app.Promote(ctx, app.PromoteOptions{
		Dir: t.Dir, ConfigPath: configPath(t), Image: p.Image, Tag: p.Tag, FromCommit: p.Commit,
		ManagedOnly: true, Push: !t.PullRequest, PullRequest: t.PullRequest, Sync: true,
		Branch: t.Branch, Retries: -1, RetryWait: time.Second, Timeout: 10 * time.Minute,
		SSHKey: t.SSHKey, KnownHosts: t.KnownHosts,
	}, e.deps(t, true, &used))
	o := Outcome{Commit: rep.Commit, Pushed: rep.Pushed || len(rep.PullRequests) > 0, Promotions: promotions(rep.Promotions)}
	o.Requests = e.requests(used, nil)
	switch {
	case rep.Locked:
		o.Result = "locked"
	case err != nil:
		o.Result, o.Error = "failed", err.Error()
		return o, err
	case rep.NotManaged:
		o.Result, o.Error = "failed", "no rule of this repository manages "+p.Image
		return o, errors.New(o.Error)
	case len(o.Promotions) > 0 || rep.Released != "":
		o.Result = "promoted"
	default:
		o.Result = "up-to-date"
	}
	return o, nil
}

// References lists the images the clone's rules manage.
func (e *AppEngine) References(ctx context.Context, t Target) ([]string, error) {
	ms, err := app.References(ctx, t.Dir, app.ReferencesOptions{ConfigPath: configPath(t)})
	if err != nil {
		return nil, err
	}
	// Both spellings: webhooks name images as the registry's API does
	// ("index.docker.io/library/nginx"), files as people do.
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Image)
		if m.Repo != m.Image {
			out = append(out, m.Repo)
		}
	}
	return out, nil
}

// Status reads the status page's data with the binary (see StatusCommand).
func (e *AppEngine) Status(ctx context.Context, t Target) (RepoStatus, error) {
	if e.StatusReader == nil {
		return RepoStatus{}, nil
	}
	return e.StatusReader.Status(ctx, t)
}
