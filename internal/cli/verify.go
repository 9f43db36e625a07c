package cli

import (
	"fmt"

	"github.com/git-laminar/git-laminar/internal/check"
	"github.com/urfave/cli/v2"
)

// ExitProblems is the exit status of verify (and of the pre-push hook) when
// the check found problems. It shares its value with ExitChanges: "there is
// something to act on", as with bump --exit-code.
const ExitProblems = ExitChanges

type verifyOptions struct {
	global
	json bool
}

func verifyCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check that every managed reference exists in its registry",
		UsageText: "git laminar verify [--json]",
		Description: "Runs the pre-push check on the working tree: every image reference a rule of\n" +
			"laminar.toml manages, in tracked files as they are on disk, must exist in its\n" +
			"registry (the tag resolves; a pinned digest is the tag's), and the Laminar-*\n" +
			"trailers of the commits of HEAD that no remote-tracking ref has must be well\n" +
			"formed. Problems are printed one per line, as file:line: or commit <id>:.\n" +
			"A registry that cannot be asked is a problem too.\n\n" +
			"Exit status: 0 all good, 1 problems found, 2 the check could not run.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print a JSON array of problems for scripts"},
			timeoutFlag(0),
		},
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("verify takes no arguments (got %q)", c.Args().First()))
			}
			return runVerify(c, s, verifyOptions{global: g, json: c.Bool("json")})
		},
	}
}

func runVerify(c *cli.Context, s Streams, opt verifyOptions) error {
	ctx := c.Context
	timeout, err := timeoutOf(c)
	if err != nil {
		return err
	}
	ws, err := openWorkspace(opt.global, false)
	if err != nil {
		return err
	}
	scanned, err := ws.Scan(ctx)
	if err != nil {
		return exit(ExitError, err)
	}
	var refs []check.Reference
	for _, r := range scanned {
		if r.Managed() {
			refs = append(refs, check.Reference{Path: r.Path, Line: r.Line, Ref: r.Ref})
		}
	}
	commits, err := check.Unpushed(ctx, ws.Repo)
	if err != nil {
		return exit(ExitError, fmt.Errorf("listing unpushed commits: %w", err))
	}
	reg := newRegistry(ws)
	defer reg.Flush()
	rctx, cancel := registryDeadline(ctx, timeout)
	defer cancel()
	problems := check.Registry(rctx, reg, refs)
	problems = check.Sort(append(problems, check.Trailers(commits)...))

	if opt.json {
		if problems == nil {
			problems = []check.Problem{}
		}
		if err := writeJSON(s.Out, problems); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(s.Out, p.String())
		}
	}
	if len(problems) == 0 {
		fmt.Fprintf(s.Err, "OK: checked %s and %s.\n", countOf(len(refs), "managed reference"), countOf(len(commits), "unpushed commit"))
		return nil
	}
	fmt.Fprintf(s.Err, "%s (%s, %s checked)\n", check.Plural(len(problems)), countOf(len(refs), "managed reference"), countOf(len(commits), "unpushed commit"))
	if check.Unreachable(problems) {
		fmt.Fprintln(s.Err, "A registry could not be asked; nothing was verified for its images.")
	}
	return exit(ExitProblems, nil)
}

// countOf is "1 thing" or "n things".
func countOf(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
