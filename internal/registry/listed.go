package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
// a *listing records the map there. What it records is used as if the
// client had resolved each tag itself during the run (see
// entry.putListing), with one caution: a creation time is taken only for a
// single image's manifest, never for an index, whose creation time this
// client defines as its own annotation or its linux/amd64 image's (see
// Info), which a registry's figure for the index need not be. A zero time
// is taken as "not said". Everything else is still learnt the usual way.
//
// The same layer holds each listing to its limits (see limits.go), which
// is why every page is read there, map or not.

// listing is one repository's listing in progress: what its pages said of
// their tags beyond their names, and what they have cost against the
// limits (see limits.go). listingTap reads every page of it.
type listing struct {
	listed *listedImages
	limits Limits
	// maxTags is the most tags kept: MaxTags, or Limits.ListTags when
	// MaxTags allows more (then hard is set, and a listing with more
	// fails rather than being cut short with a warning).
	maxTags int
	hard    bool

	mu      sync.Mutex
	kept    int               // tags handed to the lister
	over    bool              // a page had more tags than maxTags allows
	skipped int               // tags that are not valid tags
	bytes   int64             // of all pages read
	read    map[[32]byte]bool // pages read, by a hash of their URL
	cursors map[[32]byte]bool // hashes of the "last" cursors of the pages read
}

func newListing(limits Limits, maxTags int) *listing {
	ls := &listing{listed: &listedImages{}, limits: limits, maxTags: maxTags}
	if maxTags <= 0 || maxTags > limits.ListTags {
		ls.maxTags, ls.hard = limits.ListTags, true
	}
	return ls
}

// restart is a listing of the same repository with the same limits and
// nothing read yet: for listing it again another way.
func (ls *listing) restart() *listing {
	return &listing{listed: &listedImages{}, limits: ls.limits, maxTags: ls.maxTags, hard: ls.hard}
}

type listingKey struct{}

func withListing(ctx context.Context, ls *listing) context.Context {
	return context.WithValue(ctx, listingKey{}, ls)
}

func listingFrom(ctx context.Context) *listing {
	ls, _ := ctx.Value(listingKey{}).(*listing)
	return ls
}

// listedImages collects what the pages of one listing said about its tags.
type listedImages struct {
	mu    sync.Mutex
	byTag map[string]listedImage
}

type listedImage struct {
	digest  string    // "": the listing did not say
	created time.Time // zero: the listing did not say (or is not trusted for it)
	// pushed is when the registry received the tag (not the image: a tag
	// moved to an old image is pushed when it moved); zero: not said.
	pushed time.Time
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

// len is how many tags are recorded.
func (l *listedImages) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byTag)
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

// listingTap sits under ggcr's transports (and over the limiter) and
// reads every tag list page of a listing whose context carries a *listing
// before ggcr's lister does: it refuses a page already read, counts the
// bytes of all pages against their limit, passes over tags that are not
// valid tags, keeps no more than the listing's cap, records the "manifest"
// map, and hands the lister a page of the kept tags alone.
type listingTap struct{ next http.RoundTripper }

func (t listingTap) RoundTrip(req *http.Request) (*http.Response, error) {
	ls := listingFrom(req.Context())
	if ls == nil || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/tags/list") {
		return t.next.RoundTrip(req)
	}
	key, cursor := pageKey(req.URL)
	if err := ls.fresh(key, cursor); err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	// The limiter below bounds the body to one page's limit.
	buf, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	slim, err := ls.page(key, cursor, buf)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(slim))
	resp.ContentLength = int64(len(slim))
	return resp, nil
}

// pageKey names a page by a hash of its path and query (in a fixed
// order), and returns a hash of its "last" cursor, the one the
// distribution API pages by (zero when it has none). Hashes, since a
// registry chooses the URLs, of any length, and a listing may read
// thousands.
func pageKey(u *url.URL) (key, cursor [32]byte) {
	q := u.Query()
	key = sha256.Sum256([]byte(u.Path + "?" + q.Encode()))
	if last := q.Get("last"); last != "" {
		cursor = sha256.Sum256([]byte(last))
	}
	return key, cursor
}

// fresh fails for a page already read: a Link that leads back to it
// would be followed for ever.
func (ls *listing) fresh(key, cursor [32]byte) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.read[key] || cursor != [32]byte{} && ls.cursors[cursor] {
		return &LimitError{Msg: "the registry's Link header leads back to a tag list page already read (each page is read once)"}
	}
	return nil
}

// page reads one page of the listing and returns what the lister above
// gets instead: {"tags":[...]} with the valid tags within the cap.
func (ls *listing) page(key, cursor [32]byte, buf []byte) ([]byte, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.read == nil {
		ls.read, ls.cursors = map[[32]byte]bool{}, map[[32]byte]bool{}
	}
	ls.read[key] = true
	if cursor != [32]byte{} {
		ls.cursors[cursor] = true
	}
	ls.bytes += int64(len(buf))
	if ls.bytes > ls.limits.TagList {
		return nil, &LimitError{What: "tag list", Limit: size(ls.limits.TagList), Why: "all pages together"}
	}
	tags, err := ls.parse(buf)
	if err != nil {
		return nil, fmt.Errorf("reading a tag list page: %w", err)
	}
	if ls.over && ls.hard {
		return nil, &LimitError{What: "tag list", Limit: fmt.Sprintf("%d tags", ls.maxTags)}
	}
	return json.Marshal(struct {
		Tags []string `json:"tags"`
	}{tags})
}

// validTag reports whether s is short enough to be a tag: the OCI
// distribution spec allows 128 characters at most. A longer "tag" cannot
// be pulled by name, and is passed over, unseen, rather than held or
// shown; other invalid tags are short, and are judged (and named) by the
// policies as any other candidate.
func validTag(s string) bool {
	return len(s) <= MaxTagLength
}

// parse reads a page token by token, so that a page of millions of tags
// costs no more memory than the tags kept: the tags array, and the
// "manifest" map of registries that send one (see above). Other keys are
// passed over. Called with ls.mu held.
func (ls *listing) parse(buf []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(buf))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	tags := []string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok {
		case "tags":
			if tags, err = ls.parseTags(dec, tags); err != nil {
				return nil, fmt.Errorf("tags: %w", err)
			}
		case "manifest":
			if err := ls.parseManifest(dec); err != nil {
				return nil, fmt.Errorf("manifest: %w", err)
			}
		default:
			if err := skipValue(dec); err != nil {
				return nil, err
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	return tags, nil
}

func (ls *listing) parseTags(dec *json.Decoder, tags []string) ([]string, error) {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return tags, err // null: no tags, as some registries say it
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.New("not an array")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		tag, ok := tok.(string)
		switch {
		case !ok:
			return nil, errors.New("an element that is not a string")
		case !validTag(tag):
			ls.skipped++
		case ls.kept >= ls.maxTags:
			ls.over = true
		default:
			tags = append(tags, tag)
			ls.kept++
		}
	}
	return tags, expectDelim(dec, ']')
}

// listedEntry is one entry of a GCR-style "manifest" map.
type listedEntry struct {
	MediaType string   `json:"mediaType"`
	Tags      []string `json:"tag"`
	Created   string   `json:"timeCreatedMs"`
}

// parseManifest records the entries of a "manifest" map, one at a time.
// Entries that do not make sense (a digest that does not parse, a time
// that is not a positive number of milliseconds) are passed over: the tag
// is then resolved the usual way. No more tags are recorded than the
// listing may keep.
func (ls *listing) parseManifest(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return skipRest(dec, tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		digest, _ := tok.(string)
		var m listedEntry
		if err := dec.Decode(&m); err != nil {
			// An entry of another shape is not worth failing the page for.
			var ute *json.UnmarshalTypeError
			if errors.As(err, &ute) {
				continue
			}
			return err
		}
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
			if validTag(tag) && ls.listed.len() < ls.maxTags {
				ls.listed.put(tag, li)
			}
		}
	}
	return expectDelim(dec, '}')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%v where %v was expected", tok, want)
	}
	return nil
}

// skipValue passes over the next value, token by token.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return skipRest(dec, tok)
}

// skipRest passes over the rest of a value whose first token was tok.
func skipRest(dec *json.Decoder, tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
	}
	return nil
}
