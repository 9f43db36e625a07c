package registrytest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imageKey identifies one deterministic image.
type imageKey struct {
	created  int64 // UnixNano, so equal instants share an image whatever their zone
	seed     string
	os, arch string
}

// images caches built images: building is cheap, but a cached mutate image
// also keeps its computed digests, and the same image is pushed often.
var images sync.Map // imageKey → v1.Image

// Image returns a tiny single-layer OCI image whose config says it was
// created at created, for linux/amd64. The same (created, seed) always
// gives the same image and digest; a different seed gives a different one.
func Image(created time.Time, seed string) (v1.Image, error) {
	return platformImage(created, seed, "linux", "amd64")
}

func platformImage(created time.Time, seed, os, arch string) (v1.Image, error) {
	key := imageKey{created: created.UnixNano(), seed: seed, os: os, arch: arch}
	if img, ok := images.Load(key); ok {
		return img.(v1.Image), nil
	}
	created = created.UTC()

	// One file whose content makes the layer, and so the image, unique
	// to the key. Uncompressed, so its digest is its diff ID.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	content := fmt.Sprintf("created=%s\nseed=%s\nplatform=%s/%s\n", created.Format(time.RFC3339Nano), seed, os, arch)
	if err := tw.WriteHeader(&tar.Header{Name: "registrytest", Mode: 0o644, Size: int64(len(content)), ModTime: created, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layer := static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer)

	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture = os, arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	if _, err := img.Digest(); err != nil { // compute once, while cached
		return nil, err
	}
	actual, _ := images.LoadOrStore(key, img)
	return actual.(v1.Image), nil
}

// Push pushes Image(created, "") as ref ("host[:port]/path:tag") and
// returns its digest. opts go to ggcr's remote (e.g. remote.WithAuth for a
// server demanding basic auth); the context is ctx. Pushing the same
// image again costs a manifest HEAD.
func Push(ctx context.Context, ref string, created time.Time, opts ...remote.Option) (digest string, err error) {
	img, err := Image(created, "")
	if err != nil {
		return "", err
	}
	return PushImage(ctx, ref, img, opts...)
}

// PushImage pushes img as ref and returns its digest; with Image(t, seed)
// it makes images that share a creation time but differ in digest.
func PushImage(ctx context.Context, ref string, img v1.Image, opts ...remote.Option) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	p, err := remote.NewPusher(append(opts, remote.WithContext(ctx))...)
	if err != nil {
		return "", err
	}
	if err := p.Push(ctx, r, img); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// PushTags gives repo ("host[:port]/path") every tag in tags, each pointing
// at Image(created, ""), and returns the digest of each tag. Each distinct
// created time is pushed once; its other tags cost one manifest PUT each,
// so hundreds of tags take well under a second.
func PushTags(ctx context.Context, repo string, tags map[string]time.Time, opts ...remote.Option) (map[string]string, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return nil, err
	}
	p, err := remote.NewPusher(append(opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(tags))
	for t := range tags {
		names = append(names, t)
	}
	slices.Sort(names) // deterministic order of pushes

	out := make(map[string]string, len(tags))
	pushed := map[int64]bool{}
	for _, t := range names {
		created := tags[t]
		img, err := Image(created, "")
		if err != nil {
			return nil, err
		}
		tag := r.Tag(t)
		if pushed[created.UnixNano()] {
			err = p.Put(ctx, tag, img)
		} else {
			err = p.Push(ctx, tag, img)
			pushed[created.UnixNano()] = true
		}
		if err != nil {
			return nil, fmt.Errorf("pushing %s: %w", tag, err)
		}
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		out[t] = d.String()
	}
	return out, nil
}

// Child is one image of an index pushed by PushIndex.
type Child struct {
	OS, Architecture string
	Created          time.Time
}

// PushIndex pushes an OCI image index as ref, with one image per child (in
// that order, each with its platform in the index) and the given index
// annotations (e.g. "org.opencontainers.image.created"; nil for none).
// A child with OS "unknown" stands for a build attestation. It returns the
// digest of the index.
func PushIndex(ctx context.Context, ref string, annotations map[string]string, children []Child, opts ...remote.Option) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, c := range children {
		img, err := platformImage(c.Created, "", c.OS, c.Architecture)
		if err != nil {
			return "", err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: c.OS, Architecture: c.Architecture}},
		})
	}
	if len(annotations) > 0 {
		idx = mutate.Annotations(idx, annotations).(v1.ImageIndex)
	}
	p, err := remote.NewPusher(append(opts, remote.WithContext(ctx))...)
	if err != nil {
		return "", err
	}
	if err := p.Push(ctx, r, idx); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}
