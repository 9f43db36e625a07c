package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// gitea speaks the API of Gitea and Forgejo (api_url ends in /api/v1).
type gitea struct{ repoAPI }

type gtPull struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Head    struct {
		Ref string `json:"ref"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
	Labels []struct {
		Name string `json:"name"`
	} `json:"labels"`
	RequestedReviewers []struct {
		Login string `json:"login"`
	} `json:"requested_reviewers"`
}

func (p gtPull) request() *Request {
	r := &Request{Number: p.Number, URL: p.HTMLURL, Title: p.Title, Body: p.Body, draft: strings.HasPrefix(p.Title, "WIP: ")}
	for _, l := range p.Labels {
		r.labels = append(r.labels, l.Name)
	}
	for _, u := range p.RequestedReviewers {
		r.reviewers = append(r.reviewers, u.Login)
	}
	return r
}

// pages calls one for each page of a listing (page and limit parameters,
// as Gitea pages), until a short page, a stop, or maxPages.
func (g *gitea) pages(ctx context.Context, path string, q url.Values, one func(page int) (int, bool, error)) error {
	const limit = 50
	for page := 1; page <= maxPages; page++ {
		q.Set("page", strconv.Itoa(page))
		q.Set("limit", strconv.Itoa(limit))
		n, stop, err := one(page)
		if err != nil || stop || n < limit {
			return err
		}
	}
	return nil
}

func (g *gitea) Find(ctx context.Context, head, base string) (*Request, error) {
	var found *Request
	q := url.Values{"state": {"open"}}
	err := g.pages(ctx, g.path("/pulls"), q, func(int) (int, bool, error) {
		var pulls []gtPull
		if _, err := g.do(ctx, http.MethodGet, g.path("/pulls"), q, nil, &pulls); err != nil {
			return 0, false, err
		}
		for _, p := range pulls {
			if p.Head.Ref == head && p.Base.Ref == base {
				found = p.request()
				return len(pulls), true, nil
			}
		}
		return len(pulls), false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding the pull request from %s: %w", head, err)
	}
	return found, nil
}

// labelIDs turns label names into the ids Gitea's create wants.
func (g *gitea) labelIDs(ctx context.Context, names []string) ([]int64, error) {
	byName := map[string]int64{}
	q := url.Values{}
	err := g.pages(ctx, g.path("/labels"), q, func(int) (int, bool, error) {
		var labels []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		if _, err := g.do(ctx, http.MethodGet, g.path("/labels"), q, nil, &labels); err != nil {
			return 0, false, err
		}
		for _, l := range labels {
			byName[l.Name] = l.ID
		}
		return len(labels), false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing labels: %w", err)
	}
	var ids []int64
	for _, n := range names {
		id, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("label %q: no such label in %s/%s", n, g.owner, g.repo)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (g *gitea) Create(ctx context.Context, s Spec) (*Request, error) {
	title := s.Title
	if s.Draft {
		title = "WIP: " + title
	}
	in := map[string]any{"head": s.Head, "base": s.Base, "title": title, "body": s.Body}
	if len(s.Labels) > 0 {
		ids, err := g.labelIDs(ctx, s.Labels)
		if err != nil {
			return nil, err
		}
		in["labels"] = ids
	}
	var p gtPull
	if _, err := g.do(ctx, http.MethodPost, g.path("/pulls"), nil, in, &p); err != nil {
		return nil, fmt.Errorf("opening a pull request from %s: %w", s.Head, err)
	}
	r := &Request{Number: p.Number, URL: p.HTMLURL, Title: p.Title, Body: p.Body}
	n := strconv.Itoa(p.Number)
	if len(s.Reviewers) > 0 {
		if _, err := g.do(ctx, http.MethodPost, g.path("/pulls/"+n+"/requested_reviewers"), nil, map[string]any{"reviewers": s.Reviewers}, nil); err != nil {
			return r, fmt.Errorf("asking reviewers of pull request #%d: %w", p.Number, err)
		}
	}
	if s.AutoMerge {
		in := map[string]any{"Do": "merge", "merge_when_checks_succeed": true}
		if _, err := g.do(ctx, http.MethodPost, g.path("/pulls/"+n+"/merge"), nil, in, nil); err != nil {
			return r, fmt.Errorf("merging pull request #%d when its checks succeed: %w", p.Number, err)
		}
	}
	return r, nil
}

func (g *gitea) Update(ctx context.Context, r *Request, title, body string) error {
	if strings.HasPrefix(r.Title, "WIP: ") && !strings.HasPrefix(title, "WIP: ") {
		title = "WIP: " + title
	}
	in := map[string]any{"title": title, "body": body}
	if _, err := g.do(ctx, http.MethodPatch, g.path("/pulls/"+strconv.Itoa(r.Number)), nil, in, nil); err != nil {
		return fmt.Errorf("updating pull request #%d: %w", r.Number, err)
	}
	r.Title, r.Body = title, body
	return nil
}

func (g *gitea) Settle(ctx context.Context, r *Request, s Spec) error {
	n := strconv.Itoa(r.Number)
	if add := missing(s.Labels, r.labels); len(add) > 0 {
		ids, err := g.labelIDs(ctx, add)
		if err != nil {
			return err
		}
		if _, err := g.do(ctx, http.MethodPost, g.path("/issues/"+n+"/labels"), nil, map[string]any{"labels": ids}, nil); err != nil {
			return fmt.Errorf("labelling pull request #%d: %w", r.Number, err)
		}
		r.labels = append(r.labels, add...)
	}
	if add := missing(s.Reviewers, r.reviewers); len(add) > 0 {
		// Who has reviewed leaves requested_reviewers; asking again would
		// ask them to review once more.
		var reviewed []string
		q := url.Values{}
		err := g.pages(ctx, g.path("/pulls/"+n+"/reviews"), q, func(int) (int, bool, error) {
			var reviews []struct {
				User struct {
					Login string `json:"login"`
				} `json:"user"`
			}
			if _, err := g.do(ctx, http.MethodGet, g.path("/pulls/"+n+"/reviews"), q, nil, &reviews); err != nil {
				return 0, false, err
			}
			for _, rv := range reviews {
				reviewed = append(reviewed, rv.User.Login)
			}
			return len(reviews), false, nil
		})
		if err != nil {
			return fmt.Errorf("listing reviews of pull request #%d: %w", r.Number, err)
		}
		if add = missing(add, reviewed); len(add) > 0 {
			if _, err := g.do(ctx, http.MethodPost, g.path("/pulls/"+n+"/requested_reviewers"), nil, map[string]any{"reviewers": add}, nil); err != nil {
				return fmt.Errorf("asking reviewers of pull request #%d: %w", r.Number, err)
			}
			r.reviewers = append(r.reviewers, add...)
		}
	}
	if s.Draft && !r.draft {
		title := "WIP: " + r.Title
		if _, err := g.do(ctx, http.MethodPatch, g.path("/pulls/"+n), nil, map[string]any{"title": title}, nil); err != nil {
			return fmt.Errorf("marking pull request #%d a draft: %w", r.Number, err)
		}
		r.Title, r.draft = title, true
	}
	if s.AutoMerge && !r.autoMerge {
		// A pull request does not say whether it is scheduled to merge;
		// Gitea answers 409 when it already is.
		in := map[string]any{"Do": "merge", "merge_when_checks_succeed": true}
		_, err := g.do(ctx, http.MethodPost, g.path("/pulls/"+n+"/merge"), nil, in, nil)
		var ae *APIError
		if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusConflict) {
			return fmt.Errorf("merging pull request #%d when its checks succeed: %w", r.Number, err)
		}
		r.autoMerge = true
	}
	return nil
}

func (g *gitea) Close(ctx context.Context, r *Request, comment string) error {
	return g.closePull(ctx, r, comment)
}
