package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const garTestImage = "us-docker.pkg.dev/proj/docker/app"

// A page of Artifact Registry's images is whatever the API sends: only
// images of the name asked for give tags.
func FuzzGARPage(f *testing.F) {
	f.Add([]byte(`{"dockerImages":[{"name":"projects/proj/locations/us/repositories/docker/dockerImages/app@sha256:` + strings.Repeat("a", 64) +
		`","uri":"` + garTestImage + `@sha256:` + strings.Repeat("a", 64) + `","tags":["v1"],"imageSizeBytes":"1234",` +
		`"uploadTime":"2024-05-01T12:00:00.123456Z","mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
		`"buildTime":"2024-04-30T12:00:00Z","updateTime":"2024-05-02T12:00:00Z"}],"nextPageToken":"abc"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}`))
	f.Add([]byte(`{"dockerImages":[{"uri":"` + garTestImage + `","tags":["x"]},{"uri":"evil/` + garTestImage + `@sha256:1","tags":["y"]}]}`))
	f.Fuzz(func(t *testing.T, page []byte) {
		tags, next, err := parseGARPage(page, garTestImage)
		checkAPITags(t, tags, err)
		if err != nil && next != "" {
			t.Fatalf("next %q with error %v", next, err)
		}
		for _, tag := range tags {
			if tag.digest == "" {
				t.Fatalf("tag %q without a digest", tag.name)
			}
		}
	})
}

// An image's tags get its digest, uploadTime as the push time, and its
// buildTime only when it is a single image.
func TestParseGARPage(t *testing.T) {
	a := "sha256:" + strings.Repeat("a", 64)
	up := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	built := time.Date(2024, 4, 30, 12, 0, 0, 0, time.UTC)
	image := func(uri, mediaType string) string {
		return `{"dockerImages":[{"uri":"` + uri + `","tags":["v1","latest"],"uploadTime":"2024-05-01T12:00:00Z","buildTime":"2024-04-30T12:00:00Z","mediaType":"` + mediaType + `"}],"nextPageToken":"n"}`
	}
	const manifest, index = "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"
	tests := []struct {
		name    string
		page    string
		want    []apiTag
		wantErr bool
	}{
		{"image", image(garTestImage+"@"+a, manifest), []apiTag{{name: "v1", digest: a, pushed: up, created: built}, {name: "latest", digest: a, pushed: up, created: built}}, false},
		{"upper case host", image("US-docker.pkg.dev/proj/docker/app@"+a, manifest), []apiTag{{name: "v1", digest: a, pushed: up, created: built}, {name: "latest", digest: a, pushed: up, created: built}}, false},
		{"index", image(garTestImage+"@"+a, index), []apiTag{{name: "v1", digest: a, pushed: up}, {name: "latest", digest: a, pushed: up}}, false},
		{"another image", image(garTestImage+"2@"+a, manifest), []apiTag{}, false},
		{"an image below", image(garTestImage+"/sub@"+a, manifest), []apiTag{}, false},
		{"no digest", image(garTestImage, manifest), []apiTag{}, false},
		{"not an object", `[]`, nil, true},
		{"images not a list", `{"dockerImages":{}}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := parseGARPage([]byte(tt.page), garTestImage)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			if err == nil && next != "n" && strings.Contains(tt.page, "nextPageToken") {
				t.Errorf("next %q", next)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(apiTag{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
