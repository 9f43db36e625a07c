package registrytest

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With ServerOptions.DockerHub the server answers, besides the registry
// API, the part of Docker Hub's API (hub.docker.com) that lists a
// repository's tags:
//
//	GET  /v2/namespaces/{namespace}/repositories/{repository}/tags
//	POST /v2/auth/token
//
// The tag list is served from what the server notes of manifests pushed
// under a tag (see ListTimes), most recently pushed first as Docker Hub
// orders it, in pages of page_size (default 10, at most 100) from page
// (default 1): {"count", "next", "previous", "results"}, "next" and
// "previous" absolute URLs on the request's host, or null. Each result
// carries the fields Docker Hub's schema names: digest, media_type,
// tag_last_pushed and last_updated (the push time), images, and so on.
//
// A repository is public unless the server demands basic auth (Username):
// then the tag list wants "Authorization: Bearer <token>", the token that
// the login answers for the same username and password ({"identifier",
// "secret"} in, {"access_token"} out). Errors are Docker Hub's body,
// {"message": ..., "errinfo": {...}}. Fail and Respond apply as to every
// request; the registry's basic auth does not (the API has its own).

// DockerHubTag is a result of the tag list as the stand-in serves it.
type DockerHubTag struct {
	Creator             int64            `json:"creator"`
	ID                  int64            `json:"id"`
	Images              []DockerHubImage `json:"images"`
	LastUpdated         time.Time        `json:"last_updated"`
	LastUpdater         int64            `json:"last_updater"`
	LastUpdaterUsername string           `json:"last_updater_username"`
	Name                string           `json:"name"`
	Repository          int64            `json:"repository"`
	FullSize            int64            `json:"full_size"`
	V2                  bool             `json:"v2"`
	TagStatus           string           `json:"tag_status"`
	TagLastPulled       *time.Time       `json:"tag_last_pulled"`
	TagLastPushed       time.Time        `json:"tag_last_pushed"`
	MediaType           string           `json:"media_type"`
	ContentType         string           `json:"content_type"`
	Digest              string           `json:"digest"`
}

// DockerHubImage is an image of a tag: its platform.
type DockerHubImage struct {
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Digest       string    `json:"digest"`
	Size         int64     `json:"size"`
	Status       string    `json:"status"`
	LastPushed   time.Time `json:"last_pushed"`
}

// DockerHubToken is the bearer token the stand-in's login answers with.
const DockerHubToken = "registrytest-hub-jwt.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl"

const dockerHubMaxPageSize = 100

// isDockerHubPath reports whether p is a path of Docker Hub's API that the
// stand-in serves.
func isDockerHubPath(p string) bool {
	if p == "/v2/auth/token" {
		return true
	}
	rest, ok := strings.CutPrefix(p, "/v2/namespaces/")
	parts := strings.Split(rest, "/")
	return ok && len(parts) == 4 && parts[1] == "repositories" && parts[3] == "tags"
}

func hubError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "errinfo": map[string]any{}})
}

func (s *Server) serveDockerHub(w http.ResponseWriter, r *http.Request, opt ServerOptions) {
	if r.URL.Path == "/v2/auth/token" {
		s.serveHubLogin(w, r, opt)
		return
	}
	if r.Method != http.MethodGet {
		hubError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if opt.Username != "" && r.Header.Get("Authorization") != "Bearer "+DockerHubToken {
		// Docker Hub hides a private repository from those who may not
		// read it.
		hubError(w, http.StatusNotFound, "httperror 404: object not found")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/namespaces/"), "/")
	repo := parts[0] + "/" + parts[2]
	q := r.URL.Query()
	page, size := 1, 10
	for _, p := range []struct {
		key string
		out *int
	}{{"page", &page}, {"page_size", &size}} {
		if v := q.Get(p.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				hubError(w, http.StatusBadRequest, p.key+" must be a positive integer")
				return
			}
			*p.out = n
		}
	}
	if size > dockerHubMaxPageSize {
		hubError(w, http.StatusBadRequest, fmt.Sprintf("page_size must be at most %d", dockerHubMaxPageSize))
		return
	}
	if opt.PageSize > 0 {
		size = min(size, opt.PageSize)
	}
	all, ok := s.hubTags(repo)
	if !ok {
		hubError(w, http.StatusNotFound, "httperror 404: object not found")
		return
	}
	from, to := min((page-1)*size, len(all)), min(page*size, len(all))
	link := func(p int) *string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: url.Values{"page": {strconv.Itoa(p)}, "page_size": {strconv.Itoa(size)}}.Encode()}
		if r.TLS != nil {
			u.Scheme = "https"
		}
		s := u.String()
		return &s
	}
	var next, prev *string
	if to < len(all) {
		next = link(page + 1)
	}
	if page > 1 {
		prev = link(page - 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(all), "next": next, "previous": prev, "results": all[from:to]})
}

func (s *Server) serveHubLogin(w http.ResponseWriter, r *http.Request, opt ServerOptions) {
	if r.Method != http.MethodPost {
		hubError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	var in struct {
		Username string `json:"identifier"`
		Password string `json:"secret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Username == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"detail": "identifier and secret are required"})
		return
	}
	if opt.Username == "" || subtle.ConstantTimeCompare([]byte(in.Username), []byte(opt.Username)) != 1 ||
		subtle.ConstantTimeCompare([]byte(in.Password), []byte(opt.Password)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Incorrect authentication credentials"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": DockerHubToken})
}

// hubTags describes the tags of repo as Docker Hub lists them, most
// recently pushed first; false when the server knows no such repository.
func (s *Server) hubTags(repo string) ([]DockerHubTag, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	notes, ok := s.pushed[repo]
	if !ok {
		return nil, false
	}
	type entry struct {
		tag DockerHubTag
		seq int64
	}
	all := make([]entry, 0, len(notes))
	for tag, pm := range notes {
		t := DockerHubTag{
			Creator: 1, ID: pm.Seq, LastUpdated: pm.Uploaded, LastUpdater: 1, LastUpdaterUsername: "registrytest",
			Name: tag, Repository: 1, FullSize: pm.Size, V2: true, TagStatus: "active", TagLastPushed: pm.Uploaded,
			MediaType: pm.MediaType, ContentType: "image", Digest: pm.Digest,
		}
		if pm.ConfigMediaType != "" {
			t.Images = []DockerHubImage{{Architecture: pm.Architecture, OS: pm.OS, Digest: pm.Digest, Size: pm.Size, Status: "active", LastPushed: pm.Uploaded}}
		}
		for _, c := range pm.Children {
			t.Images = append(t.Images, DockerHubImage{Architecture: c.Architecture, OS: c.OS, Digest: c.Digest, Status: "active", LastPushed: pm.Uploaded})
		}
		all = append(all, entry{t, pm.Seq})
	}
	slices.SortFunc(all, func(a, b entry) int {
		return cmp.Or(b.tag.TagLastPushed.Compare(a.tag.TagLastPushed), cmp.Compare(b.seq, a.seq))
	})
	out := make([]DockerHubTag, len(all))
	for i, e := range all {
		out[i] = e.tag
	}
	return out, true
}
