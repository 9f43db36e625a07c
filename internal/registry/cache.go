package registry

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The cache on disk keeps what registries answered, shared by every
// repository and process of the user on the machine: one JSON file per
// registry repository, named by a hash of its canonical name, under
// <dir>/registry/v1/. It holds
//
//   - the tag list, with when it was listed: reused while younger than the
//     TTL (tags come and go);
//   - tag → digest, with when it was resolved: reused within the same TTL
//     (tags move), and afterwards still a hint that a cheap HEAD may be
//     enough;
//   - digest → creation time, for good: a digest names immutable content.
//
// A repository's file is not rewritten for every answer: a run would then
// rewrite it once per tag, reading and writing it whole each time. The tag
// list is written when it has been read; resolutions and creation times are
// written in batches that grow (after 1, 2, 4, ... up to maxBatch changes),
// and what is left at Client.Flush, which a run calls once at its end. A
// run that never flushes loses at most its last batch: the cache only saves
// requests.
//
// Files are written whole to a temporary file and renamed over the old one,
// so a reader sees an old or a new file, never half of one. Before writing,
// a process merges what is on disk (newer lists and resolutions win;
// creation times are united), under an advisory lock on the directory's
// .lock file taken for that read, merge and rename alone, so concurrent
// processes (a service's runs, a cron run, a hook) add to each other's
// work rather than one's write dropping what another wrote meanwhile.
// Where no lock can be taken, at worst one's latest additions are lost,
// never the file. A file
// that does not parse, or is of another version or repository, is ignored
// and rewritten. Nothing about credentials is stored.
//
// Everything a Client learns during its own run is reused for the rest of
// the run, TTL or not: a run sees one view of each repository.
type cache struct {
	dir     string        // "": in memory only
	ttl     time.Duration // <= 0: nothing from an earlier run is fresh
	refresh bool          // tag lists and resolutions from earlier runs are stale
	tagTTL  time.Duration // how long a resolution is trusted for creation times; <= 0: never
	start   time.Time     // when the run began
	now     func() time.Time
	stats   *counters

	mu      sync.Mutex
	entries map[string]*entry
}

const (
	// cacheVersion is the version of the records written. Version 2 adds
	// to a tag list the API that listed it and the tags' push times;
	// records of version 1 are still read (their tag lists are listed
	// again, since they do not say which API listed them). A client that
	// knows only version 1 ignores, and rewrites, records of version 2.
	cacheVersion = 2
	// cacheDirVersion names the directory of the files, which a change of
	// file name or layout would change; records of either version live
	// there.
	cacheDirVersion = 1
	// hintAge is how long an old tag → digest resolution is kept as a hint.
	hintAge = 30 * 24 * time.Hour
	// maxImages bounds the creation times kept per repository; the oldest
	// builds go first.
	maxImages = 20000
	// maxCacheFile is the largest cache file read; a bigger one is ignored.
	maxCacheFile = 64 << 20
	// maxBatch bounds the changes an entry holds unwritten between
	// flushes.
	maxBatch = 64
)

type record struct {
	V          int                  `json:"v"`
	Repo       string               `json:"repo"`
	Tags       *tagsRecord          `json:"tags,omitempty"`
	TagDigests map[string]tagDigest `json:"tag_digests,omitempty"`
	Images     map[string]imageInfo `json:"images,omitempty"`
}

type tagsRecord struct {
	At        time.Time `json:"at"`
	Tags      []string  `json:"tags"`
	MaxTags   int       `json:"max_tags,omitempty"`
	Truncated bool      `json:"truncated,omitempty"`

	// Since version 2. Want is the API chosen for the listing, API the
	// one that listed it, FellBack the one given up for it (see api.go).
	Want     string `json:"want,omitempty"`
	API      string `json:"api,omitempty"`
	FellBack string `json:"fell_back,omitempty"`
	// Pushed is when the registry received each tag, for an API that says
	// so (non-nil then, even when empty).
	Pushed map[string]time.Time `json:"pushed,omitempty"`
}

type tagDigest struct {
	Digest string    `json:"digest"`
	At     time.Time `json:"at"`
}

type imageInfo struct {
	Created time.Time `json:"created"`
}

type entry struct {
	c    *cache
	repo string
	path string // "" when in memory only

	mu      sync.Mutex
	rec     record
	version int // changes made
	saved   int // version last written
	writes  int // files written by this process, which sizes the next batch

	wmu sync.Mutex // one writer per entry in this process
}

func newCache(dir string, ttl time.Duration, refresh bool, now func() time.Time, stats *counters) *cache {
	if dir != "" {
		dir = filepath.Join(dir, "registry", "v"+strconv.Itoa(cacheDirVersion))
	}
	return &cache{dir: dir, ttl: ttl, refresh: refresh, start: now(), now: now, stats: stats, entries: map[string]*entry{}}
}

// cacheFileName is the file of a repository: a hash of its canonical name,
// so that any name makes a safe, fixed-length file name.
func cacheFileName(repo string) string {
	sum := sha256.Sum256([]byte(repo))
	return hex.EncodeToString(sum[:16]) + ".json"
}

// entry returns the cache entry of a canonical repository name, read from
// disk on first use.
func (c *cache) entry(repo string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[repo]; ok {
		return e
	}
	e := &entry{c: c, repo: repo}
	if c.dir != "" {
		e.path = filepath.Join(c.dir, cacheFileName(repo))
		e.rec = readRecord(e.path, repo)
	} else {
		e.rec = record{V: cacheVersion, Repo: repo}
	}
	c.entries[repo] = e
	return e
}

// readRecord reads a cache file; anything unreadable is an empty record.
func readRecord(path, repo string) record {
	empty := record{V: cacheVersion, Repo: repo}
	if path == "" {
		return empty
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() > maxCacheFile {
		return empty
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return empty
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil || r.V < 1 || r.V > cacheVersion || r.Repo != repo {
		return empty
	}
	r.V = cacheVersion // written back as the current version
	return r
}

// fresh reports whether something learned at t may be used without asking
// the registry again.
func (c *cache) fresh(t time.Time) bool {
	if !t.Before(c.start) {
		return true
	}
	return c.ttl > 0 && !c.refresh && c.now().Sub(t) < c.ttl
}

// cachedList is a tag list from the cache.
type cachedList struct {
	tags      []string
	truncated bool
	api       string
	fellBack  string
	pushed    map[string]time.Time
}

// tags returns a fresh tag list read under the same cap for the same
// choice of API (want).
func (e *entry) tags(maxTags int, want string) (cachedList, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.rec.Tags
	if t == nil || !e.c.fresh(t.At) || t.Want != want {
		return cachedList{}, false
	}
	if t.Truncated && t.MaxTags != maxTags || !t.Truncated && maxTags > 0 && len(t.Tags) > maxTags {
		return cachedList{}, false
	}
	e.c.stats.cachedTagLists.Add(1)
	cl := cachedList{tags: slices.Clone(t.Tags), truncated: t.Truncated, api: t.API, fellBack: t.FellBack}
	if t.Pushed != nil || PushTimes(t.API) {
		cl.pushed = map[string]time.Time{}
		for _, tag := range t.Tags {
			if p, ok := t.Pushed[tag]; ok {
				cl.pushed[tag] = p
			}
		}
	}
	return cl, true
}

// putTags records a tag list listed through api (chosen as want), and
// what the listing said of its tags (see listed.go): digests and build
// times as resolutions made now, and push times, which it returns (nil
// when api says none).
func (e *entry) putTags(tags []string, maxTags int, truncated bool, listed *listedImages, want, api, fellBack string) map[string]time.Time {
	e.mu.Lock()
	now := e.c.now()
	e.rec.Tags = &tagsRecord{At: now, Tags: slices.Clone(tags), MaxTags: maxTags, Truncated: truncated, Want: want, API: api, FellBack: fellBack}
	var pushed map[string]time.Time
	if PushTimes(api) {
		pushed = map[string]time.Time{}
	}
	for _, tag := range tags {
		li, ok := listed.get(tag)
		if !ok {
			continue
		}
		if pushed != nil && !li.pushed.IsZero() {
			pushed[tag] = li.pushed.UTC()
		}
		if li.digest == "" {
			continue
		}
		if e.rec.TagDigests == nil {
			e.rec.TagDigests = map[string]tagDigest{}
		}
		e.rec.TagDigests[tag] = tagDigest{Digest: li.digest, At: now}
		if !li.created.IsZero() {
			if e.rec.Images == nil {
				e.rec.Images = map[string]imageInfo{}
			}
			e.rec.Images[li.digest] = imageInfo{Created: li.created}
			e.c.stats.listedImages.Add(1)
		}
	}
	if pushed != nil {
		e.rec.Tags.Pushed = maps.Clone(pushed)
	}
	e.version++
	e.mu.Unlock()
	e.save(false)
	return pushed
}

// batched records a change and reports whether enough are unwritten to
// write them now. Called with e.mu held.
func (e *entry) batched() bool {
	e.version++
	return e.due()
}

// due reports whether a batch is full. Called with e.mu held.
func (e *entry) due() bool {
	return e.version-e.saved >= min(maxBatch, 1<<min(e.writes, 16))
}

// digest returns what tag resolved to when last asked, and whether that is
// fresh enough to use without asking again.
func (e *entry) digest(tag string) (digest string, fresh bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	td, ok := e.rec.TagDigests[tag]
	if !ok {
		return "", false
	}
	return td.Digest, e.c.fresh(td.At)
}

// settled returns the digest tag resolved to when that resolution is recent
// enough (tagTTL) to be trusted for ranking by creation time, whatever the
// tag-list TTL or --refresh say.
func (e *entry) settled(tag string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	td, ok := e.rec.TagDigests[tag]
	if !ok || e.c.tagTTL <= 0 {
		return "", false
	}
	return td.Digest, e.c.now().Sub(td.At) < e.c.tagTTL
}

// image returns the creation time known for a digest.
func (e *entry) image(digest string) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ii, ok := e.rec.Images[digest]
	return ii.Created, ok
}

// put records what tag (if any) resolved to and, if known, the creation
// time of the digest.
func (e *entry) put(tag, digest string, created *time.Time) {
	e.mu.Lock()
	if tag != "" {
		if e.rec.TagDigests == nil {
			e.rec.TagDigests = map[string]tagDigest{}
		}
		e.rec.TagDigests[tag] = tagDigest{Digest: digest, At: e.c.now()}
	}
	if created != nil {
		if e.rec.Images == nil {
			e.rec.Images = map[string]imageInfo{}
		}
		e.rec.Images[digest] = imageInfo{Created: created.UTC()}
	}
	due := e.batched()
	e.mu.Unlock()
	if due {
		e.save(true)
	}
}

// flush writes every entry with unwritten changes, and returns the first
// error met.
func (c *cache) flush() error {
	c.mu.Lock()
	entries := make([]*entry, 0, len(c.entries))
	for _, e := range c.entries {
		entries = append(entries, e)
	}
	c.mu.Unlock()
	var first error
	for _, e := range entries {
		if err := e.save(false); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// save writes the entry if it changed (batch: if a batch is still full once
// this writer's turn comes, rather than written meanwhile), merged with what
// other processes wrote meanwhile. Callers other than flush ignore the
// error: the cache only saves requests.
func (e *entry) save(batch bool) error {
	if e.path == "" {
		return nil
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.mu.Lock()
	v := e.version
	full := e.due()
	e.mu.Unlock()
	if v == e.saved || batch && !full {
		return nil // unchanged, or written meanwhile by another save
	}
	unlock := lockDir(filepath.Dir(e.path))
	defer unlock()
	disk := readRecord(e.path, e.repo)
	e.mu.Lock()
	merge(&e.rec, disk)
	prune(&e.rec, e.c.now())
	v = e.version
	data, err := json.Marshal(e.rec)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(e.path, data); err != nil {
		return err
	}
	e.c.stats.cacheWrites.Add(1)
	e.mu.Lock()
	e.saved = v
	e.writes++
	e.mu.Unlock()
	return nil
}

// merge adds to r what other is newer in or has besides.
func merge(r *record, other record) {
	if o := other.Tags; o != nil && (r.Tags == nil || o.At.After(r.Tags.At)) {
		r.Tags = o
	}
	for tag, od := range other.TagDigests {
		if d, ok := r.TagDigests[tag]; !ok || od.At.After(d.At) {
			if r.TagDigests == nil {
				r.TagDigests = map[string]tagDigest{}
			}
			r.TagDigests[tag] = od
		}
	}
	for dg, ii := range other.Images {
		if _, ok := r.Images[dg]; !ok {
			if r.Images == nil {
				r.Images = map[string]imageInfo{}
			}
			r.Images[dg] = ii
		}
	}
}

// prune drops resolutions too old to be a useful hint and, past
// maxImages, the creation times of the oldest builds.
func prune(r *record, now time.Time) {
	for tag, td := range r.TagDigests {
		if now.Sub(td.At) > hintAge {
			delete(r.TagDigests, tag)
		}
	}
	if len(r.Images) <= maxImages {
		return
	}
	type kv struct {
		digest  string
		created time.Time
	}
	all := make([]kv, 0, len(r.Images))
	for d, ii := range r.Images {
		all = append(all, kv{d, ii.Created})
	}
	slices.SortFunc(all, func(a, b kv) int {
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.digest, b.digest))
	})
	for _, x := range all[:len(all)-maxImages] {
		delete(r.Images, x.digest)
	}
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path: readers see the old file or the new one, whole.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
