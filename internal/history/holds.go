package history

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// HoldInfo says which commit holds an image.
type HoldInfo struct {
	Image  string
	Commit string
	Author string
	Date   time.Time // committer date
	// Rollback is true when the holding commit is a rollback (it has a
	// Laminar-Rollback-Of trailer).
	Rollback bool
}

// Reason is the hold in words: "rolled back in 1a2b3c4 by Dana on 2026-11-02".
func (h HoldInfo) Reason() string {
	what := "held"
	if h.Rollback {
		what = "rolled back"
	}
	c := h.Commit
	if len(c) > 7 {
		c = c[:7]
	}
	return fmt.Sprintf("%s in %s by %s on %s", what, c, h.Author, h.Date.Format("2006-01-02"))
}

// Holds returns the images held at HEAD, each with the reason it is held
// (see HoldInfo.Reason). This is what promote.Options.Held expects: every
// command that promotes on its own (bump, run) passes it so that held
// images keep their tags.
func Holds(ctx context.Context, repo *gitrepo.Repo) (map[string]string, error) {
	held, err := HeldAt(ctx, repo, "")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(held))
	for image, h := range held {
		out[image] = h.Reason()
	}
	return out, nil
}

// HeldAt returns the images held in the history of rev (HEAD when empty).
// An image is held when, walking history newest first, the first of its
// Laminar-Hold and Laminar-Release trailers is a hold; within one commit
// the last of them counts. Images are named as the trailers name them,
// which for git laminar's own commits is the canonical name
// ("registry.example.com/acme/app", "docker.io/library/nginx").
//
// For HEAD the answer is kept in the git dir (see headHolds), so that a
// run reads only the commits made since the last one.
func HeldAt(ctx context.Context, repo *gitrepo.Repo, rev string) (map[string]HoldInfo, error) {
	if rev == "" {
		s, _, err := headHolds(ctx, repo)
		if err != nil {
			return nil, err
		}
		return s.held(), nil
	}
	s, err := walkHolds(ctx, repo, rev)
	if err != nil {
		return nil, err
	}
	return s.held(), nil
}

// walkHolds folds all of rev's history.
func walkHolds(ctx context.Context, repo *gitrepo.Repo, rev string) (*holdState, error) {
	s := &holdState{}
	err := repo.LogWith(ctx, gitrepo.LogOptions{Rev: rev, Grep: holdGrep[:]}, func(c gitrepo.Commit) error {
		s.add(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// holdGrep is in every message with a Laminar-Hold or Laminar-Release
// trailer. (Not the whole key: trailer keys compare under Unicode case
// folding, where "ſ" is an "s"; none of these letters has such a twin.)
var holdGrep = [2]string{"laminar-hold", "laminar-relea"}

// holdState folds commits, newest first, into the current holds.
type holdState struct {
	// decided has, for each image a commit already had the last word on,
	// what that commit said: a hold, or a release (Released).
	decided map[string]decision
}

type decision struct {
	HoldInfo // Commit is the deciding commit, a release's too
	Released bool
}

func (s *holdState) add(c gitrepo.Commit) {
	if lower := strings.ToLower(c.Message); !strings.Contains(lower, holdGrep[0]) && !strings.Contains(lower, holdGrep[1]) {
		return
	}
	if s.decided == nil {
		s.decided = map[string]decision{}
	}
	for _, d := range decisions(c) {
		if _, done := s.decided[d.Image]; !done {
			s.decided[d.Image] = d
		}
	}
}

// decisions are the last words of one commit on each image it holds or
// releases, in the order the images first appear.
func decisions(c gitrepo.Commit) []decision {
	recs := FromMessage(c.Message)
	rollback := false
	for _, r := range recs {
		rollback = rollback || r.Kind == Rollback
	}
	// Within the commit the last word on an image counts.
	last := map[string]Kind{}
	var order []string
	for _, r := range recs {
		if r.Kind != Hold && r.Kind != Release {
			continue
		}
		if _, ok := last[r.Image]; !ok {
			order = append(order, r.Image)
		}
		last[r.Image] = r.Kind
	}
	out := make([]decision, 0, len(order))
	for _, image := range order {
		if last[image] == Release {
			out = append(out, decision{HoldInfo: HoldInfo{Image: image, Commit: c.Hash}, Released: true})
			continue
		}
		out = append(out, decision{HoldInfo: HoldInfo{Image: image, Commit: c.Hash, Author: c.Author.Name, Date: c.Committer.When, Rollback: rollback}})
	}
	return out
}

func (s *holdState) held() map[string]HoldInfo {
	out := map[string]HoldInfo{}
	for image, d := range s.decided {
		if !d.Released {
			out[image] = d.HoldInfo
		}
	}
	return out
}

// RollbackTarget finds the promotion a rollback of image undoes: the most
// recent promotion of image (recs newest first, as Read returns them) to one
// of its current tags that no later rollback has undone already. Rolling
// back returns the image to that record's From. A rollback undoes the
// commit in its RollbackOf, so rolling back twice walks further back
// instead of undoing the first rollback.
//
// It reports false when there is no such promotion, or when the one found
// cannot be undone by a tag: it came from no tag or from a digest (a move
// that followed a mutable tag).
func RollbackTarget(recs []Record, image string, current []string) (Record, bool) {
	cur := map[string]bool{}
	for _, t := range current {
		cur[t] = true
	}
	undone := map[string]bool{}
	for _, r := range recs {
		if r.Image != image || !r.Moves() {
			continue
		}
		if r.Kind == Rollback {
			undone[r.RollbackOf] = true
			continue
		}
		if undone[r.Commit] || !cur[r.To] {
			continue
		}
		if r.From == trailer.NoTag || strings.Contains(r.From, ":") {
			return Record{}, false
		}
		return r, true
	}
	return Record{}, false
}
