package app

import (
	"context"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/pullreq"
)

// pullRequestConfig is [pull_request] of laminar.toml with the user-level
// file's keys (api_url, token_env) on top.
func pullRequestConfig(ws *promote.Workspace, getenv func(string) string) (config.PullRequest, error) {
	pr := ws.Config.PullRequest
	u, err := config.LoadUser(config.UserPath(getenv))
	if err != nil {
		return pr, err
	}
	return pr.Merge(u.PullRequest), nil
}

// proposeForReview is run's last step in pull request mode: commit aside,
// push each commit to its own branch, open or update the requests, close
// those with nothing left to propose.
func (r *runner) proposeForReview(ctx context.Context, tip string) (Status, error) {
	pr, err := pullRequestConfig(r.ws, r.getenv)
	if err != nil {
		return StatusError, err
	}
	fg, err := pullreq.Connect(ctx, r.ws.Repo, pr, r.tg.remote.URL, r.getenv)
	if err != nil {
		return StatusError, err
	}
	flow := &pullreq.Flow{Repo: r.ws.Repo, Remote: r.tg.remote, Transport: r.tg.t, Forge: fg, Base: first(pr.Base, r.tg.branch), Config: pr}
	prop, err := r.propose(ctx, tip)
	if err != nil {
		return StatusError, err
	}
	var outs []pullreq.Outcome
	if prop != nil {
		outs, err = flow.ProposeAll(ctx, r.ws, prop, tip, "")
		for _, o := range outs {
			if o.Commit != "" {
				r.rep.Commit = o.Commit
			}
			if o.Action != "" {
				r.log.Info("pull request "+o.Action, "branch", o.Branch, "number", o.Number, "url", o.URL, "commit", o.Commit)
				r.rep.PullRequests = append(r.rep.PullRequests, pullRequestOf(o))
			}
		}
		if err != nil {
			return StatusPushFailed, err
		}
	}
	// A rule whose images failed, or were left out untrusted, proposed
	// nothing for a reason that says nothing of the base: its request stays.
	if len(r.rep.Failures) == 0 {
		closed, err := flow.WithdrawIdle(ctx, r.ws.RuleLabels(), outs)
		for _, o := range closed {
			r.log.Info("pull request closed", "branch", o.Branch, "number", o.Number, "url", o.URL, "reason", "the base has these promotions")
			r.rep.PullRequests = append(r.rep.PullRequests, pullRequestOf(o))
		}
		if err != nil {
			return StatusPushFailed, err
		}
	}
	return r.okStatus(), nil
}

// ProposeLocal proposes prop for review without fetching, as bump and set
// do with --pull-request: each commit is made aside from head (msg, or
// the bump message when empty) and proposed into the remote branch run
// would push to ([pull_request] base first); the local branch and its
// files do not move.
func ProposeLocal(ctx context.Context, ws *promote.Workspace, prop *promote.Proposal, head, msg string, deps Deps) ([]PullRequest, error) {
	pr, err := pullRequestConfig(ws, deps.getenv)
	if err != nil {
		return nil, err
	}
	tg, err := resolveTarget(ws, "", "", deps.getenv, "HEAD is detached; --pull-request needs a branch or pull_request.base")
	if err != nil && pr.Base == "" {
		return nil, err
	}
	if err != nil {
		// A detached HEAD with a configured base: the remote is [git]'s
		// or origin.
		name := first(gitConfig(ws, deps.getenv).Remote, "origin")
		if tg.remote, err = ws.Repo.Remote(name); err != nil {
			return nil, err
		}
		g := gitConfig(ws, deps.getenv)
		tg.t.SSHKey, tg.t.KnownHosts, tg.t.SSHKeyPassphrase = g.SSHKey, g.KnownHosts, deps.getenv(SSHPassphraseEnv)
	}
	fg, err := pullreq.Connect(ctx, ws.Repo, pr, tg.remote.URL, deps.getenv)
	if err != nil {
		return nil, err
	}
	flow := &pullreq.Flow{Repo: ws.Repo, Remote: tg.remote, Transport: tg.t, Forge: fg, Base: first(pr.Base, tg.branch), Config: pr}
	outs, err := flow.ProposeAll(ctx, ws, prop, head, msg)
	var out []PullRequest
	for _, o := range outs {
		out = append(out, pullRequestOf(o))
	}
	return out, err
}
