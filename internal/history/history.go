// Package history reads the promotion record back from git: every commit's
// Laminar-* trailers become Records, newest first.
package history

import (
	"context"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// Record is one promotion found in a commit's trailers.
type Record struct {
	Commit string
	Date   time.Time // committer date: when it landed on the branch
	Author string
	Email  string
	Image  string
	From   string
	To     string
	Digest string // from a Laminar-Digest trailer for the same image, if any
	Rule   string // from a Laminar-Rule trailer for the same image, if any
}

// Filter selects records. Zero values select everything.
type Filter struct {
	// Image matches the canonical image name or any trailing part of it at
	// a path boundary ("app" and "acme/app" match "registry.example.com/acme/app").
	Image string
	Since time.Time
	Limit int
}

// Read walks history from rev (HEAD when empty) and returns the matching
// records, newest first; within one commit, in trailer order.
func Read(ctx context.Context, repo *gitrepo.Repo, rev string, f Filter) ([]Record, error) {
	var out []Record
	err := repo.Log(ctx, rev, func(c gitrepo.Commit) error {
		if !f.Since.IsZero() && c.Committer.When.Before(f.Since) {
			return nil
		}
		recs := FromMessage(c.Message)
		for _, r := range recs {
			if !f.matches(r.Image) {
				continue
			}
			r.Commit = c.Hash
			r.Date = c.Committer.When
			r.Author = c.Author.Name
			r.Email = c.Author.Email
			out = append(out, r)
			if f.Limit > 0 && len(out) >= f.Limit {
				return gitrepo.ErrStop
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FromMessage extracts the promotions recorded in one commit message.
// Malformed Laminar-Promote values are skipped: history is read, not judged
// (the pre-push check is where malformed trailers are refused).
func FromMessage(msg string) []Record {
	ts := trailer.Parse(msg)
	digests := map[string]string{}
	rules := map[string]string{}
	for _, t := range ts {
		image, rest, ok := strings.Cut(t.Value, " ")
		if !ok {
			continue
		}
		switch {
		case strings.EqualFold(t.Key, trailer.KeyDigest):
			digests[image] = strings.TrimSpace(rest)
		case strings.EqualFold(t.Key, trailer.KeyRule):
			rules[image] = strings.TrimSpace(rest)
		}
	}
	var out []Record
	for _, t := range ts {
		if !strings.EqualFold(t.Key, trailer.KeyPromote) {
			continue
		}
		p, err := trailer.ParsePromotion(t.Value)
		if err != nil {
			continue
		}
		out = append(out, Record{Image: p.Image, From: p.From, To: p.To, Digest: digests[p.Image], Rule: rules[p.Image]})
	}
	return out
}

func (f Filter) matches(image string) bool {
	if f.Image == "" {
		return true
	}
	want := strings.TrimPrefix(f.Image, "docker.io/")
	img := strings.TrimPrefix(image, "docker.io/")
	return img == want || strings.HasSuffix(img, "/"+want)
}
