package registrytest

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With ServerOptions.GAR the server answers, besides the registry API,
// the request of Google Artifact Registry's REST API (v1) that lists the
// images of an Artifact Registry repository:
//
//	GET /v1/projects/{project}/locations/{location}/repositories/{repository}/dockerImages
//
// for the registry's repositories {project}/{repository}/{image...}, any
// {location}. Images are served from what the server notes of manifests
// pushed under a tag (see ListTimes): one per repository and digest, with
// its tags, uri (the request's host, as the registry's, then
// /{project}/{repository}/{image}@{digest}), uploadTime (its first push),
// updateTime (its last), mediaType, and buildTime for an image whose
// config says when it was built. They come sorted by name, in pages of
// pageSize (default 100, at most 1000, and at most ServerOptions.PageSize
// when that is set), each but the last with a nextPageToken to pass as
// pageToken.
//
// Google's APIs take an OAuth access token: every request must carry
// "Authorization: Bearer <Password>" (any bearer token when Password is
// empty), or gets 401 with Google's error body,
// {"error":{"code":401,"message":...,"status":"UNAUTHENTICATED"}}.
// Basic auth does not apply to these paths; Fail and Respond do.

// GARImage is a docker image as the stand-in serves it.
type GARImage struct {
	Name           string     `json:"name"`
	URI            string     `json:"uri"`
	Tags           []string   `json:"tags,omitempty"`
	ImageSizeBytes string     `json:"imageSizeBytes"`
	UploadTime     time.Time  `json:"uploadTime"`
	MediaType      string     `json:"mediaType"`
	BuildTime      *time.Time `json:"buildTime,omitempty"`
	UpdateTime     time.Time  `json:"updateTime"`
}

const garMaxPageSize = 1000

func isGARPath(p string) bool {
	return strings.HasPrefix(p, "/v1/projects/") && strings.HasSuffix(p, "/dockerImages")
}

func (s *Server) serveGAR(w http.ResponseWriter, r *http.Request, opt ServerOptions) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" || opt.Password != "" && tok != opt.Password {
		garError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return
	}
	parts := strings.Split(r.URL.EscapedPath(), "/")
	if r.Method != http.MethodGet || len(parts) != 9 || parts[4] != "locations" || parts[6] != "repositories" {
		garError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
		return
	}
	project, err1 := url.PathUnescape(parts[3])
	repo, err2 := url.PathUnescape(parts[7])
	if err1 != nil || err2 != nil {
		garError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid resource name")
		return
	}
	images := s.garImages(r.Host, project, repo, parts[1:8])
	if images == nil {
		garError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
		return
	}
	q := r.URL.Query()
	size, from := 100, 0
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			garError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid page size")
			return
		}
		if n > 0 {
			size = min(n, garMaxPageSize)
		}
	}
	if v := q.Get("pageToken"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 || n > len(images) {
			garError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid page token")
			return
		}
		from = n
	}
	if opt.PageSize > 0 {
		size = min(size, opt.PageSize)
	}
	to := min(from+size, len(images))
	out := map[string]any{"dockerImages": images[from:to]}
	if to < len(images) {
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to)))
	}
	writeJSON(w, http.StatusOK, out)
}

// garImages describes the tagged manifests of every repository under
// project/repo as Artifact Registry lists its images; nil when nothing
// was pushed there. name holds the segments of the parent's name.
func (s *Server) garImages(host, project, repo string, name []string) []GARImage {
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := project + "/" + repo + "/"
	byKey := map[string]*GARImage{}
	first := map[string]int64{}
	for path, tags := range s.pushed {
		img, ok := strings.CutPrefix(path, prefix)
		if !ok {
			continue
		}
		for tag, pm := range tags {
			key := path + "@" + pm.Digest
			g, ok := byKey[key]
			if !ok {
				g = &GARImage{
					Name:           strings.Join(name, "/") + "/dockerImages/" + url.PathEscape(img) + "@" + pm.Digest,
					URI:            host + "/" + key,
					ImageSizeBytes: strconv.FormatInt(pm.Size, 10),
					UploadTime:     pm.Uploaded, UpdateTime: pm.Uploaded, MediaType: pm.MediaType,
				}
				if !pm.Created.IsZero() {
					created := pm.Created
					g.BuildTime = &created
				}
				byKey[key], first[key] = g, pm.Seq
			}
			if pm.Seq < first[key] {
				first[key], g.UploadTime = pm.Seq, pm.Uploaded
			}
			if pm.Uploaded.After(g.UpdateTime) {
				g.UpdateTime = pm.Uploaded
			}
			g.Tags = append(g.Tags, tag)
		}
	}
	if len(byKey) == 0 {
		return nil
	}
	out := make([]GARImage, 0, len(byKey))
	for _, g := range byKey {
		slices.Sort(g.Tags)
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b GARImage) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func garError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": code}})
}
