package registry_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// Harbor's artifact list says when each tag was pushed: the listing alone
// gives every push time, and a later run within the TTL reads them from
// the cache without a request.
func TestHarborPushTimes(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, registrytest.ServerOptions{Harbor: true})
	repo := s.Repo("acme/app")
	seedBuilds(t, repo, 3)
	want := map[string]time.Time{}
	for i, tag := range []string{"build-00", "build-01", "build-02"} {
		at := t0.Add(time.Duration(10-i) * time.Minute) // pushed in the opposite order of their builds
		if !s.SetPushed("acme/app", tag, at) {
			t.Fatalf("%s not noted", tag)
		}
		want[tag] = at
	}
	dir := t.TempDir()
	opt := registry.Options{Registries: harborSettings(s), CacheDir: dir, CacheTTL: time.Hour}
	s.ResetCounts()
	c := newClient(opt)
	tl := c.TagsOf(ctx, []string{repo})[repo]
	if tl.Err != nil || tl.API != registry.APIHarbor {
		t.Fatalf("%+v", tl)
	}
	if diff := cmp.Diff(want, tl.Pushed); diff != "" {
		t.Errorf("push times (-want +got):\n%s", diff)
	}
	if st := c.Stats(); st.Requests() != 1 {
		t.Errorf("%d requests, want the one page", st.Requests())
	}
	if !registry.PushTimes(registry.APIHarbor) || registry.PushTimes(registry.APIOCI) || registry.PushTimes("nosuch") {
		t.Error("PushTimes wrong")
	}

	s.ResetCounts()
	warm := newClient(opt)
	tl = warm.TagsOf(ctx, []string{repo})[repo]
	if diff := cmp.Diff(want, tl.Pushed); diff != "" || tl.API != registry.APIHarbor {
		t.Errorf("from the cache: api %q, push times (-want +got):\n%s", tl.API, diff)
	}
	if n := s.Counts().Total; n != 0 {
		t.Errorf("warm run sent %d requests", n)
	}

	// The tag list says no push times: Pushed is nil, not empty.
	plain := newClient(registry.Options{})
	if tl := plain.TagsOf(ctx, []string{repo})[repo]; tl.Err != nil || tl.Pushed != nil || tl.API != registry.APIOCI {
		t.Errorf("tag list: %+v", tl)
	}
}

// A cache written by a client that knew only version 1 of the records is
// still read: its digests and creation times save their requests, and its
// tag list, which does not say which API listed it, is listed again.
func TestCacheVersion1(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	repo := s.Repo("acme/app")
	digests := seed(t, s, "acme/app", "a", "b")
	dir := t.TempDir()
	now := time.Now().UTC()

	// Write what a version-1 client wrote after a newest-build run.
	c := newClient(registry.Options{CacheDir: dir, CacheTTL: time.Hour})
	run(t, c, []string{repo})
	files := cacheFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	old := map[string]any{
		"v": 1, "repo": repo,
		"tags": map[string]any{"at": now, "tags": []string{"a", "b"}},
		"tag_digests": map[string]any{
			"a": map[string]any{"digest": digests["a"], "at": now},
			"b": map[string]any{"digest": digests["b"], "at": now},
		},
		"images": map[string]any{
			digests["a"]: map[string]any{"created": t0},
			digests["b"]: map[string]any{"created": t0.Add(time.Hour)},
		},
	}
	data, _ := json.Marshal(old)
	if err := os.WriteFile(files[0], data, 0o600); err != nil {
		t.Fatal(err)
	}

	s.ResetCounts()
	c = newClient(registry.Options{CacheDir: dir, CacheTTL: time.Hour})
	got := run(t, c, []string{repo})
	counts := s.Counts().ByKind
	if counts[registrytest.KindTagsList] != 1 || counts[registrytest.KindManifestGet] != 0 || counts[registrytest.KindBlob] != 0 || counts[registrytest.KindManifestHead] != 0 {
		t.Errorf("after a version-1 cache: %v; want the tag list alone", counts)
	}
	if len(got[repo]) != 2 {
		t.Fatalf("%v", got)
	}
	var rec struct {
		V int `json:"v"`
	}
	data, _ = os.ReadFile(filepath.Join(files[0]))
	if json.Unmarshal(data, &rec) != nil || rec.V != 2 {
		t.Errorf("rewritten as %s", data)
	}
}
