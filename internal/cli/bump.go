package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/commitmsg"
	"github.com/git-laminar/git-laminar/internal/diff"
	"github.com/git-laminar/git-laminar/internal/edit"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/urfave/cli/v2"
)

type bumpOptions struct {
	global
	dryRun   bool
	exitCode bool
	yes      bool
	json     bool
	noCommit bool
	only     []string
	timeout  time.Duration
	pullReq  bool
}

func bumpCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "bump",
		Usage:     "promote managed images to the newest tags their rules allow",
		UsageText: "git laminar bump [--dry-run] [--exit-code] [--yes] [--json] [--pull-request] [--only IMAGE]...",
		Description: "Asks the registries for the tags of every managed image, lets each rule choose,\n" +
			"prints the diff on stdout and a summary on stderr, asks for confirmation on a\n" +
			"terminal, then rewrites only the bytes of the tags and records one commit with a\n" +
			"Laminar-Promote trailer per promotion. Only the files it edits are staged and\n" +
			"committed; other changes in the working tree and index are left as they are.\n" +
			"It refuses to edit a file that has uncommitted changes.\n\n" +
			"Exit status: 0 done (or nothing to do), 1 something to promote with --exit-code\n" +
			"(or declined at the prompt), 2 failed with nothing changed, 3 some images failed\n" +
			"while the others were promoted, 4 another run holds the lock, 7 an interrupted\n" +
			"promotion could be neither finished nor undone (the message names the files).",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print the diff that a bump would make and change nothing"},
			&cli.BoolFlag{Name: "exit-code", Usage: "exit 1 when there is something to promote, like git diff --exit-code"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "commit without asking"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout instead of the diff"},
			&cli.BoolFlag{Name: "no-commit", Usage: "edit the files but do not commit (exec actions do not run)"},
			&cli.StringSliceFlag{Name: "only", Usage: "promote only `IMAGE` (repeatable; as written or canonical)"},
			refreshFlag,
			timeoutFlag(0),
			pullRequestFlag(),
		}, commitFlags()...),
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("bump takes no arguments (got %q); use --only IMAGE", c.Args().First()))
			}
			timeout, err := timeoutOf(c)
			if err != nil {
				return err
			}
			if c.Bool("no-commit") && c.Bool("pull-request") {
				return exit(ExitError, errors.New("--no-commit and --pull-request: choose one"))
			}
			return runBump(c, s, bumpOptions{
				global: g, dryRun: c.Bool("dry-run"), exitCode: c.Bool("exit-code"), yes: c.Bool("yes"),
				json: c.Bool("json"), noCommit: c.Bool("no-commit"), only: c.StringSlice("only"), timeout: timeout,
				pullReq: c.Bool("pull-request"),
			})
		},
	}
}

// BumpResult is the --json output of bump. The field names are a contract.
type BumpResult struct {
	DryRun     bool             `json:"dry_run"`
	Commit     string           `json:"commit,omitempty"`
	Promotions []PromotionEntry `json:"promotions"`
	Failures   []FailureEntry   `json:"failures"`
	Held       []HeldEntry      `json:"held,omitempty"` // images a rollback holds at their tags
}

// PromotionEntry is one promotion in JSON output.
type PromotionEntry struct {
	Image  string   `json:"image"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Digest string   `json:"digest,omitempty"`
	Rule   string   `json:"rule,omitempty"`
	Files  []string `json:"files"`
}

// FailureEntry is one image that could not be resolved.
type FailureEntry struct {
	Image string `json:"image"`
	Error string `json:"error"`
}

func runBump(c *cli.Context, s Streams, opt bumpOptions) error {
	ctx := c.Context
	ws, err := openWorkspace(opt.global, false)
	if err != nil {
		return err
	}
	if !opt.dryRun {
		unlock, err := ws.LockAndRecover(ctx)
		if err != nil {
			return exit(lockCode(err), err)
		}
		defer unlock()
		printRecovered(s.Err, ws.Recovered)
	}
	head, _, err := ws.Repo.Head()
	if err != nil {
		return exit(ExitError, fmt.Errorf("reading HEAD: %w", err))
	}

	held, err := heldImages(c, ws)
	if err != nil {
		return exit(ExitError, err)
	}
	bar := newProgress(s, "Resolving images")
	reg, err := registryFor(c, s, ws)
	if err != nil {
		return err
	}
	// Only asking the registries has the deadline: what they answered in
	// time is still promoted and committed after it.
	rctx, cancel := registryDeadline(ctx, opt.timeout)
	defer cancel()
	// A dry run shows no trailer, so it spares the digest requests; the
	// JSON summary reports each promotion's digest, dry run or not.
	noDigests := opt.dryRun && !opt.json
	resolution, err := ws.Resolve(rctx, reg, promote.Options{Only: opt.only, Held: held, Progress: bar.update, NoDigests: noDigests, WillPrepare: true})
	bar.done()
	if err != nil {
		return exit(ExitError, err)
	}
	p := newPainter(opt.color)
	// The diff is written file by file as each is rendered, through one
	// buffer, so that a bump over thousands of files never holds every
	// file's old and new contents, nor the whole diff, at once.
	out := bufio.NewWriterSize(s.Out, 64<<10)
	each := func(ch edit.Change) error {
		if opt.json {
			return nil
		}
		return diff.Unified(out, diff.File{Path: ch.Path, Old: ch.Old, New: ch.New, Mode: gitMode(ch.Mode)}, diff.Options{Color: p.on, ObjectFormat: ws.Repo.ObjectFormat()})
	}
	prop, err := ws.PrepareEach(resolution, each)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing the diff: %w", ferr)
	}
	if err != nil {
		return exit(ExitError, err)
	}
	errPainter := newPainter(opt.color && s.IsTTY(s.Err))
	result := BumpResult{DryRun: opt.dryRun, Promotions: []PromotionEntry{}, Failures: []FailureEntry{}}
	for _, pr := range prop.Plan.Promotions {
		result.Promotions = append(result.Promotions, PromotionEntry{Image: pr.Image, From: pr.From, To: pr.To, Digest: pr.Digest, Rule: pr.Rule, Files: pr.Paths})
	}
	for _, f := range prop.Failures {
		result.Failures = append(result.Failures, FailureEntry{Image: f.Image, Error: f.Err.Error()})
	}
	result.Held = heldEntries(prop.Decisions)

	for _, w := range prop.Warnings {
		fmt.Fprintln(s.Err, "warning: "+printable.String(w))
	}
	printSummary(s.Err, errPainter, result)

	failed := len(prop.Failures) > 0
	finish := func(code int) error {
		if opt.json {
			if err := writeJSON(s.Out, result); err != nil {
				return err
			}
		}
		if code == ExitOK && failed {
			code = ExitPartial
		}
		if code == ExitOK {
			return nil
		}
		return exit(code, nil)
	}

	if prop.Plan.Empty() {
		if !failed {
			fmt.Fprintln(s.Err, "Nothing to promote: every managed image is at the newest tag its rule allows.")
		}
		return finish(ExitOK)
	}
	if opt.dryRun {
		if opt.exitCode {
			return finish(ExitChanges)
		}
		return finish(ExitOK)
	}
	// A template that fails fails here, before the prompt and before any
	// file is written.
	msg, err := ws.Message(prop.Plan)
	if err != nil && !opt.noCommit {
		return exit(ExitError, err)
	}
	if err := ws.CheckTrust(prop.Plan); err != nil && !opt.noCommit {
		return exit(ExitError, err) // before asking: exec actions of an untrusted laminar.toml
	}
	if !opt.yes && s.IsTTY(s.In) && s.IsTTY(s.Err) {
		if !confirm(s.In, s.Err, "Commit these promotions? [y/N] ") {
			fmt.Fprintln(s.Err, "Nothing changed.")
			return finish(ExitChanges)
		}
	}
	if opt.noCommit {
		if _, err := promote.WriteOnly(ws, prop); err != nil {
			return exit(ExitError, err)
		}
		fmt.Fprintf(s.Err, "Edited %d file(s); nothing committed.\n", len(prop.Changes))
		return finish(ExitOK)
	}
	if opt.pullReq {
		outs, err := proposeLocal(ctx, s, s.Err, ws, prop, head, "")
		if len(outs) > 0 {
			result.Commit = outs[len(outs)-1].Commit
		}
		if err != nil {
			return exit(ExitPushFailed, err)
		}
		return finish(ExitOK)
	}
	res, err := ws.CommitMessage(ctx, prop, msg, head)
	if err != nil {
		return exit(failCode(err), err)
	}
	result.Commit = res.Hash
	subject, _, _ := strings.Cut(msg, "\n")
	fmt.Fprintf(s.Err, "%s %s\n", errPainter.yellow("["+short(res.Hash)+"]"), subject)
	printExecResult(s.Err, errPainter, res)
	if res.TrustErr != nil {
		fmt.Fprintln(s.Err, "warning: "+res.TrustErr.Error())
	}
	if opt.exitCode {
		return finish(ExitChanges)
	}
	return finish(ExitOK)
}

func printSummary(w io.Writer, p painter, r BumpResult) {
	if len(r.Promotions) > 0 {
		fmt.Fprintln(w, p.bold("Promotions:"))
		for _, pr := range r.Promotions {
			fmt.Fprintf(w, "  %s  %s -> %s  (%s)\n", pr.Image, p.red(pr.From), p.green(pr.To), printable.String(commitmsg.FileList(pr.Files)))
		}
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(w, p.bold(p.red("Failed:")))
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s\n", printable.String(f.Error))
		}
	}
	printHeld(w, p, r.Held)
}

func confirm(in io.Reader, out io.Writer, prompt string) bool {
	fmt.Fprint(out, prompt)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

func short(hash string) string {
	if len(hash) > 7 {
		return hash[:7]
	}
	return hash
}

// gitMode is the mode git records for a regular file with these permissions.
func gitMode(perm fs.FileMode) string {
	if perm&0o111 != 0 {
		return "100755"
	}
	return "100644"
}
