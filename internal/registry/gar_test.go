package registry_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

func garSettings(s *registrytest.Server, more ...registry.Settings) []registry.Settings {
	return append(more, registry.Settings{Prefix: s.Host(), API: registry.APIGAR, APIURL: s.URL(), Source: "laminar.toml:7"})
}

// garKeychain holds an access token as gcloud's credential helper does.
func garKeychain(s *registrytest.Server) keychain {
	return keychain{s.Host(): {Username: "oauth2accesstoken", Password: password}}
}

// Artifact Registry lists every image of a repository: only those of the
// name asked for are read, their tags sorted newest push first, with
// digests and build times that spare the manifest and config requests.
func TestGAR(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{GAR: true, Password: password, PageSize: 10})
	repo := s.Repo("proj/docker/app")
	digests := seedBuilds(t, repo, 25)
	seedBuilds(t, s.Repo("proj/docker/other"), 3)
	seedBuilds(t, s.Repo("proj/docker/app/sub"), 2)
	seedBuilds(t, s.Repo("proj/elsewhere/app"), 2)
	var (
		mu   sync.Mutex
		urls []string
		auth []string
	)
	s.Update(func(o *registrytest.ServerOptions) {
		o.Observe = func(r *http.Request) {
			if k, _ := registrytest.KindOf(r); k == registrytest.KindAPI {
				mu.Lock()
				urls = append(urls, r.URL.RequestURI())
				auth = append(auth, r.Header.Get("Authorization"))
				mu.Unlock()
			}
		}
	})
	s.ResetCounts()
	c := newClient(registry.Options{Keychain: garKeychain(s), Registries: garSettings(s)})
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
	checkPushed(t, tl, registry.APIGAR)
	// 30 images of the repository in pages of 10.
	if len(urls) != 3 || urls[0] != "/v1/projects/proj/locations/-/repositories/docker/dockerImages?pageSize=1000" ||
		!strings.Contains(urls[1], "pageToken=") || !strings.Contains(urls[2], "pageToken=") {
		t.Errorf("requests %q", urls)
	}
	for _, a := range auth {
		if a != "Bearer "+password {
			t.Errorf("Authorization %q, want the keychain's access token", a)
		}
	}
	info, err := c.Image(context.Background(), repo, "build-03")
	if err != nil || info.Digest != digests["build-03"] || !info.Created.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("Image(build-03) = %+v, %v", info, err)
	}
	st := c.Stats()
	if st.TagListPages != 3 || st.ManifestHeads+st.ManifestGets+st.BlobGets != 0 || st.ListedImages != 25 {
		t.Errorf("%d pages, %d HEAD, %d GET, %d blobs, %d listed images; want 3, 0, 0, 0, 25",
			st.TagListPages, st.ManifestHeads, st.ManifestGets, st.BlobGets, st.ListedImages)
	}
}

// The REST API takes an access token only: none, a service account key,
// a refused token, a missing role, an unknown repository and a rate limit
// fail their kinds, naming the setting and never the secret.
func TestGARFailures(t *testing.T) {
	tests := []struct {
		name     string
		cred     *authn.AuthConfig
		path     string
		respond  int
		want     error
		wantText []string
		calls    int
	}{
		{name: "no credentials", cred: &authn.AuthConfig{}, want: registry.ErrUnauthorized,
			wantText: []string{`api = "gar" is set for`, "laminar.toml:7", "needs an access token", "gcloud auth configure-docker"}},
		{name: "service account key", cred: &authn.AuthConfig{Username: "_json_key", Password: `{"type":"service_account","private_key":"` + password + `"}`},
			want: registry.ErrUnauthorized, wantText: []string{"service account key", "does not take"}},
		{name: "refused token", cred: &authn.AuthConfig{Username: "oauth2accesstoken", Password: "ya29.not-the-token"}, want: registry.ErrUnauthorized,
			wantText: []string{"401 Unauthorized: Request had invalid authentication credentials", "access token was refused"}, calls: 1},
		{name: "no role", respond: http.StatusForbidden, want: registry.ErrUnauthorized,
			wantText: []string{"403 Forbidden: Permission denied", "roles/artifactregistry.reader"}, calls: 1},
		{name: "no such repository", path: "proj/nope/app", want: registry.ErrNotFound,
			wantText: []string{"404 Not Found", "has project proj a repository nope there?"}, calls: 1},
		{name: "429", respond: http.StatusTooManyRequests, want: registry.ErrRateLimited, wantText: []string{"429", "Quota exceeded"}, calls: 2},
		{name: "too short a path", path: "proj/app", want: errOther, wantText: []string{"<project>/<repository>/<image>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{GAR: true, Password: password})
			seedBuilds(t, s.Repo("proj/docker/app"), 2)
			seedBuilds(t, s.Repo("proj/app"), 1)
			if tt.respond != 0 {
				s.Update(func(o *registrytest.ServerOptions) {
					o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
						if k, _ := registrytest.KindOf(r); k != registrytest.KindAPI {
							return false
						}
						msg := map[int]string{403: "Permission denied on resource", 429: "Quota exceeded for quota metric"}[tt.respond]
						writeJSONError(w, tt.respond, fmt.Sprintf(`{"error":{"code":%d,"message":%q,"status":"X"}}`, tt.respond, msg), nil)
						return true
					}
				})
			}
			s.ResetCounts()
			kc := garKeychain(s)
			if tt.cred != nil {
				kc = keychain{s.Host(): *tt.cred}
				if *tt.cred == (authn.AuthConfig{}) {
					kc = keychain{}
				}
			}
			c := newClient(registry.Options{Keychain: kc, Registries: garSettings(s)})
			repo := s.Repo(cmp.Or(tt.path, "proj/docker/app"))
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
			noSecret(t, err, password, "ya29.not-the-token")
			if n := s.Counts().ByKind[registrytest.KindAPI]; n != tt.calls {
				t.Errorf("%d API requests, want %d", n, tt.calls)
			}
		})
	}
}

// Without an api_url, Artifact Registry's API is asked only for
// LOCATION-docker.pkg.dev hosts, and then at its own address: the
// location comes from the host's name.
func TestGAROnlyForArtifactRegistry(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		seen = append(seen, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		return nil, fmt.Errorf("no network")
	})
	kc := keychain{"registry.example.com": {Username: "u", Password: password}, "europe-west1-docker.pkg.dev": {Username: "oauth2accesstoken", Password: password}}
	c := newClient(registry.Options{Keychain: kc, Transport: rt, Backoff: remote.Backoff{Steps: 1}, Registries: []registry.Settings{
		{Prefix: "registry.example.com", API: registry.APIGAR},
		{Prefix: "europe-west1-docker.pkg.dev", API: registry.APIGAR},
	}})
	_, err := c.Tags(context.Background(), "registry.example.com/p/r/app")
	if err == nil || !strings.Contains(err.Error(), "serves only LOCATION-docker.pkg.dev") {
		t.Errorf("error %v", err)
	}
	c.Tags(context.Background(), "europe-west1-docker.pkg.dev/p/r/app")
	want := []string{"https://artifactregistry.googleapis.com/v1/projects/p/locations/europe-west1/repositories/r/dockerImages Bearer " + password}
	if diff := gocmp.Diff(want, seen); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// Hostile pages: images of other hosts or names are not this image's; a
// page token that leads back is an error; pages are held to the limits.
func TestGARHostile(t *testing.T) {
	img := func(s *registrytest.Server, uri string, i int) string {
		return fmt.Sprintf(`{"uri":"%s@sha256:%064x","tags":["t%d"],"uploadTime":"2024-05-01T12:00:%02dZ","mediaType":"application/vnd.oci.image.manifest.v1+json"}`, uri, i, i, i%60)
	}
	tests := []struct {
		name   string
		page   func(s *registrytest.Server, r *http.Request, n int) string
		limits registry.Limits
		want   error
		text   string
		tags   []string
	}{
		{name: "other hosts and names", page: func(s *registrytest.Server, r *http.Request, n int) string {
			return `{"dockerImages":[` + img(s, "evil.example.com/proj/docker/app", 1) + "," + img(s, s.Host()+"/proj/docker/app2", 2) + "," +
				img(s, s.Host()+"/proj/docker/app", 3) + "," + img(s, s.Host()+"/proj/docker/app", 4) + `,{"uri":"` + s.Host() + `/proj/docker/app","tags":["nodigest"]}]}`
		}, tags: []string{"t4", "t3"}},
		{name: "page token leads back", page: func(s *registrytest.Server, r *http.Request, n int) string {
			return `{"dockerImages":[],"nextPageToken":"same"}`
		}, want: registry.ErrLimit, text: "leads back to a page already read"},
		{name: "endless pages", page: func(s *registrytest.Server, r *http.Request, n int) string {
			var b strings.Builder
			for i := range 40 {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(img(s, s.Host()+"/proj/docker/app", n*40+i))
			}
			return fmt.Sprintf(`{"dockerImages":[%s],"nextPageToken":"p%d"}`, b.String(), n)
		}, limits: registry.Limits{TagList: 64 << 10}, want: registry.ErrLimit, text: "over the limit of 64 KiB (all pages together)"},
		{name: "more tags than the hard cap", page: func(s *registrytest.Server, r *http.Request, n int) string {
			var b strings.Builder
			for i := range 30 {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(img(s, s.Host()+"/proj/docker/app", n*30+i))
			}
			return fmt.Sprintf(`{"dockerImages":[%s],"nextPageToken":"p%d"}`, b.String(), n)
		}, limits: registry.Limits{ListTags: 40}, want: registry.ErrLimit, text: "over the limit of 40 tags"},
		{name: "oversized page", page: func(s *registrytest.Server, r *http.Request, n int) string {
			return `{"dockerImages":[],"padding":"` + strings.Repeat("x", 10<<10) + `"}`
		}, limits: registry.Limits{TagPage: 8 << 10}, want: registry.ErrLimit, text: "over the limit of 8 KiB"},
		{name: "not Artifact Registry's", page: func(s *registrytest.Server, r *http.Request, n int) string {
			return `<html></html>`
		}, want: errOther, text: "does not read as Artifact Registry's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{GAR: true})
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
					body := tt.page(s, r, n)
					n++
					mu.Unlock()
					w.Write([]byte(body))
					return true
				}
			})
			repo := s.Repo("proj/docker/app")
			c := newClient(registry.Options{Keychain: garKeychain(s), Registries: garSettings(s), Limits: tt.limits, MaxTags: -1})
			tl := c.TagsOf(context.Background(), []string{repo})[repo]
			if tt.want == nil {
				if tl.Err != nil {
					t.Fatal(tl.Err)
				}
				if diff := gocmp.Diff(tt.tags, tl.Tags); diff != "" {
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
