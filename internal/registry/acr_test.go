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
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

func acrSettings(s *registrytest.Server, more ...registry.Settings) []registry.Settings {
	return append(more, registry.Settings{Prefix: s.Host(), API: registry.APIACR, Source: "laminar.toml:7"})
}

// acrServer is an ACR stand-in with n builds in acme/app, demanding
// tokens for the credentials "acr-user" and the password.
func acrServer(t *testing.T, n int) (*registrytest.Server, string, map[string]string) {
	t.Helper()
	s := newServer(t, registrytest.ServerOptions{})
	repo := s.Repo("acme/app")
	digests := seedBuilds(t, repo, n)
	s.Update(func(o *registrytest.ServerOptions) { o.ACR, o.Username, o.Password = true, "acr-user", password })
	s.ResetCounts()
	return s, repo, digests
}

// ACR's tag API lists the tags newest push first, each with its digest,
// behind the registry's own token exchange for metadata_read: the
// password goes to the token endpoint only, and the API gets a token.
func TestACR(t *testing.T) {
	for _, tc := range []struct {
		name string
		cred authn.AuthConfig
	}{
		{"username and password", authn.AuthConfig{Username: "acr-user", Password: password}},
		{"identity token", authn.AuthConfig{Username: "00000000-0000-0000-0000-000000000000", IdentityToken: password}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, repo, digests := acrServer(t, 25)
			var (
				mu    sync.Mutex
				pages []string
				auths []string
			)
			s.Update(func(o *registrytest.ServerOptions) {
				o.Observe = func(r *http.Request) {
					mu.Lock()
					defer mu.Unlock()
					if strings.HasPrefix(r.URL.Path, "/acr/") {
						pages = append(pages, r.URL.RequestURI())
						auths = append(auths, r.Header.Get("Authorization"))
					}
				}
			})
			kc := keychain{s.Host(): tc.cred}
			c := newClient(registry.Options{Keychain: kc, Registries: acrSettings(s, registry.Settings{Prefix: s.Host(), PageSize: 10})})
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
			checkPushed(t, tl, registry.APIACR)
			// The token is asked for metadata_read at once; the stand-in
			// links on with the name unescaped, which ACR takes too.
			wantPages := []string{
				"/acr/v1/acme%2Fapp/_tags?n=10&orderby=timedesc",
				"/acr/v1/acme/app/_tags?last=build-15&n=10&orderby=timedesc",
				"/acr/v1/acme/app/_tags?last=build-05&n=10&orderby=timedesc",
			}
			if diff := gocmp.Diff(wantPages, pages); diff != "" {
				t.Errorf("API requests (-want +got):\n%s", diff)
			}
			for _, a := range auths {
				if !strings.HasPrefix(a, "Bearer acr-") {
					t.Errorf("Authorization %q, want a token the registry issued", a)
				}
			}
			if d, err := c.Digest(context.Background(), repo, "build-11"); err != nil || d != digests["build-11"] {
				t.Errorf("Digest(build-11) = %s, %v; want %s", d, err, digests["build-11"])
			}
			if st := c.Stats(); st.ManifestHeads != 0 || st.ManifestGets != 0 {
				t.Errorf("%d HEADs, %d manifest GETs; want none", st.ManifestHeads, st.ManifestGets)
			}
		})
	}
}

// No credentials, wrong ones, a repository ACR does not know, a 403 and
// a rate limit fail their kinds, naming the setting and never a secret.
func TestACRFailures(t *testing.T) {
	tests := []struct {
		name     string
		cred     *authn.AuthConfig
		path     string
		respond  int
		want     error
		wantText []string
	}{
		{name: "no credentials", want: registry.ErrUnauthorized, wantText: []string{"UNAUTHORIZED", "no credentials found for"}},
		{name: "wrong password", cred: &authn.AuthConfig{Username: "acr-user", Password: "not-the-password"}, want: registry.ErrUnauthorized,
			wantText: []string{"invalid username or password"}},
		{name: "no such repository", path: "acme/nope", want: registry.ErrNotFound,
			wantText: []string{`api = "acr" is set for`, "laminar.toml:7", "404 Not Found: repository name not known to registry", "is the host an Azure Container Registry"}},
		{name: "403", respond: http.StatusForbidden, want: registry.ErrUnauthorized, wantText: []string{"403 Forbidden", "metadata_read"}},
		{name: "429", respond: http.StatusTooManyRequests, want: registry.ErrRateLimited, wantText: []string{"429 Too Many Requests"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := acrServer(t, 2)
			if tt.respond != 0 {
				s.Update(func(o *registrytest.ServerOptions) {
					o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
						if !strings.HasPrefix(r.URL.Path, "/acr/") {
							return false
						}
						writeJSONError(w, tt.respond, `{"errors":[{"code":"DENIED","message":"no"}]}`, nil)
						return true
					}
				})
			}
			kc := keychain{s.Host(): {Username: "acr-user", Password: password}}
			if tt.name == "no credentials" {
				kc = keychain{}
			} else if tt.cred != nil {
				kc = keychain{s.Host(): *tt.cred}
			}
			c := newClient(registry.Options{Keychain: kc, Registries: acrSettings(s)})
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
			noSecret(t, err, password, "not-the-password")
		})
	}
}

// Hostile answers of the tag API: a next link to another host is not
// followed (the token stays with the registry), nor one that leads back;
// pages are held to the limits; bad digests and times are passed over.
func TestACRHostile(t *testing.T) {
	other := newServer(t, registrytest.ServerOptions{})
	tagsJSON := func(n, from int) string {
		var b strings.Builder
		b.WriteString(`{"registry":"x","imageName":"acme/app","tags":[`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"name":"t%d","digest":"sha256:%064x","createdTime":"2024-05-01T12:00:00Z","lastUpdateTime":"2024-05-01T12:00:00Z"}`, from+i, from+i)
		}
		b.WriteString("]}")
		return b.String()
	}
	tests := []struct {
		name   string
		page   func(r *http.Request, n int) (body, link string)
		limits registry.Limits
		want   error
		text   string
		tags   int
	}{
		{name: "next link to another host", page: func(r *http.Request, n int) (string, string) {
			return tagsJSON(2, 0), "http://" + other.Host() + "/acr/v1/acme%2Fapp/_tags?last=t1"
		}, want: registry.ErrLimit, text: "next link leads to another host"},
		{name: "next link back to the page", page: func(r *http.Request, n int) (string, string) {
			return tagsJSON(2, 0), r.URL.RequestURI()
		}, want: registry.ErrLimit, text: "leads back to a page already read"},
		{name: "endless pages", page: func(r *http.Request, n int) (string, string) {
			return tagsJSON(50, n*50), fmt.Sprintf("/acr/v1/acme%%2Fapp/_tags?last=t%d", n*50+49)
		}, limits: registry.Limits{TagList: 64 << 10}, want: registry.ErrLimit, text: "over the limit of 64 KiB (all pages together)"},
		{name: "oversized page", page: func(r *http.Request, n int) (string, string) {
			return tagsJSON(200, 0), ""
		}, limits: registry.Limits{TagPage: 8 << 10}, want: registry.ErrLimit, text: "over the limit of 8 KiB"},
		{name: "not ACR's", page: func(r *http.Request, n int) (string, string) {
			return `[1,2,3]`, ""
		}, want: errOther, text: "does not read as ACR's"},
		{name: "bad digests and times", page: func(r *http.Request, n int) (string, string) {
			return `{"tags":[{"name":"a","digest":"latest","lastUpdateTime":"now"},{"name":"b","digest":"sha256:` + strings.Repeat("a", 64) +
				`","createdTime":"2024-13-45T00:00:00Z"},{"name":""},{"name":"` + strings.Repeat("x", 200) + `"}]}`, ""
		}, tags: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, repo, _ := acrServer(t, 1)
			var (
				mu sync.Mutex
				n  int
			)
			s.Update(func(o *registrytest.ServerOptions) {
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if !strings.HasPrefix(r.URL.Path, "/acr/") {
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
			kc := keychain{s.Host(): {Username: "acr-user", Password: password}}
			c := newClient(registry.Options{Keychain: kc, Registries: acrSettings(s), Limits: tt.limits})
			tl := c.TagsOf(context.Background(), []string{repo})[repo]
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
