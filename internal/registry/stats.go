package registry

import (
	"net/http"
	"strings"
	"sync/atomic"
)

// Stats count what a Client did since it was made: the requests it sent to
// registries, by kind, every attempt counted (retries, pings and token
// exchanges included), and what the cache answered instead.
type Stats struct {
	// TagListPages counts the pages of tag listings: GET .../tags/list, or
	// for a host with API "harbor" GET .../artifacts of Harbor's API (see
	// harbor.go), which takes the tag list's place, one per page; and
	// the pages of a listing through another API (see api.go).
	TagListPages  int64
	ManifestHeads int64 // HEAD .../manifests/<ref>
	ManifestGets  int64 // GET .../manifests/<ref>
	BlobGets      int64 // GET .../blobs/<digest> (image configs)
	Pings         int64 // GET /v2/, once per scheme and host per run (authentication handshake)
	Other         int64 // token exchanges with an auth server, and the rest
	Retries       int64 // attempts repeated after a 429, 5xx or dropped connection
	// RateLimited counts 429 answers received, retried or not: a request
	// whose 429 was retried and then answered is no failure, and only a
	// request that failed in the end is reported as rate limited.
	RateLimited int64

	CachedTagLists int64 // tag lists answered from the cache
	CachedDigests  int64 // tag → digest answered from the cache
	CachedImages   int64 // digest → creation time answered from the cache
	ListedImages   int64 // creation times read from tag lists that carry them (see listed.go)
	CacheWrites    int64 // cache files written (one per repository, batch or flush)
}

// Requests is the number of HTTP requests sent, of every kind.
func (s Stats) Requests() int64 {
	return s.TagListPages + s.ManifestHeads + s.ManifestGets + s.BlobGets + s.Pings + s.Other
}

type counters struct {
	tagListPages, manifestHeads, manifestGets, blobGets, pings, other atomic.Int64
	retries, rateLimited                                              atomic.Int64
	cachedTagLists, cachedDigests, cachedImages, listedImages         atomic.Int64
	cacheWrites                                                       atomic.Int64
}

// count records one attempt of req by what its path asks for.
func (c *counters) count(req *http.Request) {
	p := req.URL.Path
	switch {
	case isAPIPage(req):
		c.tagListPages.Add(1)
	case p == "/v2/" || p == "/v2":
		c.pings.Add(1)
	case strings.HasPrefix(p, harborAPIPrefix) && strings.HasSuffix(p, "/artifacts"):
		c.tagListPages.Add(1)
	case !strings.HasPrefix(p, "/v2/"):
		c.other.Add(1)
	case strings.HasSuffix(p, "/tags/list"):
		c.tagListPages.Add(1)
	case strings.Contains(p, "/manifests/"):
		if req.Method == http.MethodHead {
			c.manifestHeads.Add(1)
		} else {
			c.manifestGets.Add(1)
		}
	case strings.Contains(p, "/blobs/"):
		c.blobGets.Add(1)
	default:
		c.other.Add(1)
	}
}

func (c *counters) snapshot() Stats {
	return Stats{
		TagListPages: c.tagListPages.Load(), ManifestHeads: c.manifestHeads.Load(),
		ManifestGets: c.manifestGets.Load(), BlobGets: c.blobGets.Load(),
		Pings: c.pings.Load(), Other: c.other.Load(),
		Retries: c.retries.Load(), RateLimited: c.rateLimited.Load(),
		CachedTagLists: c.cachedTagLists.Load(), CachedDigests: c.cachedDigests.Load(), CachedImages: c.cachedImages.Load(),
		ListedImages: c.listedImages.Load(),
		CacheWrites:  c.cacheWrites.Load(),
	}
}
