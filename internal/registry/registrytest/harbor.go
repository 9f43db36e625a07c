package registrytest

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With ServerOptions.Harbor the server answers, besides the registry API,
// two requests of Harbor's own API (v2.x):
//
//	GET /api/v2.0/projects/{project}/repositories/{name}/artifacts
//	GET /api/v2.0/projects/{project}/repositories/{name}
//
// where the project is the first element of a repository path and {name}
// the rest, with "/" escaped twice ("acme/team/app" is project "acme",
// name "team%252Fapp"): the router unescapes the path once, so a "/"
// escaped only once splits the name and the path is not found, as Harbor
// v2.0 answered.
//
// The artifact list is served from what the server notes of manifests
// pushed under a tag (see ListTimes): one artifact per digest with all its
// tags, newest push first (Harbor's default order), in pages of page_size
// (default 10, at most 100) from page (default 1), with X-Total-Count and
// a Link header to the previous and next pages whose query is unescaped, as
// Harbor writes it. Only tagged artifacts are known, so the list is what
// Harbor serves for q=tags=*; with_tag=false leaves the tags out. A single
// image carries extra_attrs with the config's created (null when it has
// none), os and architecture; an index carries references to its images
// and no extra_attrs. media_type is the config's media type for an image
// and the index's own for an index, as Harbor has it.
//
// Basic auth, Fail and Respond apply as to every request. Errors are
// Harbor's JSON error body, {"errors":[{"code":..., "message":...}]}.

// HarborArtifact is an artifact as the stand-in serves it: the fields of
// Harbor's Artifact model that it fills.
type HarborArtifact struct {
	ID                int64             `json:"id"`
	Type              string            `json:"type"`
	MediaType         string            `json:"media_type"`
	ManifestMediaType string            `json:"manifest_media_type"`
	RepositoryName    string            `json:"repository_name"`
	Digest            string            `json:"digest"`
	Size              int64             `json:"size"`
	PushTime          time.Time         `json:"push_time"`
	ExtraAttrs        map[string]any    `json:"extra_attrs,omitempty"`
	References        []HarborReference `json:"references,omitempty"`
	Tags              []HarborTag       `json:"tags"`
}

// HarborReference is an image an index names.
type HarborReference struct {
	ChildDigest string          `json:"child_digest"`
	Platform    *HarborPlatform `json:"platform,omitempty"`
}

// HarborPlatform is the platform of a reference.
type HarborPlatform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
}

// HarborTag is a tag of an artifact.
type HarborTag struct {
	Name     string    `json:"name"`
	PushTime time.Time `json:"push_time"`
}

// harborMaxPageSize is the largest page_size Harbor's API schema allows.
const harborMaxPageSize = 100

func (s *Server) serveHarbor(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		harborError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed")
		return
	}
	// The path as Harbor's router sees it: unescaped once.
	parts := strings.Split(r.URL.Path, "/")
	if len(parts) < 7 || len(parts) > 8 || parts[1] != "api" || parts[2] != "v2.0" ||
		parts[3] != "projects" || parts[5] != "repositories" || len(parts) == 8 && parts[7] != "artifacts" {
		harborError(w, http.StatusNotFound, "NOT_FOUND", "path "+r.URL.Path+" was not found")
		return
	}
	name, err := url.PathUnescape(parts[6]) // Harbor unescapes the name once more
	if err != nil || parts[4] == "" || name == "" {
		harborError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid repository name")
		return
	}
	repo := parts[4] + "/" + name
	if len(parts) == 7 {
		s.serveHarborRepository(w, r, repo)
		return
	}
	s.serveHarborArtifacts(w, r, repo)
}

// serveHarborRepository answers for a repository the inner registry knows
// (it lists its tags), and 404 for any other.
func (s *Server) serveHarborRepository(w http.ResponseWriter, r *http.Request, repo string) {
	req := httptest.NewRequestWithContext(r.Context(), http.MethodGet, "/v2/"+repo+"/tags/list", nil)
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		harborError(w, http.StatusNotFound, "NOT_FOUND", "repository "+repo+" not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": repo, "artifact_count": len(s.harborArtifacts(repo))})
}

func (s *Server) serveHarborArtifacts(w http.ResponseWriter, r *http.Request, repo string) {
	q := r.URL.Query()
	page, size := int64(1), int64(10)
	for _, p := range []struct {
		key string
		out *int64
	}{{"page", &page}, {"page_size", &size}} {
		if v := q.Get(p.key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				harborError(w, http.StatusBadRequest, "BAD_REQUEST", p.key+" must be a positive integer")
				return
			}
			*p.out = n
		}
	}
	if size > harborMaxPageSize {
		harborError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("page_size in query should be less than or equal to %d", harborMaxPageSize))
		return
	}
	if v := q.Get("q"); v != "" && v != "tags=*" {
		harborError(w, http.StatusBadRequest, "BAD_REQUEST", "the stand-in serves only q=tags=*")
		return
	}
	arts := s.harborArtifacts(repo)
	total := int64(len(arts))
	from, to := min((page-1)*size, total), min(page*size, total)
	out := arts[from:to]
	if q.Get("with_tag") == "false" {
		for i := range out {
			out[i].Tags = nil
		}
	}

	var links []string
	link := func(p int64, rel string) {
		lq := url.Values{}
		for k, v := range q {
			lq[k] = v
		}
		lq.Set("page", strconv.FormatInt(p, 10))
		lq.Set("page_size", strconv.FormatInt(size, 10))
		raw, _ := url.QueryUnescape(lq.Encode())
		links = append(links, fmt.Sprintf(`<%s?%s>; rel="%s"`, r.URL.EscapedPath(), raw, rel))
	}
	if page > 1 && (page-1)*size < total {
		link(page-1, "prev")
	}
	if page*size < total {
		link(page+1, "next")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, " , "))
	}
	w.Header().Set("X-Total-Count", strconv.FormatInt(total, 10))
	writeJSON(w, http.StatusOK, out)
}

// harborArtifacts describes the tagged manifests of repo as Harbor lists
// them: one per digest, newest push first.
func (s *Server) harborArtifacts(repo string) []HarborArtifact {
	s.mu.Lock()
	defer s.mu.Unlock()
	type group struct {
		a      HarborArtifact
		latest int64 // order of its latest push
	}
	groups := map[string]*group{}
	for tag, pm := range s.pushed[repo] {
		g, ok := groups[pm.Digest]
		if !ok {
			g = &group{a: harborArtifact(repo, pm)}
			groups[pm.Digest] = g
		}
		if pm.Seq > g.latest {
			g.latest, g.a.PushTime = pm.Seq, pm.Uploaded
		}
		g.a.ID = min(g.a.ID, pm.Seq)
		g.a.Tags = append(g.a.Tags, HarborTag{Name: tag, PushTime: pm.Uploaded})
	}
	all := make([]*group, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g.a.Tags, func(a, b HarborTag) int { return cmp.Compare(a.Name, b.Name) })
		all = append(all, g)
	}
	// Newest push first, as Harbor's push_time (which this clock may not
	// tell apart within a millisecond) and then its id order them.
	slices.SortFunc(all, func(a, b *group) int {
		return cmp.Or(-cmp.Compare(a.latest, b.latest), -cmp.Compare(a.a.ID, b.a.ID))
	})
	out := make([]HarborArtifact, len(all))
	for i, g := range all {
		out[i] = g.a
	}
	return out
}

// harborArtifact describes the manifest of one push, without tags.
func harborArtifact(repo string, pm pushedManifest) HarborArtifact {
	a := HarborArtifact{
		ID: pm.Seq, Type: "IMAGE", MediaType: cmp.Or(pm.ConfigMediaType, pm.MediaType), ManifestMediaType: pm.MediaType,
		RepositoryName: repo, Digest: pm.Digest, Size: pm.Size, PushTime: pm.Uploaded,
	}
	if pm.ConfigMediaType != "" {
		var created any // null when the config does not say
		if !pm.Created.IsZero() {
			created = pm.Created
		}
		a.ExtraAttrs = map[string]any{"created": created, "os": pm.OS, "architecture": pm.Architecture}
	}
	for _, c := range pm.Children {
		ref := HarborReference{ChildDigest: c.Digest}
		if c.OS != "" || c.Architecture != "" {
			ref.Platform = &HarborPlatform{OS: c.OS, Architecture: c.Architecture}
		}
		a.References = append(a.References, ref)
	}
	return a
}

func harborError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}
