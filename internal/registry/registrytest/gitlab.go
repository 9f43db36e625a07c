package registrytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With ServerOptions.GitLab the server answers, besides the registry API,
// the two queries of GitLab's GraphQL API (POST /api/graphql) that find a
// container repository and page through its tags:
//
//	project(fullPath: $p) { containerRepositories(name: $n, first: N) { nodes { id path } } }
//	containerRepository(id: $id) { tags(first: $first, after: $after) {
//	    pageInfo { hasNextPage endCursor } nodes { name digest createdAt publishedAt } } }
//
// (any number of aliased project fields in the first). The projects are
// GitLabProjects, by full path; a project's container repositories are
// the registry's repositories at its path or below it, found by name as
// GitLab does (the name contains the one asked for), each with an id
// "gid://gitlab/ContainerRepository/N" and its path. Tags are served from
// what the server notes of manifests pushed under a tag (see ListTimes),
// sorted by name, first (default and at most 100) after the cursor, with
// digest, publishedAt (when the tag was pushed) and createdAt (the image
// config's time). A project that does not exist is null, as one the
// token may not read; a field the schema does not have is a GraphQL
// error, answered with 200, as GitLab does.
//
// With Password set, a request must carry "Authorization: Bearer
// <Password>"; another token gets 401 with GitLab's OAuth error body.

var gitlabFields = map[string]bool{
	"project": true, "containerRepositories": true, "nodes": true, "id": true, "path": true, "name": true,
	"containerRepository": true, "tags": true, "pageInfo": true, "hasNextPage": true, "endCursor": true,
	"digest": true, "createdAt": true, "publishedAt": true, "location": true,
}

var (
	gitlabArgsRE  = regexp.MustCompile(`\([^)]*\)`)
	gitlabAliasRE = regexp.MustCompile(`\w+\s*:`)
	gitlabWordRE  = regexp.MustCompile(`[A-Za-z_]\w*`)
)

func (s *Server) serveGitLab(w http.ResponseWriter, r *http.Request, opt ServerOptions) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not Found"})
		return
	}
	tok, hasTok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if opt.Password != "" && hasTok && tok != opt.Password {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."})
		return
	}
	anonymous := opt.Password != "" && !hasTok
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		gitlabError(w, "Invalid JSON")
		return
	}
	// The selection, without its header, arguments and aliases, holds
	// field names only: each must be one the schema has.
	sel := req.Query
	if i := strings.Index(sel, "{"); i >= 0 {
		sel = sel[i:]
	}
	sel = gitlabAliasRE.ReplaceAllString(gitlabArgsRE.ReplaceAllString(sel, ""), "")
	for _, f := range gitlabWordRE.FindAllString(sel, -1) {
		if !gitlabFields[f] {
			gitlabError(w, fmt.Sprintf("Field '%s' doesn't exist on type", f))
			return
		}
	}
	switch {
	case strings.Contains(req.Query, "containerRepository(id:"):
		s.serveGitLabTags(w, req.Variables, anonymous)
	case strings.Contains(req.Query, "project(fullPath:"):
		s.serveGitLabProjects(w, req.Variables, opt, anonymous)
	default:
		gitlabError(w, "the stand-in answers two queries only")
	}
}

func (s *Server) serveGitLabProjects(w http.ResponseWriter, vars map[string]any, opt ServerOptions, anonymous bool) {
	data := map[string]any{}
	for k, v := range vars {
		alias, ok := strings.CutPrefix(k, "p")
		if !ok {
			continue
		}
		project, _ := v.(string)
		want, _ := vars["n"+alias].(string)
		if anonymous || !slices.Contains(opt.GitLabProjects, project) {
			data["p"+alias] = nil
			continue
		}
		nodes := []map[string]string{}
		for _, repo := range s.gitlabRepos() {
			rest, ok := strings.CutPrefix(repo, project)
			if !ok || rest != "" && !strings.HasPrefix(rest, "/") || !strings.Contains(strings.TrimPrefix(rest, "/"), want) {
				continue
			}
			nodes = append(nodes, map[string]string{"id": s.gitlabID(repo), "path": repo})
		}
		data["p"+alias] = map[string]any{"containerRepositories": map[string]any{"nodes": nodes}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func (s *Server) serveGitLabTags(w http.ResponseWriter, vars map[string]any, anonymous bool) {
	id, _ := vars["id"].(string)
	repo := ""
	s.mu.Lock()
	for r, n := range s.gitlabIDs {
		if "gid://gitlab/ContainerRepository/"+strconv.Itoa(n) == id {
			repo = r
		}
	}
	tags := s.pushed[repo]
	names := make([]string, 0, len(tags))
	for t := range tags {
		names = append(names, t)
	}
	s.mu.Unlock()
	if repo == "" || anonymous {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"containerRepository": nil}})
		return
	}
	slices.Sort(names)
	first := 100
	if f, ok := vars["first"].(float64); ok {
		if f > 100 || f < 0 {
			gitlabError(w, "Requested page size exceeds the maximum of 100")
			return
		}
		first = int(f)
	}
	from := 0
	if after, _ := vars["after"].(string); after != "" {
		b, err := base64.StdEncoding.DecodeString(after)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:"))
		if err != nil || err2 != nil || n < 0 || n > len(names) {
			gitlabError(w, "Invalid cursor")
			return
		}
		from = n
	}
	to := min(from+first, len(names))
	nodes := []map[string]any{}
	for _, t := range names[from:to] {
		pm := tags[t]
		var created any
		if !pm.Created.IsZero() {
			created = pm.Created.Format(time.RFC3339)
		}
		nodes = append(nodes, map[string]any{"name": t, "digest": pm.Digest, "createdAt": created,
			"publishedAt": pm.Uploaded.Format("2006-01-02T15:04:05.000000000-07:00")})
	}
	end := base64.StdEncoding.EncodeToString([]byte("cursor:" + strconv.Itoa(to)))
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"containerRepository": map[string]any{"tags": map[string]any{
		"pageInfo": map[string]any{"hasNextPage": to < len(names), "endCursor": end},
		"nodes":    nodes,
	}}}})
}

// gitlabRepos are the repositories pushed to, sorted.
func (s *Server) gitlabRepos() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for r := range s.pushed {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// gitlabID is a repository's global id, the same for the server's life.
func (s *Server) gitlabID(repo string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gitlabIDs == nil {
		s.gitlabIDs = map[string]int{}
	}
	n, ok := s.gitlabIDs[repo]
	if !ok {
		n = len(s.gitlabIDs) + 1
		s.gitlabIDs[repo] = n
	}
	return "gid://gitlab/ContainerRepository/" + strconv.Itoa(n)
}

func gitlabError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": msg}}})
}
