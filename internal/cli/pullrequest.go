package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/pullreq"
	"github.com/urfave/cli/v2"
)

func pullRequestFlag() cli.Flag {
	return &cli.BoolFlag{Name: "pull-request", Usage: "push the promotion commit to a branch of its own and open or update a pull/merge request, instead of pushing to the branch"}
}

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

// proposeForReview is run's last step with --pull-request: commit aside,
// push each commit to its own branch, open or update the requests, close
// those with nothing left to propose.
func (st *runState) proposeForReview(ctx context.Context, tip string) (int, error) {
	pr, err := pullRequestConfig(st.ws, st.getenv)
	if err != nil {
		return ExitError, err
	}
	fg, err := pullreq.Connect(ctx, st.ws.Repo, pr, st.remote.URL, st.getenv)
	if err != nil {
		return ExitError, err
	}
	flow := &pullreq.Flow{Repo: st.ws.Repo, Remote: st.remote, Transport: st.t, Forge: fg, Base: first(pr.Base, st.branch), Config: pr}
	prop, err := st.propose(ctx, tip)
	if err != nil {
		return ExitError, err
	}
	var outs []pullreq.Outcome
	if prop != nil {
		outs, err = flow.ProposeAll(ctx, st.ws, prop, tip, "")
		for _, o := range outs {
			if o.Commit != "" {
				st.commit = o.Commit
			}
			if o.Action != "" {
				st.log.Info("pull request "+o.Action, "branch", o.Branch, "number", o.Number, "url", o.URL, "commit", o.Commit)
			}
		}
		if err != nil {
			return ExitPushFailed, err
		}
		st.pushed = true
	}
	// A rule whose images failed, or were left out untrusted, proposed
	// nothing for a reason that says nothing of the base: its request stays.
	if len(st.failures) == 0 {
		closed, err := flow.WithdrawIdle(ctx, st.ws.RuleLabels(), outs)
		for _, o := range closed {
			st.log.Info("pull request closed", "branch", o.Branch, "number", o.Number, "url", o.URL, "reason", "the base has these promotions")
		}
		if err != nil {
			return ExitPushFailed, err
		}
	}
	return st.okCode(), nil
}

// proposeLocal is --pull-request for bump and set: the commit is made
// aside from HEAD and proposed into the current branch's upstream (or
// [pull_request] base); the local branch does not move.
func proposeLocal(ctx context.Context, s Streams, w io.Writer, ws *promote.Workspace, prop *promote.Proposal, head, msg string) ([]pullreq.Outcome, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	pr, err := pullRequestConfig(ws, getenv)
	if err != nil {
		return nil, err
	}
	repo := ws.Repo
	_, local, err := repo.Head()
	if err != nil {
		return nil, err
	}
	remoteName, base := "origin", local
	if r, b, ok, err := repo.Upstream(local); err != nil {
		return nil, err
	} else if ok {
		remoteName, base = r, b
	}
	g := ws.Config.Git
	if u, err := config.LoadUser(config.UserPath(getenv)); err == nil {
		g = g.Merge(u.Git)
	}
	if g.Remote != "" {
		remoteName = g.Remote
	}
	if pr.Base != "" {
		base = pr.Base
	}
	if base == "" {
		return nil, fmt.Errorf("HEAD is detached; --pull-request needs a branch or pull_request.base")
	}
	rm, err := repo.Remote(remoteName)
	if err != nil {
		return nil, err
	}
	fg, err := pullreq.Connect(ctx, repo, pr, rm.URL, getenv)
	if err != nil {
		return nil, err
	}
	t := gitrepo.Transport{SSHKey: g.SSHKey, KnownHosts: g.KnownHosts, SSHKeyPassphrase: getenv(SSHPassphraseEnv)}
	flow := &pullreq.Flow{Repo: repo, Remote: rm, Transport: t, Forge: fg, Base: base, Config: pr}
	outs, err := flow.ProposeAll(ctx, ws, prop, head, msg)
	for _, o := range outs {
		fmt.Fprintf(w, "Pull request %s: %s %s (branch %s, commit %s)\n", o.Action, numberOf(o), printable.String(o.URL), o.Branch, short(o.Commit))
	}
	return outs, err
}

func numberOf(o pullreq.Outcome) string {
	if o.Number == 0 {
		return "?"
	}
	return fmt.Sprintf("#%d", o.Number)
}
