package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/git-laminar/git-laminar/internal/app"
	"github.com/git-laminar/git-laminar/internal/diff"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/urfave/cli/v2"
)

// changeOptions are the flags set and rollback share with bump.
type changeOptions struct {
	global
	dryRun bool
	yes    bool
	json   bool
	push   bool
	// pullRequest proposes the commit for review (set only).
	pullRequest bool
}

func changeFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print the diff and change nothing"},
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "commit without asking"},
		&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout instead of the diff"},
		&cli.BoolFlag{Name: "push", Usage: "push the branch after committing (to its upstream, else origin)"},
	}, commitFlags()...)
}

func changeOpts(c *cli.Context, g global) changeOptions {
	return changeOptions{global: g, dryRun: c.Bool("dry-run"), yes: c.Bool("yes"), json: c.Bool("json"), push: c.Bool("push"),
		pullRequest: c.Bool("pull-request")}
}

func setCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "set",
		Usage:     "set one exact tag everywhere an image is referenced",
		UsageText: "git laminar set [--dry-run] [--yes] [--json] [--push | --pull-request] IMAGE TAG\n   git laminar set [options] --from-commit SHA [--short] IMAGE",
		Description: "Checks that TAG exists in the image's registry, then rewrites the tag (and the\n" +
			"digest, where one is pinned) of every reference to IMAGE in tracked files, whether\n" +
			"or not a rule manages it, and records one commit with Laminar-Promote trailers.\n" +
			"IMAGE is the canonical name, the name as written, or a trailing part of it\n" +
			"(\"app\", \"acme/app\"). Setting a held image ends the hold (Laminar-Release).\n\n" +
			"--from-commit SHA sets the tag CI built from that commit of the application's\n" +
			"repository: the one tag with SHA (or a short form of it, 7 or more digits) as a\n" +
			"part between '-', '_' or '.' (develop-b2ee56fd, sha-b2ee56f). Tags with the full\n" +
			"40 digits are preferred when there are any; --short picks among the short forms.\n\n" +
			"Exit status: 0 done (or nothing to do), 1 declined at the prompt, 2 failed with\n" +
			"nothing changed (among others: the tag does not exist), 4 another run holds the\n" +
			"lock, 6 committed but the push failed.",
		Flags: append(changeFlags(),
			&cli.StringFlag{Name: "from-commit", Usage: "set the tag CI built from commit `SHA`"},
			&cli.BoolFlag{Name: "short", Usage: "with --from-commit: match tags that carry a short form of the commit"},
			timeoutFlag(0),
			pullRequestFlag(),
		),
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			sha := c.String("from-commit")
			want := 2
			if sha != "" {
				want = 1
			}
			if c.NArg() != want {
				if sha != "" {
					return exit(ExitError, fmt.Errorf("set --from-commit takes one IMAGE (got %d arguments)", c.NArg()))
				}
				return exit(ExitError, fmt.Errorf("set takes IMAGE and TAG (got %d arguments)", c.NArg()))
			}
			if c.Bool("short") && sha == "" {
				return exit(ExitError, errors.New("--short goes with --from-commit"))
			}
			if c.Bool("push") && c.Bool("pull-request") {
				return exit(ExitError, errors.New("--push and --pull-request: choose one"))
			}
			return runSet(c, s, changeOpts(c, g), c.Args().Get(0), c.Args().Get(1), sha, c.Bool("short"))
		},
	}
}

// SetResult is the --json output of set and rollback: bump's fields and
// what the commit does to holds. The field names are a contract.
type SetResult struct {
	BumpResult
	Image string `json:"image"`
	Tag   string `json:"tag"`
	// Release is the image whose hold the commit ends (set of a held image).
	Release string `json:"release,omitempty"`
	// Hold is the image the commit holds (rollback).
	Hold string `json:"hold,omitempty"`
	// RollbackOf is the commit a rollback undoes.
	RollbackOf string `json:"rollback_of,omitempty"`
}

// session is an opened workspace, locked unless only looking.
type session struct {
	ws     *promote.Workspace
	head   string
	unlock func() error
}

func openSession(opt changeOptions) (*session, error) {
	ws, err := openWorkspace(opt.global, true)
	if err != nil {
		return nil, err
	}
	ss := &session{ws: ws, unlock: func() error { return nil }}
	if !opt.dryRun {
		unlock, err := ws.LockAndRecover(context.Background())
		if err != nil {
			return nil, exit(lockCode(err), err)
		}
		ss.unlock = unlock
	}
	ss.head, _, err = ws.Repo.Head()
	if err != nil {
		ss.unlock()
		return nil, exit(ExitError, fmt.Errorf("reading HEAD: %w", err))
	}
	return ss, nil
}

// openImage opens a session (lock included, unless a dry run), scans, and
// finds the one image arg names among the references. On error nothing is
// held.
func openImage(ctx context.Context, opt changeOptions, arg string) (*session, []promote.Reference, string, error) {
	ss, err := openSession(opt)
	if err != nil {
		return nil, nil, "", err
	}
	refs, err := ss.ws.Scan(ctx)
	if err == nil {
		var image string
		if image, err = promote.FindImage(arg, promote.Images(refs)); err == nil {
			return ss, refs, image, nil
		}
	}
	ss.unlock()
	return nil, nil, "", exit(ExitError, err)
}

func runSet(c *cli.Context, s Streams, opt changeOptions, arg, tag, sha string, shortForm bool) error {
	ctx := c.Context
	timeout, err := timeoutOf(c)
	if err != nil {
		return err
	}
	dir, err := workdir()
	if err != nil {
		return exit(ExitError, err)
	}
	res := SetResult{}
	var exitCode int
	reviewed := false
	built := func(rep app.PromoteReport) {
		if sha != "" && rep.Tag != "" {
			fmt.Fprintf(s.Err, "Commit %s was built as %s:%s.\n", sha, rep.Image, rep.Tag)
		}
	}
	rep, err := app.Promote(ctx, app.PromoteOptions{
		Dir: dir, ConfigPath: opt.configPath, Image: arg, Tag: tag, FromCommit: sha, Short: shortForm,
		DryRun: opt.dryRun, Push: opt.push, PullRequest: opt.pullRequest, Timeout: timeout, Commit: opt.commit,
		Warn: opt.warn,
		Review: func(sp *app.SetPlan) (bool, error) {
			reviewed = true
			built(app.PromoteReport{Image: sp.Image, Tag: sp.Tag})
			res = SetResult{Image: sp.Image, Tag: sp.Tag}
			if sp.Release {
				res.Release = sp.Image
			}
			if sp.Set == nil {
				fmt.Fprintf(s.Err, "Every reference to %s is at %s; the set ends its hold (%s).\n", sp.Image, sp.Tag, printable.String(sp.HoldReason))
				printRecovered(s.Err, sp.Recovered)
				return true, nil
			}
			var notes []string
			if sp.Release {
				notes = append(notes, fmt.Sprintf("Ends the hold on %s (%s).", sp.Image, printable.String(sp.HoldReason)))
			}
			ok, code, err := reviewChange(s, opt, sp.Recovered, sp.Set, &res, notes)
			exitCode = code
			return ok, err
		},
	}, app.Deps{Registry: app.FromConfig(app.RegistrySetup{UserAgent: userAgent()}), Getenv: s.Getenv})
	if !reviewed {
		built(rep)
	}
	if err != nil && !rep.Pushed && rep.Commit == "" || rep.Status == app.StatusDeclined {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		if rep.Status == app.StatusDeclined {
			return finishChange(s, opt, res, exitCode)
		}
		return exit(int(rep.Status), err)
	}
	if rep.Unchanged {
		fmt.Fprintf(s.Err, "Nothing to change: every reference to %s is at %s.\n", rep.Image, rep.Tag)
		return finishChange(s, opt, SetResult{Image: rep.Image, Tag: rep.Tag}, ExitOK)
	}
	res.DryRun = opt.dryRun
	if res.Promotions == nil {
		res.Promotions, res.Failures = []PromotionEntry{}, []FailureEntry{}
	}
	if opt.dryRun {
		return finishChange(s, opt, res, ExitOK)
	}
	if opt.pullRequest {
		printPullRequests(s.Err, rep.PullRequests)
		res.Commit = rep.Commit
		if err != nil {
			return exit(ExitPushFailed, err)
		}
		return finishChange(s, opt, res, ExitOK)
	}
	res.Commit = rep.Commit
	subject, _, _ := strings.Cut(rep.Plan.Message, "\n")
	errPainter := newPainter(opt.color && s.IsTTY(s.Err))
	fmt.Fprintf(s.Err, "%s %s\n", errPainter.yellow("["+short(rep.Commit)+"]"), subject)
	if rep.TrustErr != nil {
		fmt.Fprintln(s.Err, "warning: "+rep.TrustErr.Error())
	}
	if opt.push {
		if err != nil {
			if jerr := finishChange(s, opt, res, ExitOK); jerr != nil {
				return jerr
			}
			return exit(ExitPushFailed, fmt.Errorf("committed %s, but the push failed (push it with git push): %w", short(res.Commit), err))
		}
		fmt.Fprintf(s.Err, "Pushed to %s.\n", printable.String(rep.Where()))
	}
	return finishChange(s, opt, res, ExitOK)
}

// reviewChange shows a set or rollback like a bump (the diff on stdout, a
// summary on stderr) and asks on a terminal. It reports whether to go on
// (false for a dry run too) and, when not, the exit status.
func reviewChange(s Streams, opt changeOptions, recovered *gitrepo.Settled, sp *promote.SetProposal, res *SetResult, notes []string) (bool, int, error) {
	printRecovered(s.Err, recovered)
	p := newPainter(opt.color)
	errPainter := newPainter(opt.color && s.IsTTY(s.Err))
	res.DryRun = opt.dryRun
	res.Promotions, res.Failures = []PromotionEntry{}, []FailureEntry{}
	for _, pr := range sp.Plan.Promotions {
		res.Promotions = append(res.Promotions, PromotionEntry{Image: pr.Image, From: pr.From, To: pr.To, Digest: pr.Digest, Files: pr.Paths})
	}
	if !opt.json {
		files := make([]diff.File, 0, len(sp.Changes))
		for _, ch := range sp.Changes {
			files = append(files, diff.File{Path: ch.Path, Old: ch.Old, New: ch.New, Mode: gitMode(ch.Mode)})
		}
		if err := diff.Files(s.Out, files, diff.Options{Color: p.on, ObjectFormat: sp.ObjectFormat}); err != nil {
			return false, ExitError, exit(ExitError, err)
		}
	}
	printSummary(s.Err, errPainter, res.BumpResult)
	for _, r := range sp.Skipped {
		fmt.Fprintf(s.Err, "Skipped %s:%d: %s has no tag to replace.\n", printable.String(r.Path), r.Line, printable.String(r.Ref.Original))
	}
	for _, n := range notes {
		fmt.Fprintln(s.Err, n)
	}
	if opt.dryRun {
		return false, ExitOK, nil
	}
	if !opt.yes && s.IsTTY(s.In) && s.IsTTY(s.Err) {
		if !confirm(s.In, s.Err, "Commit this change? [y/N] ") {
			fmt.Fprintln(s.Err, "Nothing changed.")
			return false, ExitChanges, nil
		}
	}
	return true, ExitOK, nil
}

// applyChange shows a set or rollback like a bump (the diff on stdout, a
// summary on stderr), asks on a terminal, commits with msg and pushes.
func applyChange(c *cli.Context, s Streams, opt changeOptions, ss *session, sp *promote.SetProposal, msg string, res SetResult, notes []string) error {
	errPainter := newPainter(opt.color && s.IsTTY(s.Err))
	ok, code, err := reviewChange(s, opt, ss.ws.Recovered, sp, &res, notes)
	if err != nil {
		return err
	}
	if !ok {
		return finishChange(s, opt, res, code)
	}
	if opt.pullRequest {
		outs, err := proposeLocal(c.Context, s, s.Err, ss.ws, sp.Proposal, ss.head, msg)
		if len(outs) > 0 {
			res.Commit = outs[len(outs)-1].Commit
		}
		if err != nil {
			return exit(ExitPushFailed, err)
		}
		return finishChange(s, opt, res, ExitOK)
	}
	cr, err := ss.ws.CommitMessage(c.Context, sp.Proposal, msg, ss.head)
	if err != nil {
		return exit(failCode(err), err)
	}
	res.Commit = cr.Hash
	subject, _, _ := strings.Cut(msg, "\n")
	fmt.Fprintf(s.Err, "%s %s\n", errPainter.yellow("["+short(cr.Hash)+"]"), subject)
	if cr.TrustErr != nil {
		fmt.Fprintln(s.Err, "warning: "+cr.TrustErr.Error())
	}
	return pushAndFinish(c.Context, s, opt, ss, res)
}

// commitRecord commits msg without changing a file (a release).
func commitRecord(c *cli.Context, s Streams, opt changeOptions, ss *session, msg string, res SetResult) error {
	printRecovered(s.Err, ss.ws.Recovered)
	res.DryRun = opt.dryRun
	res.Promotions, res.Failures = []PromotionEntry{}, []FailureEntry{}
	if opt.dryRun {
		return finishChange(s, opt, res, ExitOK)
	}
	hash, err := ss.ws.CommitRecord(c.Context, msg, ss.head)
	if err != nil {
		return exit(ExitError, err)
	}
	res.Commit = hash
	subject, _, _ := strings.Cut(msg, "\n")
	errPainter := newPainter(opt.color && s.IsTTY(s.Err))
	fmt.Fprintf(s.Err, "%s %s\n", errPainter.yellow("["+short(hash)+"]"), subject)
	return pushAndFinish(c.Context, s, opt, ss, res)
}

func pushAndFinish(ctx context.Context, s Streams, opt changeOptions, ss *session, res SetResult) error {
	if opt.push {
		to, err := pushBranch(ctx, s, ss.ws)
		if err != nil {
			if jerr := finishChange(s, opt, res, ExitOK); jerr != nil {
				return jerr
			}
			return exit(ExitPushFailed, fmt.Errorf("committed %s, but the push failed (push it with git push): %w", short(res.Commit), err))
		}
		fmt.Fprintf(s.Err, "Pushed to %s.\n", printable.String(to))
	}
	return finishChange(s, opt, res, ExitOK)
}

func finishChange(s Streams, opt changeOptions, res SetResult, code int) error {
	if opt.json {
		if res.Promotions == nil {
			res.Promotions, res.Failures = []PromotionEntry{}, []FailureEntry{}
		}
		if err := writeJSON(s.Out, res); err != nil {
			return err
		}
	}
	if code == ExitOK {
		return nil
	}
	return exit(code, nil)
}

// pushBranch pushes the current branch as run does (see app.PushBranch)
// and returns where it pushed ("origin/main").
func pushBranch(ctx context.Context, s Streams, ws *promote.Workspace) (string, error) {
	return app.PushBranch(ctx, ws, app.Deps{Getenv: s.Getenv})
}
