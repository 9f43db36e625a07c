package promote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/rules"
)

// Rules returns the rules that have promotions in p, in the plan's order,
// each once.
func (p *Proposal) Rules() []string {
	var out []string
	seen := map[string]bool{}
	for _, pr := range p.Plan.Promotions {
		if !seen[pr.Rule] {
			seen[pr.Rule] = true
			out = append(out, pr.Rule)
		}
	}
	return out
}

// ForRule is p with only rule's promotions, rendered on the same tree: a
// pull request per rule holds that rule's changes alone.
func (w *Workspace) ForRule(p *Proposal, rule string) (*Proposal, error) {
	res := p.Resolution
	res.Decisions = nil
	for _, d := range p.Decisions {
		if d.Rule == rule {
			res.Decisions = append(res.Decisions, d)
		}
	}
	sub, err := w.Prepare(&res)
	if err != nil {
		return nil, fmt.Errorf("rule %s: %w", rule, err)
	}
	return sub, nil
}

// CommitAside commits p (with msg, or the bump message when empty) on
// top of head, then moves the branch and its files back to head: the
// commit exists, for a pull request's branch, and the branch and the
// working tree are as they were. Were moving back to fail, the commit
// stays on the branch and the error says so; `run` recomputes it, as it
// does any of its own unpushed commits.
func (w *Workspace) CommitAside(ctx context.Context, p *Proposal, msg, head string) (CommitResult, error) {
	res, err := w.CommitMessage(ctx, p, msg, head)
	if err != nil {
		return res, err
	}
	who := gitrepo.Signature{Name: "git-laminar", Email: "git-laminar@localhost", When: time.Now()}
	if _, c, err := w.identity(); err == nil {
		who = c
	}
	err = w.Repo.MoveBranch(ctx, gitrepo.MoveRequest{To: head, ExpectHead: res.Hash, Who: who,
		Reflog: "laminar: promotion " + shortHash(res.Hash) + " kept for a pull request"})
	if err != nil {
		return res, errors.Join(fmt.Errorf("commit %s was made but the branch could not be moved back to %s", shortHash(res.Hash), shortHash(head)), err)
	}
	return res, nil
}

// RuleLabels names every rule as a Decision's Rule does, in file order.
func (w *Workspace) RuleLabels() []string {
	out := make([]string, len(w.rules.list))
	for i, r := range w.rules.list {
		out[i] = rules.Name(r.update)
	}
	return out
}
