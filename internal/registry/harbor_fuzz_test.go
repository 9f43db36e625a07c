package registry

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A page of Harbor's artifact list is whatever the host sends. Reading it
// must never panic, and must keep only digests that parse, tags that are
// not empty, and build times only where a digest is kept.
func FuzzHarborPage(f *testing.F) {
	digest := "sha256:" + strings.Repeat("a", 64)
	f.Add([]byte(`[{"digest":"` + digest + `","media_type":"application/vnd.oci.image.config.v1+json",` +
		`"manifest_media_type":"application/vnd.oci.image.manifest.v1+json","tags":[{"name":"v1"},{"name":"latest"}],` +
		`"extra_attrs":{"created":"2024-05-01T12:00:00Z","os":"linux","architecture":"amd64"}}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"errors":[{"code":"NOT_FOUND","message":"x"}]}`))
	f.Add([]byte(`[{"digest":"latest","tags":[{"name":""}],"extra_attrs":"created"}]`))
	f.Fuzz(func(t *testing.T, page []byte) {
		arts, err := parseHarborPage(page)
		if err != nil && arts != nil {
			t.Fatalf("artifacts %v with error %v", arts, err)
		}
		for _, a := range arts {
			for _, tag := range a.tags {
				if tag == "" {
					t.Fatalf("empty tag kept: %+v", a)
				}
			}
			for tag, p := range a.pushed {
				if !slices.Contains(a.tags, tag) || p.IsZero() || p.Location() != time.UTC {
					t.Fatalf("push time %v of %q kept: %+v", p, tag, a)
				}
			}
			if a.digest == "" {
				if !a.created.IsZero() {
					t.Fatalf("build time without a digest: %+v", a)
				}
				continue
			}
			if _, err := v1.NewHash(a.digest); err != nil {
				t.Fatalf("digest %q kept: %v", a.digest, err)
			}
			if !a.created.IsZero() && a.created.Location() != time.UTC {
				t.Fatalf("build time %v not in UTC", a.created)
			}
		}
	})
}

// What a page says is read exactly: digests and tags always, a build time
// only for a single image with an image config, in UTC.
func TestParseHarborPage(t *testing.T) {
	a, b := "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64)
	const (
		image  = `"media_type":"application/vnd.oci.image.config.v1+json","manifest_media_type":"application/vnd.oci.image.manifest.v1+json"`
		docker = `"media_type":"application/vnd.docker.container.image.v1+json","manifest_media_type":"application/vnd.docker.distribution.manifest.v2+json"`
		index  = `"media_type":"application/vnd.oci.image.index.v1+json","manifest_media_type":"application/vnd.oci.image.index.v1+json"`
		chart  = `"media_type":"application/vnd.cncf.helm.config.v1+json","manifest_media_type":"application/vnd.oci.image.manifest.v1+json"`
	)
	built := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name    string
		page    string
		want    []harborArtifact
		wantErr bool
	}{
		{"image", `[{"digest":"` + a + `",` + image + `,"tags":[{"name":"v1"},{"name":"latest"}],"extra_attrs":{"created":"2024-05-01T12:00:00.123456789+02:00"}}]`,
			[]harborArtifact{{tags: []string{"v1", "latest"}, digest: a, created: built}}, false},
		{"docker image", `[{"digest":"` + a + `",` + docker + `,"tags":[{"name":"v1"}],"extra_attrs":{"created":"2024-05-01T10:00:00.123456789Z"}}]`,
			[]harborArtifact{{tags: []string{"v1"}, digest: a, created: built}}, false},
		{"index", `[{"digest":"` + a + `",` + index + `,"tags":[{"name":"m"}],"extra_attrs":{"created":"2024-05-01T10:00:00Z"},"references":[{"child_digest":"` + b + `"}]}]`,
			[]harborArtifact{{tags: []string{"m"}, digest: a}}, false},
		{"chart", `[{"digest":"` + a + `",` + chart + `,"tags":[{"name":"1.0.0"}],"extra_attrs":{"created":"2024-05-01T10:00:00Z"}}]`,
			[]harborArtifact{{tags: []string{"1.0.0"}, digest: a}}, false},
		{"created null", `[{"digest":"` + a + `",` + image + `,"tags":[{"name":"x"}],"extra_attrs":{"created":null}}]`,
			[]harborArtifact{{tags: []string{"x"}, digest: a}}, false},
		{"created zero", `[{"digest":"` + a + `",` + image + `,"tags":[{"name":"x"}],"extra_attrs":{"created":"0001-01-01T00:00:00Z"}}]`,
			[]harborArtifact{{tags: []string{"x"}, digest: a}}, false},
		{"created the epoch", `[{"digest":"` + a + `",` + image + `,"tags":[{"name":"x"}],"extra_attrs":{"created":"1970-01-01T00:00:00Z"}}]`,
			[]harborArtifact{{tags: []string{"x"}, digest: a, created: time.Unix(0, 0).UTC()}}, false},
		{"created not a time", `[{"digest":"` + a + `",` + image + `,"tags":[{"name":"x"}],"extra_attrs":{"created":1714557600}}]`,
			[]harborArtifact{{tags: []string{"x"}, digest: a}}, false},
		{"digest not a digest", `[{"digest":"latest",` + image + `,"tags":[{"name":"x"},{"name":""}],"extra_attrs":{"created":"2024-05-01T10:00:00Z"}}]`,
			[]harborArtifact{{tags: []string{"x"}}}, false},
		{"push times", `[{"digest":"` + a + `",` + image + `,"tags":[{"name":"v1","push_time":"2024-05-02T08:00:00.5+02:00"},{"name":"v2","push_time":"0001-01-01T00:00:00Z"},{"name":"v3","push_time":"yesterday"},{"name":"v4","push_time":1714557600}]}]`,
			[]harborArtifact{{tags: []string{"v1", "v2", "v3", "v4"}, digest: a,
				pushed: map[string]time.Time{"v1": time.Date(2024, 5, 2, 6, 0, 0, 5e8, time.UTC)}}}, false},
		{"untagged", `[{"digest":"` + a + `"}]`, []harborArtifact{{digest: a}}, false},
		{"empty", `[]`, []harborArtifact{}, false},
		{"null", `null`, nil, false},
		{"an error body", `{"errors":[{"code":"NOT_FOUND","message":"x"}]}`, nil, true},
		{"tags not a list", `[{"digest":"` + a + `","tags":{"name":"x"}}]`, nil, true},
		{"not JSON", `<html>login</html>`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHarborPage([]byte(tt.page))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(harborArtifact{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
