package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// harborSettings turns on Harbor's artifact API for the server's host.
func harborSettings(s *registrytest.Server, more ...registry.Settings) []registry.Settings {
	return append(more, registry.Settings{Prefix: s.Host(), API: registry.APIHarbor, Source: "laminar.toml:7"})
}

// seedBuilds gives repo n tags, build-00 to build-(n-1), each its own
// image built an hour after the one before, pushed in that order.
func seedBuilds(t *testing.T, repo string, n int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := range n {
		tag := fmt.Sprintf("build-%02d", i)
		d, err := registrytest.Push(context.Background(), repo+":"+tag, t0.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		out[tag] = d
	}
	return out
}

// A Harbor's artifact list says what each tag names and when its image was
// built: ranking by creation time costs the listing alone. The answers must
// be exactly those a client reading every manifest and config gets.
func TestHarbor(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{Harbor: true})
	repo, tags := seedImagesAndIndex(t, s)
	want := images(t, newClient(registry.Options{RPS: -1}), repo, tags)

	s.ResetCounts()
	c := newClient(registry.Options{Registries: harborSettings(s)})
	tl := c.TagsOf(ctx, []string{repo})[repo]
	if tl.Err != nil || tl.Warning != "" {
		t.Fatalf("TagsOf: %v, warning %q", tl.Err, tl.Warning)
	}
	if diff := cmp.Diff(sorted(tags), sorted(tl.Tags)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	// Newest push first: the index was pushed last.
	if tl.Tags[0] != "multi" {
		t.Errorf("first tag %q, want the newest push, multi", tl.Tags[0])
	}
	if diff := cmp.Diff(want, images(t, c, repo, tl.Tags)); diff != "" {
		t.Errorf("Image from Harbor's listing (-direct +harbor):\n%s", diff)
	}
	if d, err := c.Digest(ctx, repo, "v1.7"); err != nil || d != want["v1.7"].Digest {
		t.Errorf("Digest(v1.7) = %s, %v; want %s", d, err, want["v1.7"].Digest)
	}

	st := c.Stats()
	if st.ListedImages != 250 {
		t.Errorf("ListedImages = %d, want 250 (every single image, not the index)", st.ListedImages)
	}
	// Four artifacts (three images, one index) make one page; then the
	// index, its amd64 image and that image's config.
	if st.TagListPages != 1 || st.ManifestHeads != 0 || st.ManifestGets != 2 || st.BlobGets != 1 {
		t.Errorf("requests: %d listing pages, %d HEAD, %d manifest GET, %d blob GET; want 1, 0, 2, 1",
			st.TagListPages, st.ManifestHeads, st.ManifestGets, st.BlobGets)
	}
	counts := s.Counts()
	if counts.ByKind[registrytest.KindAPI] != 1 || counts.ByKind[registrytest.KindTagsList] != 0 {
		t.Errorf("server saw %d API requests and %d tag lists; want 1 and 0", counts.ByKind[registrytest.KindAPI], counts.ByKind[registrytest.KindTagsList])
	}
}

// Artifacts come in pages of the repository's page size, at most Harbor's
// 100, each page asked for by number until Harbor links no further.
func TestHarborPages(t *testing.T) {
	tests := []struct {
		name      string
		pageSize  int
		wantPages int
	}{
		{"10 a page", 10, 3},
		{"pages exactly full", 5, 5},
		{"more than Harbor serves is asked as 100", 500, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{Harbor: true})
			repo := s.Repo("acme/app")
			digests := seedBuilds(t, repo, 25)
			var (
				mu     sync.Mutex
				query  []string
				header http.Header
			)
			s.Update(func(o *registrytest.ServerOptions) {
				o.Observe = func(r *http.Request) {
					mu.Lock()
					defer mu.Unlock()
					query = append(query, r.URL.RawQuery)
					header = r.Header.Clone()
				}
			})
			s.ResetCounts()
			c := newClient(registry.Options{Registries: harborSettings(s, registry.Settings{Prefix: s.Host(), PageSize: tt.pageSize})})
			tl := c.TagsOf(context.Background(), []string{repo})[repo]
			if tl.Err != nil || tl.Warning != "" {
				t.Fatalf("TagsOf: %v, warning %q", tl.Err, tl.Warning)
			}
			var want []string
			for i := 24; i >= 0; i-- {
				want = append(want, fmt.Sprintf("build-%02d", i))
			}
			if diff := cmp.Diff(want, tl.Tags); diff != "" {
				t.Errorf("tags, newest push first (-want +got):\n%s", diff)
			}
			if st := c.Stats(); st.TagListPages != int64(tt.wantPages) || st.ListedImages != 25 {
				t.Errorf("%d listing pages, %d listed images; want %d, 25", st.TagListPages, st.ListedImages, tt.wantPages)
			}
			size := min(tt.pageSize, 100)
			for i, q := range query {
				for _, p := range []string{fmt.Sprintf("page=%d", i+1), fmt.Sprintf("page_size=%d", size), "with_tag=true", "q=tags%3D%2A"} {
					if !strings.Contains(q, p) {
						t.Errorf("request %d: query %q lacks %s", i+1, q, p)
					}
				}
			}
			if ua := header.Get("User-Agent"); !strings.HasPrefix(ua, "git-laminar/") {
				t.Errorf("User-Agent %q", ua)
			}
			if header.Get("Authorization") != "" {
				t.Errorf("credentials sent where none were found")
			}
			info, err := c.Image(context.Background(), repo, "build-03")
			if err != nil || info.Digest != digests["build-03"] || !info.Created.Equal(t0.Add(3*time.Hour)) {
				t.Errorf("Image(build-03) = %+v, %v", info, err)
			}
		})
	}
}

// max_tags stops reading the artifact list as it stops the tag list, and
// says so in the same words.
func TestHarborMaxTags(t *testing.T) {
	tests := []struct {
		name      string
		maxTags   int
		wantPages int
		warn      bool
	}{
		{"cap inside an artifact's tags", 1, 1, true},
		{"cap inside the first page", 5, 1, true},
		{"cap across pages", 12, 2, true},
		{"cap one short of the tags", 25, 3, true},
		{"cap equals the tags", 26, 3, false},
		{"no cap", -1, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{Harbor: true})
			repo := s.Repo("acme/app")
			seedBuilds(t, repo, 25)
			// The oldest build gets a second tag, pushed last: 26 tags on
			// 25 artifacts, the first listed holding two.
			if _, err := registrytest.Push(context.Background(), repo+":build-00-again", t0); err != nil {
				t.Fatal(err)
			}
			s.ResetCounts()
			opt := registry.Options{MaxTags: tt.maxTags, Registries: harborSettings(s, registry.Settings{Prefix: s.Host(), PageSize: 10})}
			c := newClient(opt)
			tl := c.TagsOf(context.Background(), []string{repo})[repo]
			if tl.Err != nil {
				t.Fatal(tl.Err)
			}
			wantTags := 26
			if tt.maxTags > 0 {
				wantTags = tt.maxTags
			}
			if len(tl.Tags) != wantTags {
				t.Errorf("%d tags, want %d: %v", len(tl.Tags), wantTags, tl.Tags)
			}
			if (tl.Warning != "") != tt.warn {
				t.Errorf("warning %q, want one: %v", tl.Warning, tt.warn)
			}
			if tt.warn && !regexpMatch(`^127\.0\.0\.1:\d+/acme/app has more than \d+ tags; .*max_tags`, tl.Warning) {
				t.Errorf("warning %q", tl.Warning)
			}
			if n := s.Counts().ByKind[registrytest.KindAPI]; n != tt.wantPages {
				t.Errorf("%d pages read, want %d", n, tt.wantPages)
			}
			// Asked again, the run answers from what it learnt.
			if again := c.TagsOf(context.Background(), []string{repo})[repo]; !cmp.Equal(again.Tags, tl.Tags) || again.Warning != tl.Warning {
				t.Errorf("second listing differs: %v %q", again.Tags, again.Warning)
			}
		})
	}
}

// Harbor's API takes the registry's credentials as basic auth (docker's,
// or those of the settings, robot accounts included); missing or wrong
// ones fail as unauthorized, naming the setting, never the secret.
func TestHarborAuth(t *testing.T) {
	const robot = "robot$ci"
	tests := []struct {
		name     string
		creds    *authn.AuthConfig // keychain entry for the server
		settings registry.Settings // besides the API; Prefix filled in
		want     error
		wantText []string
		secrets  []string
	}{
		{name: "docker's credentials", creds: &authn.AuthConfig{Username: robot, Password: password}},
		{name: "docker's auth field", creds: &authn.AuthConfig{Auth: base64.StdEncoding.EncodeToString([]byte(robot + ":" + password))}},
		{name: "password_env of the settings", settings: registry.Settings{Username: robot, PasswordEnv: "HARBOR_SECRET"}},
		{name: "none", want: registry.ErrUnauthorized,
			wantText: []string{`api = "harbor" is set for`, "laminar.toml:7", "401 Unauthorized", "no credentials found", "robot account"}},
		{name: "wrong password", creds: &authn.AuthConfig{Username: robot, Password: "not-the-secret"}, want: registry.ErrUnauthorized,
			wantText: []string{`api = "harbor"`, "were rejected"}, secrets: []string{"not-the-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{Harbor: true})
			repo := s.Repo("acme/app")
			seedBuilds(t, repo, 3)
			s.Update(func(o *registrytest.ServerOptions) { o.Username, o.Password = robot, password })
			kc := keychain{}
			if tt.creds != nil {
				kc[s.Host()] = *tt.creds
			}
			st := tt.settings
			st.Prefix = s.Host()
			getenv := func(k string) string { return map[string]string{"HARBOR_SECRET": password}[k] }
			c := newClient(registry.Options{Keychain: kc, Registries: harborSettings(s, st), Getenv: getenv})
			tags, err := c.Tags(context.Background(), repo)
			checkKind(t, err, tt.want)
			if err == nil {
				if len(tags) != 3 {
					t.Errorf("tags %v", tags)
				}
				return
			}
			t.Log(err)
			for _, w := range append([]string{repo}, tt.wantText...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			noSecret(t, err, append(tt.secrets, password, base64.StdEncoding.EncodeToString([]byte(robot+":"+password)))...)
		})
	}
}

// A host that is not a Harbor answers 404 to its API: the repository fails
// with an error naming the setting, and is not listed any other way.
func TestHarborNotHarbor(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	repo := s.Repo("acme/app")
	seed(t, s, "acme/app", "v1")
	s.ResetCounts()
	c := newClient(registry.Options{Registries: harborSettings(s)})
	tl := c.TagsOf(context.Background(), []string{repo})[repo]
	checkKind(t, tl.Err, registry.ErrNotFound)
	if tl.Err == nil {
		t.Fatalf("listed %v", tl.Tags)
	}
	t.Log(tl.Err)
	for _, w := range []string{"listing tags of " + repo, `api = "harbor" is set for ` + s.Host() + " (registry settings at laminar.toml:7)", "404 Not Found", "is the host a Harbor"} {
		if !strings.Contains(tl.Err.Error(), w) {
			t.Errorf("error %q does not contain %q", tl.Err, w)
		}
	}
	counts := s.Counts()
	if counts.ByKind[registrytest.KindAPI] != 1 || counts.Total != 1 {
		t.Errorf("server saw %d requests, %d of them to the API; want the one", counts.Total, counts.ByKind[registrytest.KindAPI])
	}
}

// Harbor's project is the first element of the path and the repository
// name the rest, its "/" escaped twice; a path of one element is no
// Harbor repository at all.
func TestHarborNestedPaths(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{Harbor: true})
	var (
		mu  sync.Mutex
		raw []string
	)
	s.Update(func(o *registrytest.ServerOptions) {
		o.Observe = func(r *http.Request) {
			if k, _ := registrytest.KindOf(r); k == registrytest.KindAPI {
				mu.Lock()
				raw = append(raw, r.URL.EscapedPath())
				mu.Unlock()
			}
		}
	})
	for _, path := range []string{"acme/team/app", "a/b/c/d"} {
		repo := s.Repo(path)
		seedBuilds(t, repo, 2)
		c := newClient(registry.Options{Registries: harborSettings(s)})
		tags, err := c.Tags(context.Background(), repo)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if want := []string{"build-01", "build-00"}; !cmp.Equal(tags, want) {
			t.Errorf("%s: tags %v, want %v", path, tags, want)
		}
	}
	want := []string{
		"/api/v2.0/projects/acme/repositories/team%252Fapp/artifacts",
		"/api/v2.0/projects/a/repositories/b%252Fc%252Fd/artifacts",
	}
	if diff := cmp.Diff(want, raw); diff != "" {
		t.Errorf("paths sent (-want +got):\n%s", diff)
	}

	single := s.Repo("app")
	seedBuilds(t, single, 1)
	_, err := newClient(registry.Options{Registries: harborSettings(s)}).Tags(context.Background(), single)
	if err == nil || !strings.Contains(err.Error(), "a Harbor repository is <project>/<name>") {
		t.Errorf("one-element path: %v", err)
	}
}

// A repository Harbor lists no artifacts for is asked after: one that does
// not exist fails as not found, as the tag list would; one with only
// untagged manifests has no tags.
func TestHarborEmptyRepository(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{Harbor: true})
	img, _ := registrytest.Image(t0, "")
	d, _ := img.Digest()
	if _, err := registrytest.PushImage(context.Background(), s.Repo("acme/untagged@"+d.String()), img); err != nil {
		t.Fatal(err)
	}
	c := newClient(registry.Options{Registries: harborSettings(s)})
	tags, err := c.Tags(context.Background(), s.Repo("acme/untagged"))
	if err != nil || tags == nil || len(tags) != 0 {
		t.Errorf("untagged: %#v, %v; want empty, no error", tags, err)
	}
	_, err = c.Tags(context.Background(), s.Repo("acme/nope"))
	checkKind(t, err, registry.ErrNotFound)
	t.Log(err)
	if err != nil && !strings.Contains(err.Error(), "has no repository nope in project acme") {
		t.Errorf("error %q", err)
	}
	if st := c.Stats(); st.TagListPages != 2 || st.Other != 2 {
		t.Errorf("%d listing pages, %d other; want 2 and 2 (a page and a look at the repository each)", st.TagListPages, st.Other)
	}
}

// What the artifact list says is kept in the cache on disk like any
// resolution: a later run within the TTL sends nothing at all, and one
// after it lists again and still reads no manifest.
func TestHarborCached(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{Harbor: true})
	repo := s.Repo("acme/app")
	seed(t, s, "acme/app", tagNames(120)...)
	dir := t.TempDir()
	clk := &clock{t: t0.Add(100 * 24 * time.Hour)}
	opt := func() registry.Options {
		return registry.Options{CacheDir: dir, Now: clk.now, CacheTTL: time.Minute, TagTTL: -1, Registries: harborSettings(s)}
	}
	first := run(t, newClient(opt()), []string{repo})
	for _, tc := range []struct {
		name      string
		advance   time.Duration
		wantPages int64
	}{
		{"within the TTL", 0, 0},
		{"after the TTL", 2 * time.Minute, 1},
	} {
		clk.add(tc.advance)
		s.ResetCounts()
		c := newClient(opt())
		got := run(t, c, []string{repo})
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("%s: answers differ (-first +now):\n%s", tc.name, diff)
		}
		st := c.Stats()
		if st.TagListPages != tc.wantPages || st.Requests() != tc.wantPages || int64(s.Counts().Total) != tc.wantPages {
			t.Errorf("%s: %d listing pages, %d requests (server saw %d); want %d pages and nothing else",
				tc.name, st.TagListPages, st.Requests(), s.Counts().Total, tc.wantPages)
		}
	}
}

// Harbor's answers pass through the limiter like any other: a 503 is
// retried, and counted.
func TestHarborRetried(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{Harbor: true})
	repo := s.Repo("acme/app")
	seedBuilds(t, repo, 2)
	var once sync.Once
	s.Update(func(o *registrytest.ServerOptions) {
		o.Fail = func(r *http.Request) int {
			code := 0
			if k, _ := registrytest.KindOf(r); k == registrytest.KindAPI {
				once.Do(func() { code = http.StatusServiceUnavailable })
			}
			return code
		}
	})
	c := newClient(registry.Options{Registries: harborSettings(s)})
	tags, err := c.Tags(context.Background(), repo)
	if err != nil || len(tags) != 2 {
		t.Fatalf("Tags = %v, %v", tags, err)
	}
	if st := c.Stats(); st.Retries != 1 || st.TagListPages != 2 {
		t.Errorf("%d retries, %d listing pages; want 1 and 2", st.Retries, st.TagListPages)
	}
}

// A Harbor on a private address is tried over HTTPS first, as ggcr tries
// registries there, and spoken to over plain HTTP once it answers no TLS;
// the client remembers which. (The address is never dialled: the
// transport below stands in for the network.)
func TestHarborPrivateAddressScheme(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{Harbor: true})
	seedBuilds(t, s.Repo("acme/app"), 1)
	seedBuilds(t, s.Repo("acme/other"), 1)
	const private = "10.1.2.3:5000"
	var (
		mu      sync.Mutex
		schemes []string
	)
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != private {
			return nil, fmt.Errorf("unexpected host %s", r.URL.Host)
		}
		mu.Lock()
		schemes = append(schemes, r.URL.Scheme)
		mu.Unlock()
		if r.URL.Scheme == "https" {
			return nil, errors.New("http: server gave HTTP response to HTTPS client")
		}
		r = r.Clone(r.Context())
		r.URL.Host, r.Host = s.Host(), s.Host()
		return base.RoundTrip(r)
	})
	c := newClient(registry.Options{Transport: rt, Registries: []registry.Settings{{Prefix: private, API: registry.APIHarbor}}})
	for _, path := range []string{"acme/app", "acme/other"} {
		if tags, err := c.Tags(context.Background(), private+"/"+path); err != nil || len(tags) != 1 {
			t.Fatalf("%s: %v, %v", path, tags, err)
		}
	}
	if want := []string{"https", "http", "http"}; !slices.Equal(schemes, want) {
		t.Errorf("schemes %v, want %v", schemes, want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Settings naming an API the client does not speak fail the repository,
// saying where they were written.
func TestUnknownAPI(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/app", "v1")
	c := newClient(registry.Options{Registries: []registry.Settings{{Prefix: s.Host(), API: "nosuch", Source: "config.toml:3"}}})
	_, err := c.Tags(context.Background(), s.Repo("acme/app"))
	if err == nil || !strings.Contains(err.Error(), `api = "nosuch" is set for `+s.Host()+` (registry settings at config.toml:3), and this client lists no tags through it`) {
		t.Errorf("error %v", err)
	}
}
