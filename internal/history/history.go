// Package history reads the promotion record back from git: every commit's
// Laminar-* trailers become Records, newest first. Promotions, rollbacks,
// holds and releases are all Records, told apart by their Kind; Holds says
// which images a rollback has held, and RollbackTarget which promotion a
// rollback would undo.
package history

import (
	"context"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// Kind says what a Record records.
type Kind string

const (
	// Promote is an image moved from one tag (or digest) to another.
	Promote Kind = "promote"
	// Rollback is a promotion made by a rollback: its commit also has a
	// Laminar-Rollback-Of trailer, the commit it undoes.
	Rollback Kind = "rollback"
	// Hold is a Laminar-Hold trailer: bumps leave the image alone.
	Hold Kind = "hold"
	// Release is a Laminar-Release trailer: the hold is lifted.
	Release Kind = "release"
)

// Record is one Laminar event found in a commit's trailers. From, To,
// Digest and Rule are set for promotions and rollbacks only.
type Record struct {
	Kind   Kind
	Commit string
	Date   time.Time // committer date: when it landed on the branch
	Author string
	Email  string
	Image  string
	From   string
	To     string
	Digest string // from a Laminar-Digest trailer for the same image, if any
	Rule   string // from a Laminar-Rule trailer for the same image, if any
	// RollbackOf is, for a rollback, the full id of the commit it undoes.
	RollbackOf string
}

// Moves reports whether the record moved an image (a promotion or rollback).
func (r Record) Moves() bool { return r.Kind == Promote || r.Kind == Rollback }

// Filter selects records. Zero values select everything.
type Filter struct {
	// Image matches the canonical image name or any trailing part of it at
	// a path boundary ("app" and "acme/app" match "registry.example.com/acme/app").
	Image string
	Since time.Time
	Limit int
}

// Read walks history from rev (HEAD when empty) and returns the matching
// records of every kind, newest first; within one commit, in trailer order.
func Read(ctx context.Context, repo *gitrepo.Repo, rev string, f Filter) ([]Record, error) {
	var out []Record
	err := Each(ctx, repo, rev, f, func(r Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Each is Read calling fn for each record as history is read, so that
// none need be kept. An error from fn ends the walk and is returned.
func Each(ctx context.Context, repo *gitrepo.Repo, rev string, f Filter, fn func(Record) error) error {
	n := 0
	var fnErr error
	err := repo.LogWith(ctx, gitrepo.LogOptions{Rev: rev, Grep: []string{laminarGrep}}, func(c gitrepo.Commit) error {
		if !f.Since.IsZero() && c.Committer.When.Before(f.Since) {
			return nil
		}
		for _, r := range FromMessage(c.Message) {
			if !f.matches(r.Image) {
				continue
			}
			if fnErr = fn(stamp(r, c)); fnErr != nil {
				return gitrepo.ErrStop
			}
			if n++; f.Limit > 0 && n >= f.Limit {
				return gitrepo.ErrStop
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// laminarGrep is in every message with a Laminar-* trailer: git skips the
// other commits without printing them.
const laminarGrep = "laminar-"

func stamp(r Record, c gitrepo.Commit) Record {
	r.Commit = c.Hash
	r.Date = c.Committer.When
	r.Author = c.Author.Name
	r.Email = c.Author.Email
	return r
}

// FromMessage extracts the records of one commit message, in trailer order.
// Malformed values are skipped: history is read, not judged (the pre-push
// check is where malformed trailers are refused). In a commit with a
// Laminar-Rollback-Of trailer, every promotion is a Rollback of the first
// such commit.
func FromMessage(msg string) []Record {
	ts := trailer.Parse(msg)
	digests := trailer.Values(ts, trailer.KeyDigest)
	rules := trailer.Values(ts, trailer.KeyRule)
	rollbackOf := ""
	for _, v := range trailer.Values(ts, trailer.KeyRollback) {
		if trailer.Validate(trailer.Trailer{Key: trailer.KeyRollback, Value: v}) == nil {
			rollbackOf = v
			break
		}
	}
	var out []Record
	for _, t := range ts {
		switch {
		case strings.EqualFold(t.Key, trailer.KeyPromote):
			p, err := trailer.ParsePromotion(t.Value)
			if err != nil {
				continue
			}
			r := Record{Kind: Promote, Image: p.Image, From: p.From, To: p.To, Digest: forImage(digests, p.Image), Rule: forImage(rules, p.Image)}
			if rollbackOf != "" {
				r.Kind, r.RollbackOf = Rollback, rollbackOf
			}
			out = append(out, r)
		case strings.EqualFold(t.Key, trailer.KeyHold), strings.EqualFold(t.Key, trailer.KeyRelease):
			kind, key := Hold, trailer.KeyHold
			if strings.EqualFold(t.Key, trailer.KeyRelease) {
				kind, key = Release, trailer.KeyRelease
			}
			if trailer.Validate(trailer.Trailer{Key: key, Value: t.Value}) != nil {
				continue
			}
			out = append(out, Record{Kind: kind, Image: t.Value})
		}
	}
	return out
}

// forImage returns the value for image among "<image> <value>" trailer
// values; a later value for the same image replaces an earlier one. (A
// commit has a few: a map for each would cost more than the search.)
func forImage(values []string, image string) string {
	out := ""
	for _, v := range values {
		if img, rest, ok := strings.Cut(v, " "); ok && img == image {
			out = strings.TrimSpace(rest)
		}
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
