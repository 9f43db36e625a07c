package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// seedImagesAndIndex gives acme/app 250 tags of single images and one of
// an index ("multi"), whose creation time a listing's figure is not: this
// client's is its linux/amd64 image's, so it is always read as usual.
func seedImagesAndIndex(t *testing.T, s *registrytest.Server) (repo string, tags []string) {
	t.Helper()
	repo = s.Repo("acme/app")
	tags = tagNames(250)
	seed(t, s, "acme/app", tags...)
	amd := registrytest.Child{OS: "linux", Architecture: "amd64", Created: t0.Add(5 * time.Hour)}
	arm := registrytest.Child{OS: "linux", Architecture: "arm64", Created: t0.Add(4 * time.Hour)}
	if _, err := registrytest.PushIndex(context.Background(), repo+":multi", nil, []registrytest.Child{arm, amd}); err != nil {
		t.Fatal(err)
	}
	return repo, append(tags, "multi")
}

// images asks c for the image of every tag of repo.
func images(t *testing.T, c *registry.Client, repo string, tags []string) map[string]registry.Info {
	t.Helper()
	out := map[string]registry.Info{}
	for _, tag := range tags {
		info, err := c.Image(context.Background(), repo, tag)
		if err != nil {
			t.Fatal(err)
		}
		out[tag] = info
	}
	return out
}

// A registry whose tag list says what each tag names and when it was built
// (GCR's "manifest" map) lets a client rank tags by creation time for the
// listing alone. The answers must be exactly those a client reading each
// manifest and config would get.
func TestListedTimes(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{PageSize: 100, ListTimes: true})
	repo, tags := seedImagesAndIndex(t, s)
	// What a client gets by reading every manifest and config.
	direct := newClient(registry.Options{RPS: -1})
	want := images(t, direct, repo, tags)
	if st := direct.Stats(); st.ManifestGets < int64(len(tags)) || st.ListedImages != 0 {
		t.Fatalf("the direct client read %d manifests and %d listed times; want >= %d and 0", st.ManifestGets, st.ListedImages, len(tags))
	}

	s.ResetCounts()
	c := newClient(registry.Options{})
	tl := c.TagsOf(ctx, []string{repo})[repo]
	if tl.Err != nil {
		t.Fatal(tl.Err)
	}
	if len(tl.Tags) != len(tags) {
		t.Fatalf("listed %d tags, want %d", len(tl.Tags), len(tags))
	}
	if diff := cmp.Diff(want, images(t, c, repo, tl.Tags)); diff != "" {
		t.Errorf("Image from the listing (-direct +listed):\n%s", diff)
	}
	d, err := c.Digest(ctx, repo, "v1.7")
	if err != nil || d != want["v1.7"].Digest {
		t.Errorf("Digest(v1.7) = %s, %v; want %s", d, err, want["v1.7"].Digest)
	}
	st := c.Stats()
	if st.ListedImages != 250 {
		t.Errorf("ListedImages = %d, want 250 (every single image, not the index)", st.ListedImages)
	}
	// 3 pages; the index, its amd64 image and that image's config.
	if st.TagListPages != 3 || st.ManifestHeads != 0 || st.ManifestGets != 2 || st.BlobGets != 1 {
		t.Errorf("requests: %d tag-list pages, %d HEAD, %d manifest GET, %d blob GET; want 3, 0, 2, 1",
			st.TagListPages, st.ManifestHeads, st.ManifestGets, st.BlobGets)
	}
}

// What a listing says about its tags is kept in the cache on disk like any
// resolution: a later run within the TTL asks nothing, and a run after the
// TTL lists again and still reads no manifest.
func TestListedTimesCached(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{PageSize: 100, ListTimes: true})
	repo := s.Repo("acme/app")
	seed(t, s, "acme/app", tagNames(120)...)
	dir := t.TempDir()
	clk := &clock{t: t0.Add(100 * 24 * time.Hour)}
	first := run(t, newClient(registry.Options{CacheDir: dir, Now: clk.now, CacheTTL: time.Minute}), []string{repo})

	for _, tc := range []struct {
		name      string
		advance   time.Duration
		wantPages int64
	}{
		{"within the TTL", 0, 0},
		{"after the TTL", 2 * time.Minute, 2},
	} {
		clk.add(tc.advance)
		c := newClient(registry.Options{CacheDir: dir, Now: clk.now, CacheTTL: time.Minute, TagTTL: -1})
		got := run(t, c, []string{repo})
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("%s: answers differ (-first +now):\n%s", tc.name, diff)
		}
		st := c.Stats()
		if st.TagListPages != tc.wantPages || st.ManifestHeads+st.ManifestGets+st.BlobGets != 0 {
			t.Errorf("%s: %d tag-list pages, %d HEAD, %d GET, %d blob; want %d pages and nothing else",
				tc.name, st.TagListPages, st.ManifestHeads, st.ManifestGets, st.BlobGets, tc.wantPages)
		}
	}
}

// A map that does not make sense is passed over entry by entry: those tags
// are read the usual way, and what they resolve to is the truth.
func TestListedTimesMalformed(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{})
	repo := s.Repo("acme/app")
	built := map[string]time.Time{}
	for i, tag := range []string{"a", "b", "c", "d", "e"} {
		built[tag] = t0.Add(time.Duration(i) * time.Hour)
	}
	digests, err := registrytest.PushTags(ctx, repo, built)
	if err != nil {
		t.Fatal(err)
	}
	ms := func(tm time.Time) string { return fmt.Sprint(tm.UnixMilli()) }
	const manifestType = "application/vnd.oci.image.manifest.v1+json"
	s.Update(func(o *registrytest.ServerOptions) {
		o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
			if k, _ := registrytest.KindOf(r); k != registrytest.KindTagsList {
				return false
			}
			body, _ := json.Marshal(map[string]any{
				"name": "acme/app",
				"tags": []string{"a", "b", "c", "d", "e"},
				"manifest": map[string]any{
					// trusted: a single image with a time
					digests["a"]: map[string]any{"mediaType": manifestType, "tag": []string{"a"}, "timeCreatedMs": ms(t0)},
					// not a digest
					"latest": map[string]any{"mediaType": manifestType, "tag": []string{"b"}, "timeCreatedMs": ms(t0)},
					// not a number, and zero: the digest is taken, the time is read
					digests["c"]: map[string]any{"mediaType": manifestType, "tag": []string{"c"}, "timeCreatedMs": "yesterday"},
					digests["d"]: map[string]any{"mediaType": manifestType, "tag": []string{"d"}, "timeCreatedMs": "0"},
					// an index's figure is not taken
					digests["e"]: map[string]any{"mediaType": "application/vnd.oci.image.index.v1+json", "tag": []string{"e"}, "timeCreatedMs": ms(t0)},
				},
			})
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			return true
		}
	})
	c := newClient(registry.Options{})
	if tl := c.TagsOf(ctx, []string{repo})[repo]; tl.Err != nil {
		t.Fatal(tl.Err)
	}
	for _, tag := range []string{"a", "b", "c", "d", "e"} {
		info, err := c.Image(ctx, repo, tag)
		if err != nil {
			t.Fatal(err)
		}
		want := registry.Info{Digest: digests[tag], Created: built[tag]}
		if diff := cmp.Diff(want, info); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tag, diff)
		}
	}
	// a from the listing; b, c, d, e read: b by tag, c, d, e by the listed digest.
	if st := c.Stats(); st.ListedImages != 1 || st.ManifestGets != 4 || st.BlobGets != 4 {
		t.Errorf("ListedImages %d, manifest GETs %d, blob GETs %d; want 1, 4, 4", st.ListedImages, st.ManifestGets, st.BlobGets)
	}
}
