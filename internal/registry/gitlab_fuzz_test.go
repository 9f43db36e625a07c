package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A page of GitLab's tags is whatever the API sends.
func FuzzGitLabTags(f *testing.F) {
	f.Add([]byte(`{"data":{"containerRepository":{"tags":{"pageInfo":{"hasNextPage":true,"endCursor":"eyJuYW1lIjoidjEifQ"},` +
		`"nodes":[{"name":"v1","digest":"sha256:` + strings.Repeat("a", 64) + `","createdAt":"2023-12-20T20:09:08+00:00","publishedAt":"2023-12-21T20:09:08+00:00"}]}}}}`))
	f.Add([]byte(`{"data":null,"errors":[{"message":"The resource that you are attempting to access does not exist"}]}`))
	f.Add([]byte(`{"data":{"containerRepository":{"tags":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[null,{"name":""}]}}}}`))
	f.Fuzz(func(t *testing.T, page []byte) {
		tags, next, err := parseGitLabTags(page)
		checkAPITags(t, tags, err)
		if err != nil && next != "" {
			t.Fatalf("next %q with error %v", next, err)
		}
	})
}

// The answer to the search names the repository by id only where its
// path is the image's, whichever alias holds it.
func FuzzGitLabRepositories(f *testing.F) {
	f.Add([]byte(`{"data":{"p0":null,"p1":{"containerRepositories":{"nodes":[{"id":"gid://gitlab/ContainerRepository/1","path":"g/p/app"}]}}}}`), "g/p/app")
	f.Add([]byte(`{"data":{"p0":{"containerRepositories":{"nodes":[{"id":"gid://gitlab/ContainerRepository/2","path":"g/p/app-old"}]}}}}`), "g/p/app")
	f.Add([]byte(`{"errors":[{"message":"x"}]}`), "g/p")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		id, err := parseGitLabRepositories(body, path)
		if err != nil && id != "" {
			t.Fatalf("id %q with error %v", id, err)
		}
		if id != "" && !strings.HasPrefix(id, "gid://gitlab/ContainerRepository/") {
			t.Fatalf("id %q", id)
		}
	})
}

// A tag's push time is its publishedAt; createdAt is not read.
func TestParseGitLabTags(t *testing.T) {
	a := "sha256:" + strings.Repeat("a", 64)
	pub := time.Date(2023, 12, 21, 20, 9, 8, 0, time.UTC)
	tests := []struct {
		name     string
		page     string
		want     []apiTag
		wantNext string
		wantErr  bool
	}{
		{"tag", `{"data":{"containerRepository":{"tags":{"pageInfo":{"hasNextPage":true,"endCursor":"c1"},"nodes":[{"name":"v1","digest":"` + a +
			`","createdAt":"2020-01-01T00:00:00+00:00","publishedAt":"2023-12-21T21:09:08+01:00"}]}}}}`, []apiTag{{name: "v1", digest: a, pushed: pub}}, "c1", false},
		{"no publishedAt", `{"data":{"containerRepository":{"tags":{"nodes":[{"name":"v1","digest":"` + a + `","createdAt":"2020-01-01T00:00:00+00:00","publishedAt":null}]}}}}`,
			[]apiTag{{name: "v1", digest: a}}, "", false},
		{"last page", `{"data":{"containerRepository":{"tags":{"pageInfo":{"hasNextPage":false,"endCursor":"c9"},"nodes":[]}}}}`, []apiTag{}, "", false},
		{"errors", `{"data":null,"errors":[{"message":"denied"}]}`, nil, "", true},
		{"repository null", `{"data":{"containerRepository":null}}`, nil, "", true},
		{"nodes not a list", `{"data":{"containerRepository":{"tags":{"nodes":{}}}}}`, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := parseGitLabTags([]byte(tt.page))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			if next != tt.wantNext {
				t.Errorf("next %q, want %q", next, tt.wantNext)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(apiTag{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The search asks every split into a project of two elements or more and
// a name, longest project first.
func TestGitLabFindQuery(t *testing.T) {
	q, vars := gitlabFindQuery("a/b/c/d")
	want := map[string]any{"p0": "a/b/c/d", "n0": "", "p1": "a/b/c", "n1": "d", "p2": "a/b", "n2": "c/d"}
	if diff := cmp.Diff(want, vars); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	for _, s := range []string{"$p2: ID!", "$n2: String", "p2: project(fullPath: $p2) { containerRepositories(name: $n2, first: 100) { nodes { id path } } }"} {
		if !strings.Contains(q, s) {
			t.Errorf("query %q lacks %q", q, s)
		}
	}
}
