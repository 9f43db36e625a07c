package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

func gitlabSettings(s *registrytest.Server, more ...registry.Settings) []registry.Settings {
	return append(more, registry.Settings{Prefix: s.Host(), API: registry.APIGitLab, APIURL: s.URL(), Source: "laminar.toml:7"})
}

func gitlabKeychain(s *registrytest.Server) keychain {
	return keychain{s.Host(): {Username: "ci", Password: password}}
}

// graphQL records the queries a server's GraphQL endpoint was sent.
type graphQL struct {
	mu      sync.Mutex
	queries []map[string]any
	auths   []string
}

func (g *graphQL) observe(r *http.Request) {
	if r.URL.Path != "/api/graphql" {
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	var q map[string]any
	json.Unmarshal(body, &q)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queries = append(g.queries, q)
	g.auths = append(g.auths, r.Header.Get("Authorization"))
}

// GitLab's image path is a project's path and the image's name: the
// repository is found among the projects of every split, by its exact
// path (the name search also finds app-old), and its tags come newest
// push first, with their digests.
func TestGitLab(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{GitLab: true, Password: password, GitLabProjects: []string{"group/project"}})
	repo := s.Repo("group/project/app")
	digests := seedBuilds(t, repo, 25)
	seedBuilds(t, s.Repo("group/project/app-old"), 2)
	seedBuilds(t, s.Repo("group/project"), 1)
	var g graphQL
	s.Update(func(o *registrytest.ServerOptions) { o.Observe = g.observe })
	s.ResetCounts()
	c := newClient(registry.Options{Keychain: gitlabKeychain(s), Registries: gitlabSettings(s)})
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
	checkPushed(t, tl, registry.APIGitLab)
	if len(g.queries) != 2 {
		t.Fatalf("%d queries, want 2", len(g.queries))
	}
	wantVars := map[string]any{"p0": "group/project/app", "n0": "", "p1": "group/project", "n1": "app"}
	if diff := gocmp.Diff(wantVars, g.queries[0]["variables"]); diff != "" {
		t.Errorf("variables of the first query (-want +got):\n%s", diff)
	}
	for _, a := range g.auths {
		if a != "Bearer "+password {
			t.Errorf("Authorization %q", a)
		}
	}
	if d, err := c.Digest(context.Background(), repo, "build-20"); err != nil || d != digests["build-20"] {
		t.Errorf("Digest(build-20) = %s, %v", d, err)
	}
	if st := c.Stats(); st.TagListPages != 2 || st.ManifestHeads+st.ManifestGets != 0 {
		t.Errorf("%d pages, %d manifest requests; want 2 and 0", st.TagListPages, st.ManifestHeads+st.ManifestGets)
	}

	// The project's own image has an empty name.
	tags, err := c.Tags(context.Background(), s.Repo("group/project"))
	if err != nil || !gocmp.Equal(tags, []string{"build-00"}) {
		t.Errorf("project's image: %v, %v", tags, err)
	}
}

// Tags come a hundred a page, by cursor.
func TestGitLabPages(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{GitLab: true, GitLabProjects: []string{"group/project"}})
	seed(t, s, "group/project", tagNames(250)...)
	var g graphQL
	s.Update(func(o *registrytest.ServerOptions) { o.Observe = g.observe })
	c := newClient(registry.Options{Keychain: gitlabKeychain(s), Registries: gitlabSettings(s)})
	tags, err := c.Tags(context.Background(), s.Repo("group/project"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(sorted(tagNames(250)), sorted(tags)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if len(g.queries) != 4 {
		t.Fatalf("%d queries, want a search and 3 pages", len(g.queries))
	}
	for i, q := range g.queries[1:] {
		vars := q["variables"].(map[string]any)
		if vars["first"] != 100.0 || (i == 0) != (vars["after"] == nil) {
			t.Errorf("page %d: variables %v", i+1, vars)
		}
	}
}

// A token that is missing or refused, a path no project has, GraphQL
// errors and a rate limit fail their kinds, naming the setting, never
// the token.
func TestGitLabFailures(t *testing.T) {
	tests := []struct {
		name     string
		cred     *authn.AuthConfig
		path     string
		respond  func(w http.ResponseWriter, r *http.Request) bool
		want     error
		wantText []string
	}{
		{name: "no token", cred: &authn.AuthConfig{}, want: registry.ErrUnauthorized, wantText: []string{`api = "gitlab" is set for`, "needs a token", "read_api"}},
		{name: "refused token", cred: &authn.AuthConfig{Username: "ci", Password: "glpat-not-the-token"}, want: registry.ErrUnauthorized,
			wantText: []string{"401 Unauthorized: invalid_token Token is expired", "did not accept the token"}},
		{name: "no such project", path: "other/project/app", want: registry.ErrNotFound,
			wantText: []string{"no GitLab project the token may read has a container repository other/project/app"}},
		{name: "no such image", path: "group/project/nope", want: registry.ErrNotFound},
		{name: "GraphQL error", respond: func(w http.ResponseWriter, r *http.Request) bool {
			writeJSONError(w, http.StatusOK, `{"errors":[{"message":"Field 'publishedAt' doesn't exist on type 'ContainerRepositoryTag'"}]}`, nil)
			return true
		}, want: errOther, wantText: []string{`Field 'publishedAt' doesn't exist`}},
		{name: "429", respond: func(w http.ResponseWriter, r *http.Request) bool {
			writeJSONError(w, http.StatusTooManyRequests, `{"message":"Retry later"}`, nil)
			return true
		}, want: registry.ErrRateLimited, wantText: []string{"429 Too Many Requests: Retry later"}},
		{name: "403", respond: func(w http.ResponseWriter, r *http.Request) bool {
			writeJSONError(w, http.StatusForbidden, `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token."}`, nil)
			return true
		}, want: registry.ErrUnauthorized, wantText: []string{"insufficient_scope", "read_api"}},
		{name: "too short a path", path: "app", want: errOther, wantText: []string{"<group>/<project>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{GitLab: true, Password: password, GitLabProjects: []string{"group/project"}})
			seedBuilds(t, s.Repo("group/project/app"), 2)
			if tt.respond != nil {
				s.Update(func(o *registrytest.ServerOptions) {
					o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
						return r.URL.Path == "/api/graphql" && tt.respond(w, r)
					}
				})
			}
			kc := gitlabKeychain(s)
			if tt.cred != nil {
				kc = keychain{s.Host(): *tt.cred}
				if *tt.cred == (authn.AuthConfig{}) {
					kc = keychain{}
				}
			}
			c := newClient(registry.Options{Keychain: kc, Registries: gitlabSettings(s)})
			repo := s.Repo(cmpString(tt.path, "group/project/app"))
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
			noSecret(t, err, password, "glpat-not-the-token")
		})
	}
}

func cmpString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// A self-managed registry's GitLab is its token service's host, over
// HTTPS only: the token is sent there, and to no host a challenge over
// plain HTTP or of another shape names. registry.gitlab.com's is
// gitlab.com. (The transport stands in for the network.)
func TestGitLabInstance(t *testing.T) {
	tests := []struct {
		name, registry, realm string
		want                  string // the GraphQL request, or "" for none
		text                  string
	}{
		{"gitlab.com", "registry.gitlab.com", "", "https://gitlab.com/api/graphql", ""},
		{"self-managed", "registry.example.com", "https://git.example.com/jwt/auth", "https://git.example.com/api/graphql", ""},
		{"under a path", "registry.example.com", "https://example.com/gitlab/jwt/auth", "https://example.com/gitlab/api/graphql", ""},
		{"realm over http", "registry.example.com", "http://git.example.com/jwt/auth", "", "is not a GitLab's over HTTPS"},
		{"realm not GitLab's", "registry.example.com", "https://auth.example.com/token", "", "is not a GitLab's over HTTPS"},
		{"no challenge", "registry.example.com", "-", "", "names no token service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				sent []string
			)
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp := &http.Response{Request: r, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}"))}
				if r.URL.Path == "/v2/" {
					resp.StatusCode = http.StatusOK
					if tt.realm != "-" {
						resp.StatusCode = http.StatusUnauthorized
						resp.Header.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="container_registry"`, tt.realm))
					}
					return resp, nil
				}
				mu.Lock()
				sent = append(sent, r.URL.String()+" "+r.Header.Get("Authorization"))
				mu.Unlock()
				return nil, fmt.Errorf("no network")
			})
			c := newClient(registry.Options{
				Keychain: keychain{tt.registry: {Username: "ci", Password: password}}, Transport: rt, Backoff: remote.Backoff{Steps: 1},
				Registries: []registry.Settings{{Prefix: tt.registry, API: registry.APIGitLab}},
			})
			_, err := c.Tags(context.Background(), tt.registry+"/group/project")
			var want []string
			if tt.want != "" {
				want = []string{tt.want + " Bearer " + password}
			}
			if diff := gocmp.Diff(want, sent); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if tt.text != "" && (err == nil || !strings.Contains(err.Error(), tt.text)) {
				t.Errorf("error %v, want %q", err, tt.text)
			}
		})
	}
}

// Hostile answers: a cursor that leads back, endless pages, oversized
// pages and pages of another shape are errors; bad digests and times are
// passed over.
func TestGitLabHostile(t *testing.T) {
	find := `{"data":{"p0":null,"p1":{"containerRepositories":{"nodes":[{"id":"gid://gitlab/ContainerRepository/7","path":"group/project/app"}]}}}}`
	page := func(n, from int, next string) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"name":"t%d","digest":"sha256:%064x","publishedAt":"2024-05-01T12:%02d:00+00:00"}`, from+i, from+i, (from+i)%60)
		}
		hasNext := next != ""
		return fmt.Sprintf(`{"data":{"containerRepository":{"tags":{"pageInfo":{"hasNextPage":%v,"endCursor":%q},"nodes":[%s]}}}}`, hasNext, next, b.String())
	}
	tests := []struct {
		name   string
		tags   func(n int) string
		limits registry.Limits
		want   error
		text   string
		listed []string
	}{
		{name: "cursor leads back", tags: func(n int) string { return page(2, 0, "same") }, want: registry.ErrLimit, text: "leads back to a page already read"},
		{name: "endless pages", tags: func(n int) string { return page(50, n*50, fmt.Sprint("c", n)) },
			limits: registry.Limits{TagList: 64 << 10}, want: registry.ErrLimit, text: "over the limit of 64 KiB (all pages together)"},
		{name: "oversized page", tags: func(n int) string { return page(200, 0, "") }, limits: registry.Limits{TagPage: 8 << 10}, want: registry.ErrLimit, text: "over the limit of 8 KiB"},
		{name: "no tags in the answer", tags: func(n int) string { return `{"data":{"containerRepository":null}}` }, want: errOther, text: "does not read as GitLab's"},
		{name: "next without a cursor", tags: func(n int) string {
			return `{"data":{"containerRepository":{"tags":{"pageInfo":{"hasNextPage":true},"nodes":[]}}}}`
		}, want: errOther, text: "hasNextPage without an endCursor"},
		{name: "bad digests and times", tags: func(n int) string {
			return `{"data":{"containerRepository":{"tags":{"nodes":[{"name":"a","digest":"sha256:x","publishedAt":"2024-05-01T12:00:00+00:00"},` +
				`{"name":"b","digest":"sha256:` + strings.Repeat("b", 64) + `","publishedAt":"long ago"},null,{"name":""}]}}}}`
		}, listed: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{GitLab: true})
			var (
				mu sync.Mutex
				n  int
			)
			s.Update(func(o *registrytest.ServerOptions) {
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != "/api/graphql" {
						return false
					}
					body, _ := io.ReadAll(r.Body)
					if strings.Contains(string(body), "project(fullPath:") {
						w.Write([]byte(find))
						return true
					}
					mu.Lock()
					out := tt.tags(n)
					n++
					mu.Unlock()
					w.Write([]byte(out))
					return true
				}
			})
			repo := s.Repo("group/project/app")
			c := newClient(registry.Options{Keychain: gitlabKeychain(s), Registries: gitlabSettings(s), Limits: tt.limits, MaxTags: -1})
			tl := c.TagsOf(context.Background(), []string{repo})[repo]
			if tt.want == nil {
				if tl.Err != nil {
					t.Fatal(tl.Err)
				}
				if diff := gocmp.Diff(tt.listed, tl.Tags); diff != "" {
					t.Errorf("tags (-want +got):\n%s", diff)
				}
				return
			}
			t.Log(tl.Err)
			checkKind(t, tl.Err, tt.want)
			if tl.Err == nil || !strings.Contains(tl.Err.Error(), tt.text) {
				t.Errorf("error %v, want %q", tl.Err, tt.text)
			}
		})
	}
}
