package registry_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// hostile answers every request about evil/app with respond; the rest of
// the server is an ordinary registry.
func hostile(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind)) *registrytest.Server {
	t.Helper()
	return newServer(t, registrytest.ServerOptions{Respond: func(w http.ResponseWriter, r *http.Request) bool {
		kind, repo := registrytest.KindOf(r)
		if repo != "evil/app" {
			return false
		}
		respond(w, r, kind)
		return true
	}})
}

// Each limit fails the listing with ErrLimit and a message that names the
// image and the limit, and nothing of the listing reaches the cache.
func TestListingLimits(t *testing.T) {
	page := func(tags ...string) string { return `{"tags":["` + strings.Join(tags, `","`) + `"]}` }
	tests := []struct {
		name    string
		limits  registry.Limits
		maxTags int
		respond func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind)
		want    string
	}{
		{
			name:   "page one byte over",
			limits: registry.Limits{TagPage: int64(len(page("v1", "v2")) - 1)},
			respond: func(w http.ResponseWriter, r *http.Request, _ registrytest.Kind) {
				w.(http.Flusher).Flush() // no Content-Length: the body alone tells
				fmt.Fprint(w, page("v1", "v2"))
			},
			want: fmt.Sprintf("tag list page over the limit of %d bytes", len(page("v1", "v2"))-1),
		},
		{
			name:   "Content-Length over",
			limits: registry.Limits{TagPage: 1 << 10},
			respond: func(w http.ResponseWriter, r *http.Request, _ registrytest.Kind) {
				w.Header().Set("Content-Length", "1000000000")
				fmt.Fprint(w, page("v1"))
			},
			want: `tag list page over the limit of 1 KiB \(Content-Length 1000000000\)`,
		},
		{
			name:   "pages together",
			limits: registry.Limits{TagList: 100},
			respond: func(w http.ResponseWriter, r *http.Request, _ registrytest.Kind) {
				last := r.URL.Query().Get("last")
				w.Header().Set("Link", `</v2/evil/app/tags/list?last=`+last+`x>; rel="next"`)
				fmt.Fprint(w, page(last+"x"))
			},
			want: `tag list over the limit of 100 bytes \(all pages together\)`,
		},
		{
			name:    "more tags than a listing may hold",
			limits:  registry.Limits{ListTags: 3},
			maxTags: -1,
			respond: func(w http.ResponseWriter, r *http.Request, _ registrytest.Kind) {
				fmt.Fprint(w, page("v1", "v2", "v3", "v4"))
			},
			want: "tag list over the limit of 3 tags",
		},
		{
			name: "a page twice",
			respond: func(w http.ResponseWriter, r *http.Request, _ registrytest.Kind) {
				w.Header().Set("Link", `</v2/evil/app/tags/list?n=100>; rel="next"`)
				fmt.Fprint(w, page("v1"))
			},
			want: "the registry's Link header leads back to a tag list page already read",
		},
		{
			name:   "error body",
			limits: registry.Limits{ErrorBody: 10},
			respond: func(w http.ResponseWriter, r *http.Request, _ registrytest.Kind) {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, strings.Repeat("x", 100))
			},
			want: "body of the 500 answer to GET /v2/evil/app/tags/list over the limit of 10 bytes",
		},
		{
			name:   "request budget",
			limits: registry.Limits{Requests: 5},
			respond: func(w http.ResponseWriter, r *http.Request, _ registrytest.Kind) {
				last := r.URL.Query().Get("last")
				w.Header().Set("Link", `</v2/evil/app/tags/list?last=`+last+`x>; rel="next"`)
				fmt.Fprint(w, page(last+"x"))
			},
			// 5, and two for the one page of 100 tags max_tags needs.
			want: "request budget of .*/evil/app over the limit of 7 requests in one run",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := hostile(t, tt.respond)
			dir := t.TempDir()
			c := newClient(registry.Options{Limits: tt.limits, MaxTags: cmp.Or(tt.maxTags, 100), CacheDir: dir, RPS: -1})
			repo := s.Repo("evil/app")
			_, err := c.Tags(context.Background(), repo)
			if !errors.Is(err, registry.ErrLimit) {
				t.Fatalf("err = %v, want ErrLimit", err)
			}
			if !regexp.MustCompile("^listing tags of " + regexp.QuoteMeta(repo) + ": registry answer over a limit: " + tt.want).MatchString(err.Error()) {
				t.Errorf("err = %q, want it to name %s and %q", err, repo, tt.want)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() {
					b, _ := os.ReadFile(p)
					if strings.Contains(string(b), `"tags"`) {
						t.Errorf("%s caches the listing: %s", p, b)
					}
				}
				return nil
			})
		})
	}
}

// Under MaxTags, a longer list is cut short with a warning, as before: it
// is a setting, not a limit gone over. Tags longer than 128 characters
// are passed over, and the warning says how many, not which.
func TestListingCapAndLongTags(t *testing.T) {
	long := strings.Repeat("x", 129)
	s := hostile(t, func(w http.ResponseWriter, r *http.Request, _ registrytest.Kind) {
		fmt.Fprintf(w, `{"tags":["v1","%s","v2","v3","v4"]}`, long)
	})
	c := newClient(registry.Options{MaxTags: 3})
	tl := c.TagsOf(context.Background(), []string{s.Repo("evil/app")})[s.Repo("evil/app")]
	if tl.Err != nil {
		t.Fatal(tl.Err)
	}
	if got := strings.Join(tl.Tags, ","); got != "v1,v2,v3" {
		t.Errorf("tags = %s, want v1,v2,v3", got)
	}
	for _, want := range []string{"has more than 3 tags", "1 tag(s) longer than the 128 characters"} {
		if !strings.Contains(tl.Warning, want) {
			t.Errorf("warning %q does not say %q", tl.Warning, want)
		}
	}
	if strings.Contains(tl.Warning, long) {
		t.Errorf("the warning holds the long tag")
	}
}

// Reading images is charged to the repository's budget too: a registry
// whose every candidate costs requests stops there, with the image named.
func TestImageBudget(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	tags := []string{"a", "b", "c", "d", "e", "f"}
	seed(t, s, "acme/app", tags...)
	// No tag list pages are needed: 2 per page of the 1 tag max_tags allows.
	c := newClient(registry.Options{Limits: registry.Limits{Requests: 6}, MaxTags: 1, PageSize: 1})
	var failed error
	read := 0
	for _, tag := range tags {
		if _, err := c.Image(context.Background(), s.Repo("acme/app"), tag); err != nil {
			failed = err
			break
		}
		read++
	}
	if !errors.Is(failed, registry.ErrLimit) || !strings.Contains(failed.Error(), "over the limit of 8 requests in one run") {
		t.Fatalf("after %d images: err = %v, want the budget of 8 requests", read, failed)
	}
	if read == 0 || read >= len(tags) {
		t.Errorf("%d images read before the budget ran out", read)
	}
	// Another repository has its own budget.
	seed(t, s, "acme/other", "a")
	if _, err := c.Image(context.Background(), s.Repo("acme/other"), "a"); err != nil {
		t.Errorf("another repository: %v", err)
	}
}

// A manifest over its limit fails the read; nothing of it is cached.
func TestManifestAndConfigLimits(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/app", "v1")
	for _, tc := range []struct {
		limits registry.Limits
		want   string
	}{
		{registry.Limits{Manifest: 100}, "manifest over the limit of 100 bytes"},
		{registry.Limits{Config: 100}, "config blob over the limit of 100 bytes"},
	} {
		c := newClient(registry.Options{Limits: tc.limits})
		_, err := c.Image(context.Background(), s.Repo("acme/app"), "v1")
		if !errors.Is(err, registry.ErrLimit) || !strings.Contains(err.Error(), "reading "+s.Repo("acme/app")+":v1: ") ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}

// A deadline with a cause of its own is named in the error of every image
// it cut short.
func TestDeadlineNamed(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{Latency: time.Minute})
	c := newClient(registry.Options{})
	ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, errors.New("the deadline of --timeout 50ms passed"))
	defer cancel()
	_, err := c.Tags(ctx, s.Repo("acme/app"))
	if err == nil || !strings.Contains(err.Error(), "listing tags of "+s.Repo("acme/app")+": ") ||
		!strings.Contains(err.Error(), "the deadline of --timeout 50ms passed") {
		t.Errorf("err = %v, want the image and the deadline named", err)
	}
}

// Harbor's artifact pages are held to the same limits: a page over its
// size, and pages without end that each name new artifacts.
func TestHarborLimits(t *testing.T) {
	artifact := func(i int) string {
		return fmt.Sprintf(`{"digest":"sha256:%064x","tags":[{"name":"v%d"}]}`, i, i)
	}
	for _, tc := range []struct {
		name   string
		limits registry.Limits
		page   func(n int) string
		want   string
	}{
		{"page over", registry.Limits{TagPage: 1 << 10}, func(n int) string {
			return "[" + strings.Repeat(artifact(n)+",", 50) + artifact(n) + "]"
		}, "Harbor API answer over the limit of 1 KiB"},
		{"endless pages", registry.Limits{Requests: 20}, func(n int) string {
			return "[" + artifact(n) + "]"
		}, "request budget of .*/evil/app over the limit of 22 requests in one run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{Respond: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, "/api/v2.0/projects/evil/repositories/app") {
					return false
				}
				var n int
				fmt.Sscan(r.URL.Query().Get("page"), &n)
				w.Header().Set("Link", fmt.Sprintf(`</api/v2.0/projects/evil/repositories/app/artifacts?page=%d>; rel="next"`, n+1))
				fmt.Fprint(w, tc.page(n))
				return true
			}})
			c := newClient(registry.Options{Limits: tc.limits, MaxTags: 100,
				Registries: []registry.Settings{{Prefix: s.Host(), API: registry.APIHarbor}}})
			_, err := c.Tags(context.Background(), s.Repo("evil/app"))
			if !errors.Is(err, registry.ErrLimit) || !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Errorf("err = %v, want ErrLimit and %q", err, tc.want)
			}
		})
	}
}
