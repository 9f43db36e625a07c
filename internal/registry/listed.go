package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Some registries say in the tag list itself which image each tag names
// and when it was built. Google Container Registry does: beside "tags", its
// answer to GET /v2/<name>/tags/list carries a "manifest" map from digest
// to the manifest's media type, tags, and "timeCreatedMs" (the build time
// its image config records) and "timeUploadedMs". Ranking a tag list by
// creation time elsewhere costs a manifest and a config request per tag;
// from such a listing it costs nothing more than the listing.
//
// ggcr's lister reads only "tags", so listingTap, a layer under it, reads
// the rest of the same bytes: every page of a listing whose context carries
// a *listedImages records the map there. What it records is used as if the
// client had resolved each tag itself during the run (see
// entry.putListing), with one caution: a creation time is taken only for a
// single image's manifest, never for an index, whose creation time this
// client defines as its own annotation or its linux/amd64 image's (see
// Info), which a registry's figure for the index need not be. A zero time
// is taken as "not said". Everything else is still learnt the usual way.
//
// Registries that send no such map cost nothing extra: the page is looked
// at for the key before anything is decoded.

// maxListedPage bounds the page size read to look for the map; a larger
// page is passed on untouched (and its map, if any, ignored).
const maxListedPage = 32 << 20

type listedKey struct{}

// listedImages collects what the pages of one listing said about its tags.
type listedImages struct {
	mu    sync.Mutex
	byTag map[string]listedImage
}

type listedImage struct {
	digest  string
	created time.Time // zero: the listing did not say (or is not trusted for it)
}

func withListedImages(ctx context.Context, l *listedImages) context.Context {
	return context.WithValue(ctx, listedKey{}, l)
}

func listedImagesFrom(ctx context.Context) *listedImages {
	l, _ := ctx.Value(listedKey{}).(*listedImages)
	return l
}

// get returns what the listing said of tag.
func (l *listedImages) get(tag string) (listedImage, bool) {
	if l == nil {
		return listedImage{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	li, ok := l.byTag[tag]
	return li, ok
}

// put records what a listing said of tag.
func (l *listedImages) put(tag string, li listedImage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byTag == nil {
		l.byTag = map[string]listedImage{}
	}
	l.byTag[tag] = li
}

// listingTap sits under ggcr's transports (and over the limiter) and reads
// the "manifest" map of tag list pages for the listing that asked.
type listingTap struct{ next http.RoundTripper }

func (t listingTap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || req.Method != http.MethodGet ||
		!strings.HasSuffix(req.URL.Path, "/tags/list") {
		return resp, err
	}
	l := listedImagesFrom(req.Context())
	if l == nil {
		return resp, nil
	}
	buf, rerr := io.ReadAll(io.LimitReader(resp.Body, maxListedPage+1))
	if rerr != nil || len(buf) > maxListedPage {
		// Hand on what was read and the rest (or the read error) as they are.
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), errReader{rerr}, resp.Body), resp.Body}
		return resp, nil
	}
	resp.Body.Close()
	if slim, ok := l.add(buf); ok {
		// ggcr reads only the names: spare it the map it would skip.
		buf = slim
	}
	resp.Body = io.NopCloser(bytes.NewReader(buf))
	resp.ContentLength = int64(len(buf))
	return resp, nil
}

// errReader returns err, or EOF when err is nil.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}

// listedPage is the part of a GCR-style page read here.
type listedPage struct {
	Name     string   `json:"name"`
	Tags     []string `json:"tags"`
	Manifest map[string]struct {
		MediaType string   `json:"mediaType"`
		Tags      []string `json:"tag"`
		Created   string   `json:"timeCreatedMs"`
	} `json:"manifest"`
}

// add records the "manifest" map of one page, if it has one, and returns
// the page without it (name and tags only) for the lister above. Entries
// that do not make sense (a digest that does not parse, a time that is not
// a positive number of milliseconds) are passed over: the tag is then
// resolved the usual way.
func (l *listedImages) add(page []byte) (slim []byte, ok bool) {
	if !bytes.Contains(page, []byte(`"manifest"`)) {
		return nil, false
	}
	var p listedPage
	if json.Unmarshal(page, &p) != nil || len(p.Manifest) == 0 {
		return nil, false
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	slim, err := json.Marshal(struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{p.Name, p.Tags})
	ok = err == nil
	for digest, m := range p.Manifest {
		if len(m.Tags) == 0 {
			continue
		}
		if _, err := v1.NewHash(digest); err != nil {
			continue
		}
		li := listedImage{digest: digest}
		if ms, err := strconv.ParseInt(m.Created, 10, 64); err == nil && ms > 0 && types.MediaType(m.MediaType).IsImage() {
			li.created = time.UnixMilli(ms).UTC()
		}
		for _, tag := range m.Tags {
			l.put(tag, li)
		}
	}
	return slim, ok
}
