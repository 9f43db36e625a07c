package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/git-laminar/git-laminar/internal/app"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/urfave/cli/v2"
)

func pullRequestFlag() cli.Flag {
	return &cli.BoolFlag{Name: "pull-request", Usage: "push the promotion commit to a branch of its own and open or update a pull/merge request, instead of pushing to the branch"}
}

// proposeLocal is --pull-request for bump: the commit is made aside from
// HEAD and proposed into the current branch's upstream (or [pull_request]
// base); the local branch does not move.
func proposeLocal(ctx context.Context, s Streams, w io.Writer, ws *promote.Workspace, prop *promote.Proposal, head, msg string) ([]app.PullRequest, error) {
	outs, err := app.ProposeLocal(ctx, ws, prop, head, msg, app.Deps{Getenv: s.Getenv})
	printPullRequests(w, outs)
	return outs, err
}

// printPullRequests says on w what happened to each request.
func printPullRequests(w io.Writer, outs []app.PullRequest) {
	for _, o := range outs {
		fmt.Fprintf(w, "Pull request %s: %s %s (branch %s, commit %s)\n", o.Action, numberOf(o), printable.String(o.URL), o.Branch, short(o.Commit))
	}
}

func numberOf(o app.PullRequest) string {
	if o.Number == 0 {
		return "?"
	}
	return fmt.Sprintf("#%d", o.Number)
}
