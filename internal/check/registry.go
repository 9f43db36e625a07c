package check

import (
	"context"
	"errors"
	"sync"

	"github.com/git-laminar/git-laminar/internal/registry"
)

// Concurrency bounds how many registry requests Registry has in flight.
const Concurrency = 8

// Registry asks the registries about every reference: the tag must resolve,
// and a pinned digest must be the tag's digest. Each (repository, tag) and
// each (repository, digest) is asked once however many files name it. A
// reference without a tag is not checked (a rule manages only tagged
// references). Any failure to ask is an Unchecked problem.
func Registry(ctx context.Context, reg *registry.Client, refs []Reference) []Problem {
	type key struct{ repo, ref string }
	type answer struct {
		digest string
		err    error
	}
	answers := map[key]*answer{}
	var order []key
	ask := func(k key) {
		if _, ok := answers[k]; !ok {
			answers[k] = &answer{}
			order = append(order, k)
		}
	}
	for _, r := range refs {
		if r.Ref.Tag != "" {
			ask(key{r.Ref.Repo(), r.Ref.Tag})
		}
	}
	resolve := func(keys []key) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, Concurrency)
		for _, k := range keys {
			a := answers[k]
			wg.Go(func() {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
					a.digest, a.err = reg.Digest(ctx, k.repo, k.ref)
				case <-ctx.Done():
					a.err = ctx.Err()
				}
			})
		}
		wg.Wait()
	}
	resolve(order)

	// A pinned digest that is not the tag's: does it exist at all?
	var second []key
	for _, r := range refs {
		if r.Ref.Tag == "" || r.Ref.Digest == "" {
			continue
		}
		if a := answers[key{r.Ref.Repo(), r.Ref.Tag}]; a.err == nil && a.digest != r.Ref.Digest {
			k := key{r.Ref.Repo(), r.Ref.Digest}
			if _, ok := answers[k]; !ok {
				ask(k)
				second = append(second, k)
			}
		}
	}
	resolve(second)

	var out []Problem
	for _, r := range refs {
		if r.Ref.Tag == "" {
			continue
		}
		p := Problem{File: r.Path, Line: r.Line, Image: r.Ref.Name, Tag: r.Ref.Tag, Digest: r.Ref.Digest}
		a := answers[key{r.Ref.Repo(), r.Ref.Tag}]
		switch {
		case a.err != nil && errors.Is(a.err, registry.ErrNotFound):
			p.Kind, p.Problem = NotFound, "tag not found"
		case a.err != nil:
			p.Kind, p.Problem = Unchecked, "could not be checked: "+a.err.Error()
		case r.Ref.Digest == "" || r.Ref.Digest == a.digest:
			continue
		default:
			p.Kind = DigestMismatch
			p.Problem = "pinned digest is not the digest of tag " + r.Ref.Tag + " (" + a.digest + ")"
			d := answers[key{r.Ref.Repo(), r.Ref.Digest}]
			switch {
			case d.err != nil && errors.Is(d.err, registry.ErrNotFound):
				p.Problem += "; the pinned digest does not exist in the repository"
			case d.err != nil:
				p.Problem += "; the pinned digest could not be checked: " + d.err.Error()
			}
		}
		out = append(out, p)
	}
	return out
}

// Unreachable reports whether any problem is a registry that could not be
// asked, for callers that explain how to bypass the check.
func Unreachable(ps []Problem) bool {
	for _, p := range ps {
		if p.Kind == Unchecked {
			return true
		}
	}
	return false
}
