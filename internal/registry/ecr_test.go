package registry_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// awsEnv points the AWS SDK at the stand-in (AWS_ENDPOINT_URL_ECR, as the
// machine's owner would) with fixed credentials, and away from the user's
// files and the instance metadata service. Tests that call it are not
// parallel: the SDK reads the process's environment.
func awsEnv(t *testing.T, s *registrytest.Server, withCredentials bool) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_ECR": s.URL(), "AWS_ENDPOINT_URL": "", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_SESSION_TOKEN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
	} {
		t.Setenv(k, v)
	}
	if withCredentials {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE0000")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-key-for-tests")
	}
}

func ecrSettings(s *registrytest.Server) []registry.Settings {
	return []registry.Settings{{Prefix: s.Host(), API: registry.APIECR, Source: "config.toml:9"}}
}

// DescribeImages gives every tag's image, digest and push time, in pages
// that nextToken links; each request is signed (SigV4) and goes to the
// endpoint the owner named.
func TestECR(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{ECR: true, PageSize: 2})
	awsEnv(t, s, true)
	want, digests := pushedTimes(t, s, "acme/app", 5)
	var mu sync.Mutex
	var targets, auths []string
	s.Update(func(o *registrytest.ServerOptions) {
		o.Observe = func(r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			targets = append(targets, r.Header.Get("X-Amz-Target"))
			auths = append(auths, r.Header.Get("Authorization"))
		}
	})
	repo := s.Repo("acme/app")
	s.ResetCounts()
	c := newClient(registry.Options{Registries: ecrSettings(s)})
	tl := c.TagsOf(ctx, []string{repo})[repo]
	if tl.Err != nil || tl.API != registry.APIECR {
		t.Fatalf("%+v", tl)
	}
	if diff := cmp.Diff(want, tl.Pushed); diff != "" {
		t.Errorf("push times (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sorted([]string{"build-00", "build-01", "build-02", "build-03", "build-04"}), sorted(tl.Tags)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if len(targets) != 3 {
		t.Errorf("%d requests, want 3 pages", len(targets))
	}
	for i := range targets {
		if targets[i] != registrytest.ECRTarget || !strings.HasPrefix(auths[i], "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0000/") || !strings.Contains(auths[i], "/eu-west-1/ecr/aws4_request") {
			t.Errorf("request %d: target %q, authorization %q", i, targets[i], auths[i])
		}
	}
	if st := c.Stats(); st.TagListPages != 3 {
		t.Errorf("TagListPages = %d, want 3", st.TagListPages)
	}
	if d, err := c.Digest(ctx, repo, "build-02"); err != nil || d != digests["build-02"] || len(targets) != 3 {
		t.Errorf("Digest = %s, %v; want %s from the listing", d, err, digests["build-02"])
	}

	_, err := c.Tags(ctx, s.Repo("acme/nope"))
	checkKind(t, err, registry.ErrNotFound)
	if err == nil || !strings.Contains(err.Error(), `api = "ecr" is set for `+s.Host()+` (registry settings at config.toml:9), and ECR's DescribeImages answered RepositoryNotFoundException: The repository with name 'acme/nope' does not exist`) {
		t.Errorf("not found: %v", err)
	}
}

// Throttling is retried with the client's backoff; throttling that lasts
// is rate limiting. AWS refusing the credentials is unauthorized.
func TestECRErrors(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{ECR: true})
	awsEnv(t, s, true)
	pushedTimes(t, s, "acme/app", 1)
	repo := s.Repo("acme/app")

	var mu sync.Mutex
	answer := func(n int, exception string) {
		s.Update(func(o *registrytest.ServerOptions) {
			o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
				mu.Lock()
				defer mu.Unlock()
				if k, _ := registrytest.KindOf(r); k != registrytest.KindAPI || n == 0 {
					return false
				}
				n--
				registrytest.ECRError(w, http.StatusBadRequest, exception, "Rate exceeded")
				return true
			}
		})
	}
	answer(1, "ThrottlingException")
	s.ResetCounts()
	if tl := newClient(registry.Options{Registries: ecrSettings(s)}).TagsOf(ctx, []string{repo})[repo]; tl.Err != nil || len(tl.Tags) != 1 {
		t.Errorf("one throttling: %+v", tl)
	}
	if n := s.Counts().ByKind[registrytest.KindAPI]; n != 2 {
		t.Errorf("%d requests, want the throttled one and its retry", n)
	}
	answer(100, "ThrottlingException")
	_, err := newClient(registry.Options{Registries: ecrSettings(s)}).Tags(ctx, repo)
	checkKind(t, err, registry.ErrRateLimited)
	answer(100, "UnrecognizedClientException")
	_, err = newClient(registry.Options{Registries: ecrSettings(s)}).Tags(ctx, repo)
	checkKind(t, err, registry.ErrUnauthorized)
	if err == nil || !strings.Contains(err.Error(), "ecr:DescribeImages") || strings.Contains(err.Error(), "aws-secret-key-for-tests") {
		t.Errorf("refused: %v", err)
	}
}

// Without AWS credentials the call is never made; named in the settings,
// the image fails, saying where credentials are looked for.
func TestECRNoCredentials(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{ECR: true})
	awsEnv(t, s, false)
	pushedTimes(t, s, "acme/app", 1)
	s.ResetCounts()
	_, err := newClient(registry.Options{Registries: ecrSettings(s)}).Tags(context.Background(), s.Repo("acme/app"))
	checkKind(t, err, registry.ErrUnauthorized)
	if err == nil || !strings.Contains(err.Error(), "AWS credentials could not be had") {
		t.Errorf("error %v", err)
	}
	if n := s.Counts().ByKind[registrytest.KindAPI]; n != 0 {
		t.Errorf("%d calls without credentials", n)
	}
}

// A host that is not ECR's, with no endpoint named by the owner, has no
// API to ask: nothing is sent anywhere.
func TestECROtherHost(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{ECR: true})
	awsEnv(t, s, true)
	t.Setenv("AWS_ENDPOINT_URL_ECR", "")
	pushedTimes(t, s, "acme/app", 1)
	s.ResetCounts()
	_, err := newClient(registry.Options{Registries: ecrSettings(s)}).Tags(context.Background(), s.Repo("acme/app"))
	if err == nil || !strings.Contains(err.Error(), `api = "ecr" is set for `+s.Host()+` (registry settings at config.toml:9), and it is not an ECR registry`) {
		t.Errorf("error %v", err)
	}
	if n := s.Counts().Total; n != 0 {
		t.Errorf("%d requests", n)
	}
}
