package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// seeder fills the bench registry quickly. Every (repository, tag) gets
// its own image, as in a real registry, so no cache can profit from digests
// shared between repositories: one layer shared by all (uploaded once; the
// in-memory registry keeps blobs for every repository), and a config of
// its own that says when it was built. A tag costs two requests over a
// pool of keep-alive connections: a monolithic config upload and a
// manifest PUT.
type seeder struct {
	srv    *registrytest.Server
	client *http.Client
	layer  descriptor
	diffID string
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	Digest    string `json:"digest"`
}

func newSeeder(ctx context.Context, srv *registrytest.Server) (*seeder, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = 32
	s := &seeder{srv: srv, client: &http.Client{Transport: tr}}
	// The shared layer: an empty tar.
	layer := make([]byte, 1024)
	d := digestOf(layer)
	s.layer = descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Size: int64(len(layer)), Digest: d}
	s.diffID = d
	return s, s.upload(ctx, repoPath(0), layer, d)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// manifest is an image as a push needs it.
type manifest struct {
	body, config []byte
	digest       string // of the manifest
	configDigest string
}

const mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"

// image builds the image of repo built at t.
func (s *seeder) image(repo string, t time.Time) manifest {
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      t.UTC().Format(time.RFC3339Nano),
		"config":       map[string]any{"Labels": map[string]string{"org.opencontainers.image.source": "https://example.com/" + repo}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{s.diffID}},
	})
	cd := digestOf(cfg)
	body, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaTypeManifest,
		"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Size: int64(len(cfg)), Digest: cd},
		"layers":        []descriptor{s.layer},
	})
	return manifest{body: body, config: cfg, digest: digestOf(body), configDigest: cd}
}

// upload is a monolithic blob upload.
func (s *seeder) upload(ctx context.Context, repo string, blob []byte, digest string) error {
	url := fmt.Sprintf("%s/v2/%s/blobs/uploads/?digest=%s", s.srv.URL(), repo, digest)
	return s.do(ctx, http.MethodPost, url, "application/octet-stream", blob)
}

func (s *seeder) do(ctx context.Context, method, url, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	return nil
}

// put is one tag to create: repo:tag → m.
type put struct {
	repo, tag string
	m         manifest
}

// putAll pushes every tag, workers at a time.
func (s *seeder) putAll(ctx context.Context, puts []put, workers int) error {
	ch := make(chan put)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			for p := range ch {
				if err := s.put(ctx, p); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	for _, p := range puts {
		ch <- p
	}
	close(ch)
	wg.Wait()
	return firstErr
}

func (s *seeder) put(ctx context.Context, p put) error {
	if err := s.upload(ctx, p.repo, p.m.config, p.m.configDigest); err != nil {
		return err
	}
	url := fmt.Sprintf("%s/v2/%s/manifests/%s", s.srv.URL(), p.repo, p.tag)
	return s.do(ctx, http.MethodPut, url, mediaTypeManifest, p.m.body)
}

// seedCatalogue gives each of the repos repositories the T tags of the
// catalogue (see tagName).
func (s *seeder) seedCatalogue(ctx context.Context, repos, t int) error {
	puts := make([]put, 0, repos*t)
	for r := range repos {
		for i := range t {
			puts = append(puts, put{repo: repoPath(r), tag: tagName(r, i, t), m: s.image(repoPath(r), created(i))})
		}
	}
	return s.putAll(ctx, puts, 16)
}

// newTags is a set of tags pushed after the warm fill.
type newTags struct {
	refs    map[string]bool // "repo:tag" and "repo:digest"
	digests map[string]bool // manifests and config blobs of the new images
	count   int
	repos   int
}

// pushNew pushes a new develop-* and main-* tag, built after every other
// tag, to every tenth repository. round makes each call's tags newer and
// distinct.
func (s *seeder) pushNew(ctx context.Context, repos, t, round int) (*newTags, error) {
	nt := &newTags{refs: map[string]bool{}, digests: map[string]bool{}}
	i0 := (t/10+1)*10 + 1000*round // catalogue indices beyond T (newer than all), 0 mod 10
	var puts []put
	for r := 0; r < repos; r += 10 {
		nt.repos++
		for _, i := range []int{i0 + newDevelop, i0 + newMain} {
			tag := tagName(r, i, t)
			m := s.image(repoPath(r), created(i))
			puts = append(puts, put{repo: repoPath(r), tag: tag, m: m})
			nt.refs[repoPath(r)+":"+tag] = true
			nt.refs[repoPath(r)+":"+m.digest] = true
			nt.digests[m.digest] = true
			nt.digests[m.configDigest] = true
			nt.count++
		}
	}
	return nt, s.putAll(ctx, puts, 8)
}
