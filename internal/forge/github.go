package forge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// github speaks GitHub's REST API (and GitHub Enterprise Server's, under
// /api/v3), and its GraphQL API for auto-merge, which REST lacks.
type github struct{ repoAPI }

type ghPull struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	NodeID  string `json:"node_id"`
	Draft   bool   `json:"draft"`
	Labels  []struct {
		Name string `json:"name"`
	} `json:"labels"`
	RequestedReviewers []struct {
		Login string `json:"login"`
	} `json:"requested_reviewers"`
	// AutoMerge is null while auto-merge is off.
	AutoMerge json.RawMessage `json:"auto_merge"`
}

func (p ghPull) request() *Request {
	r := &Request{Number: p.Number, URL: p.HTMLURL, Title: p.Title, Body: p.Body, nodeID: p.NodeID, draft: p.Draft,
		autoMerge: len(p.AutoMerge) > 0 && string(p.AutoMerge) != "null"}
	for _, l := range p.Labels {
		r.labels = append(r.labels, l.Name)
	}
	for _, u := range p.RequestedReviewers {
		r.reviewers = append(r.reviewers, u.Login)
	}
	return r
}

func (g *github) Find(ctx context.Context, head, base string) (*Request, error) {
	// head filters by "owner:branch"; the branch is pushed to this
	// repository, so the owner is the repository's.
	q := url.Values{"head": {g.owner + ":" + head}, "base": {base}, "state": {"open"}, "per_page": {"100"}}
	var pulls []ghPull
	if _, err := g.do(ctx, http.MethodGet, g.path("/pulls"), q, nil, &pulls); err != nil {
		return nil, fmt.Errorf("finding the pull request from %s: %w", head, err)
	}
	if len(pulls) == 0 {
		return nil, nil
	}
	return pulls[0].request(), nil
}

func (g *github) Create(ctx context.Context, s Spec) (*Request, error) {
	in := map[string]any{"title": s.Title, "head": s.Head, "base": s.Base, "body": s.Body, "draft": s.Draft}
	var p ghPull
	if _, err := g.do(ctx, http.MethodPost, g.path("/pulls"), nil, in, &p); err != nil {
		return nil, fmt.Errorf("opening a pull request from %s: %w", s.Head, err)
	}
	r := p.request()
	n := strconv.Itoa(p.Number)
	if len(s.Labels) > 0 {
		if _, err := g.do(ctx, http.MethodPost, g.path("/issues/"+n+"/labels"), nil, map[string]any{"labels": s.Labels}, nil); err != nil {
			return r, fmt.Errorf("labelling pull request #%d: %w", p.Number, err)
		}
	}
	if len(s.Reviewers) > 0 {
		if _, err := g.do(ctx, http.MethodPost, g.path("/pulls/"+n+"/requested_reviewers"), nil, map[string]any{"reviewers": s.Reviewers}, nil); err != nil {
			return r, fmt.Errorf("asking reviewers of pull request #%d: %w", p.Number, err)
		}
	}
	if s.AutoMerge {
		if err := g.autoMerge(ctx, r); err != nil {
			return r, fmt.Errorf("turning auto-merge on for pull request #%d: %w", p.Number, err)
		}
	}
	return r, nil
}

// graphqlPath is the GraphQL endpoint beside the REST base: /graphql on
// api.github.com, /api/graphql for GitHub Enterprise's /api/v3.
func (g *github) graphqlPath() (string, string) {
	if b, ok := strings.CutSuffix(g.base, "/api/v3"); ok {
		return b, "/api/graphql"
	}
	return g.base, "/graphql"
}

func (g *github) autoMerge(ctx context.Context, r *Request) error {
	return g.mutate(ctx, "enablePullRequestAutoMerge", r)
}

// mutate runs one GraphQL mutation that takes the pull request's id;
// REST can neither turn auto-merge on nor make an open request a draft.
func (g *github) mutate(ctx context.Context, mutation string, r *Request) error {
	in := map[string]any{
		"query":     "mutation($id: ID!) { " + mutation + "(input: {pullRequestId: $id}) { clientMutationId } }",
		"variables": map[string]any{"id": r.nodeID},
	}
	var out struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	base, path := g.graphqlPath()
	a := *g.api
	a.base = base
	if _, err := a.do(ctx, http.MethodPost, path, nil, in, &out); err != nil {
		return err
	}
	if len(out.Errors) > 0 {
		return &APIError{Method: http.MethodPost, Path: path, Status: http.StatusOK, Message: errorMessage([]byte(`{"message":` + quote(out.Errors[0].Message) + `}`))}
	}
	return nil
}

func (g *github) Update(ctx context.Context, r *Request, title, body string) error {
	in := map[string]any{"title": title, "body": body}
	if _, err := g.do(ctx, http.MethodPatch, g.path("/pulls/"+strconv.Itoa(r.Number)), nil, in, nil); err != nil {
		return fmt.Errorf("updating pull request #%d: %w", r.Number, err)
	}
	r.Title, r.Body = title, body
	return nil
}

func (g *github) Settle(ctx context.Context, r *Request, s Spec) error {
	n := strconv.Itoa(r.Number)
	if add := missing(s.Labels, r.labels); len(add) > 0 {
		if _, err := g.do(ctx, http.MethodPost, g.path("/issues/"+n+"/labels"), nil, map[string]any{"labels": add}, nil); err != nil {
			return fmt.Errorf("labelling pull request #%d: %w", r.Number, err)
		}
		r.labels = append(r.labels, add...)
	}
	if add := missing(s.Reviewers, r.reviewers); len(add) > 0 {
		// Who has reviewed leaves requested_reviewers; asking again would
		// ask them to review once more.
		var reviews []struct {
			User struct {
				Login string `json:"login"`
			} `json:"user"`
		}
		if _, err := g.do(ctx, http.MethodGet, g.path("/pulls/"+n+"/reviews"), url.Values{"per_page": {"100"}}, nil, &reviews); err != nil {
			return fmt.Errorf("listing reviews of pull request #%d: %w", r.Number, err)
		}
		var reviewed []string
		for _, rv := range reviews {
			reviewed = append(reviewed, rv.User.Login)
		}
		if add = missing(add, reviewed); len(add) > 0 {
			if _, err := g.do(ctx, http.MethodPost, g.path("/pulls/"+n+"/requested_reviewers"), nil, map[string]any{"reviewers": add}, nil); err != nil {
				return fmt.Errorf("asking reviewers of pull request #%d: %w", r.Number, err)
			}
			r.reviewers = append(r.reviewers, add...)
		}
	}
	if s.Draft && !r.draft {
		if err := g.mutate(ctx, "convertPullRequestToDraft", r); err != nil {
			return fmt.Errorf("making pull request #%d a draft: %w", r.Number, err)
		}
		r.draft = true
	}
	if s.AutoMerge && !r.autoMerge {
		if err := g.autoMerge(ctx, r); err != nil {
			return fmt.Errorf("turning auto-merge on for pull request #%d: %w", r.Number, err)
		}
		r.autoMerge = true
	}
	return nil
}

func (g *github) Close(ctx context.Context, r *Request, comment string) error {
	return g.closePull(ctx, r, comment)
}
