package cli

import (
	"fmt"
	"sort"

	"github.com/git-laminar/git-laminar/internal/commitmsg"
	"github.com/git-laminar/git-laminar/internal/history"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/urfave/cli/v2"
)

func rollbackCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "return an image to its previous tag and hold it there",
		UsageText: "git laminar rollback [--to TAG] [--dry-run] [--yes] [--json] [--push] IMAGE",
		Description: "Returns IMAGE to the tag it had before the promotion that brought it to its\n" +
			"current tag, as the Laminar-Promote trailers of history record it (rolling back\n" +
			"again walks further back), or to --to TAG, which must exist in the registry. The\n" +
			"commit says so (Laminar-Rollback-Of: the commit undone) and holds the image\n" +
			"(Laminar-Hold): bump and run leave it alone until git laminar release IMAGE or\n" +
			"an explicit git laminar set. Diff, prompt and --dry-run work as for bump.\n\n" +
			"Exit status: 0 done, 1 declined at the prompt, 2 failed with nothing changed\n" +
			"(among others: nothing to roll back to), 4 another run holds the lock, 6\n" +
			"committed but the push failed.",
		Flags: append(changeFlags(),
			&cli.StringFlag{Name: "to", Usage: "roll back to `TAG` instead of the previous tag"},
		),
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return exit(ExitError, fmt.Errorf("rollback takes one IMAGE (got %d arguments)", c.NArg()))
			}
			return runRollback(c, s, changeOpts(c, g), c.Args().First(), c.String("to"))
		},
	}
}

func runRollback(c *cli.Context, s Streams, opt changeOptions, arg, to string) error {
	ctx := c.Context
	ss, refs, image, err := openImage(ctx, opt, arg)
	if err != nil {
		return err
	}
	defer ss.unlock()
	ws := ss.ws
	seen := map[string]bool{}
	var current []string
	for _, r := range refs {
		if r.Ref.Image() == image && r.Ref.Tag != "" && !seen[r.Ref.Tag] {
			seen[r.Ref.Tag] = true
			current = append(current, r.Ref.Tag)
		}
	}
	sort.Strings(current)
	recs, err := history.Read(ctx, ws.Repo, "", history.Filter{Image: image})
	if err != nil {
		return exit(ExitError, fmt.Errorf("reading history: %w", err))
	}
	target, found := history.RollbackTarget(recs, image, current)

	req := promote.SetRequest{Image: image, Tag: to}
	if to == "" {
		if !found {
			return exit(ExitError, fmt.Errorf("nothing to roll back to: history records no promotion of %s to %s that is not rolled back already; name a tag with --to", image, joinTags(current)))
		}
		req.Tag, req.From = target.From, []string{target.To}
		fmt.Fprintf(s.Err, "Rolling back %s %s -> %s, promoted in %s by %s on %s.\n",
			image, target.From, target.To, short(target.Commit), printable.String(target.Author), target.Date.Format("2006-01-02"))
	}
	reg := newRegistry(ws)
	defer reg.Flush()
	sp, err := ws.ProposeSet(ctx, reg, refs, req)
	if err != nil {
		return exit(ExitError, err)
	}
	if sp.Plan.Empty() {
		return exit(ExitError, fmt.Errorf("nothing to roll back: every reference to %s is at %s already", image, req.Tag))
	}
	rollbackOf := ""
	if found {
		rollbackOf = target.Commit
	}
	msg, err := commitmsg.Rollback(sp.Plan, image, req.Tag, rollbackOf)
	if err != nil {
		return exit(ExitError, err)
	}
	res := SetResult{Image: image, Tag: req.Tag, Hold: image, RollbackOf: rollbackOf}
	notes := []string{fmt.Sprintf("Holds %s: bump and run leave it alone until git laminar release %s (or a git laminar set).", image, arg)}
	return applyChange(c, s, opt, ss, sp, msg, res, notes)
}

func joinTags(tags []string) string {
	switch len(tags) {
	case 0:
		return "its current tag"
	case 1:
		return tags[0]
	}
	out := tags[0]
	for _, t := range tags[1:] {
		out += " or " + t
	}
	return out
}
