package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkAPITags holds what any page parser of a registry's own API hands
// on: names that are not empty, digests that parse, times in UTC and
// not before 1970, build times only beside a digest.
func checkAPITags(t *testing.T, tags []apiTag, err error) {
	t.Helper()
	if err != nil && tags != nil {
		t.Fatalf("tags %v with error %v", tags, err)
	}
	for _, tag := range tags {
		if tag.name == "" {
			t.Fatalf("empty tag kept: %+v", tag)
		}
		if tag.digest != "" && apiDigest(tag.digest) == "" {
			t.Fatalf("digest %q kept", tag.digest)
		}
		for _, tm := range []time.Time{tag.pushed, tag.created} {
			if !tm.IsZero() && (tm.Location() != time.UTC || tm.Unix() < 0) {
				t.Fatalf("time %v kept", tm)
			}
		}
		if !tag.created.IsZero() && tag.digest == "" {
			t.Fatalf("build time without a digest: %+v", tag)
		}
	}
}

// A page of GitHub's package versions is whatever the API sends.
func FuzzGHCRPage(f *testing.F) {
	f.Add([]byte(`[{"id":1,"name":"sha256:` + strings.Repeat("a", 64) + `","created_at":"2024-05-06T05:20:30Z","updated_at":"2024-05-07T05:20:30Z",` +
		`"metadata":{"package_type":"container","container":{"tags":["v1","latest"]}}}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
	f.Add([]byte(`[{"name":"latest","created_at":"1969-12-31T23:59:59Z","metadata":{"container":{"tags":[""]}}}]`))
	f.Fuzz(func(t *testing.T, page []byte) {
		tags, err := parseGHCRPage(page)
		checkAPITags(t, tags, err)
	})
}

// Each tag of a version gets its digest and its created_at as the push
// time; what does not parse is left out, the tags kept.
func TestParseGHCRPage(t *testing.T) {
	a := "sha256:" + strings.Repeat("a", 64)
	pushed := time.Date(2024, 5, 6, 3, 20, 30, 0, time.UTC)
	tests := []struct {
		name    string
		page    string
		want    []apiTag
		wantErr bool
	}{
		{"version", `[{"name":"` + a + `","created_at":"2024-05-06T05:20:30+02:00","updated_at":"2025-01-01T00:00:00Z","metadata":{"container":{"tags":["v1","latest"]}}}]`,
			[]apiTag{{name: "v1", digest: a, pushed: pushed}, {name: "latest", digest: a, pushed: pushed}}, false},
		{"untagged", `[{"name":"` + a + `","created_at":"2024-05-06T05:20:30Z","metadata":{"container":{"tags":[]}}}]`, []apiTag{}, false},
		{"not a digest", `[{"name":"latest","created_at":"2024-05-06T03:20:30Z","metadata":{"container":{"tags":["x"]}}}]`,
			[]apiTag{{name: "x", pushed: pushed}}, false},
		{"not a time", `[{"name":"` + a + `","created_at":"yesterday","metadata":{"container":{"tags":["x"]}}}]`,
			[]apiTag{{name: "x", digest: a}}, false},
		{"before 1970", `[{"name":"` + a + `","created_at":"0001-01-01T00:00:00Z","metadata":{"container":{"tags":["x"]}}}]`,
			[]apiTag{{name: "x", digest: a}}, false},
		{"an error body", `{"message":"Not Found"}`, nil, true},
		{"tags not a list", `[{"name":"` + a + `","metadata":{"container":{"tags":"x"}}}]`, nil, true},
		{"null", `null`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGHCRPage([]byte(tt.page))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(apiTag{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
