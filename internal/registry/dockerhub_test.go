package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// hubSettings lists the server's host through Docker Hub's API, served by
// the stand-in on the same server (api_url, as the user-level file says
// it).
func hubSettings(s *registrytest.Server, pageSize int) []registry.Settings {
	return []registry.Settings{{Prefix: s.Host(), API: registry.APIDockerHub, APIURL: s.URL(), PageSize: pageSize, Source: "config.toml:3"}}
}

// pushedTimes seeds repo with n builds and says each was pushed a minute
// after the one before, in the opposite order of their build times.
func pushedTimes(t *testing.T, s *registrytest.Server, path string, n int) (map[string]time.Time, map[string]string) {
	t.Helper()
	digests := seedBuilds(t, s.Repo(path), n)
	want := map[string]time.Time{}
	for i := range n {
		tag := fmt.Sprintf("build-%02d", i)
		at := t0.Add(time.Duration(n-i) * time.Minute)
		if !s.SetPushed(path, tag, at) {
			t.Fatalf("%s not noted", tag)
		}
		want[tag] = at
	}
	return want, digests
}

// Docker Hub's tags API gives every tag's push time and digest, page by
// page: ranking by push time costs the listing, and the digests need no
// HEAD.
func TestDockerHub(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{DockerHub: true})
	want, digests := pushedTimes(t, s, "acme/app", 5)
	repo := s.Repo("acme/app")
	s.ResetCounts()
	c := newClient(registry.Options{Registries: hubSettings(s, 2)})
	tl := c.TagsOf(ctx, []string{repo})[repo]
	if tl.Err != nil || tl.API != registry.APIDockerHub || tl.Warning != "" {
		t.Fatalf("%+v", tl)
	}
	if diff := cmp.Diff(want, tl.Pushed); diff != "" {
		t.Errorf("push times (-want +got):\n%s", diff)
	}
	// Most recently pushed first, as Docker Hub lists them.
	if diff := cmp.Diff([]string{"build-00", "build-01", "build-02", "build-03", "build-04"}, tl.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if n := s.Counts().ByKind[registrytest.KindAPI]; n != 3 || s.Counts().Total != 3 {
		t.Errorf("%v: want 3 pages of the API and nothing else", s.Counts().ByKind)
	}
	if st := c.Stats(); st.TagListPages != 3 {
		t.Errorf("TagListPages = %d, want 3", st.TagListPages)
	}
	if d, err := c.Digest(ctx, repo, "build-03"); err != nil || d != digests["build-03"] || s.Counts().Total != 3 {
		t.Errorf("Digest = %s, %v; want %s from the listing, no request", d, err, digests["build-03"])
	}
	// The cap: the first tags listed, and a warning.
	capped := newClient(registry.Options{Registries: append(hubSettings(s, 2), registry.Settings{Prefix: s.Repo("acme"), MaxTags: 3})})
	if tl := capped.TagsOf(ctx, []string{repo})[repo]; tl.Err != nil || len(tl.Tags) != 3 || !strings.Contains(tl.Warning, "more than 3 tags") {
		t.Errorf("capped: %+v", tl)
	}
	// A repository Docker Hub does not have.
	_, err := c.Tags(ctx, s.Repo("acme/nope"))
	checkKind(t, err, registry.ErrNotFound)
	if err == nil || !strings.Contains(err.Error(), `api = "dockerhub" is set for `+s.Host()+` (registry settings at config.toml:3), and its tags API answered 404 Not Found`) {
		t.Errorf("not found: %v", err)
	}
}

// A private repository: the keychain's credentials for the registry log in
// to the API, once per run, and its token lists. Wrong credentials fail the
// login, naming the user, never the password.
func TestDockerHubLogin(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{DockerHub: true})
	want, _ := pushedTimes(t, s, "acme/private", 2)
	seedBuilds(t, s.Repo("acme/other"), 1)
	s.Update(func(o *registrytest.ServerOptions) { o.Username, o.Password = "dana", "hub-secret-1" })
	repos := []string{s.Repo("acme/private")}

	var logins atomic.Int32
	s.Update(func(o *registrytest.ServerOptions) {
		o.Observe = func(r *http.Request) {
			if r.URL.Path == "/v2/auth/token" {
				logins.Add(1)
			}
		}
	})
	c := newClient(registry.Options{Registries: hubSettings(s, 100), Keychain: keychain{s.Host(): {Username: "dana", Password: "hub-secret-1"}}})
	for _, r := range append(repos, s.Repo("acme/other")) {
		tl := c.TagsOf(ctx, []string{r})[r]
		if tl.Err != nil {
			t.Fatalf("%s: %v", r, tl.Err)
		}
		if r == repos[0] {
			if diff := cmp.Diff(want, tl.Pushed); diff != "" {
				t.Errorf("push times (-want +got):\n%s", diff)
			}
		}
	}
	if n := logins.Load(); n != 1 {
		t.Errorf("%d logins, want one for the run", n)
	}

	// Without credentials Docker Hub hides the repository.
	anon := newClient(registry.Options{Registries: hubSettings(s, 100)})
	_, err := anon.Tags(ctx, repos[0])
	checkKind(t, err, registry.ErrNotFound)

	wrong := newClient(registry.Options{Registries: hubSettings(s, 100), Keychain: keychain{s.Host(): {Username: "dana", Password: "not-the-password"}}})
	_, err = wrong.Tags(ctx, repos[0])
	checkKind(t, err, registry.ErrUnauthorized)
	if err == nil || !strings.Contains(err.Error(), `logging in to it as "dana" with the credentials found for `+s.Host()+` answered 401 Unauthorized`) ||
		strings.Contains(err.Error(), "not-the-password") {
		t.Errorf("wrong credentials: %v", err)
	}
}

// Docker Hub's API serves docker.io alone: named for another host without
// an api_url of the machine's owner, it refuses before anything is sent,
// so the host's credentials never go to hub.docker.com.
func TestDockerHubOtherHost(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{DockerHub: true})
	seedBuilds(t, s.Repo("acme/app"), 1)
	s.ResetCounts()
	c := newClient(registry.Options{Registries: []registry.Settings{{Prefix: s.Host(), API: registry.APIDockerHub, Source: "laminar.toml:2"}},
		Keychain: keychain{s.Host(): {Username: "dana", Password: "hub-secret-1"}}})
	_, err := c.Tags(context.Background(), s.Repo("acme/app"))
	if err == nil || !strings.Contains(err.Error(), `api = "dockerhub" is set for `+s.Host()+` (registry settings at laminar.toml:2), and it is not Docker Hub`) {
		t.Errorf("error %v", err)
	}
	if n := s.Counts().Total; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// A hostile API answer: a "next" link to another host is not followed (the
// request would carry the token), a link back to a page read is a loop,
// and pages are held to the listing limits.
func TestDockerHubHostile(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Write([]byte(`{"results":[]}`))
	}))
	defer other.Close()
	tests := []struct {
		name, page, want string
	}{
		{"next elsewhere", `{"next":"` + other.URL + `/v2/namespaces/acme/repositories/app/tags?page=2","results":[{"name":"a"}]}`, `page 1 of its tag list links on to "` + other.URL + `", which is not`},
		{"next over https to the same host", `{"next":"https://HOST/v2/namespaces/acme/repositories/app/tags?page=2","results":[{"name":"a"}]}`, `links on to "https://HOST"`},
		{"next with userinfo", `{"next":"http://u:p@HOST/v2/namespaces/acme/repositories/app/tags?page=2","results":[{"name":"a"}]}`, `which is not`},
		{"loop", `{"next":"http://HOST/v2/namespaces/acme/repositories/app/tags?page_size=100","results":[{"name":"a"}]}`, `links back to a page already read`},
		{"not Docker Hub's", `<html>hello</html>`, `page 1 of its tag list does not read as Docker Hub's`},
		{"no results", `{"count":3}`, `does not read as Docker Hub's: no results`},
		{"too big", `{"results":[{"name":"` + strings.Repeat("a", 2000) + `"}]}`, `API listing page over the limit of 1 KiB`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{DockerHub: true})
			page := strings.ReplaceAll(tt.page, "HOST", s.Host())
			s.Update(func(o *registrytest.ServerOptions) {
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if strings.HasSuffix(r.URL.Path, "/tags") {
						w.Write([]byte(page))
						return true
					}
					return false
				}
			})
			c := newClient(registry.Options{Registries: hubSettings(s, 100), Limits: registry.Limits{TagPage: 1024},
				Keychain: keychain{s.Host(): {Username: "dana", Password: "hub-secret-1"}}})
			s.Update(func(o *registrytest.ServerOptions) { o.Username, o.Password = "dana", "hub-secret-1" })
			_, err := c.Tags(context.Background(), s.Repo("acme/app"))
			want := strings.ReplaceAll(tt.want, "HOST", s.Host())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v\nwant %q", err, want)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("%d requests to the other host", n)
			}
		})
	}
}

// Bad push times are passed over: the tag is listed without one.
func TestDockerHubBadTimes(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{DockerHub: true})
	s.Update(func(o *registrytest.ServerOptions) {
		o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/tags") {
				w.Write([]byte(`{"next":null,"results":[` +
					`{"name":"good","tag_last_pushed":"2024-05-01T12:00:00.5Z"},` +
					`{"name":"old","last_updated":"2023-01-01T00:00:00Z"},` +
					`{"name":"zero","tag_last_pushed":"0001-01-01T00:00:00Z"},` +
					`{"name":"junk","tag_last_pushed":"yesterday"},` +
					`{"name":"number","tag_last_pushed":1714564800},` +
					`{"name":"","tag_last_pushed":"2024-05-01T12:00:00Z"}]}`))
				return true
			}
			return false
		}
	})
	c := newClient(registry.Options{Registries: hubSettings(s, 100), Keychain: authn.NewMultiKeychain()})
	tl := c.TagsOf(context.Background(), []string{s.Repo("acme/app")})[s.Repo("acme/app")]
	if tl.Err != nil {
		t.Fatal(tl.Err)
	}
	want := map[string]time.Time{"good": time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC), "old": time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, tl.Pushed); diff != "" {
		t.Errorf("push times (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"good", "old", "zero", "junk", "number"}, tl.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}
