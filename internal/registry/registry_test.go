package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// fastRetry keeps ggcr's retry of 5xx answers (two tries) without its
// seconds of waiting.
var fastRetry = remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 2}

// keychain hands out fixed credentials per registry host, and anonymous
// access elsewhere. Tests never read the user's docker config.
type keychain map[string]authn.AuthConfig

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if cfg, ok := k[r.RegistryStr()]; ok {
		return authn.FromConfig(cfg), nil
	}
	return authn.Anonymous, nil
}

func newClient(opt registry.Options) *registry.Client {
	if opt.Keychain == nil {
		opt.Keychain = keychain{}
	}
	if opt.Backoff.Steps == 0 {
		opt.Backoff = fastRetry
	}
	return registry.New(opt)
}

func newServer(t *testing.T, opt registrytest.ServerOptions) *registrytest.Server {
	t.Helper()
	s := registrytest.NewServer(opt)
	t.Cleanup(s.Close)
	return s
}

// seed gives repo the tags. They share three images (created at t0, t0+1h,
// t0+2h in turn), so that seeding a thousand tags stays fast.
func seed(t *testing.T, s *registrytest.Server, repo string, tags ...string) map[string]string {
	t.Helper()
	m := map[string]time.Time{}
	for i, tag := range tags {
		m[tag] = t0.Add(time.Duration(i%3) * time.Hour)
	}
	d, err := registrytest.PushTags(context.Background(), s.Repo(repo), m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tagNames(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("v1.%d", i))
	}
	return out
}

func TestTags(t *testing.T) {
	tests := []struct {
		name      string
		pageSize  int
		tags      []string
		wantLists int // tag list requests, one per page
	}{
		{"one page", 0, []string{"1.0", "1.1", "latest"}, 1},
		{"page size 2 across 7 tags", 2, tagNames(7), 4},
		{"pages exactly full", 3, tagNames(6), 2},
		{"default page size (100) across 1001 tags", 0, tagNames(1001), 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/app", tt.tags...)
			s.Update(func(o *registrytest.ServerOptions) { o.PageSize = tt.pageSize })
			s.ResetCounts()

			got, err := newClient(registry.Options{}).Tags(context.Background(), s.Repo("acme/app"))
			if err != nil {
				t.Fatal(err)
			}
			// The registry returns tags sorted; so must we.
			if diff := cmp.Diff(sorted(tt.tags), got); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if n := s.Counts().ByKind[registrytest.KindTagsList]; n != tt.wantLists {
				t.Errorf("tag list requests = %d, want %d", n, tt.wantLists)
			}
		})
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// A repository whose manifests are all untagged exists but has no tags:
// that is an empty list, not an error and not nil.
func TestTagsEmpty(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	img, _ := registrytest.Image(t0, "")
	d, _ := img.Digest()
	if _, err := registrytest.PushImage(context.Background(), s.Repo("acme/untagged@"+d.String()), img); err != nil {
		t.Fatal(err)
	}
	got, err := newClient(registry.Options{}).Tags(context.Background(), s.Repo("acme/untagged"))
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got) != 0 {
		t.Errorf("Tags = %#v, want empty non-nil", got)
	}
}

// The bound on concurrency is what keeps a run over hundreds of images
// polite to a registry; more than one at once is what makes it fast.
func TestTagsOfConcurrency(t *testing.T) {
	for _, conc := range []int{2, 4} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			var repos []string
			for i := range 12 {
				seed(t, s, fmt.Sprintf("acme/app%d", i), "v1", fmt.Sprintf("v%d", i+2))
				repos = append(repos, s.Repo(fmt.Sprintf("acme/app%d", i)))
			}
			s.Update(func(o *registrytest.ServerOptions) { o.Latency = 20 * time.Millisecond })
			s.ResetCounts()

			got := newClient(registry.Options{Concurrency: conc}).TagsOf(context.Background(), repos)
			for i, r := range repos {
				want := sorted([]string{"v1", fmt.Sprintf("v%d", i+2)})
				if diff := cmp.Diff(registry.TagList{Tags: want, API: registry.APIOCI}, got[r], cmpErrs); diff != "" {
					t.Errorf("%s (-want +got):\n%s", r, diff)
				}
			}
			c := s.Counts()
			if c.MaxInFlight <= 1 || c.MaxInFlight > conc {
				t.Errorf("max in flight = %d, want in (1, %d]", c.MaxInFlight, conc)
			}
			if n := c.ByKind[registrytest.KindTagsList]; n != len(repos) {
				t.Errorf("tag list requests = %d, want %d", n, len(repos))
			}
		})
	}
}

var cmpErrs = cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) })

// Repositories repeat across a manifests repository (every environment
// names the same image); each must be asked once.
func TestTagsOfDuplicates(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/a", "1")
	seed(t, s, "acme/b", "2")
	s.ResetCounts()
	a, b := s.Repo("acme/a"), s.Repo("acme/b")

	got := newClient(registry.Options{}).TagsOf(context.Background(), []string{a, b, a, a, b})
	want := map[string]registry.TagList{a: {Tags: []string{"1"}, API: registry.APIOCI}, b: {Tags: []string{"2"}, API: registry.APIOCI}}
	if diff := cmp.Diff(want, got, cmpErrs); diff != "" {
		t.Errorf("TagsOf (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"acme/a": 1, "acme/b": 1}, s.Counts().TagsListByRepo); diff != "" {
		t.Errorf("tag list requests per repository (-want +got):\n%s", diff)
	}
}

// One bad repository must not cost the others their results: a run bumps
// what it can and reports the rest.
func TestTagsOfPartialFailure(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/good1", "1")
	seed(t, s, "acme/good2", "2")
	s.Update(func(o *registrytest.ServerOptions) {
		o.Fail = func(r *http.Request) int {
			if _, repo := registrytest.KindOf(r); repo == "acme/broken" {
				return http.StatusInternalServerError
			}
			return 0
		}
	})
	closed := closedPort(t)
	repos := []string{s.Repo("acme/good1"), s.Repo("acme/missing"), closed + "/acme/app", s.Repo("acme/broken"), s.Repo("acme/good2"), "Not A Repo"}

	got := newClient(registry.Options{Concurrency: 2}).TagsOf(context.Background(), repos)
	if len(got) != len(repos) {
		t.Errorf("got %d results, want %d", len(got), len(repos))
	}
	for i, want := range []struct {
		tags []string
		kind error // nil: success, errOther: an error of no kind
	}{
		{[]string{"1"}, nil},
		{nil, registry.ErrNotFound},
		{nil, registry.ErrUnreachable},
		{nil, errOther},
		{[]string{"2"}, nil},
		{nil, errOther},
	} {
		tl := got[repos[i]]
		if diff := cmp.Diff(want.tags, tl.Tags); diff != "" {
			t.Errorf("%s: tags (-want +got):\n%s", repos[i], diff)
		}
		checkKind(t, tl.Err, want.kind)
		if tl.Err != nil && !strings.Contains(tl.Err.Error(), repos[i]) {
			t.Errorf("%s: error does not name the repository: %v", repos[i], tl.Err)
		}
	}
}

var errOther = errors.New("other")

// checkKind checks that err is of kind want (nil: no error; errOther: an
// *Error of none of the kinds).
func checkKind(t *testing.T, err, want error) {
	t.Helper()
	sentinels := []error{registry.ErrUnreachable, registry.ErrUnauthorized, registry.ErrNotFound, registry.ErrRateLimited}
	switch want {
	case nil:
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	case errOther:
		if err == nil {
			t.Errorf("no error, want one of no kind")
			return
		}
	default:
		if !errors.Is(err, want) {
			t.Errorf("error %q is not %q", err, want)
		}
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Errorf("error %q is also %q", err, s)
		}
	}
	var e *registry.Error
	if !errors.As(err, &e) {
		t.Errorf("error %T is not a *registry.Error", err)
	}
}

// closedPort returns "127.0.0.1:PORT" where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestImage(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	ctx := context.Background()
	t1, t2, t3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	annotated := t0.Add(-24 * time.Hour)

	single, err := registrytest.Push(ctx, s.Repo("acme/app:single"), t1)
	if err != nil {
		t.Fatal(err)
	}
	pushIndex := func(tag string, ann map[string]string, children ...registrytest.Child) string {
		t.Helper()
		d, err := registrytest.PushIndex(ctx, s.Repo("acme/app:"+tag), ann, children)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	arm := registrytest.Child{OS: "linux", Architecture: "arm64", Created: t1}
	amd := registrytest.Child{OS: "linux", Architecture: "amd64", Created: t2}
	att := registrytest.Child{OS: "unknown", Architecture: "unknown", Created: t3}
	withAnn := pushIndex("annotated", map[string]string{registry.AnnotationCreated: annotated.Format(time.RFC3339)}, arm, amd)
	noAnn := pushIndex("multi", nil, arm, amd, att)
	noAmd := pushIndex("arm-only", nil, att, arm)
	badAnn := pushIndex("bad-annotation", map[string]string{registry.AnnotationCreated: "yesterday"}, amd)

	tests := []struct {
		name, tag string
		want      registry.Info
	}{
		{"single image: config created", "single", registry.Info{Digest: single, Created: t1}},
		{"by digest", single, registry.Info{Digest: single, Created: t1}},
		{"index with annotation", "annotated", registry.Info{Digest: withAnn, Created: annotated}},
		{"index: linux/amd64 wins", "multi", registry.Info{Digest: noAnn, Created: t2}},
		{"index without amd64: first image, not the attestation", "arm-only", registry.Info{Digest: noAmd, Created: t1}},
		{"index with unparseable annotation falls back", "bad-annotation", registry.Info{Digest: badAnn, Created: t2}},
	}
	c := newClient(registry.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Image(ctx, s.Repo("acme/app"), tt.tag)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Image (-want +got):\n%s", diff)
			}
			d, err := c.Digest(ctx, s.Repo("acme/app"), tt.tag)
			if err != nil {
				t.Fatal(err)
			}
			if d != tt.want.Digest {
				t.Errorf("Digest = %s, want %s", d, tt.want.Digest)
			}
		})
	}
}

// Digest is meant for cheap checks: one HEAD, no manifest body.
func TestDigestUsesHead(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	want, err := registrytest.Push(context.Background(), s.Repo("acme/app:v1"), t0)
	if err != nil {
		t.Fatal(err)
	}
	s.ResetCounts()
	got, err := newClient(registry.Options{}).Digest(context.Background(), s.Repo("acme/app"), "v1")
	if err != nil || got != want {
		t.Fatalf("Digest = %q, %v; want %q", got, err, want)
	}
	c := s.Counts()
	if c.ByKind[registrytest.KindManifestHead] != 1 || c.ByKind[registrytest.KindManifestGet] != 0 {
		t.Errorf("requests: %v, want one manifest HEAD and no GET", c.ByKind)
	}
}

const (
	user     = "robot"
	password = "pa55-w0rd-XYZ"
)

// secretForms are the spellings of the password that must never appear.
var secretForms = []string{password, base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}

func TestErrors(t *testing.T) {
	closed := closedPort(t)
	type op func(c *registry.Client, ctx context.Context, repo string) error
	tags := func(c *registry.Client, ctx context.Context, repo string) error {
		_, err := c.Tags(ctx, repo)
		return err
	}
	image := func(tag string) op {
		return func(c *registry.Client, ctx context.Context, repo string) error {
			_, err := c.Image(ctx, repo, tag)
			return err
		}
	}
	digest := func(tag string) op {
		return func(c *registry.Client, ctx context.Context, repo string) error {
			_, err := c.Digest(ctx, repo, tag)
			return err
		}
	}
	failOn := func(kind registrytest.Kind, code int) func(*http.Request) int {
		return func(r *http.Request) int {
			if k, _ := registrytest.KindOf(r); k == kind {
				return code
			}
			return 0
		}
	}

	tests := []struct {
		name     string
		server   registrytest.ServerOptions // applied after seeding
		creds    *authn.AuthConfig          // keychain entry for the server
		repo     string                     // path on the server
		raw      bool                       // repo is used as given, not as a path on the server
		op       op
		ctx      func() (context.Context, context.CancelFunc)
		want     error
		wantText []string // besides the repository, which every error names
	}{
		{name: "basic auth demanded, no credentials", server: registrytest.ServerOptions{Username: user, Password: password},
			repo: "acme/app", op: tags, want: registry.ErrUnauthorized,
			wantText: []string{"listing tags of", "check docker login / credential helper", "no credentials found"}},
		{name: "basic auth demanded, wrong password", server: registrytest.ServerOptions{Username: user, Password: "the-right-one"},
			creds: &authn.AuthConfig{Username: user, Password: password}, repo: "acme/app", op: tags, want: registry.ErrUnauthorized,
			wantText: []string{"were rejected"}},
		{name: "wrong password, reading an image", server: registrytest.ServerOptions{Username: user, Password: "the-right-one"},
			creds: &authn.AuthConfig{Username: user, Password: password}, repo: "acme/app", op: image("v1"), want: registry.ErrUnauthorized,
			wantText: []string{"reading", ":v1"}},
		{name: "wrong password, HEAD", server: registrytest.ServerOptions{Username: user, Password: "the-right-one"},
			creds: &authn.AuthConfig{Username: user, Password: password}, repo: "acme/app", op: digest("v1"), want: registry.ErrUnauthorized},
		{name: "right password", server: registrytest.ServerOptions{Username: user, Password: password},
			creds: &authn.AuthConfig{Username: user, Password: password}, repo: "acme/app", op: tags, want: nil},
		{name: "403 denied", server: registrytest.ServerOptions{Fail: failOn(registrytest.KindTagsList, http.StatusForbidden)},
			repo: "acme/app", op: tags, want: registry.ErrUnauthorized},
		{name: "unknown repository", repo: "acme/nope", op: tags, want: registry.ErrNotFound, wantText: []string{"NAME_UNKNOWN"}},
		{name: "unknown tag", repo: "acme/app", op: image("v9"), want: registry.ErrNotFound, wantText: []string{"reading", ":v9", "MANIFEST_UNKNOWN"}},
		{name: "unknown digest, HEAD", repo: "acme/app", op: digest("sha256:" + strings.Repeat("0", 64)), want: registry.ErrNotFound, wantText: []string{"resolving", "@sha256:000"}},
		{name: "closed port", repo: closed + "/acme/app", raw: true, op: tags, want: registry.ErrUnreachable, wantText: []string{"registry unreachable"}},
		{name: "closed port, image", repo: closed + "/acme/app", raw: true, op: image("v1"), want: registry.ErrUnreachable},
		{name: "500 on tag list", server: registrytest.ServerOptions{Fail: failOn(registrytest.KindTagsList, http.StatusInternalServerError)},
			repo: "acme/app", op: tags, want: errOther, wantText: []string{"Internal Server Error"}},
		{name: "timeout", server: registrytest.ServerOptions{Latency: time.Second}, repo: "acme/app", op: tags,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			want: registry.ErrUnreachable},
		{name: "cancelled is not unreachable", repo: "acme/app", op: tags,
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			want: errOther},
		{name: "invalid repository name", repo: "UPPER/Case", raw: true, op: tags, want: errOther, wantText: []string{"invalid repository name"}},
		{name: "invalid tag", repo: "acme/app", op: image("bad tag"), want: errOther, wantText: []string{"invalid tag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/app", "v1")
			s.Update(func(o *registrytest.ServerOptions) { *o = tt.server })
			kc := keychain{}
			if tt.creds != nil {
				kc[s.Host()] = *tt.creds
			}
			repo := tt.repo
			if !tt.raw {
				repo = s.Repo(repo)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()

			err := tt.op(newClient(registry.Options{Keychain: kc}), ctx, repo)
			checkKind(t, err, tt.want)
			if err == nil {
				return
			}
			msg := err.Error()
			t.Log(msg)
			for _, w := range append([]string{repo}, tt.wantText...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			for _, secret := range secretForms {
				if strings.Contains(msg, secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
					t.Errorf("error leaks the password: %q", msg)
				}
			}
		})
	}
}

// A registry that echoes what it was sent into its error message would
// carry the password into our error text; the client cuts it out.
func TestErrorsScrubEchoedCredentials(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="echo"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad login %s:%s (header %s)"}]}`, u, p, r.Header.Get("Authorization"))
	}))
	defer ts.Close()
	host := strings.TrimPrefix(ts.URL, "http://")
	c := newClient(registry.Options{Keychain: keychain{host: {Username: user, Password: password}}})

	_, err := c.Tags(context.Background(), host+"/acme/app")
	checkKind(t, err, registry.ErrUnauthorized)
	if err == nil {
		return
	}
	for _, secret := range secretForms {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks the password: %q", err)
		}
	}
	if !strings.Contains(err.Error(), "bad login "+user+":[redacted]") {
		t.Errorf("error %q lost the registry's message", err)
	}
}

func TestUserAgent(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/app", "v1")
	s.Update(func(o *registrytest.ServerOptions) {
		o.Observe = func(r *http.Request) {
			mu.Lock()
			agents = append(agents, r.UserAgent())
			mu.Unlock()
		}
	})
	for _, tt := range []struct{ set, want string }{{"", "git-laminar/"}, {"git-laminar/1.2.3", "git-laminar/1.2.3"}} {
		mu.Lock()
		agents = nil
		mu.Unlock()
		if _, err := newClient(registry.Options{UserAgent: tt.set}).Tags(context.Background(), s.Repo("acme/app")); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		for _, a := range agents {
			if !strings.HasPrefix(a, tt.want) {
				t.Errorf("User-Agent %q, want prefix %q", a, tt.want)
			}
		}
		mu.Unlock()
	}
}

// Registries answer 5xx and 429 under load; ggcr's retry (kept, with
// Options.Backoff) must turn a passing failure into a success.
func TestRetriesTemporaryFailure(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/app", "v1")
	var mu sync.Mutex
	failed := false
	s.Update(func(o *registrytest.ServerOptions) {
		o.Fail = func(r *http.Request) int {
			mu.Lock()
			defer mu.Unlock()
			if k, _ := registrytest.KindOf(r); k == registrytest.KindTagsList && !failed {
				failed = true
				return http.StatusServiceUnavailable
			}
			return 0
		}
	})
	s.ResetCounts()
	got, err := newClient(registry.Options{}).Tags(context.Background(), s.Repo("acme/app"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"v1"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if n := s.Counts().ByKind[registrytest.KindTagsList]; n != 2 {
		t.Errorf("tag list requests = %d, want 2 (one failure, one retry)", n)
	}
}

// TagsEach hands a repository over as soon as it is listed: a caller can
// work on it while a slow registry is still answering for another. Here
// the slow listing is held until the fast one has been handed over, which
// would never happen if TagsEach waited for both.
func TestTagsEachStreams(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/fast", "1")
	seed(t, s, "acme/slow", "2")
	fastSeen := make(chan struct{})
	s.Update(func(o *registrytest.ServerOptions) {
		o.Observe = func(r *http.Request) {
			if k, repo := registrytest.KindOf(r); k == registrytest.KindTagsList && repo == "acme/slow" {
				select {
				case <-fastSeen:
				case <-time.After(10 * time.Second):
					t.Error("the fast repository was not handed over while the slow one was being listed")
				}
			}
		}
	})
	fast, slow := s.Repo("acme/fast"), s.Repo("acme/slow")
	var (
		mu    sync.Mutex
		order []string
	)
	newClient(registry.Options{}).TagsEach(context.Background(), []string{slow, fast, "Bad Name", fast}, func(repo string, tl registry.TagList) {
		mu.Lock()
		order = append(order, repo)
		mu.Unlock()
		if repo == fast {
			close(fastSeen)
		}
		if (repo == "Bad Name") != (tl.Err != nil) {
			t.Errorf("%s: error %v", repo, tl.Err)
		}
	})
	if diff := cmp.Diff([]string{"Bad Name", fast, slow}, order); diff != "" {
		t.Errorf("order of calls (-want +got):\n%s", diff)
	}
}

// Decisions of one repository run at once and rank the same candidates:
// asking for the same image together must cost one read, not one each.
func TestImageConcurrentCallersShare(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{Latency: 20 * time.Millisecond})
	digests := seed(t, s, "acme/app", "v1")
	s.ResetCounts()
	c := newClient(registry.Options{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			info, err := c.Image(context.Background(), s.Repo("acme/app"), "v1")
			if err != nil || info.Digest != digests["v1"] {
				t.Errorf("Image = %+v, %v; want digest %s", info, err, digests["v1"])
			}
		})
	}
	wg.Wait()
	if st := c.Stats(); st.ManifestGets != 1 || st.BlobGets != 1 {
		t.Errorf("%d manifest GETs and %d blob GETs for 10 callers at once; want 1 and 1", st.ManifestGets, st.BlobGets)
	}
}
