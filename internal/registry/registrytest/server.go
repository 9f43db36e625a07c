// Package registrytest runs a real, in-memory container registry on
// 127.0.0.1 for tests and demos, with switches for the things a registry
// client must cope with: latency, paginated tag lists, basic auth, failing
// requests. It counts what it is asked, so tests can assert how many
// requests a client made and how many it had in flight at once.
//
// It wraps go-containerregistry's pkg/registry, so manifests, blobs and tags
// behave as in a real registry. It does not import "testing": a demo program
// can seed and serve it too.
package registrytest

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"golang.org/x/time/rate"
)

// ServerOptions switch on the behaviours of a Server. The zero value is a
// plain, fast, open registry.
type ServerOptions struct {
	// Latency is added before every request is served (the wait ends early
	// if the client gives up).
	Latency time.Duration
	// LatencySpread, if > 0, adds a random part of up to this much to
	// Latency for each request, as a real registry's answers vary.
	LatencySpread time.Duration
	// PageSize, if > 0, serves tag lists in pages of at most this many tags
	// (fewer if the client asks ?n= for fewer), in sorted order, starting
	// after ?last=, with a Link header to the next page as the OCI
	// distribution spec describes.
	PageSize int
	// Username and Password, if Username is set, are demanded with HTTP
	// basic auth on every request; anything else gets 401 with a Basic
	// challenge. Pass them to Push with remote.WithAuth(&authn.Basic{...}).
	Username, Password string
	// Fail, if set, is asked about every request that passed the auth
	// check; a non-zero status makes the server answer with that status and
	// a registry-style error body instead of serving the request. KindOf
	// helps to pick requests.
	Fail func(r *http.Request) int
	// Respond, if set, is asked about every request that passed the auth
	// check and Fail; returning true means it has answered the request
	// itself (e.g. a 429 with a Retry-After header, see WriteError).
	Respond func(w http.ResponseWriter, r *http.Request) bool
	// Observe, if set, sees every request as it arrives (e.g. to record
	// headers). It must be safe for concurrent use.
	Observe func(r *http.Request)
	// TLS, if set, makes the server speak HTTPS (only) with httptest's
	// certificate for 127.0.0.1 and this configuration (e.g. ClientAuth and
	// ClientCAs to demand a client certificate). See Certificate. Unlike
	// the others, it takes effect only in NewServer.
	TLS *tls.Config
	// ListTimes makes tag lists say, as Google Container Registry's do,
	// which manifest each tag names and when its image was built: a
	// "manifest" map from digest to mediaType, tag, imageSizeBytes,
	// timeCreatedMs (the image config's "created"; "0" for an index or an
	// image that does not say) and timeUploadedMs. The server notes every
	// manifest pushed under a tag, as a registry's database would, so this
	// may be switched on and off at any time.
	ListTimes bool
	// Harbor serves, besides the registry API, the part of Harbor's own API
	// (v2.x) that lists a repository's artifacts with their tags and build
	// times, from what the server notes of pushed manifests as ListTimes
	// does. See harbor.go. It may be switched on and off at any time.
	Harbor bool
	// Throttle, when its RPS is set, holds every request (pings and token
	// exchanges included) to a token bucket, as a registry with a rate
	// limit does: a request beyond it is answered 429 TOOMANYREQUESTS with
	// Retry-After, the whole seconds until the bucket has a token again
	// (at least one). The bucket is kept across Update calls that leave
	// Throttle as it is.
	Throttle Throttle
	// DockerHub serves, besides the registry API, the part of Docker Hub's
	// API that lists a repository's tags with their push times (see
	// dockerhub.go); Quay the same of Quay's API (see quay.go), with
	// QuayToken, if set, as the bearer token it demands; ECR AWS ECR's
	// DescribeImages (see ecr.go). All serve what the server notes of
	// pushed manifests, as ListTimes does, in pages that PageSize also
	// caps, and may be switched on and off at any time.
	DockerHub bool
	Quay      bool
	QuayToken string
	ECR       bool
	// GHCR serves, besides the registry API, the part of GitHub's packages
	// API that lists a container package's versions, from what the server
	// notes of pushed manifests as ListTimes does; GHCRUsers are the
	// owners that are users rather than organisations. See ghcr.go. It may
	// be switched on and off at any time.
	GHCR      bool
	GHCRUsers []string
	// GAR serves, besides the registry API, the part of Google Artifact
	// Registry's REST API that lists an Artifact Registry repository's
	// images, from what the server notes of pushed manifests. See gar.go.
	GAR bool
	// GitLab serves, besides the registry API, the two queries of GitLab's
	// GraphQL API that find a container repository and page through its
	// tags; GitLabProjects are the projects, by full path. See gitlab.go.
	GitLab         bool
	GitLabProjects []string
	// ACR authenticates as an Azure Container Registry does (bearer
	// tokens from /oauth2/token, in place of basic auth) and serves ACR's
	// tag API, /acr/v1/{name}/_tags, from what the server notes of pushed
	// manifests. See acr.go.
	ACR bool
	// Log receives the inner registry's log lines. Default: discarded.
	Log *log.Logger
}

// Throttle is a token bucket: RPS requests per second, bursts of Burst
// (default: one second's worth).
type Throttle struct {
	RPS   float64
	Burst int
}

// Kind is what a request asks of the registry.
type Kind string

// The kinds of request counted.
const (
	KindPing         Kind = "ping"          // GET /v2/
	KindTagsList     Kind = "tags-list"     // GET /v2/<name>/tags/list
	KindManifestGet  Kind = "manifest-get"  // GET /v2/<name>/manifests/<ref>
	KindManifestHead Kind = "manifest-head" // HEAD /v2/<name>/manifests/<ref>
	KindManifestPut  Kind = "manifest-put"  // PUT (or DELETE) /v2/<name>/manifests/<ref>
	KindBlob         Kind = "blob"          // anything under /v2/<name>/blobs/
	KindAPI          Kind = "api"           // a registry's own API: under /api/ (Harbor's, Quay's), Docker Hub's, ECR's, GitHub's packages API, /acr/v1/, Artifact Registry's /v1/projects/
	KindOther        Kind = "other"
)

// KindOf tells what r asks for, and of which repository ("" if none).
func KindOf(r *http.Request) (Kind, string) {
	p := r.URL.Path
	if p == "/v2/" || p == "/v2" {
		return KindPing, ""
	}
	if strings.HasPrefix(p, "/api/") || isDockerHubPath(p) || isECRRequest(r) || isGHCRPath(p) || isACRPath(p) || isGARPath(p) {
		return KindAPI, ""
	}
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return KindOther, ""
	}
	if repo, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return KindTagsList, repo
	}
	if i := strings.LastIndex(rest, "/manifests/"); i >= 0 {
		switch r.Method {
		case http.MethodGet:
			return KindManifestGet, rest[:i]
		case http.MethodHead:
			return KindManifestHead, rest[:i]
		default:
			return KindManifestPut, rest[:i]
		}
	}
	if i := strings.LastIndex(rest, "/blobs/"); i >= 0 {
		return KindBlob, rest[:i]
	}
	return KindOther, ""
}

// Counts are the requests a Server has seen since it started or since the
// last ResetCounts, including those refused by auth or Fail.
type Counts struct {
	ByKind map[Kind]int
	// TagsListByRepo counts tag list requests (every page) per repository
	// path ("acme/app").
	TagsListByRepo map[string]int
	Total          int
	// MaxInFlight is the most requests that were being served at once.
	MaxInFlight int
	// Throttled counts the requests answered 429 by Throttle, and
	// ThrottledLate those of them answered more than a second after First.
	Throttled, ThrottledLate int
	// First and Last are when the first and the last request counted
	// arrived.
	First, Last time.Time
}

// Server is a registry on 127.0.0.1. Close it when done.
type Server struct {
	opt   ServerOptions
	inner http.Handler
	ts    *httptest.Server
	seed  *httptest.Server // plain HTTP twin of a TLS server, for seeding

	mu       sync.Mutex
	counts   Counts
	bucket   *rate.Limiter // of opt.Throttle
	bucketOf Throttle
	inFlight int
	pushed   map[string]map[string]pushedManifest // repo → tag → what it names (ListTimes, Harbor)
	pushes   int64                                // manifests noted so far, to order them

	acrTokens map[string][]string // tokens issued by the ACR token endpoint, with their scopes
	gitlabIDs map[string]int      // container repository ids handed out by the GitLab API
}

// pushedManifest is what ListTimes and Harbor serve about a tag.
type pushedManifest struct {
	Digest    string
	MediaType string
	Size      int64
	Created   time.Time // zero: an index, or an image that does not say
	Uploaded  time.Time
	Seq       int64 // order of the push among all noted

	ConfigMediaType  string        // "" for an index
	OS, Architecture string        // of the image config
	Children         []pushedChild // of an index
}

// pushedChild is a manifest an index names.
type pushedChild struct {
	Digest, MediaType, OS, Architecture string
}

// NewServer starts a registry listening on 127.0.0.1 on a free port.
func NewServer(opt ServerOptions) *Server {
	logger := opt.Log
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &Server{opt: opt, inner: registry.New(registry.Logger(logger))}
	s.resetLocked()
	if opt.TLS == nil {
		s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
		return s
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.TLS = opt.TLS.Clone()
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are what tests provoke
	s.ts.StartTLS()
	// Seeding goes around TLS (and auth, failures, counters): ggcr speaks
	// plain HTTP to 127.0.0.1, and a client certificate is what is tested.
	s.seed = httptest.NewServer(s.inner)
	return s
}

// SeedRepo is a repository path on this server for registrytest.Push and
// friends. It is Repo(path), except for a TLS server: there it reaches the
// same storage over plain HTTP on another port, without auth or counting.
func (s *Server) SeedRepo(path string) string {
	if s.seed != nil {
		return s.seed.Listener.Addr().String() + "/" + path
	}
	return s.Repo(path)
}

// Certificate is the server's certificate when it speaks HTTPS (nil
// otherwise): a client trusting it reaches the server as 127.0.0.1.
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// CertificatePEM is Certificate in PEM, as a CA bundle file holds it.
func (s *Server) CertificatePEM() []byte {
	c := s.ts.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Host is "127.0.0.1:PORT", the registry part of image references.
func (s *Server) Host() string { return s.ts.Listener.Addr().String() }

// Repo is Host()+"/"+path: a repository on this server.
func (s *Server) Repo(path string) string { return s.Host() + "/" + path }

// URL is the base URL, "http://127.0.0.1:PORT" (https with TLS).
func (s *Server) URL() string { return s.ts.URL }

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() {
	s.ts.Close()
	if s.seed != nil {
		s.seed.Close()
	}
}

// Counts returns a copy of the request counters.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts
	c.ByKind = maps.Clone(s.counts.ByKind)
	c.TagsListByRepo = maps.Clone(s.counts.TagsListByRepo)
	return c
}

// Update changes the server's switches while it runs, e.g. to seed images
// quickly and only then add latency or failures. Requests already being
// served keep the options they started with.
func (s *Server) Update(f func(o *ServerOptions)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.opt)
}

// ResetCounts zeroes the counters, e.g. after seeding images.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.counts = Counts{ByKind: map[Kind]int{}, TagsListByRepo: map[string]int{}, MaxInFlight: s.inFlight}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	kind, repo := KindOf(r)
	now := time.Now()
	s.mu.Lock()
	if s.counts.First.IsZero() {
		s.counts.First = now
	}
	s.counts.Last = now
	s.inFlight++
	s.counts.Total++
	s.counts.ByKind[kind]++
	if kind == KindTagsList {
		s.counts.TagsListByRepo[repo]++
	}
	s.counts.MaxInFlight = max(s.counts.MaxInFlight, s.inFlight)
	opt := s.opt
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	if opt.Observe != nil {
		opt.Observe(r)
	}
	if lat := opt.Latency + spread(opt.LatencySpread); lat > 0 {
		t := time.NewTimer(lat)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if opt.Throttle.RPS > 0 && s.throttled(w, r, opt.Throttle) {
		return
	}
	// The APIs of Docker Hub, Quay, ECR and GitHub check credentials of
	// their own.
	var api func(w http.ResponseWriter, r *http.Request, opt ServerOptions)
	switch {
	case opt.GHCR && isGHCRPath(r.URL.Path):
		api = s.serveGHCR
	case opt.GAR && isGARPath(r.URL.Path):
		api = s.serveGAR
	case opt.GitLab && r.URL.Path == "/api/graphql":
		api = s.serveGitLab
	case opt.ACR && r.URL.Path == acrTokenPath:
		s.serveACRToken(w, r, opt)
		return
	case opt.ACR:
		if !s.acrAuthorize(w, r, opt) {
			return
		}
		opt.Username = "" // authorized: basic auth does not apply
		if isACRPath(r.URL.Path) {
			api = s.serveACRTags
		}
	}
	ownAuth := api != nil || opt.DockerHub && isDockerHubPath(r.URL.Path) || opt.Quay && isQuayPath(r.URL.Path) || opt.ECR && isECRRequest(r)
	if opt.Username != "" && !ownAuth {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(opt.Username)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(opt.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
			writeError(w, r, http.StatusUnauthorized)
			return
		}
	}
	if opt.Fail != nil {
		if code := opt.Fail(r); code != 0 {
			writeError(w, r, code)
			return
		}
	}
	if opt.Respond != nil && opt.Respond(w, r) {
		return
	}
	switch {
	case api != nil:
		api(w, r, opt)
		return
	case opt.DockerHub && isDockerHubPath(r.URL.Path):
		s.serveDockerHub(w, r, opt)
		return
	case opt.Quay && isQuayPath(r.URL.Path):
		s.serveQuay(w, r, opt)
		return
	case opt.ECR && isECRRequest(r):
		s.serveECR(w, r, opt)
		return
	case opt.Harbor && kind == KindAPI:
		s.serveHarbor(w, r)
		return
	}
	if kind == KindManifestPut && r.Method == http.MethodPut {
		s.serveManifestPut(w, r, repo)
		return
	}
	if kind == KindTagsList && r.Method == http.MethodGet && (opt.PageSize > 0 || r.URL.RawQuery != "" || opt.ListTimes) {
		s.serveTagsPage(w, r, repo, opt.PageSize, opt.ListTimes)
		return
	}
	s.inner.ServeHTTP(w, r)
}

func spread(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// ResetThrottle fills the Throttle's bucket again, as after a long quiet
// spell.
func (s *Server) ResetThrottle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket = nil
}

// throttled takes a token from the bucket of t, or answers r 429.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, t Throttle) bool {
	now := time.Now()
	s.mu.Lock()
	if s.bucket == nil || s.bucketOf != t {
		s.bucket = rate.NewLimiter(rate.Limit(t.RPS), cmp.Or(t.Burst, max(1, int(t.RPS))))
		s.bucketOf = t
	}
	res := s.bucket.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	if wait == 0 {
		s.mu.Unlock()
		return false
	}
	res.CancelAt(now)
	s.counts.Throttled++
	if now.Sub(s.counts.First) > time.Second {
		s.counts.ThrottledLate++
	}
	s.mu.Unlock()
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	writeError(w, r, http.StatusTooManyRequests)
	return true
}

// WriteError answers r with status and the error body a registry would
// send (TOOMANYREQUESTS for 429, and so on), so that clients parse and
// classify it as they would a real one. Headers already set on w are kept.
func WriteError(w http.ResponseWriter, r *http.Request, status int) { writeError(w, r, status) }

func writeError(w http.ResponseWriter, r *http.Request, status int) {
	code := "UNKNOWN"
	switch status {
	case http.StatusUnauthorized:
		code = "UNAUTHORIZED"
	case http.StatusForbidden:
		code = "DENIED"
	case http.StatusNotFound:
		code = "NAME_UNKNOWN"
		if k, _ := KindOf(r); k == KindManifestGet || k == KindManifestHead {
			code = "MANIFEST_UNKNOWN"
		}
	case http.StatusTooManyRequests:
		code = "TOOMANYREQUESTS"
	case http.StatusServiceUnavailable:
		code = "UNAVAILABLE"
	}
	body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{
		"code": code, "message": http.StatusText(status),
	}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// serveTagsPage asks the inner registry for the whole list and serves one
// page of it: at most n tags (n <= 0: no limit of our own), fewer if the
// client asks. ggcr's registry honours ?n= and ?last= but sends no Link
// header, so a client would silently get only the first page; this serves
// every paginated request, forced or asked for.
func (s *Server) serveTagsPage(w http.ResponseWriter, r *http.Request, repo string, n int, listTimes bool) {
	q := r.URL.Query()
	if ns := q.Get("n"); ns != "" {
		v, err := strconv.Atoi(ns)
		if err != nil {
			writeError(w, r, http.StatusBadRequest)
			return
		}
		if v > 0 && (n <= 0 || v < n) {
			n = v
		}
	}
	last := q.Get("last")

	whole := r.Clone(r.Context())
	whole.URL.RawQuery = ""
	whole.RequestURI = ""
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, whole)
	if rec.Code != http.StatusOK {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		io.Copy(w, rec.Body)
		return
	}
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		writeError(w, r, http.StatusInternalServerError)
		return
	}
	slices.Sort(list.Tags)
	if last != "" {
		i, _ := slices.BinarySearch(list.Tags, last)
		for i < len(list.Tags) && list.Tags[i] <= last {
			i++
		}
		list.Tags = list.Tags[i:]
	}
	if n > 0 && len(list.Tags) > n {
		list.Tags = list.Tags[:n]
		next := url.Values{"n": {strconv.Itoa(n)}, "last": {list.Tags[n-1]}}
		w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?%s>; rel="next"`, repo, next.Encode()))
	}
	if list.Tags == nil {
		list.Tags = []string{}
	}
	if !listTimes {
		writeJSON(w, http.StatusOK, list)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Name     string                    `json:"name"`
		Tags     []string                  `json:"tags"`
		Manifest map[string]listedManifest `json:"manifest"`
	}{list.Name, list.Tags, s.listedManifests(repo, list.Tags)})
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// serveManifestPut passes a manifest push to the inner registry and, when
// it is accepted under a tag, notes what ListTimes says of the tag.
func (s *Server) serveManifestPut(w http.ResponseWriter, r *http.Request, repo string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, r, http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	io.Copy(w, rec.Body)
	ref := r.URL.Path[strings.LastIndex(r.URL.Path, "/manifests/")+len("/manifests/"):]
	if rec.Code != http.StatusCreated || strings.Contains(ref, ":") {
		return // refused, or pushed by digest: no tag to describe
	}
	sum := sha256.Sum256(body)
	pm := pushedManifest{
		Digest:    "sha256:" + hex.EncodeToString(sum[:]),
		MediaType: r.Header.Get("Content-Type"),
		Size:      int64(len(body)),
		Uploaded:  time.Now().UTC(),
	}
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"config"`
		Manifests []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Platform  struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if json.Unmarshal(body, &m) == nil {
		if m.Config.Digest != "" {
			pm.ConfigMediaType = m.Config.MediaType
			pm.Created, pm.OS, pm.Architecture = s.configInfo(repo, m.Config.Digest)
		}
		for _, c := range m.Manifests {
			pm.Children = append(pm.Children, pushedChild{c.Digest, c.MediaType, c.Platform.OS, c.Platform.Architecture})
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushes++
	pm.Seq = s.pushes
	if s.pushed == nil {
		s.pushed = map[string]map[string]pushedManifest{}
	}
	if s.pushed[repo] == nil {
		s.pushed[repo] = map[string]pushedManifest{}
	}
	s.pushed[repo][ref] = pm
}

// configInfo reads an image config from the inner registry for its
// "created" time (zero if it has none) and platform.
func (s *Server) configInfo(repo, digest string) (created time.Time, os, arch string) {
	req := httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/blobs/"+digest, nil)
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, req)
	var cfg struct {
		Created      time.Time `json:"created"`
		OS           string    `json:"os"`
		Architecture string    `json:"architecture"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &cfg) != nil {
		return time.Time{}, "", ""
	}
	return cfg.Created, cfg.OS, cfg.Architecture
}

// listedManifest is an entry of a GCR-style "manifest" map: numbers as
// decimal strings, times in milliseconds since the epoch.
type listedManifest struct {
	Size      string   `json:"imageSizeBytes"`
	MediaType string   `json:"mediaType"`
	Tags      []string `json:"tag"`
	Created   string   `json:"timeCreatedMs"`
	Uploaded  string   `json:"timeUploadedMs"`
}

// listedManifests describes the manifests that tags (one page) name.
func (s *Server) listedManifests(repo string, tags []string) map[string]listedManifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]listedManifest{}
	for _, tag := range tags {
		pm, ok := s.pushed[repo][tag]
		if !ok {
			continue
		}
		lm, ok := out[pm.Digest]
		if !ok {
			created := int64(0)
			if !pm.Created.IsZero() {
				created = pm.Created.UnixMilli()
			}
			lm = listedManifest{
				Size: strconv.FormatInt(pm.Size, 10), MediaType: pm.MediaType,
				Created: strconv.FormatInt(created, 10), Uploaded: strconv.FormatInt(pm.Uploaded.UnixMilli(), 10),
			}
		}
		lm.Tags = append(lm.Tags, tag)
		out[pm.Digest] = lm
	}
	return out
}

// SetPushed makes the listing APIs (ListTimes, Harbor and the other
// stand-ins of registries' own APIs) say that tag of repo ("acme/app") was
// received at t rather than when it was pushed here: tests need times of
// their choosing. It reports whether the server has noted a push of the
// tag.
func (s *Server) SetPushed(repo, tag string, t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	pm, ok := s.pushed[repo][tag]
	if ok {
		pm.Uploaded = t.UTC()
		s.pushed[repo][tag] = pm
	}
	return ok
}

// Note makes the listing APIs list tag of repo ("acme/app") as naming
// digest, received at pushed, without anything pushed to the registry
// itself: a listing of many thousand tags costs no pushes to set up. The
// registry API knows nothing of such a tag.
func (s *Server) Note(repo, tag, digest string, pushed time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushes++
	if s.pushed == nil {
		s.pushed = map[string]map[string]pushedManifest{}
	}
	if s.pushed[repo] == nil {
		s.pushed[repo] = map[string]pushedManifest{}
	}
	s.pushed[repo][tag] = pushedManifest{Digest: digest, MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 1000,
		Uploaded: pushed.UTC(), Seq: s.pushes, ConfigMediaType: "application/vnd.oci.image.config.v1+json", OS: "linux", Architecture: "amd64"}
}
