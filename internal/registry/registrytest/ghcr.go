package registrytest

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With ServerOptions.GHCR the server answers, besides the registry API,
// the request of GitHub's packages API (REST, 2022-11-28) that lists the
// versions of a container package:
//
//	GET /orgs/{org}/packages/container/{package}/versions
//	GET /users/{user}/packages/container/{package}/versions
//
// where the repository {org}/{package} is the package, {package} escaped
// as one path segment ("team%2Fapp"). An owner named in GHCRUsers is a
// user, any other an organisation; asking for it under the other kind is
// 404, as GitHub answers. Versions are served from what the server notes
// of manifests pushed under a tag (see ListTimes): one version per
// digest with all its tags, id the order of its first push, created_at
// when it was first pushed and updated_at when last, newest first, in
// pages of per_page (default 30, at most 100) from page (default 1), with
// a Link header (absolute URLs, rel="next" and rel="last") while more
// follow.
//
// GitHub's API wants a token: every request must carry "Authorization:
// Bearer <Password>" (any bearer token when Password is empty), or gets
// 401 with GitHub's error body, {"message":...,"documentation_url":...}.
// Basic auth does not apply to these paths; Fail and Respond do.

// GHCRVersion is a package version as the stand-in serves it.
type GHCRVersion struct {
	ID             int64        `json:"id"`
	Name           string       `json:"name"`
	URL            string       `json:"url"`
	PackageHTMLURL string       `json:"package_html_url"`
	CreatedAt      time.Time    `json:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
	HTMLURL        string       `json:"html_url"`
	Metadata       GHCRMetadata `json:"metadata"`
}

// GHCRMetadata is a version's metadata.
type GHCRMetadata struct {
	PackageType string `json:"package_type"`
	Container   struct {
		Tags []string `json:"tags"`
	} `json:"container"`
}

const ghcrMaxPerPage = 100

// isGHCRPath reports whether p is a path of the packages API.
func isGHCRPath(p string) bool {
	return (strings.HasPrefix(p, "/orgs/") || strings.HasPrefix(p, "/users/")) && strings.Contains(p, "/packages/container/")
}

func (s *Server) serveGHCR(w http.ResponseWriter, r *http.Request, opt ServerOptions) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" || opt.Password != "" && tok != opt.Password {
		msg := "Requires authentication"
		if ok {
			msg = "Bad credentials"
		}
		ghcrError(w, http.StatusUnauthorized, msg)
		return
	}
	if r.Method != http.MethodGet {
		ghcrError(w, http.StatusNotFound, "Not Found")
		return
	}
	// The path as GitHub routes it: segments split before unescaping.
	parts := strings.Split(r.URL.EscapedPath(), "/")
	if len(parts) != 7 || parts[3] != "packages" || parts[4] != "container" || parts[6] != "versions" {
		ghcrError(w, http.StatusNotFound, "Not Found")
		return
	}
	owner, err1 := url.PathUnescape(parts[2])
	pkg, err2 := url.PathUnescape(parts[5])
	if err1 != nil || err2 != nil || owner == "" || pkg == "" {
		ghcrError(w, http.StatusNotFound, "Not Found")
		return
	}
	if wantUser := slices.Contains(opt.GHCRUsers, owner); wantUser != (parts[1] == "users") {
		ghcrError(w, http.StatusNotFound, "Not Found")
		return
	}
	versions := s.ghcrVersions(owner + "/" + pkg)
	if versions == nil {
		ghcrError(w, http.StatusNotFound, "Package not found.")
		return
	}
	q := r.URL.Query()
	page, per := 1, 30
	for _, p := range []struct {
		key string
		out *int
	}{{"page", &page}, {"per_page", &per}} {
		if v := q.Get(p.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				ghcrError(w, http.StatusUnprocessableEntity, "Invalid request.")
				return
			}
			*p.out = n
		}
	}
	per = min(per, ghcrMaxPerPage)
	total := len(versions)
	from, to := min((page-1)*per, total), min(page*per, total)
	last := max((total+per-1)/per, 1)
	if page < last {
		link := func(p int) string {
			lq := url.Values{"per_page": {strconv.Itoa(per)}, "page": {strconv.Itoa(p)}}
			return fmt.Sprintf("http://%s%s?%s", r.Host, r.URL.EscapedPath(), lq.Encode())
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <%s>; rel="last"`, link(page+1), link(last)))
	}
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	writeJSON(w, http.StatusOK, versions[from:to])
}

// ghcrVersions describes the tagged manifests of repo as GitHub lists a
// package's versions: one per digest, newest first; nil for a repository
// nothing was pushed to.
func (s *Server) ghcrVersions(repo string) []GHCRVersion {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pushed[repo] == nil {
		return nil
	}
	type group struct {
		v             GHCRVersion
		first, latest int64
	}
	groups := map[string]*group{}
	for tag, pm := range s.pushed[repo] {
		g, ok := groups[pm.Digest]
		if !ok {
			g = &group{first: pm.Seq, v: GHCRVersion{Name: pm.Digest, CreatedAt: pm.Uploaded, UpdatedAt: pm.Uploaded}}
			g.v.Metadata.PackageType = "container"
			groups[pm.Digest] = g
		}
		if pm.Seq < g.first {
			g.first, g.v.CreatedAt = pm.Seq, pm.Uploaded
		}
		if pm.Seq > g.latest {
			g.latest, g.v.UpdatedAt = pm.Seq, pm.Uploaded
		}
		g.v.Metadata.Container.Tags = append(g.v.Metadata.Container.Tags, tag)
	}
	out := make([]GHCRVersion, 0, len(groups))
	for _, g := range groups {
		slices.Sort(g.v.Metadata.Container.Tags)
		g.v.ID = g.first
		g.v.URL = fmt.Sprintf("https://api.github.com/packages/container/%s/versions/%d", url.PathEscape(repo), g.first)
		out = append(out, g.v)
	}
	// Newest first, as GitHub lists them: by created_at (which SetPushed
	// may set), then by the order of first pushes.
	slices.SortFunc(out, func(a, b GHCRVersion) int {
		return cmp.Or(-a.CreatedAt.Compare(b.CreatedAt), -cmp.Compare(a.ID, b.ID))
	})
	return out
}

func ghcrError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/packages/packages"})
}
