package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// checkListed fails for what a page parser must never keep: an empty tag,
// a digest that does not parse, a push time that is not in UTC or not of
// this era.
func checkListed(t *testing.T, name, digest string, pushed time.Time) {
	t.Helper()
	if name == "" {
		t.Fatal("empty tag kept")
	}
	if digest != "" {
		if _, err := v1.NewHash(digest); err != nil {
			t.Fatalf("digest %q kept: %v", digest, err)
		}
	}
	if !pushed.IsZero() && (pushed.Location() != time.UTC || pushed.Before(time.Unix(1, 0)) || pushed.Year() > 9999) {
		t.Fatalf("push time %v kept", pushed)
	}
}

// A page of Docker Hub's tags API is whatever the API's host sends.
func FuzzDockerHubPage(f *testing.F) {
	d := "sha256:" + strings.Repeat("a", 64)
	f.Add([]byte(`{"count":2,"next":"https://hub.docker.com/v2/namespaces/library/repositories/nginx/tags?page=2&page_size=1","previous":null,` +
		`"results":[{"name":"1.27","digest":"` + d + `","tag_last_pushed":"2024-05-01T12:00:00.123456Z","last_updated":"2024-05-01T12:00:01Z",` +
		`"images":[{"architecture":"amd64","os":"linux","digest":"` + d + `"}]}]}`))
	f.Add([]byte(`{"results":[{"name":"x","last_updated":"2020-01-01T00:00:00Z"}],"next":null}`))
	f.Add([]byte(`{"results":[{"name":"","digest":"latest","tag_last_pushed":"0001-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"results":null}`))
	f.Add([]byte(`{"message":"httperror 404: object not found","errinfo":{}}`))
	f.Fuzz(func(t *testing.T, page []byte) {
		p, err := parseDockerHubPage(page)
		if err != nil && (p.tags != nil || p.next != "") {
			t.Fatalf("page %+v with error %v", p, err)
		}
		for _, tag := range p.tags {
			checkListed(t, tag.name, tag.digest, tag.pushed)
		}
	})
}

// A page of Quay's tag API is whatever the host sends.
func FuzzQuayPage(f *testing.F) {
	d := "sha256:" + strings.Repeat("b", 64)
	f.Add([]byte(`{"tags":[{"name":"v1","reversion":false,"start_ts":1717680780,"manifest_digest":"` + d + `","is_manifest_list":false,` +
		`"size":2275314,"last_modified":"Thu, 06 Jun 2024 13:33:00 -0000"}],"page":1,"has_additional":true}`))
	f.Add([]byte(`{"tags":[{"name":"x","start_ts":1.5e9}],"has_additional":false}`))
	f.Add([]byte(`{"tags":[{"name":"x","start_ts":"1717680780"},{"name":"y","start_ts":-5},{"name":"z","start_ts":1e300}]}`))
	f.Add([]byte(`{"detail":"Not Found","error_type":"not_found","status":404}`))
	f.Fuzz(func(t *testing.T, page []byte) {
		p, err := parseQuayPage(page)
		if err != nil && (p.tags != nil || p.more) {
			t.Fatalf("page %+v with error %v", p, err)
		}
		for _, tag := range p.tags {
			checkListed(t, tag.name, tag.digest, tag.pushed)
		}
	})
}

// What a page says is read exactly.
func TestParsePages(t *testing.T) {
	d := "sha256:" + strings.Repeat("c", 64)
	hub, err := parseDockerHubPage([]byte(`{"next":"http://x/next","results":[` +
		`{"name":"a","digest":"` + d + `","tag_last_pushed":"2024-05-01T14:00:00+02:00","last_updated":"2024-06-01T00:00:00Z"},` +
		`{"name":"b","digest":"sha256:short","last_updated":"2024-06-01T00:00:00Z"},` +
		`{"name":"c","tag_last_pushed":"1969-12-31T23:59:59Z"},{"name":""}]}`))
	if err != nil {
		t.Fatal(err)
	}
	wantHub := dockerHubPage{next: "http://x/next", tags: []dockerHubTag{
		{name: "a", digest: d, pushed: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{name: "b", pushed: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
		{name: "c"},
	}}
	if diff := cmp.Diff(wantHub, hub, cmp.AllowUnexported(dockerHubPage{}, dockerHubTag{})); diff != "" {
		t.Errorf("Docker Hub (-want +got):\n%s", diff)
	}
	quay, err := parseQuayPage([]byte(`{"tags":[{"name":"a","start_ts":1714564800,"manifest_digest":"` + d + `"},` +
		`{"name":"b","start_ts":1714564800.25},{"name":"c","start_ts":"1714564800"},{"name":"d","start_ts":0}],"has_additional":true}`))
	if err != nil {
		t.Fatal(err)
	}
	wantQuay := quayPage{more: true, tags: []quayTag{
		{name: "a", digest: d, pushed: time.Unix(1714564800, 0).UTC()},
		{name: "b", pushed: time.Unix(1714564800, 25e7).UTC()},
		{name: "c"}, {name: "d"},
	}}
	if diff := cmp.Diff(wantQuay, quay, cmp.AllowUnexported(quayPage{}, quayTag{})); diff != "" {
		t.Errorf("Quay (-want +got):\n%s", diff)
	}
}
