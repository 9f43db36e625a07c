package registry_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// quaySettings lists the server's host through Quay's API, which Quay
// serves on the registry's own host.
func quaySettings(s *registrytest.Server, pageSize int) []registry.Settings {
	return []registry.Settings{{Prefix: s.Host(), API: registry.APIQuay, PageSize: pageSize, Source: "laminar.toml:5"}}
}

// Quay's tag API gives every tag's push time (start_ts, in seconds) and
// digest, page by page while has_additional says more follow.
func TestQuay(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{Quay: true})
	want, digests := pushedTimes(t, s, "acme/app", 5)
	repo := s.Repo("acme/app")
	s.ResetCounts()
	c := newClient(registry.Options{Registries: quaySettings(s, 2)})
	tl := c.TagsOf(ctx, []string{repo})[repo]
	if tl.Err != nil || tl.API != registry.APIQuay {
		t.Fatalf("%+v", tl)
	}
	if diff := cmp.Diff(want, tl.Pushed); diff != "" {
		t.Errorf("push times (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"build-00", "build-01", "build-02", "build-03", "build-04"}, tl.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if n := s.Counts().ByKind[registrytest.KindAPI]; n != 3 || s.Counts().Total != 3 {
		t.Errorf("%v: want 3 pages of the API and nothing else", s.Counts().ByKind)
	}
	if d, err := c.Digest(ctx, repo, "build-01"); err != nil || d != digests["build-01"] || s.Counts().Total != 3 {
		t.Errorf("Digest = %s, %v; want %s from the listing", d, err, digests["build-01"])
	}
	_, err := c.Tags(ctx, s.Repo("acme/nope"))
	checkKind(t, err, registry.ErrNotFound)
	if err == nil || !strings.Contains(err.Error(), `api = "quay" is set for `+s.Host()+` (registry settings at laminar.toml:5), and its tag API answered 404 Not Found`) {
		t.Errorf("not found: %v", err)
	}
}

// A private repository: an OAuth token (docker login -u '$oauthtoken')
// is sent as the bearer token; a robot account's password is not, and the
// API refuses, saying what it takes.
func TestQuayToken(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{Quay: true})
	want, _ := pushedTimes(t, s, "acme/app", 2)
	const token = "quay-oauth-token-0123456789"
	var sent []string
	s.Update(func(o *registrytest.ServerOptions) {
		o.QuayToken = token
		o.Observe = func(r *http.Request) { sent = append(sent, r.Header.Get("Authorization")) }
	})
	repo := s.Repo("acme/app")
	c := newClient(registry.Options{Registries: quaySettings(s, 100), Keychain: keychain{s.Host(): {Username: "$oauthtoken", Password: token}}})
	tl := c.TagsOf(ctx, []string{repo})[repo]
	if tl.Err != nil {
		t.Fatal(tl.Err)
	}
	if diff := cmp.Diff(want, tl.Pushed); diff != "" {
		t.Errorf("push times (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Bearer " + token}, sent); diff != "" {
		t.Errorf("Authorization sent (-want +got):\n%s", diff)
	}

	sent = nil
	robot := newClient(registry.Options{Registries: quaySettings(s, 100), Keychain: keychain{s.Host(): {Username: "acme+robot", Password: "robot-secret-42"}}})
	_, err := robot.Tags(ctx, repo)
	checkKind(t, err, registry.ErrUnauthorized)
	if err == nil || !strings.Contains(err.Error(), `its tag API answered 401 Unauthorized; Quay's API takes an OAuth token`) {
		t.Errorf("robot: %v", err)
	}
	if diff := cmp.Diff([]string{""}, sent); diff != "" {
		t.Errorf("a robot's password was sent to the API (-want +got):\n%s", diff)
	}
}

// A hostile Quay: a page that says more follow but lists nothing new would
// be followed until the budget ran out; a page that is not Quay's fails.
func TestQuayHostile(t *testing.T) {
	tests := []struct{ name, page, want string }{
		{"more, nothing new", `{"tags":[{"name":"a","start_ts":1714564800}],"page":1,"has_additional":true}`, `says more tags follow page 2, which lists none not listed before`},
		{"more, empty", `{"tags":[],"page":1,"has_additional":true}`, `says more tags follow page 1`},
		{"not Quay's", `{"errors":[]}`, `page 1 of its tag list does not read as Quay's: no tags`},
		{"html", `<html>`, `does not read as Quay's`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{Quay: true})
			s.Update(func(o *registrytest.ServerOptions) {
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if strings.HasSuffix(r.URL.Path, "/tag/") {
						w.Write([]byte(tt.page))
						return true
					}
					return false
				}
			})
			_, err := newClient(registry.Options{Registries: quaySettings(s, 100)}).Tags(context.Background(), s.Repo("acme/app"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v\nwant %q", err, tt.want)
			}
			if n := s.Counts().ByKind[registrytest.KindAPI]; n > 2 {
				t.Errorf("%d pages read", n)
			}
		})
	}
}
