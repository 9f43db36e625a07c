package gitrepo

import (
	"context"
	"errors"
	"fmt"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrStop, returned by a Log callback, ends the walk without an error.
var ErrStop = errors.New("stop")

// Commit is one commit of history.
type Commit struct {
	Hash      string
	Author    Signature
	Committer Signature
	Message   string
	Parents   []string
}

// Log walks history from HEAD, or from rev (a branch, tag, hash or other
// revision go-git resolves) when rev is not empty, newest first by
// committer time like `git log`, calling fn for each commit until fn
// returns an error. ErrStop ends the walk and Log returns nil; any other
// error is returned as is.
func (r *Repo) Log(ctx context.Context, rev string, fn func(Commit) error) error {
	var from plumbing.Hash
	if rev == "" {
		h, _, err := r.readHead()
		if err != nil {
			return err
		}
		from = plumbing.NewHash(h)
	} else {
		h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return fmt.Errorf("log: resolve %q: %w", rev, err)
		}
		from = *h
	}
	iter, err := r.repo.Log(&gogit.LogOptions{From: from, Order: gogit.LogOrderCommitterTime})
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	defer iter.Close()
	err = iter.ForEach(func(c *object.Commit) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		parents := make([]string, len(c.ParentHashes))
		for i, p := range c.ParentHashes {
			parents[i] = p.String()
		}
		return fn(Commit{
			Hash:      c.Hash.String(),
			Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
			Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
			Message:   c.Message,
			Parents:   parents,
		})
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}
