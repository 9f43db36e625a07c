package forge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// gitlab speaks GitLab's REST API v4: merge requests of one project,
// addressed by its URL-encoded full path.
type gitlab struct {
	*api
	project string // already escaped, "/" as %2F
}

type glMR struct {
	IID         int      `json:"iid"`
	WebURL      string   `json:"web_url"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Draft       bool     `json:"draft"`
	Labels      []string `json:"labels"`
	Reviewers   []struct {
		ID       int    `json:"id"`
		Username string `json:"username"`
	} `json:"reviewers"`
	MergeWhenPipelineSucceeds bool `json:"merge_when_pipeline_succeeds"`
}

func (m glMR) request() *Request {
	r := &Request{Number: m.IID, URL: m.WebURL, Title: m.Title, Body: m.Description, labels: m.Labels,
		draft: m.Draft, autoMerge: m.MergeWhenPipelineSucceeds}
	for _, u := range m.Reviewers {
		r.reviewers = append(r.reviewers, u.Username)
		r.reviewerIDs = append(r.reviewerIDs, u.ID)
	}
	return r
}

func (g *gitlab) path(rest string) string { return "/projects/" + g.project + rest }

func (g *gitlab) Find(ctx context.Context, head, base string) (*Request, error) {
	q := url.Values{"source_branch": {head}, "target_branch": {base}, "state": {"opened"}, "per_page": {"100"}}
	var mrs []glMR
	if _, err := g.do(ctx, http.MethodGet, g.path("/merge_requests"), q, nil, &mrs); err != nil {
		return nil, fmt.Errorf("finding the merge request from %s: %w", head, err)
	}
	if len(mrs) == 0 {
		return nil, nil
	}
	return mrs[0].request(), nil
}

// userIDs turns user names into the ids GitLab's reviewer_ids wants.
func (g *gitlab) userIDs(ctx context.Context, names []string) ([]int, error) {
	var ids []int
	for _, name := range names {
		var users []struct {
			ID int `json:"id"`
		}
		if _, err := g.do(ctx, http.MethodGet, "/users", url.Values{"username": {name}}, nil, &users); err != nil {
			return nil, fmt.Errorf("looking up reviewer %s: %w", name, err)
		}
		if len(users) == 0 {
			return nil, fmt.Errorf("reviewer %s: no such user", name)
		}
		ids = append(ids, users[0].ID)
	}
	return ids, nil
}

func (g *gitlab) Create(ctx context.Context, s Spec) (*Request, error) {
	title := s.Title
	if s.Draft {
		title = "Draft: " + title
	}
	in := map[string]any{"source_branch": s.Head, "target_branch": s.Base, "title": title, "description": s.Body}
	if len(s.Labels) > 0 {
		in["labels"] = strings.Join(s.Labels, ",")
	}
	if len(s.Reviewers) > 0 {
		ids, err := g.userIDs(ctx, s.Reviewers)
		if err != nil {
			return nil, err
		}
		in["reviewer_ids"] = ids
	}
	var m glMR
	if _, err := g.do(ctx, http.MethodPost, g.path("/merge_requests"), nil, in, &m); err != nil {
		return nil, fmt.Errorf("opening a merge request from %s: %w", s.Head, err)
	}
	r := m.request()
	if s.AutoMerge {
		in := map[string]any{"merge_when_pipeline_succeeds": true}
		if _, err := g.do(ctx, http.MethodPut, g.path("/merge_requests/"+strconv.Itoa(m.IID)+"/merge"), nil, in, nil); err != nil {
			return r, fmt.Errorf("merging !%d when the pipeline succeeds: %w", m.IID, err)
		}
	}
	return r, nil
}

func (g *gitlab) Update(ctx context.Context, r *Request, title, body string) error {
	// A draft keeps its prefix: the title is ours, the draft state theirs.
	if strings.HasPrefix(r.Title, "Draft: ") && !strings.HasPrefix(title, "Draft: ") {
		title = "Draft: " + title
	}
	in := map[string]any{"title": title, "description": body}
	if _, err := g.do(ctx, http.MethodPut, g.path("/merge_requests/"+strconv.Itoa(r.Number)), nil, in, nil); err != nil {
		return fmt.Errorf("updating merge request !%d: %w", r.Number, err)
	}
	r.Title, r.Body = title, body
	return nil
}

func (g *gitlab) Settle(ctx context.Context, r *Request, s Spec) error {
	n := strconv.Itoa(r.Number)
	in := map[string]any{}
	addLabels := missing(s.Labels, r.labels)
	if len(addLabels) > 0 {
		in["add_labels"] = strings.Join(addLabels, ",")
	}
	addReviewers := missing(s.Reviewers, r.reviewers)
	if len(addReviewers) > 0 {
		ids, err := g.userIDs(ctx, addReviewers)
		if err != nil {
			return err
		}
		// reviewer_ids replaces the reviewers: those already there are
		// sent again so that none is dropped.
		in["reviewer_ids"] = append(slices.Clone(r.reviewerIDs), ids...)
	}
	title := r.Title
	if s.Draft && !r.draft && !strings.HasPrefix(title, "Draft: ") {
		title = "Draft: " + title
		in["title"] = title
	}
	if len(in) > 0 {
		if _, err := g.do(ctx, http.MethodPut, g.path("/merge_requests/"+n), nil, in, nil); err != nil {
			return fmt.Errorf("updating merge request !%d: %w", r.Number, err)
		}
		r.labels = append(r.labels, addLabels...)
		r.reviewers = append(r.reviewers, addReviewers...)
		r.Title = title
		r.draft = r.draft || s.Draft
	}
	if s.AutoMerge && !r.autoMerge {
		in := map[string]any{"merge_when_pipeline_succeeds": true}
		if _, err := g.do(ctx, http.MethodPut, g.path("/merge_requests/"+n+"/merge"), nil, in, nil); err != nil {
			return fmt.Errorf("merging !%d when the pipeline succeeds: %w", r.Number, err)
		}
		r.autoMerge = true
	}
	return nil
}

func (g *gitlab) Close(ctx context.Context, r *Request, comment string) error {
	n := strconv.Itoa(r.Number)
	if _, err := g.do(ctx, http.MethodPost, g.path("/merge_requests/"+n+"/notes"), nil, map[string]any{"body": comment}, nil); err != nil {
		return fmt.Errorf("commenting on merge request !%d: %w", r.Number, err)
	}
	if _, err := g.do(ctx, http.MethodPut, g.path("/merge_requests/"+n), nil, map[string]any{"state_event": "close"}, nil); err != nil {
		return fmt.Errorf("closing merge request !%d: %w", r.Number, err)
	}
	return nil
}
