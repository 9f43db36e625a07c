package registry_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// ghcrSettings lists the server's repositories through GitHub's packages
// API, served by the server itself (the user-level api_url).
func ghcrSettings(s *registrytest.Server, more ...registry.Settings) []registry.Settings {
	return append(more, registry.Settings{Prefix: s.Host(), API: registry.APIGHCR, APIURL: s.URL(), Source: "laminar.toml:7"})
}

// ghcrKeychain holds a GitHub token as the password for the server, as
// docker login ghcr.io stores one.
func ghcrKeychain(s *registrytest.Server) keychain {
	return keychain{s.Host(): {Username: "octocat", Password: password}}
}

// requests records the path and query of a server's API requests, and
// the Authorization header each carried.
type requests struct {
	mu    sync.Mutex
	urls  []string
	auths []string
}

func (rq *requests) observe(r *http.Request) {
	if k, _ := registrytest.KindOf(r); k != registrytest.KindAPI {
		return
	}
	rq.mu.Lock()
	defer rq.mu.Unlock()
	rq.urls = append(rq.urls, r.URL.RequestURI())
	rq.auths = append(rq.auths, r.Header.Get("Authorization"))
}

func (rq *requests) list() []string {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	return append([]string(nil), rq.urls...)
}

// GitHub's packages API lists a package's versions newest first, each with
// its digest and tags: the tags come in that order, page by page, and a
// tag's digest is known without asking the registry.
func TestGHCR(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{GHCR: true, Password: password})
	repo := s.Repo("acme/app")
	digests := seedBuilds(t, repo, 25)
	var rq requests
	s.Update(func(o *registrytest.ServerOptions) { o.Observe = rq.observe })
	s.ResetCounts()
	c := newClient(registry.Options{Keychain: ghcrKeychain(s), Registries: ghcrSettings(s, registry.Settings{Prefix: s.Host(), PageSize: 10})})
	tl := c.TagsOf(context.Background(), []string{repo})[repo]
	if tl.Err != nil || tl.Warning != "" {
		t.Fatalf("TagsOf: %v, warning %q", tl.Err, tl.Warning)
	}
	var want []string
	for i := 24; i >= 0; i-- {
		want = append(want, fmt.Sprintf("build-%02d", i))
	}
	if diff := gocmp.Diff(want, tl.Tags); diff != "" {
		t.Errorf("tags, newest push first (-want +got):\n%s", diff)
	}
	checkPushed(t, tl, registry.APIGHCR)
	wantURLs := []string{
		"/orgs/acme/packages/container/app/versions?per_page=10",
		"/orgs/acme/packages/container/app/versions?page=2&per_page=10",
		"/orgs/acme/packages/container/app/versions?page=3&per_page=10",
	}
	if diff := gocmp.Diff(wantURLs, rq.list()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	for _, a := range rq.auths {
		if a != "Bearer "+password {
			t.Errorf("Authorization %q, want the keychain's token as a bearer token", a)
		}
	}
	if d, err := c.Digest(context.Background(), repo, "build-07"); err != nil || d != digests["build-07"] {
		t.Errorf("Digest(build-07) = %s, %v; want %s", d, err, digests["build-07"])
	}
	st := c.Stats()
	if st.TagListPages != 3 || st.ManifestHeads != 0 || st.ManifestGets != 0 {
		t.Errorf("%d listing pages, %d HEADs, %d manifest GETs; want 3, 0, 0", st.TagListPages, st.ManifestHeads, st.ManifestGets)
	}
	if n := s.Counts().ByKind[registrytest.KindTagsList]; n != 0 {
		t.Errorf("%d tag list requests, want none", n)
	}
}

// An owner is tried as an organisation first, and as a user when GitHub
// does not know the organisation; the answer is remembered for the run.
// A package name with a "/" is one path segment.
func TestGHCRUserOwner(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{GHCR: true, GHCRUsers: []string{"octocat"}})
	seedBuilds(t, s.Repo("octocat/team/app"), 2)
	seedBuilds(t, s.Repo("octocat/tool"), 1)
	var rq requests
	s.Update(func(o *registrytest.ServerOptions) { o.Observe = rq.observe })
	c := newClient(registry.Options{Keychain: ghcrKeychain(s), Registries: ghcrSettings(s)})
	for _, path := range []string{"octocat/team/app", "octocat/tool"} {
		if _, err := c.Tags(context.Background(), s.Repo(path)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	want := []string{
		"/orgs/octocat/packages/container/team%2Fapp/versions?per_page=100",
		"/users/octocat/packages/container/team%2Fapp/versions?per_page=100",
		"/users/octocat/packages/container/tool/versions?per_page=100",
	}
	if diff := gocmp.Diff(want, rq.list()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// GitHub's API takes only a token: none, a wrong one, one without the
// scope, a rate limit and a package GitHub does not know each fail
// their kind, naming the setting and never the token.
func TestGHCRFailures(t *testing.T) {
	tests := []struct {
		name      string
		kc        func(s *registrytest.Server) keychain
		respond   func(w http.ResponseWriter, r *http.Request) bool
		path      string
		want      error
		wantText  []string
		wantCalls int
	}{
		{name: "no token", kc: func(*registrytest.Server) keychain { return keychain{} }, want: registry.ErrUnauthorized,
			wantText: []string{`api = "ghcr" is set for`, "laminar.toml:7", "needs a token even for public packages", "read:packages"}},
		{name: "wrong token", kc: func(s *registrytest.Server) keychain {
			return keychain{s.Host(): {Username: "octocat", Password: "ghp_not-the-token"}}
		}, want: registry.ErrUnauthorized, wantText: []string{"401 Unauthorized: Bad credentials", "did not accept the token"}, wantCalls: 1},
		{name: "token without the scope", respond: func(w http.ResponseWriter, r *http.Request) bool {
			writeJSONError(w, http.StatusForbidden, `{"message":"Resource not accessible by personal access token"}`, nil)
			return true
		}, want: registry.ErrUnauthorized, wantText: []string{"403 Forbidden: Resource not accessible", "read:packages"}, wantCalls: 1},
		{name: "rate limit as 403", respond: func(w http.ResponseWriter, r *http.Request) bool {
			writeJSONError(w, http.StatusForbidden, `{"message":"API rate limit exceeded for user ID 1."}`, map[string]string{"X-RateLimit-Remaining": "0"})
			return true
		}, want: registry.ErrRateLimited, wantText: []string{"rate limit"}, wantCalls: 1},
		{name: "429", respond: func(w http.ResponseWriter, r *http.Request) bool {
			writeJSONError(w, http.StatusTooManyRequests, `{"message":"You have exceeded a secondary rate limit."}`, nil)
			return true
		}, want: registry.ErrRateLimited, wantText: []string{"429", "secondary rate limit"}, wantCalls: 2},
		{name: "no such package", path: "acme/nope", want: registry.ErrNotFound,
			wantText: []string{"neither the organisation nor the user acme has a container package nope"}, wantCalls: 2},
		{name: "no package name", path: "acme", want: errOther, wantText: []string{"a GitHub package is ghcr.io/<owner>/<name>"}},
		{name: "not JSON", respond: func(w http.ResponseWriter, r *http.Request) bool {
			w.Write([]byte("<html>sign in</html>"))
			return true
		}, want: errOther, wantText: []string{"does not read as GitHub's"}, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{GHCR: true, Password: password})
			seedBuilds(t, s.Repo("acme/app"), 2)
			s.Update(func(o *registrytest.ServerOptions) {
				if tt.respond != nil {
					o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
						if k, _ := registrytest.KindOf(r); k == registrytest.KindAPI {
							return tt.respond(w, r)
						}
						return false
					}
				}
			})
			s.ResetCounts()
			kc := ghcrKeychain(s)
			if tt.kc != nil {
				kc = tt.kc(s)
			}
			c := newClient(registry.Options{Keychain: kc, Registries: ghcrSettings(s)})
			repo := s.Repo(cmp.Or(tt.path, "acme/app"))
			_, err := c.Tags(context.Background(), repo)
			if err == nil {
				t.Fatal("listed")
			}
			t.Log(err)
			checkKind(t, err, tt.want)
			for _, w := range append([]string{"listing tags of " + repo}, tt.wantText...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			noSecret(t, err, password, "ghp_not-the-token")
			if n := s.Counts().ByKind[registrytest.KindAPI]; n != tt.wantCalls {
				t.Errorf("%d API requests, want %d", n, tt.wantCalls)
			}
		})
	}
}

// Without an api_url, GitHub's packages API is asked only for ghcr.io:
// naming it for another host does not send that host's credentials to
// api.github.com.
func TestGHCROnlyForGHCR(t *testing.T) {
	c := newClient(registry.Options{
		Keychain:   keychain{"registry.example.com": {Username: "u", Password: password}},
		Registries: []registry.Settings{{Prefix: "registry.example.com", API: registry.APIGHCR, Source: "laminar.toml:2"}},
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			t.Errorf("request to %s", r.URL)
			return nil, fmt.Errorf("no network")
		}),
	})
	_, err := c.Tags(context.Background(), "registry.example.com/acme/app")
	if err == nil || !strings.Contains(err.Error(), "GitHub's packages API serves only ghcr.io") {
		t.Errorf("error %v", err)
	}
}

// A registry's answers are someone else's: a next link to another host is
// not followed (the token stays with the API), nor one that leads back;
// pages are held to the listing's limits; names that are no digests and
// times that are no times are passed over, the tags kept.
func TestGHCRHostile(t *testing.T) {
	other := newServer(t, registrytest.ServerOptions{})
	versions := func(n, from int) string {
		var b strings.Builder
		b.WriteString("[")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":%d,"name":"sha256:%064x","created_at":"2024-05-01T12:00:00Z","metadata":{"container":{"tags":["t%d"]}}}`, from+i, from+i, from+i)
		}
		b.WriteString("]")
		return b.String()
	}
	tests := []struct {
		name    string
		page    func(r *http.Request, n int) (body string, link string)
		limits  registry.Limits
		maxTags int
		want    error
		text    string
		tags    int // when it lists
	}{
		{name: "next link to another host", page: func(r *http.Request, n int) (string, string) {
			return versions(2, 0), "http://" + other.Host() + "/orgs/acme/packages/container/app/versions?page=2"
		}, want: registry.ErrLimit, text: "next link leads to another host (http://" + other.Host() + ")"},
		{name: "next link to another scheme", page: func(r *http.Request, n int) (string, string) {
			return versions(2, 0), "https://" + r.Host + "/orgs/acme/packages/container/app/versions?page=2"
		}, want: registry.ErrLimit, text: "next link leads to another host (https://"},
		{name: "next link back to the page", page: func(r *http.Request, n int) (string, string) {
			return versions(2, 0), r.URL.RequestURI()
		}, want: registry.ErrLimit, text: "leads back to a page already read"},
		{name: "endless pages", page: func(r *http.Request, n int) (string, string) {
			return versions(50, n*50), fmt.Sprintf("/orgs/acme/packages/container/app/versions?page=%d", n+2)
		}, limits: registry.Limits{TagList: 64 << 10}, want: registry.ErrLimit, text: "over the limit of 64 KiB (all pages together)"},
		{name: "oversized page", page: func(r *http.Request, n int) (string, string) {
			return versions(200, 0), ""
		}, limits: registry.Limits{TagPage: 8 << 10}, want: registry.ErrLimit, text: "over the limit of 8 KiB"},
		{name: "more tags than the hard cap", page: func(r *http.Request, n int) (string, string) {
			return versions(30, n*30), fmt.Sprintf("/orgs/acme/packages/container/app/versions?page=%d", n+2)
		}, limits: registry.Limits{ListTags: 40}, maxTags: -1, want: registry.ErrLimit, text: "over the limit of 40 tags"},
		{name: "bad names and times", page: func(r *http.Request, n int) (string, string) {
			return `[{"name":"latest","created_at":"yesterday","metadata":{"container":{"tags":["a"]}}},` +
				`{"name":"sha256:` + strings.Repeat("a", 64) + `","created_at":"0000-00-00","metadata":{"container":{"tags":["b","","` + strings.Repeat("x", 200) + `"]}}},` +
				`{"name":"sha256:zz","metadata":{"container":{"tags":[]}}}]`, ""
		}, tags: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{GHCR: true})
			var (
				mu sync.Mutex
				n  int
			)
			s.Update(func(o *registrytest.ServerOptions) {
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if k, _ := registrytest.KindOf(r); k != registrytest.KindAPI {
						return false
					}
					mu.Lock()
					body, link := tt.page(r, n)
					n++
					mu.Unlock()
					if link != "" {
						w.Header().Set("Link", "<"+link+`>; rel="next"`)
					}
					w.Write([]byte(body))
					return true
				}
			})
			c := newClient(registry.Options{Keychain: ghcrKeychain(s), Registries: ghcrSettings(s), Limits: tt.limits, MaxTags: tt.maxTags})
			tl := c.TagsOf(context.Background(), []string{s.Repo("acme/app")})[s.Repo("acme/app")]
			if tt.want == nil {
				if tl.Err != nil || len(tl.Tags) != tt.tags {
					t.Fatalf("TagsOf = %v, %v; want %d tags", tl.Tags, tl.Err, tt.tags)
				}
				if !strings.Contains(tl.Warning, "1 tag(s) longer than") {
					t.Errorf("warning %q", tl.Warning)
				}
				return
			}
			t.Log(tl.Err)
			checkKind(t, tl.Err, tt.want)
			if tl.Err == nil || !strings.Contains(tl.Err.Error(), tt.text) {
				t.Errorf("error %v, want %q", tl.Err, tt.text)
			}
			if total := other.Counts().Total; total != 0 {
				t.Errorf("the other host saw %d requests", total)
			}
		})
	}
}

// checkPushed holds that a listing through api says when each tag was
// pushed, in the order of the tags (newest first).
func checkPushed(t *testing.T, tl registry.TagList, api string) {
	t.Helper()
	if tl.API != api {
		t.Errorf("listed through %q, want %q", tl.API, api)
	}
	for i, tag := range tl.Tags {
		p, ok := tl.Pushed[tag]
		if !ok || p.IsZero() {
			t.Errorf("no push time for %s", tag)
			continue
		}
		if i > 0 && p.After(tl.Pushed[tl.Tags[i-1]]) {
			t.Errorf("%s pushed at %v, after %s listed before it (%v)", tag, p, tl.Tags[i-1], tl.Pushed[tl.Tags[i-1]])
		}
	}
}

// writeJSONError answers with status, body and headers.
func writeJSONError(w http.ResponseWriter, status int, body string, hdr map[string]string) {
	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// ghcr.io is listed through GitHub's packages API without any setting,
// the token going to api.github.com; without a token the API is not
// asked, and the host falls back to the tag list with a warning. (The
// transport below stands in for the network: both hosts reach the
// stand-in.)
func TestGHCRAuto(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{GHCR: true, Password: password})
	seedBuilds(t, s.Repo("acme/app"), 3)
	for _, tc := range []struct {
		name      string
		kc        keychain
		wantAPI   string
		wantHosts []string
		warning   string
	}{
		{"with a token", keychain{"ghcr.io": {Username: "octocat", Password: password}}, registry.APIGHCR, []string{"https://api.github.com"}, ""},
		{"without", keychain{}, registry.APIOCI, []string{"https://ghcr.io", "https://ghcr.io"}, "needs a token even for public packages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu    sync.Mutex
				hosts []string
			)
			base := http.DefaultTransport.(*http.Transport).Clone()
			t.Cleanup(base.CloseIdleConnections)
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Host != "ghcr.io" && r.URL.Host != "api.github.com" {
					return nil, fmt.Errorf("unexpected host %s", r.URL.Host)
				}
				mu.Lock()
				hosts = append(hosts, r.URL.Scheme+"://"+r.URL.Host)
				mu.Unlock()
				if r.URL.Host == "api.github.com" && r.Header.Get("Authorization") != "Bearer "+password {
					t.Errorf("request to the API with Authorization %q", r.Header.Get("Authorization"))
				}
				r = r.Clone(r.Context())
				r.URL.Scheme, r.URL.Host, r.Host = "http", s.Host(), s.Host()
				return base.RoundTrip(r)
			})
			c := newClient(registry.Options{Keychain: tc.kc, Transport: rt})
			tl := c.TagsOf(context.Background(), []string{"ghcr.io/acme/app"})["ghcr.io/acme/app"]
			if tl.Err != nil || len(tl.Tags) != 3 {
				t.Fatalf("TagsOf = %v, %v", tl.Tags, tl.Err)
			}
			if tl.API != tc.wantAPI || !strings.Contains(tl.Warning, tc.warning) || (tc.warning == "") != (tl.Warning == "") {
				t.Errorf("listed through %q, warning %q; want %q and a warning with %q", tl.API, tl.Warning, tc.wantAPI, tc.warning)
			}
			if diff := gocmp.Diff(tc.wantHosts, hosts); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}
