package registry

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

func TestAutoAPI(t *testing.T) {
	for host, want := range map[string]string{
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com":      APIECR,
		"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com": APIECR,
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn":  APIECR,
		"123456789012.DKR.ECR.eu-west-1.amazonaws.com":      APIECR,
		"dkr.ecr.eu-west-1.amazonaws.com":                   APIOCI, // no account
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil": APIOCI,
		"evil.com/123456789012.dkr.ecr.x.amazonaws.com":     APIOCI,
		"docker.io":                       APIDockerHub,
		"index.docker.io":                 APIDockerHub,
		"registry-1.docker.io":            APIDockerHub,
		"hub.docker.io":                   APIOCI,
		"quay.io":                         APIQuay,
		"quay.io:443":                     APIOCI, // another port is another server
		"quay.example.com":                APIOCI,
		"ghcr.io":                         APIGHCR,
		"europe-west1-docker.pkg.dev":     APIGAR,
		"gcr.io":                          APIOCI,
		"acme.azurecr.io":                 APIACR,
		"acme.azurecr.io.example.com":     APIOCI,
		"registry.gitlab.com":             APIGitLab,
		"gitlab.example.com":              APIOCI,
		"127.0.0.1:5000":                  APIOCI,
		"registry.example.com":            APIOCI,
		"localhost":                       APIOCI,
		"xn--quay-9ja.io":                 APIOCI,
		"registry.gitlab.com.example.com": APIOCI,
	} {
		if got := autoAPI(host); got != want {
			t.Errorf("autoAPI(%q) = %q, want %q", host, got, want)
		}
	}
}

// chooseFor makes the automatic choice pick api for the hosts given, for
// the rest of the test.
func chooseFor(t *testing.T, api string, hosts ...string) {
	old := hostAPI
	hostAPI = func(h string) string {
		for _, x := range hosts {
			if h == x {
				return api
			}
		}
		return old(h)
	}
	t.Cleanup(func() { hostAPI = old })
}

type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

func testClient(opt Options) *Client {
	opt.Keychain = anonymous{}
	opt.Backoff = remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 2}
	return New(opt)
}

// An API chosen by the host's name that refuses (here Harbor's, 403) is
// given up for the host, with one warning for the run however many
// repositories it has: the tag list lists them, and says so. Set in the
// settings, the same refusal fails each repository, naming the setting.
func TestAutoFallback(t *testing.T) {
	s := registrytest.NewServer(registrytest.ServerOptions{Harbor: true})
	defer s.Close()
	var repos []string
	for _, r := range []string{"acme/a", "acme/b", "acme/c"} {
		if _, err := registrytest.PushTags(context.Background(), s.Repo(r), map[string]time.Time{"v1": time.Unix(1e9, 0)}); err != nil {
			t.Fatal(err)
		}
		repos = append(repos, s.Repo(r))
	}
	s.Update(func(o *registrytest.ServerOptions) {
		o.Fail = func(r *http.Request) int {
			if k, _ := registrytest.KindOf(r); k == registrytest.KindAPI {
				return http.StatusForbidden
			}
			return 0
		}
	})
	chooseFor(t, APIHarbor, s.Host())
	dir := t.TempDir()

	c := testClient(Options{CacheDir: dir, CacheTTL: time.Hour})
	var warnings []string
	for repo, tl := range c.TagsOf(context.Background(), repos) {
		if tl.Err != nil {
			t.Fatalf("%s: %v", repo, tl.Err)
		}
		if tl.API != APIOCI || tl.FellBack != APIHarbor || tl.Pushed != nil || len(tl.Tags) != 1 {
			t.Errorf("%s: %+v, want the tag list after Harbor's API", repo, tl)
		}
		if tl.Warning != "" {
			warnings = append(warnings, tl.Warning)
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings %q, want one for the host", warnings)
	}
	for _, want := range []string{s.Host() + `: its own API (api = "harbor", chosen by the host's name) refused to list acme/`, `set api = "oci" for the host`, "403 Forbidden"} {
		if !strings.Contains(warnings[0], want) {
			t.Errorf("warning %q\nlacks %q", warnings[0], want)
		}
	}
	// Once refused, the host's API is not asked again this run.
	s.ResetCounts()
	if tl := c.TagsOf(context.Background(), []string{s.Repo("acme/a")}); tl[s.Repo("acme/a")].FellBack != APIHarbor {
		t.Errorf("again: %+v", tl)
	}
	if n := s.Counts().ByKind[registrytest.KindAPI]; n != 0 {
		t.Errorf("%d API requests after the fallback, want none", n)
	}
	// The next run within the cache's TTL reads the list and what it
	// fell back from, with no warning: the run that listed gave it.
	c2 := testClient(Options{CacheDir: dir, CacheTTL: time.Hour})
	tl := c2.TagsOf(context.Background(), []string{repos[0]})[repos[0]]
	if tl.Err != nil || tl.FellBack != APIHarbor || tl.API != APIOCI || tl.Warning != "" || c2.Stats().CachedTagLists != 1 {
		t.Errorf("cached: %+v, stats %+v", tl, c2.Stats())
	}

	// Named in the settings, the API's refusal is the repository's error.
	c3 := testClient(Options{Registries: []Settings{{Prefix: s.Host(), API: APIHarbor, Source: "laminar.toml:4"}}})
	_, err := c3.Tags(context.Background(), repos[0])
	if err == nil || !strings.Contains(err.Error(), `api = "harbor" is set for `+s.Host()+` (registry settings at laminar.toml:4), and its Harbor API answered 403 Forbidden`) {
		t.Errorf("explicit: %v", err)
	}
	// api = "oci" lists through the tag list without asking the API.
	s.ResetCounts()
	c4 := testClient(Options{Registries: []Settings{{Prefix: s.Host(), API: APIOCI}}})
	tl = c4.TagsOf(context.Background(), []string{repos[0]})[repos[0]]
	if tl.Err != nil || tl.API != APIOCI || tl.FellBack != "" || tl.Warning != "" || s.Counts().ByKind[registrytest.KindAPI] != 0 {
		t.Errorf("api = oci: %+v, %d API requests", tl, s.Counts().ByKind[registrytest.KindAPI])
	}
}

// Failures other than a refusal (an answer that does not parse, a 500
// through the retries) are the repository's error even when the API was
// chosen by the host's name: the tag list would not mend a broken server.
func TestAutoNoFallbackOnBrokenAnswers(t *testing.T) {
	s := registrytest.NewServer(registrytest.ServerOptions{Harbor: true})
	defer s.Close()
	if _, err := registrytest.PushTags(context.Background(), s.Repo("acme/a"), map[string]time.Time{"v1": time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	s.Update(func(o *registrytest.ServerOptions) {
		o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
			if k, _ := registrytest.KindOf(r); k == registrytest.KindAPI {
				w.Write([]byte(`<html>not harbor</html>`))
				return true
			}
			return false
		}
	})
	chooseFor(t, APIHarbor, s.Host())
	tl := testClient(Options{}).TagsOf(context.Background(), []string{s.Repo("acme/a")})[s.Repo("acme/a")]
	if tl.Err == nil || !strings.Contains(tl.Err.Error(), "does not read as Harbor's") {
		t.Errorf("%+v", tl)
	}
}
