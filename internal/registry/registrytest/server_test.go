package registrytest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func seed(t *testing.T, s *Server, repo string, tags ...string) {
	t.Helper()
	m := map[string]time.Time{}
	for i, tag := range tags {
		m[tag] = t0.Add(time.Duration(i) * time.Hour)
	}
	if _, err := PushTags(context.Background(), s.Repo(repo), m); err != nil {
		t.Fatal(err)
	}
}

// get fetches path from s and decodes a tag list, returning the Link header.
func get(t *testing.T, s *Server, path string) (int, []string, string) {
	t.Helper()
	resp, err := http.Get(s.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Tags []string }
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, list.Tags, resp.Header.Get("Link")
}

// The page rewrite is what makes pagination testable at all (ggcr's
// registry sends no Link header), so its edges are pinned here.
func TestTagsPagination(t *testing.T) {
	s := NewServer(ServerOptions{PageSize: 2})
	defer s.Close()
	seed(t, s, "acme/app", "a", "b", "c", "d", "e")

	tests := []struct {
		query    string
		wantTags []string
		wantLink string
	}{
		{"", []string{"a", "b"}, `</v2/acme/app/tags/list?last=b&n=2>; rel="next"`},
		{"?n=1000", []string{"a", "b"}, `</v2/acme/app/tags/list?last=b&n=2>; rel="next"`},
		{"?n=1", []string{"a"}, `</v2/acme/app/tags/list?last=a&n=1>; rel="next"`},
		{"?n=2&last=b", []string{"c", "d"}, `</v2/acme/app/tags/list?last=d&n=2>; rel="next"`},
		{"?n=2&last=d", []string{"e"}, ""},
		{"?n=2&last=bb", []string{"c", "d"}, `</v2/acme/app/tags/list?last=d&n=2>; rel="next"`},
		{"?n=2&last=e", []string{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, tags, link := get(t, s, "/v2/acme/app/tags/list"+tt.query)
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if diff := cmp.Diff(tt.wantTags, tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if link != tt.wantLink {
				t.Errorf("Link = %q, want %q", link, tt.wantLink)
			}
		})
	}
	if code, _, _ := get(t, s, "/v2/acme/nope/tags/list"); code != http.StatusNotFound {
		t.Errorf("unknown repository: status %d, want 404", code)
	}
}

func TestAuthFailAndCounts(t *testing.T) {
	s := NewServer(ServerOptions{Username: "ci", Password: "hunter22"})
	defer s.Close()
	auth := remote.WithAuth(&authn.Basic{Username: "ci", Password: "hunter22"})
	if _, err := Push(context.Background(), s.Repo("acme/app:v1"), t0, auth); err != nil {
		t.Fatal(err)
	}
	if _, err := Push(context.Background(), s.Repo("acme/app:v1"), t0); err == nil {
		t.Error("push without credentials succeeded")
	}

	s.ResetCounts()
	if code, _, _ := get(t, s, "/v2/acme/app/tags/list"); code != http.StatusUnauthorized {
		t.Errorf("no credentials: status %d, want 401", code)
	}
	s.Update(func(o *ServerOptions) {
		o.Username = ""
		o.Fail = func(r *http.Request) int {
			if k, _ := KindOf(r); k == KindManifestGet {
				return http.StatusTeapot
			}
			return 0
		}
	})
	if code, tags, _ := get(t, s, "/v2/acme/app/tags/list"); code != http.StatusOK || len(tags) != 1 {
		t.Errorf("open again: status %d, tags %v", code, tags)
	}
	resp, err := http.Get(s.URL() + "/v2/acme/app/manifests/v1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("Fail: status %d, want 418", resp.StatusCode)
	}

	got := s.Counts()
	want := Counts{
		ByKind:         map[Kind]int{KindTagsList: 2, KindManifestGet: 1},
		TagsListByRepo: map[string]int{"acme/app": 2},
		Total:          3,
		MaxInFlight:    1,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Counts{}, "First", "Last")); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	if got.First.IsZero() || got.Last.Before(got.First) {
		t.Errorf("first request at %v, last at %v", got.First, got.Last)
	}
}

// Throttle answers 429 with Retry-After once its bucket is empty, and
// counts those answers.
func TestThrottle(t *testing.T) {
	s := NewServer(ServerOptions{Throttle: Throttle{RPS: 0.01, Burst: 2}})
	defer s.Close()
	var codes []int
	var retryAfter string
	for range 4 {
		resp, err := http.Get(s.URL() + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			retryAfter = resp.Header.Get("Retry-After")
		}
	}
	if want := []int{200, 200, 429, 429}; !cmp.Equal(codes, want) {
		t.Errorf("answers %v, want %v", codes, want)
	}
	// A token every 100 s: the next is 100 s away, give or take the time
	// the requests took.
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 99 || n > 100 {
		t.Errorf("Retry-After %q, want about 100", retryAfter)
	}
	if c := s.Counts(); c.Throttled != 2 || c.Total != 4 {
		t.Errorf("%d throttled of %d, want 2 of 4", c.Throttled, c.Total)
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		method, path string
		kind         Kind
		repo         string
	}{
		{"GET", "/v2/", KindPing, ""},
		{"GET", "/v2/a/b/tags/list", KindTagsList, "a/b"},
		{"GET", "/v2/a/manifests/v1", KindManifestGet, "a"},
		{"HEAD", "/v2/a/manifests/sha256:00", KindManifestHead, "a"},
		{"PUT", "/v2/a/manifests/v1", KindManifestPut, "a"},
		{"HEAD", "/v2/a/b/blobs/sha256:00", KindBlob, "a/b"},
		{"POST", "/v2/a/blobs/uploads/", KindBlob, "a"},
		{"GET", "/api/v2.0/projects/a/repositories/b/artifacts", KindAPI, ""},
		{"GET", "/healthz", KindOther, ""},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(tt.method, "http://127.0.0.1"+tt.path, nil)
		if k, repo := KindOf(r); k != tt.kind || repo != tt.repo {
			t.Errorf("KindOf(%s %s) = %q, %q; want %q, %q", tt.method, tt.path, k, repo, tt.kind, tt.repo)
		}
	}
}

// Seeding hundreds of tags must stay cheap, or tests of scale get slow:
// one image per distinct created time, the rest manifest PUTs.
func TestPushTagsMany(t *testing.T) {
	s := NewServer(ServerOptions{})
	defer s.Close()
	tags := map[string]time.Time{}
	for i := range 300 {
		tags[fmt.Sprintf("build-%03d", i)] = t0.Add(time.Duration(i%3) * time.Hour)
	}
	start := time.Now()
	digests, err := PushTags(context.Background(), s.Repo("acme/many"), tags)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("PushTags took %v", d)
	}
	distinct := map[string]bool{}
	for _, d := range digests {
		distinct[d] = true
	}
	if len(digests) != 300 || len(distinct) != 3 {
		t.Errorf("got %d digests, %d distinct; want 300, 3", len(digests), len(distinct))
	}
	c := s.Counts()
	if c.ByKind[KindManifestPut] != 300 {
		t.Errorf("manifest PUTs = %d, want 300", c.ByKind[KindManifestPut])
	}
	if c.ByKind[KindBlob] > 3*8 {
		t.Errorf("blob requests = %d, want only those of 3 images", c.ByKind[KindBlob])
	}
	code, got, _ := get(t, s, "/v2/acme/many/tags/list")
	if code != http.StatusOK || len(got) != 300 {
		t.Errorf("listed %d tags (status %d), want 300", len(got), code)
	}

	// Same image again: deterministic digest, nothing uploaded.
	s.ResetCounts()
	d, err := Push(context.Background(), s.Repo("acme/many:build-000"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if d != digests["build-000"] {
		t.Errorf("re-push digest %s, want %s", d, digests["build-000"])
	}
	if n := s.Counts().ByKind[KindBlob]; n != 0 {
		t.Errorf("re-push made %d blob requests, want 0", n)
	}
}

func TestImageSeed(t *testing.T) {
	a, _ := Image(t0, "")
	b, _ := Image(t0.In(time.FixedZone("x", 3600)), "")
	c, _ := Image(t0, "other")
	da, _ := a.Digest()
	db, _ := b.Digest()
	dc, _ := c.Digest()
	if da != db {
		t.Error("same instant in another zone gave another image")
	}
	if da == dc {
		t.Error("another seed gave the same image")
	}
	cf, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cf.Created.Time.Equal(t0) {
		t.Errorf("created = %v, want %v", cf.Created, t0)
	}
}

// ListTimes serves GCR's "manifest" map: for each tag of the page, the
// digest it names, with the image's build time ("0" for an index).
func TestListTimes(t *testing.T) {
	s := NewServer(ServerOptions{ListTimes: true, PageSize: 2})
	defer s.Close()
	ctx := context.Background()
	digests, err := PushTags(ctx, s.Repo("acme/app"), map[string]time.Time{"a": t0, "b": t0, "c": t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := PushIndex(ctx, s.Repo("acme/app:m"), nil, []Child{{OS: "linux", Architecture: "amd64", Created: t0}})
	if err != nil {
		t.Fatal(err)
	}
	page := func(path string) map[string]listedManifest {
		t.Helper()
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Tags     []string
			Manifest map[string]listedManifest
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return body.Manifest
	}
	ms := func(tm time.Time) string { return fmt.Sprint(tm.UnixMilli()) }
	const manifestType = "application/vnd.oci.image.manifest.v1+json"
	first := page("/v2/acme/app/tags/list")
	for _, m := range first {
		if m.Uploaded == "" || m.Size == "" {
			t.Errorf("entry without timeUploadedMs or imageSizeBytes: %+v", m)
		}
	}
	want := map[string]listedManifest{digests["a"]: {MediaType: manifestType, Tags: []string{"a", "b"}, Created: ms(t0)}}
	stable := func(in map[string]listedManifest) map[string]listedManifest {
		out := map[string]listedManifest{}
		for d, m := range in {
			m.Uploaded, m.Size = "", ""
			out[d] = m
		}
		return out
	}
	if diff := cmp.Diff(want, stable(first)); diff != "" {
		t.Errorf("first page (-want +got):\n%s", diff)
	}
	want = map[string]listedManifest{
		digests["c"]: {MediaType: manifestType, Tags: []string{"c"}, Created: ms(t0.Add(time.Hour))},
		idx:          {MediaType: "application/vnd.oci.image.index.v1+json", Tags: []string{"m"}, Created: "0"},
	}
	if diff := cmp.Diff(want, stable(page("/v2/acme/app/tags/list?n=2&last=b"))); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
}

// Harbor serves the artifact list of Harbor's API: one artifact per digest
// with its tags, newest push first, in pages linked as Harbor links them,
// for a repository name escaped twice.
func TestHarbor(t *testing.T) {
	s := NewServer(ServerOptions{Harbor: true})
	defer s.Close()
	ctx := context.Background()
	repo := s.Repo("acme/team/app")
	digests, err := PushTags(ctx, repo, map[string]time.Time{"a": t0, "b": t0, "c": t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := PushIndex(ctx, repo+":m", nil, []Child{{OS: "linux", Architecture: "amd64", Created: t0}})
	if err != nil {
		t.Fatal(err)
	}
	const base = "/api/v2.0/projects/acme/repositories/team%252Fapp"
	type page struct {
		code  int
		arts  []HarborArtifact
		link  string
		total string
	}
	get := func(path string) page {
		t.Helper()
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		p := page{code: resp.StatusCode, link: resp.Header.Get("Link"), total: resp.Header.Get("X-Total-Count")}
		if resp.StatusCode == http.StatusOK && strings.Contains(path, "/artifacts") {
			if err := json.NewDecoder(resp.Body).Decode(&p.arts); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	// What does not depend on the clock.
	stable := func(arts []HarborArtifact) []HarborArtifact {
		out := []HarborArtifact{}
		for _, a := range arts {
			if a.PushTime.IsZero() || a.Size == 0 || a.ID == 0 {
				t.Errorf("artifact without push_time, size or id: %+v", a)
			}
			a.PushTime, a.Size, a.ID = time.Time{}, 0, 0
			for i := range a.Tags {
				a.Tags[i].PushTime = time.Time{}
			}
			out = append(out, a)
		}
		return out
	}
	const (
		ociManifest = "application/vnd.oci.image.manifest.v1+json"
		ociConfig   = "application/vnd.oci.image.config.v1+json"
		ociIndex    = "application/vnd.oci.image.index.v1+json"
	)
	image := func(digest string, created time.Time, tags ...string) HarborArtifact {
		a := HarborArtifact{Type: "IMAGE", MediaType: ociConfig, ManifestMediaType: ociManifest, RepositoryName: "acme/team/app", Digest: digest,
			ExtraAttrs: map[string]any{"created": created.Format(time.RFC3339), "os": "linux", "architecture": "amd64"}}
		for _, tag := range tags {
			a.Tags = append(a.Tags, HarborTag{Name: tag})
		}
		return a
	}

	first := get(base + "/artifacts?page_size=2&q=tags%3D*")
	if first.code != http.StatusOK || first.total != "3" {
		t.Fatalf("first page: status %d, X-Total-Count %q", first.code, first.total)
	}
	if want := `<` + base + `/artifacts?page=2&page_size=2&q=tags=*>; rel="next"`; first.link != want {
		t.Errorf("Link = %q, want %q", first.link, want)
	}
	children := first.arts[0].References
	want := []HarborArtifact{
		{Type: "IMAGE", MediaType: ociIndex, ManifestMediaType: ociIndex, RepositoryName: "acme/team/app", Digest: idx,
			References: children, Tags: []HarborTag{{Name: "m"}}},
		image(digests["c"], t0.Add(time.Hour), "c"),
	}
	if diff := cmp.Diff(want, stable(first.arts)); diff != "" {
		t.Errorf("first page (-want +got):\n%s", diff)
	}
	if len(children) != 1 || children[0].Platform == nil || *children[0].Platform != (HarborPlatform{OS: "linux", Architecture: "amd64"}) {
		t.Errorf("references %+v", children)
	}

	second := get(base + "/artifacts?page=2&page_size=2")
	if want := `<` + base + `/artifacts?page=1&page_size=2>; rel="prev"`; second.link != want {
		t.Errorf("Link = %q, want %q", second.link, want)
	}
	if diff := cmp.Diff([]HarborArtifact{image(digests["a"], t0, "a", "b")}, stable(second.arts)); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
	// Harbor links back only to a page that holds something.
	if p := get(base + "/artifacts?page=3&page_size=2"); p.code != http.StatusOK || len(p.arts) != 0 || p.link != "" {
		t.Errorf("past the end: %+v", p)
	}
	if p := get(base + "/artifacts?with_tag=false"); len(p.arts) != 3 || p.arts[0].Tags != nil || p.link != "" {
		t.Errorf("with_tag=false, default page size: %+v", p)
	}

	for _, tt := range []struct {
		path string
		code int
	}{
		{base, http.StatusOK},
		{"/api/v2.0/projects/acme/repositories/nope", http.StatusNotFound},
		{"/api/v2.0/projects/acme/repositories/team%2Fapp/artifacts", http.StatusNotFound}, // escaped once
		{base + "/artifacts?page_size=101", http.StatusBadRequest},
		{base + "/artifacts?page=0", http.StatusBadRequest},
	} {
		if p := get(tt.path); p.code != tt.code {
			t.Errorf("%s: status %d, want %d", tt.path, p.code, tt.code)
		}
	}

	s.Update(func(o *ServerOptions) { o.Username, o.Password = "robot$ci", "hunter22" })
	if p := get(base + "/artifacts"); p.code != http.StatusUnauthorized {
		t.Errorf("no credentials: status %d", p.code)
	}
	s.Update(func(o *ServerOptions) { o.Username, o.Harbor = "", false })
	if p := get(base + "/artifacts"); p.code != http.StatusNotFound {
		t.Errorf("Harbor off: status %d, want 404", p.code)
	}
	if n := s.Counts().ByKind[KindAPI]; n != 11 {
		t.Errorf("%d API requests counted, want 11", n)
	}
}
