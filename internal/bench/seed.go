package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// seeder fills the bench registry quickly: each distinct image is pushed
// once with ggcr (blobs are shared by every repository of the in-memory
// registry), and every other tag is one raw manifest PUT over a pool of
// keep-alive connections.
type seeder struct {
	srv    *registrytest.Server
	client *http.Client
}

func newSeeder(srv *registrytest.Server) *seeder {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = 32
	return &seeder{srv: srv, client: &http.Client{Transport: tr}}
}

// manifest is an image as a manifest PUT needs it.
type manifest struct {
	body      []byte
	mediaType string
	digest    string // of the manifest
	config    string // digest of the config blob
}

// images pushes one image per created time to repo (tags named "seed-N"
// there would pollute the catalogue, so it uses the given tags) and
// returns their manifests.
func (s *seeder) images(ctx context.Context, repo string, tags map[string]time.Time) (map[string]manifest, error) {
	if _, err := registrytest.PushTags(ctx, s.srv.Repo(repo), tags); err != nil {
		return nil, err
	}
	out := make(map[string]manifest, len(tags))
	for tag, t := range tags {
		img, err := registrytest.Image(t, "")
		if err != nil {
			return nil, err
		}
		m, err := manifestOf(img)
		if err != nil {
			return nil, err
		}
		out[tag] = m
	}
	return out, nil
}

func manifestOf(img v1.Image) (manifest, error) {
	body, err := img.RawManifest()
	if err != nil {
		return manifest{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return manifest{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return manifest{}, err
	}
	cd, err := img.ConfigName()
	if err != nil {
		return manifest{}, err
	}
	return manifest{body: body, mediaType: string(mt), digest: d.String(), config: cd.String()}, nil
}

// put is one tag to create: repo:tag → m.
type put struct {
	repo, tag string
	m         manifest
}

// putAll makes every tag with a manifest PUT, workers at a time.
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
	url := fmt.Sprintf("%s/v2/%s/manifests/%s", s.srv.URL(), p.repo, p.tag)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(p.m.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", p.m.mediaType)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s:%s: %s", p.repo, p.tag, resp.Status)
	}
	return nil
}

// seedCatalogue gives each of the repos repositories the T tags of the
// catalogue (see tagName).
func (s *seeder) seedCatalogue(ctx context.Context, repos, t int) error {
	first := map[string]time.Time{}
	for i := range t {
		first[tagName(0, i, t)] = created(i)
	}
	ms, err := s.images(ctx, repoPath(0), first)
	if err != nil {
		return err
	}
	byIndex := make([]manifest, t)
	for i := range t {
		byIndex[i] = ms[tagName(0, i, t)]
	}
	puts := make([]put, 0, (repos-1)*t)
	for r := 1; r < repos; r++ {
		for i := range t {
			puts = append(puts, put{repo: repoPath(r), tag: tagName(r, i, t), m: byIndex[i]})
		}
	}
	return s.putAll(ctx, puts, 16)
}

// newTags is a set of tags pushed after the warm fill.
type newTags struct {
	refs     map[string]bool // "repo:tag" and "repo:digest"
	digests  map[string]bool // manifests and config blobs of the new images
	count    int
	repos    int
	perRepos int
}

// pushNew pushes a new develop-* and main-* tag, built after every other
// tag, to every tenth repository. round makes each call's tags newer and
// distinct.
func (s *seeder) pushNew(ctx context.Context, repos, t, round int) (*newTags, error) {
	nt := &newTags{refs: map[string]bool{}, digests: map[string]bool{}, perRepos: 2}
	i0 := (t/10+1)*10 + 1000*round // catalogue indices beyond T (newer than all), 0 mod 10
	idx := []int{i0 + newDevelop, i0 + newMain}
	imgs := map[int]manifest{}
	for _, i := range idx {
		img, err := registrytest.Image(created(i), "")
		if err != nil {
			return nil, err
		}
		m, err := manifestOf(img)
		if err != nil {
			return nil, err
		}
		imgs[i] = m
		nt.digests[m.digest] = true
		nt.digests[m.config] = true
	}
	var puts []put
	for r := 0; r < repos; r += 10 {
		nt.repos++
		for _, i := range idx {
			tag := tagName(r, i, t)
			puts = append(puts, put{repo: repoPath(r), tag: tag, m: imgs[i]})
			nt.refs[repoPath(r)+":"+tag] = true
			nt.refs[repoPath(r)+":"+imgs[i].digest] = true
			nt.count++
		}
	}
	// The first tag of each image is a full push, so that its blobs exist.
	for _, i := range idx {
		p := puts[0]
		for _, q := range puts {
			if q.m.digest == imgs[i].digest {
				p = q
				break
			}
		}
		if _, err := registrytest.Push(ctx, s.srv.Repo(p.repo)+":"+p.tag, created(i)); err != nil {
			return nil, err
		}
	}
	return nt, s.putAll(ctx, puts, 8)
}
