// Package forgetest is a stand-in for GitHub, GitLab and Gitea on
// 127.0.0.1: the REST endpoints git-laminar uses, with each forge's
// request shapes, auth headers, error bodies and paging, over real HTTP.
// It keeps pull requests in memory so tests can see what was asked.
package forgetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Pull is one pull or merge request as the stand-in holds it.
type Pull struct {
	Number       int
	Head, Base   string
	Title, Body  string
	State        string // "open" or "closed"
	Labels       []string
	Reviewers    []string
	ReviewerIDs  []int
	Comments     []string
	AutoMerge    bool
	Draft        bool
	LabelIDs     []int64
	NodeID       string
	CreatedCount int
	// Reviewed are the users who have left a review; the forges drop
	// them from the requested reviewers, as here.
	Reviewed []string
}

// Server is one forge's stand-in.
type Server struct {
	Kind  string // "github", "gitlab" or "gitea"
	Token string
	Owner string // repository owner (GitLab: the group)
	Repo  string
	// Labels a Gitea repository has, by name (ids are their index+1).
	Labels []string
	// Users a GitLab instance knows, by name (ids are their index+1).
	Users []string

	srv *httptest.Server
	mu  sync.Mutex
	// Pulls are every request ever opened, in order.
	pulls []*Pull
	// Requests counts the requests answered, by "METHOD path".
	requests []string
}

// New starts a stand-in of kind for owner/repo that accepts token.
func New(kind, token, owner, repo string) *Server {
	s := &Server{Kind: kind, Token: token, Owner: owner, Repo: repo}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the server's root.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is what api_url should say: the root for GitHub, /api/v4 for
// GitLab, /api/v1 for Gitea.
func (s *Server) APIURL() string {
	switch s.Kind {
	case "gitlab":
		return s.srv.URL + "/api/v4"
	case "gitea":
		return s.srv.URL + "/api/v1"
	}
	return s.srv.URL
}

// Pulls returns a copy of every request opened so far.
func (s *Server) Pulls() []Pull {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Pull, len(s.pulls))
	for i, p := range s.pulls {
		out[i] = *p
		out[i].Comments = slices.Clone(p.Comments)
		out[i].Labels = slices.Clone(p.Labels)
		out[i].Reviewers = slices.Clone(p.Reviewers)
		out[i].ReviewerIDs = slices.Clone(p.ReviewerIDs)
		out[i].Reviewed = slices.Clone(p.Reviewed)
	}
	return out
}

// Review records that user reviewed request number: like the forges, it
// takes them off the requested reviewers.
func (s *Server) Review(number int, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.find(number)
	p.Reviewed = append(p.Reviewed, user)
	p.Reviewers = slices.DeleteFunc(p.Reviewers, func(r string) bool { return r == user })
}

// Requests returns the "METHOD path" of every request answered.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) authorized(r *http.Request) bool {
	var got string
	switch s.Kind {
	case "gitlab":
		got = r.Header.Get("PRIVATE-TOKEN")
		if got == "" {
			got, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
	case "gitea":
		a := r.Header.Get("Authorization")
		if t, ok := strings.CutPrefix(a, "token "); ok {
			got = t
		} else {
			got, _ = strings.CutPrefix(a, "Bearer ")
		}
	default:
		a := r.Header.Get("Authorization")
		if t, ok := strings.CutPrefix(a, "Bearer "); ok {
			got = t
		} else {
			got, _ = strings.CutPrefix(a, "token ")
		}
	}
	return got != "" && got == s.Token
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := r.URL.EscapedPath()
	s.requests = append(s.requests, r.Method+" "+path)
	if !s.authorized(r) {
		switch s.Kind {
		case "gitlab":
			writeJSON(w, 401, map[string]any{"message": "401 Unauthorized"})
		case "gitea":
			writeJSON(w, 401, map[string]any{"message": "token is required", "url": s.srv.URL + "/api/swagger"})
		default:
			writeJSON(w, 401, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
		}
		return
	}
	var in map[string]any
	if r.Body != nil && (r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH") {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
			writeJSON(w, 400, map[string]any{"message": "Problems parsing JSON"})
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			writeJSON(w, 415, map[string]any{"message": "Unsupported Media Type"})
			return
		}
	}
	switch s.Kind {
	case "gitlab":
		s.gitlab(w, r, path, in)
	case "gitea":
		s.gitea(w, r, path, in)
	default:
		s.github(w, r, path, in)
	}
}

func str(in map[string]any, k string) string { v, _ := in[k].(string); return v }

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (s *Server) find(number int) *Pull {
	for _, p := range s.pulls {
		if p.Number == number {
			return p
		}
	}
	return nil
}

func (s *Server) openFrom(head, base string) *Pull {
	for _, p := range s.pulls {
		if p.State == "open" && p.Head == head && (base == "" || p.Base == base) {
			return p
		}
	}
	return nil
}

func (s *Server) add(head, base, title, body string) *Pull {
	p := &Pull{Number: len(s.pulls) + 1, Head: head, Base: base, Title: title, Body: body, State: "open"}
	p.NodeID = "PR_node" + strconv.Itoa(p.Number)
	s.pulls = append(s.pulls, p)
	return p
}

func notFound(w http.ResponseWriter, kind string) {
	if kind == "gitlab" {
		writeJSON(w, 404, map[string]any{"message": "404 Not found"})
		return
	}
	writeJSON(w, 404, map[string]any{"message": "Not Found"})
}

// route splits path below prefix into segments, or returns nil.
func route(path, prefix string) []string {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return nil
	}
	return strings.Split(strings.Trim(rest, "/"), "/")
}

func (s *Server) github(w http.ResponseWriter, r *http.Request, path string, in map[string]any) {
	if path == "/graphql" && r.Method == "POST" {
		vars, _ := in["variables"].(map[string]any)
		id, _ := vars["id"].(string)
		var mutation string
		for _, m := range []string{"enablePullRequestAutoMerge", "convertPullRequestToDraft"} {
			if strings.Contains(str(in, "query"), m) {
				mutation = m
			}
		}
		if mutation == "" {
			writeJSON(w, 200, map[string]any{"errors": []any{map[string]any{"message": "unknown query"}}})
			return
		}
		for _, p := range s.pulls {
			if p.NodeID == id {
				if mutation == "convertPullRequestToDraft" {
					p.Draft = true
				} else {
					p.AutoMerge = true
				}
				writeJSON(w, 200, map[string]any{"data": map[string]any{mutation: map[string]any{"clientMutationId": nil}}})
				return
			}
		}
		writeJSON(w, 200, map[string]any{"errors": []any{map[string]any{"message": "Could not resolve to a node with the global id of '" + id + "'"}}})
		return
	}
	seg := route(path, "/repos/"+s.Owner+"/"+s.Repo+"/")
	if seg == nil {
		notFound(w, s.Kind)
		return
	}
	out := func(p *Pull) map[string]any {
		labels := []any{}
		for _, l := range p.Labels {
			labels = append(labels, map[string]any{"name": l})
		}
		var autoMerge any // null while off
		if p.AutoMerge {
			autoMerge = map[string]any{"merge_method": "merge", "enabled_by": map[string]any{"login": "laminar"}}
		}
		return map[string]any{"number": p.Number, "title": p.Title, "body": p.Body, "state": p.State, "node_id": p.NodeID, "draft": p.Draft,
			"html_url": fmt.Sprintf("%s/%s/%s/pull/%d", s.srv.URL, s.Owner, s.Repo, p.Number),
			"head":     map[string]any{"ref": p.Head}, "base": map[string]any{"ref": p.Base},
			"labels": labels, "requested_reviewers": logins(p.Reviewers), "auto_merge": autoMerge}
	}
	switch {
	case len(seg) == 1 && seg[0] == "pulls" && r.Method == "GET":
		q := r.URL.Query()
		owner, head, _ := strings.Cut(q.Get("head"), ":")
		list := []any{}
		for _, p := range s.pulls {
			if (q.Get("state") == "all" || p.State == first(q.Get("state"), "open")) &&
				(q.Get("head") == "" || owner == s.Owner && p.Head == head) && (q.Get("base") == "" || p.Base == q.Get("base")) {
				list = append(list, out(p))
			}
		}
		writeJSON(w, 200, list)
	case len(seg) == 1 && seg[0] == "pulls" && r.Method == "POST":
		if str(in, "title") == "" || str(in, "head") == "" || str(in, "base") == "" {
			writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": []any{map[string]any{"resource": "PullRequest", "code": "missing_field"}}})
			return
		}
		if s.openFrom(str(in, "head"), str(in, "base")) != nil {
			writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": []any{map[string]any{"resource": "PullRequest", "code": "custom",
				"message": "A pull request already exists for " + s.Owner + ":" + str(in, "head") + "."}}})
			return
		}
		p := s.add(str(in, "head"), str(in, "base"), str(in, "title"), str(in, "body"))
		p.Draft, _ = in["draft"].(bool)
		writeJSON(w, 201, out(p))
	case len(seg) == 2 && seg[0] == "pulls" && r.Method == "PATCH":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		if v, ok := in["title"].(string); ok {
			p.Title = v
		}
		if v, ok := in["body"].(string); ok {
			p.Body = v
		}
		if v, ok := in["state"].(string); ok {
			p.State = v
		}
		writeJSON(w, 200, out(p))
	case len(seg) == 3 && seg[0] == "issues" && seg[2] == "comments" && r.Method == "POST":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		p.Comments = append(p.Comments, str(in, "body"))
		writeJSON(w, 201, map[string]any{"id": len(p.Comments), "body": str(in, "body")})
	case len(seg) == 3 && seg[0] == "issues" && seg[2] == "labels" && r.Method == "POST":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		p.Labels = addNew(p.Labels, strs(in["labels"])...)
		list := []any{}
		for _, l := range p.Labels {
			list = append(list, map[string]any{"name": l})
		}
		writeJSON(w, 200, list)
	case len(seg) == 3 && seg[0] == "pulls" && seg[2] == "requested_reviewers" && r.Method == "POST":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		p.Reviewers = addNew(p.Reviewers, strs(in["reviewers"])...)
		writeJSON(w, 201, out(p))
	case len(seg) == 3 && seg[0] == "pulls" && seg[2] == "reviews" && r.Method == "GET":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		writeJSON(w, 200, reviews(p))
	default:
		notFound(w, s.Kind)
	}
}

// gtLabels is Gitea's list of labels for names.
func (s *Server) gtLabels(names []string) []any {
	list := []any{}
	for _, n := range names {
		list = append(list, map[string]any{"id": slices.Index(s.Labels, n) + 1, "name": n})
	}
	return list
}

func (s *Server) pull(n string) *Pull {
	i, err := strconv.Atoi(n)
	if err != nil {
		return nil
	}
	return s.find(i)
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) gitlab(w http.ResponseWriter, r *http.Request, path string, in map[string]any) {
	if path == "/api/v4/users" && r.Method == "GET" {
		list := []any{}
		for i, u := range s.Users {
			if u == r.URL.Query().Get("username") {
				list = append(list, map[string]any{"id": i + 1, "username": u})
			}
		}
		writeJSON(w, 200, list)
		return
	}
	// The project is addressed by its URL-encoded path, "/" as %2F.
	seg := route(path, "/api/v4/projects/"+url.PathEscape(s.Owner)+"%2F"+url.PathEscape(s.Repo)+"/")
	if seg == nil {
		notFound(w, s.Kind)
		return
	}
	out := func(p *Pull) map[string]any {
		state := "opened"
		if p.State == "closed" {
			state = "closed"
		}
		return map[string]any{"iid": p.Number, "id": 1000 + p.Number, "title": p.Title, "description": p.Body, "state": state,
			"source_branch": p.Head, "target_branch": p.Base, "draft": strings.HasPrefix(p.Title, "Draft: "),
			"merge_when_pipeline_succeeds": p.AutoMerge, "labels": append([]string{}, p.Labels...), "reviewers": s.glUsers(p.ReviewerIDs),
			"web_url": fmt.Sprintf("%s/%s/%s/-/merge_requests/%d", s.srv.URL, s.Owner, s.Repo, p.Number)}
	}
	switch {
	case len(seg) == 1 && seg[0] == "merge_requests" && r.Method == "GET":
		q := r.URL.Query()
		list := []any{}
		for _, p := range s.pulls {
			st := "opened"
			if p.State == "closed" {
				st = "closed"
			}
			if (q.Get("state") == "" || q.Get("state") == "all" || q.Get("state") == st) &&
				(q.Get("source_branch") == "" || p.Head == q.Get("source_branch")) && (q.Get("target_branch") == "" || p.Base == q.Get("target_branch")) {
				list = append(list, out(p))
			}
		}
		writeJSON(w, 200, list)
	case len(seg) == 1 && seg[0] == "merge_requests" && r.Method == "POST":
		if str(in, "title") == "" || str(in, "source_branch") == "" || str(in, "target_branch") == "" {
			writeJSON(w, 400, map[string]any{"error": "title is missing"})
			return
		}
		if o := s.openFrom(str(in, "source_branch"), str(in, "target_branch")); o != nil {
			writeJSON(w, 409, map[string]any{"message": []any{fmt.Sprintf("Another open merge request already exists for this source branch: !%d", o.Number)}})
			return
		}
		p := s.add(str(in, "source_branch"), str(in, "target_branch"), str(in, "title"), str(in, "description"))
		if l := str(in, "labels"); l != "" {
			p.Labels = strings.Split(l, ",")
		}
		if ids, ok := in["reviewer_ids"].([]any); ok {
			for _, id := range ids {
				f, _ := id.(float64)
				p.ReviewerIDs = append(p.ReviewerIDs, int(f))
			}
		}
		p.Draft = strings.HasPrefix(p.Title, "Draft: ")
		writeJSON(w, 201, out(p))
	case len(seg) == 2 && seg[0] == "merge_requests" && r.Method == "PUT":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		if v, ok := in["title"].(string); ok {
			p.Title = v
		}
		if v, ok := in["description"].(string); ok {
			p.Body = v
		}
		p.Draft = strings.HasPrefix(p.Title, "Draft: ")
		if v, ok := in["labels"].(string); ok {
			p.Labels = nil
			if v != "" {
				p.Labels = strings.Split(v, ",")
			}
		}
		if v := str(in, "add_labels"); v != "" {
			p.Labels = addNew(p.Labels, strings.Split(v, ",")...)
		}
		// reviewer_ids replaces the reviewers, as GitLab documents.
		if ids, ok := in["reviewer_ids"].([]any); ok {
			p.ReviewerIDs = nil
			for _, id := range ids {
				f, _ := id.(float64)
				if int(f) < 1 || int(f) > len(s.Users) {
					writeJSON(w, 400, map[string]any{"message": map[string]any{"reviewers": []any{"is invalid"}}})
					return
				}
				p.ReviewerIDs = addNew(p.ReviewerIDs, int(f))
			}
		}
		switch str(in, "state_event") {
		case "close":
			p.State = "closed"
		case "reopen":
			p.State = "open"
		}
		writeJSON(w, 200, out(p))
	case len(seg) == 3 && seg[0] == "merge_requests" && seg[2] == "notes" && r.Method == "POST":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		p.Comments = append(p.Comments, str(in, "body"))
		writeJSON(w, 201, map[string]any{"id": len(p.Comments), "body": str(in, "body")})
	case len(seg) == 3 && seg[0] == "merge_requests" && seg[2] == "merge" && r.Method == "PUT":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		if v, _ := in["merge_when_pipeline_succeeds"].(bool); v {
			p.AutoMerge = true
		}
		writeJSON(w, 200, out(p))
	default:
		notFound(w, s.Kind)
	}
}

// glUsers is GitLab's list of users for ids.
func (s *Server) glUsers(ids []int) []any {
	list := []any{}
	for _, id := range ids {
		if id >= 1 && id <= len(s.Users) {
			list = append(list, map[string]any{"id": id, "username": s.Users[id-1]})
		}
	}
	return list
}

func (s *Server) gitea(w http.ResponseWriter, r *http.Request, path string, in map[string]any) {
	seg := route(path, "/api/v1/repos/"+s.Owner+"/"+s.Repo+"/")
	if seg == nil {
		notFound(w, s.Kind)
		return
	}
	out := func(p *Pull) map[string]any {
		return map[string]any{"number": p.Number, "title": p.Title, "body": p.Body, "state": p.State,
			"html_url": fmt.Sprintf("%s/%s/%s/pulls/%d", s.srv.URL, s.Owner, s.Repo, p.Number),
			"head":     map[string]any{"ref": p.Head}, "base": map[string]any{"ref": p.Base},
			"labels": s.gtLabels(p.Labels), "requested_reviewers": logins(p.Reviewers)}
	}
	// page and limit, as Gitea pages its listings.
	paged := func(list []any) []any {
		q := r.URL.Query()
		page, _ := strconv.Atoi(first(q.Get("page"), "1"))
		limit, _ := strconv.Atoi(first(q.Get("limit"), "30"))
		if page < 1 || limit < 1 {
			return []any{}
		}
		limit = min(limit, 50)
		w.Header().Set("X-Total-Count", strconv.Itoa(len(list)))
		lo := (page - 1) * limit
		if lo >= len(list) {
			return []any{}
		}
		return list[lo:min(lo+limit, len(list))]
	}
	switch {
	case len(seg) == 1 && seg[0] == "pulls" && r.Method == "GET":
		state := first(r.URL.Query().Get("state"), "open")
		list := []any{}
		for _, p := range s.pulls {
			if state == "all" || p.State == state {
				list = append(list, out(p))
			}
		}
		writeJSON(w, 200, paged(list))
	case len(seg) == 1 && seg[0] == "labels" && r.Method == "GET":
		list := []any{}
		for i, l := range s.Labels {
			list = append(list, map[string]any{"id": i + 1, "name": l})
		}
		writeJSON(w, 200, paged(list))
	case len(seg) == 1 && seg[0] == "pulls" && r.Method == "POST":
		if s.openFrom(str(in, "head"), str(in, "base")) != nil {
			writeJSON(w, 409, map[string]any{"message": "pull request already exists for these targets", "url": s.srv.URL + "/api/swagger"})
			return
		}
		p := s.add(str(in, "head"), str(in, "base"), str(in, "title"), str(in, "body"))
		if ids, ok := in["labels"].([]any); ok {
			for _, id := range ids {
				f, _ := id.(float64)
				if int(f) < 1 || int(f) > len(s.Labels) {
					writeJSON(w, 422, map[string]any{"message": "label does not exist", "url": s.srv.URL + "/api/swagger"})
					return
				}
				p.LabelIDs = append(p.LabelIDs, int64(f))
				p.Labels = append(p.Labels, s.Labels[int(f)-1])
			}
		}
		p.Draft = strings.HasPrefix(p.Title, "WIP: ")
		writeJSON(w, 201, out(p))
	case len(seg) == 2 && seg[0] == "pulls" && r.Method == "PATCH":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		if v, ok := in["title"].(string); ok {
			p.Title = v
		}
		if v, ok := in["body"].(string); ok {
			p.Body = v
		}
		if v, ok := in["state"].(string); ok {
			p.State = v
		}
		p.Draft = strings.HasPrefix(p.Title, "WIP: ")
		writeJSON(w, 201, out(p))
	case len(seg) == 3 && seg[0] == "issues" && seg[2] == "comments" && r.Method == "POST":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		p.Comments = append(p.Comments, str(in, "body"))
		writeJSON(w, 201, map[string]any{"id": len(p.Comments), "body": str(in, "body")})
	case len(seg) == 3 && seg[0] == "pulls" && seg[2] == "requested_reviewers" && r.Method == "POST":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		p.Reviewers = addNew(p.Reviewers, strs(in["reviewers"])...)
		writeJSON(w, 201, []any{})
	case len(seg) == 3 && seg[0] == "pulls" && seg[2] == "reviews" && r.Method == "GET":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		writeJSON(w, 200, paged(reviews(p)))
	case len(seg) == 3 && seg[0] == "issues" && seg[2] == "labels" && r.Method == "POST":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		ids, _ := in["labels"].([]any)
		for _, id := range ids {
			f, _ := id.(float64)
			if int(f) < 1 || int(f) > len(s.Labels) {
				writeJSON(w, 422, map[string]any{"message": "label does not exist", "url": s.srv.URL + "/api/swagger"})
				return
			}
		}
		for _, id := range ids {
			f, _ := id.(float64)
			p.LabelIDs = addNew(p.LabelIDs, int64(f))
			p.Labels = addNew(p.Labels, s.Labels[int(f)-1])
		}
		writeJSON(w, 200, s.gtLabels(p.Labels))
	case len(seg) == 3 && seg[0] == "pulls" && seg[2] == "merge" && r.Method == "POST":
		p := s.pull(seg[1])
		if p == nil {
			notFound(w, s.Kind)
			return
		}
		if v, _ := in["merge_when_checks_succeed"].(bool); v && str(in, "Do") != "" {
			if p.AutoMerge {
				writeJSON(w, 409, map[string]any{"message": fmt.Sprintf("pull request is already scheduled to auto merge when checks succeed [pull_id: %d]", p.Number), "url": s.srv.URL + "/api/swagger"})
				return
			}
			p.AutoMerge = true
			w.WriteHeader(201)
			return
		}
		w.WriteHeader(200)
	default:
		notFound(w, s.Kind)
	}
}

// addNew appends to list the items of more it does not hold yet: adding a
// label or a reviewer twice leaves one, on every forge.
func addNew[T comparable](list []T, more ...T) []T {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}

// reviews is the list of reviews, in GitHub's and Gitea's shape.
func reviews(p *Pull) []any {
	list := []any{}
	for i, u := range p.Reviewed {
		list = append(list, map[string]any{"id": i + 1, "state": "COMMENTED", "user": map[string]any{"login": u}})
	}
	return list
}

func logins(names []string) []any {
	list := []any{}
	for _, n := range names {
		list = append(list, map[string]any{"login": n})
	}
	return list
}
