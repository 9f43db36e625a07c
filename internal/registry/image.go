package registry

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// AnnotationCreated is the OCI annotation for when an image or index was
// built. For an index it is the only creation time that belongs to the
// index itself rather than to one of its images.
const AnnotationCreated = "org.opencontainers.image.created"

// Info is what a bump needs to know about one tag.
type Info struct {
	// Digest of the manifest or index exactly as the registry serves it
	// ("sha256:..."): the value to pin as "@digest".
	Digest string
	// Created is when the image was built, in UTC; zero when the image
	// does not say. For a single image it is the config's "created" (or,
	// if that is empty, the manifest's AnnotationCreated). For an index it
	// is the index's AnnotationCreated if present, else the creation time
	// of its linux/amd64 image, else of its first image; attestation
	// manifests (platform unknown/unknown) are passed over when choosing.
	Created time.Time
}

// Image reads the digest of repo:tag and the creation time of the image it
// names. tag may also be a digest ("sha256:..."). Uncached, it costs one
// manifest GET and one config blob GET (plus a child manifest GET for an
// index without the annotation).
//
// The cache answers what it can: a tag resolved within the TTL (or during
// this run) to a digest whose creation time is known costs nothing; a tag
// resolved longer ago costs one HEAD when the digest it pointed to is
// known, and nothing more if it still points there.
//
// Callers asking for the same repo and tag at once share one answer: the
// decisions of one repository (one per rule and current tag) run together
// and rank the same candidates.
func (c *Client) Image(ctx context.Context, repo, tag string) (Info, error) {
	v, err, _ := c.images.Do(repo+"\x00"+tag, func() (any, error) { return c.image(ctx, repo, tag) })
	info, _ := v.(Info)
	return info, afterDeadline(ctx, err)
}

func (c *Client) image(ctx context.Context, repo, tag string) (Info, error) {
	const op = "reading"
	ref, image, err := c.reference(op, repo, tag)
	if err != nil {
		return Info{}, err
	}
	r := ref.Context()
	ctx = c.budgetFor(ctx, r)
	fail := func(err error) (Info, error) {
		return Info{}, c.wrap(op, image, r.RegistryStr(), err)
	}
	e := c.cache.entry(r.Name())
	p, err := c.pullerFor(r)
	if err != nil {
		return fail(err)
	}

	digest, tagName := "", ""
	if d, ok := ref.(name.Digest); ok {
		digest = d.DigestStr()
	} else {
		tagName = tag
		old, fresh := e.digest(tag)
		_, oldKnown := e.image(old)
		settled, isSettled := e.settled(tag)
		switch {
		case fresh:
			digest = old
			c.stats.cachedDigests.Add(1)
		case oldKnown && isSettled && settled == old:
			// Resolved within tag_ttl: a build tag does not move, so its
			// creation time needs no request.
			digest = old
			c.stats.cachedDigests.Add(1)
		case oldKnown:
			// The tag was resolved before to an image we know: a HEAD
			// tells whether it still points there.
			d, err := c.head(ctx, p, ref, e)
			if err != nil {
				return fail(err)
			}
			digest = d
		}
	}
	if digest != "" {
		if created, ok := e.image(digest); ok {
			c.stats.cachedImages.Add(1)
			return Info{Digest: digest, Created: created}, nil
		}
		ref = r.Digest(digest)
	}

	desc, err := p.Get(ctx, ref)
	if err != nil {
		return fail(err)
	}
	info := Info{Digest: desc.Digest.String()}
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return fail(err)
		}
		info.Created, err = indexCreated(idx, 0)
		if err != nil {
			return fail(err)
		}
	default:
		// Images, and manifests served with an odd media type (which ggcr
		// reads as an image, as registries sometimes mislabel them).
		// Schema 1 manifests fail here, with ggcr's explanation.
		img, err := desc.Image()
		if err != nil {
			return fail(err)
		}
		info.Created, err = imageCreated(img)
		if err != nil {
			return fail(err)
		}
	}
	e.put(tagName, info.Digest, &info.Created)
	return info, nil
}

// Digest resolves repo:tagOrDigest to the digest of its manifest or index
// with a HEAD request: cheap, and enough to check that an image still
// exists (before a push) or that a tag has not moved. A resolution from
// within the TTL (or this run) is reused, as is a digest whose image is
// known.
func (c *Client) Digest(ctx context.Context, repo, tagOrDigest string) (string, error) {
	d, err := c.digest(ctx, repo, tagOrDigest)
	return d, afterDeadline(ctx, err)
}

func (c *Client) digest(ctx context.Context, repo, tagOrDigest string) (string, error) {
	const op = "resolving"
	ref, image, err := c.reference(op, repo, tagOrDigest)
	if err != nil {
		return "", err
	}
	r := ref.Context()
	e := c.cache.entry(r.Name())
	if d, ok := ref.(name.Digest); ok {
		if _, known := e.image(d.DigestStr()); known {
			c.stats.cachedImages.Add(1)
			return d.DigestStr(), nil
		}
	} else if d, fresh := e.digest(tagOrDigest); fresh {
		c.stats.cachedDigests.Add(1)
		return d, nil
	}
	p, err := c.pullerFor(r)
	if err != nil {
		return "", c.wrap(op, image, r.RegistryStr(), err)
	}
	d, err := c.head(c.budgetFor(ctx, r), p, ref, e)
	if err != nil {
		return "", c.wrap(op, image, r.RegistryStr(), err)
	}
	return d, nil
}

// head resolves ref with a HEAD, one per reference at a time: the many
// files of a bump that move to the same tag, and Image and Digest asking
// about the same tag, share one request. A tag's answer is kept in e, so a
// later caller finds it there and sends nothing.
func (c *Client) head(ctx context.Context, p *remote.Puller, ref name.Reference, e *entry) (string, error) {
	v, err, _ := c.heads.Do(ref.Name(), func() (any, error) {
		if t, ok := ref.(name.Tag); ok {
			// A caller that checked e just before an earlier HEAD of
			// the same tag finished.
			if d, fresh := e.digest(t.TagStr()); fresh {
				c.stats.cachedDigests.Add(1)
				return d, nil
			}
		}
		desc, err := p.Head(ctx, ref)
		if err != nil {
			return "", err
		}
		d := desc.Digest.String()
		if t, ok := ref.(name.Tag); ok {
			e.put(t.TagStr(), d, nil)
		}
		return d, nil
	})
	d, _ := v.(string)
	return d, err
}

// reference builds repo:tag, or repo@digest when tagOrDigest contains a
// colon (tags cannot), and the spelling errors should name.
func (c *Client) reference(op, repo, tagOrDigest string) (name.Reference, string, error) {
	if _, err := c.repository(op, repo); err != nil {
		return nil, "", err
	}
	image := repo + ":" + tagOrDigest
	if strings.Contains(tagOrDigest, ":") {
		image = repo + "@" + tagOrDigest
		d, err := name.NewDigest(image)
		if err != nil {
			return nil, "", c.wrap(op, image, "", fmt.Errorf("invalid digest: %w", err))
		}
		return d, image, nil
	}
	t, err := name.NewTag(image)
	if err != nil {
		return nil, "", c.wrap(op, image, "", fmt.Errorf("invalid tag: %w", err))
	}
	return t, image, nil
}

// maxIndexDepth bounds how far indexes nested in indexes are followed.
const maxIndexDepth = 3

func indexCreated(idx v1.ImageIndex, depth int) (time.Time, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return time.Time{}, err
	}
	if t, ok := annotationTime(im.Annotations); ok {
		return t, nil
	}
	child, ok := pickChild(im.Manifests)
	if !ok {
		return time.Time{}, nil
	}
	if child.MediaType.IsIndex() {
		if depth >= maxIndexDepth {
			return time.Time{}, fmt.Errorf("indexes nested deeper than %d", maxIndexDepth)
		}
		sub, err := idx.ImageIndex(child.Digest)
		if err != nil {
			return time.Time{}, err
		}
		return indexCreated(sub, depth+1)
	}
	img, err := idx.Image(child.Digest)
	if err != nil {
		return time.Time{}, err
	}
	return imageCreated(img)
}

// pickChild chooses the entry of an index whose creation time stands for
// the index: linux/amd64 if there is one (the platform most tags are built
// for first), else the first image that is not an attestation, else the
// first image, else the first nested index.
func pickChild(ms []v1.Descriptor) (v1.Descriptor, bool) {
	var firstImage, firstAny, firstIndex *v1.Descriptor
	for i := range ms {
		m := &ms[i]
		if m.MediaType.IsIndex() {
			if firstIndex == nil {
				firstIndex = m
			}
			continue
		}
		if !m.MediaType.IsImage() {
			continue
		}
		p := m.Platform
		if p != nil && p.OS == "linux" && p.Architecture == "amd64" {
			return *m, true
		}
		if firstAny == nil {
			firstAny = m
		}
		if firstImage == nil && (p == nil || p.OS != "unknown") {
			firstImage = m
		}
	}
	for _, m := range []*v1.Descriptor{firstImage, firstAny, firstIndex} {
		if m != nil {
			return *m, true
		}
	}
	return v1.Descriptor{}, false
}

func imageCreated(img v1.Image) (time.Time, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return time.Time{}, err
	}
	if !cf.Created.IsZero() {
		return cf.Created.UTC(), nil
	}
	m, err := img.Manifest()
	if err != nil {
		return time.Time{}, err
	}
	if t, ok := annotationTime(m.Annotations); ok {
		return t, nil
	}
	return time.Time{}, nil
}

func annotationTime(a map[string]string) (time.Time, bool) {
	s, ok := a[AnnotationCreated]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
