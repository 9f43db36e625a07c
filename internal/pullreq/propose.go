package pullreq

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/git-laminar/git-laminar/internal/promote"
)

// WithdrawComment is what a request is closed with when the base already
// has what it proposed.
const WithdrawComment = "git-laminar closes this request: the base branch already has these promotions (or newer), so nothing is left to propose."

// ruleName is the rule's own name from its label ("\"api\"" → api).
func ruleName(label string) string {
	if s, err := strconv.Unquote(label); err == nil {
		return s
	}
	return label
}

// Branches says which branch each rule's promotions go to: one per rule
// (laminar/<rule>), or the one configured branch for all.
func (f *Flow) branchOf(label string) string { return BranchFor(f.Config, ruleName(label)) }

// ProposeAll commits p aside from head (the branch and its files stay at
// head) and proposes it: one commit and one request per rule, or a single
// one on the configured branch. msg, when set, is the commit message of
// every commit (set's); else the bump message.
func (f *Flow) ProposeAll(ctx context.Context, ws *promote.Workspace, p *promote.Proposal, head, msg string) ([]Outcome, error) {
	type group struct {
		label string
		prop  *promote.Proposal
	}
	var groups []group
	rules := p.Rules()
	if f.Config.Branch != "" || len(rules) <= 1 {
		label := ""
		if len(rules) == 1 {
			label = rules[0]
		}
		groups = append(groups, group{label, p})
	} else {
		for _, r := range rules {
			sub, err := ws.ForRule(p, r)
			if err != nil {
				return nil, err
			}
			groups = append(groups, group{r, sub})
		}
	}
	var outs []Outcome
	for _, g := range groups {
		res, err := ws.CommitAside(ctx, g.prop, msg, head)
		if err != nil {
			return outs, err
		}
		m := msg
		if m == "" {
			m, _ = ws.Message(g.prop.Plan)
		}
		subject, _, _ := strings.Cut(m, "\n")
		var ps []Promotion
		for _, pr := range g.prop.Plan.Promotions {
			ps = append(ps, Promotion{Image: pr.Image, From: pr.From, To: pr.To, Digest: pr.Digest, Rule: ruleName(pr.Rule), Files: pr.Paths})
		}
		rule := ""
		if f.Config.Branch == "" {
			rule = ruleName(g.label)
		}
		title, err := Title(f.Config.Title, TitleData{Rule: rule, Subject: subject, Promotions: ps})
		if err != nil {
			return outs, err
		}
		branch := f.Config.Branch
		if branch == "" {
			branch = f.branchOf(g.label)
			if g.label == "" {
				branch = "laminar/promote"
			}
		}
		out, err := f.Propose(ctx, Request{Branch: branch, Commit: res.Hash, Title: title, Body: Body(ps, f.Base)})
		out.Commit = res.Hash
		outs = append(outs, out)
		if err != nil {
			return outs, fmt.Errorf("proposing on %s: %w", branch, err)
		}
	}
	return outs, nil
}

// WithdrawIdle closes the open requests of the rules in labels that
// proposed nothing this time (with the configured branch: only when no
// rule proposed anything). The caller leaves out rules whose images
// failed or were held back: for them nothing is known.
func (f *Flow) WithdrawIdle(ctx context.Context, labels []string, proposed []Outcome) ([]Outcome, error) {
	busy := map[string]bool{}
	for _, o := range proposed {
		busy[o.Branch] = true
	}
	var branches []string
	if f.Config.Branch != "" {
		branches = []string{f.Config.Branch}
	} else {
		for _, l := range labels {
			branches = append(branches, f.branchOf(l))
		}
	}
	var outs []Outcome
	seen := map[string]bool{}
	for _, b := range branches {
		if busy[b] || seen[b] {
			continue
		}
		seen[b] = true
		out, err := f.Withdraw(ctx, b, WithdrawComment)
		if err != nil {
			return outs, err
		}
		if out.Action == "closed" {
			outs = append(outs, out)
		}
	}
	return outs, nil
}
