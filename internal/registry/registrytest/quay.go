package registrytest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With ServerOptions.Quay the server answers, besides the registry API,
// the part of Quay's API (v1) that lists a repository's tags:
//
//	GET /api/v1/repository/{namespace}/{repository}/tag/
//
// with limit (default 50, at most 100), page (default 1), onlyActiveTags
// and specificTag, from what the server notes of manifests pushed under a
// tag (see ListTimes), most recently pushed first:
// {"tags": [...], "page": N, "has_additional": bool}. Each tag carries
// name, manifest_digest, is_manifest_list, size, reversion, start_ts (the
// push, in seconds since the epoch) and last_modified (the same time as
// an RFC 1123 date). Only active tags are known, so onlyActiveTags changes
// nothing.
//
// A repository is public unless QuayToken is set: then the API wants
// "Authorization: Bearer <QuayToken>" and answers 401 without it, as Quay
// does for a private repository. Errors are Quay's body, {"detail",
// "error_message", "error_type", "status", "title", "type"}. Fail and
// Respond apply as to every request; the registry's basic auth does not.

// QuayTag is a tag as the stand-in serves it.
type QuayTag struct {
	Name           string `json:"name"`
	Reversion      bool   `json:"reversion"`
	StartTS        int64  `json:"start_ts"`
	ManifestDigest string `json:"manifest_digest"`
	IsManifestList bool   `json:"is_manifest_list"`
	Size           int64  `json:"size"`
	LastModified   string `json:"last_modified"`
}

const quayMaxLimit = 100

func isQuayPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/api/v1/repository/")
	return ok && strings.HasSuffix(rest, "/tag/") && strings.Count(rest, "/") >= 3
}

func quayError(w http.ResponseWriter, status int, kind, msg string) {
	writeJSON(w, status, map[string]any{"detail": msg, "error_message": msg, "error_type": kind, "status": status,
		"title": kind, "type": "https://quay.io/api/v1/error/" + kind})
}

func (s *Server) serveQuay(w http.ResponseWriter, r *http.Request, opt ServerOptions) {
	if r.Method != http.MethodGet {
		quayError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
		return
	}
	if opt.QuayToken != "" && r.Header.Get("Authorization") != "Bearer "+opt.QuayToken {
		quayError(w, http.StatusUnauthorized, "invalid_token", "Requires authentication")
		return
	}
	repo := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/repository/"), "/tag/")
	q := r.URL.Query()
	page, limit := 1, 50
	for _, p := range []struct {
		key string
		out *int
	}{{"page", &page}, {"limit", &limit}} {
		if v := q.Get(p.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				quayError(w, http.StatusBadRequest, "invalid_request", p.key+" must be a positive integer")
				return
			}
			*p.out = n
		}
	}
	limit = min(limit, quayMaxLimit) // Quay caps the limit rather than refusing it
	if opt.PageSize > 0 {
		limit = min(limit, opt.PageSize)
	}
	all, ok := s.quayTags(repo)
	if !ok {
		quayError(w, http.StatusNotFound, "not_found", "Not Found")
		return
	}
	if only := q.Get("specificTag"); only != "" {
		all = slices.DeleteFunc(all, func(t QuayTag) bool { return t.Name != only })
	}
	from, to := min((page-1)*limit, len(all)), min(page*limit, len(all))
	writeJSON(w, http.StatusOK, map[string]any{"tags": all[from:to], "page": page, "has_additional": to < len(all)})
}

// quayTags describes the tags of repo as Quay lists them, most recently
// pushed first; false when the server knows no such repository.
func (s *Server) quayTags(repo string) ([]QuayTag, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	notes, ok := s.pushed[repo]
	if !ok {
		return nil, false
	}
	type entry struct {
		tag QuayTag
		seq int64
	}
	all := make([]entry, 0, len(notes))
	for tag, pm := range notes {
		all = append(all, entry{QuayTag{
			Name: tag, StartTS: pm.Uploaded.Unix(), ManifestDigest: pm.Digest, IsManifestList: len(pm.Children) > 0,
			Size: pm.Size, LastModified: pm.Uploaded.UTC().Format(time.RFC1123Z),
		}, pm.Seq})
	}
	slices.SortFunc(all, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.tag.StartTS, a.tag.StartTS), cmp.Compare(b.seq, a.seq))
	})
	out := make([]QuayTag, len(all))
	for i, e := range all {
		out[i] = e.tag
	}
	return out, true
}
