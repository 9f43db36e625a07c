package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/urfave/cli/v2"
)

type trustOptions struct {
	global
	show   bool
	revoke bool
}

func trustCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "trust",
		Usage:     "allow the exec actions of this exact laminar.toml to run",
		UsageText: "git laminar trust [--show | --revoke]",
		Description: "Exec actions are shell commands written in laminar.toml, which is versioned: anyone\n" +
			"who can push can change them. They run only once you trust the exact file, by\n" +
			"its sha256, recorded in this repository's own git config (laminar.trusted), which\n" +
			"no push reaches. Any change to laminar.toml, even a comment, needs trusting again.\n\n" +
			"trust shows every exec command and records the file's hash, replacing the hash of\n" +
			"an earlier version. --show only shows them and whether they are trusted; --revoke\n" +
			"removes the trust.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "show", Usage: "show the exec commands and whether this laminar.toml is trusted; change nothing"},
			&cli.BoolFlag{Name: "revoke", Usage: "stop trusting any version of laminar.toml in this repository"},
		},
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("trust takes no arguments (got %q)", c.Args().First()))
			}
			if c.Bool("show") && c.Bool("revoke") {
				return exit(ExitError, fmt.Errorf("--show and --revoke cannot be used together"))
			}
			return runTrust(s, trustOptions{global: g, show: c.Bool("show"), revoke: c.Bool("revoke")})
		},
	}
}

func runTrust(s Streams, opt trustOptions) error {
	ws, err := openWorkspace(opt.global, false)
	if err != nil {
		return err
	}
	p := newPainter(opt.color)
	if opt.revoke {
		n, err := ws.Revoke()
		if err != nil {
			return exit(ExitError, err)
		}
		if n == 0 {
			fmt.Fprintln(s.Out, "Nothing was trusted in this repository.")
		} else {
			fmt.Fprintln(s.Out, "Exec actions will not run until you trust laminar.toml again.")
		}
		return nil
	}

	trusted, err := ws.Trusted()
	if err != nil {
		return exit(ExitError, err)
	}
	cfg := ws.Config
	fmt.Fprintf(s.Out, "%s %s\n", cfg.Path, p.yellow(cfg.Hash))
	if !cfg.HasExec() {
		fmt.Fprintln(s.Out, "It has no exec actions: there is nothing to trust.")
		return nil
	}
	printExecCommands(s.Out, p, ws)
	switch {
	case opt.show && trusted:
		fmt.Fprintln(s.Out, "Trusted: these commands run after the edits of their rule.")
	case opt.show:
		fmt.Fprintln(s.Out, "Not trusted: runs that need these commands are refused. Run `git laminar trust` to allow them.")
	case trusted:
		fmt.Fprintln(s.Out, "Already trusted.")
	default:
		if _, err := ws.Trust(); err != nil {
			return exit(ExitError, err)
		}
		fmt.Fprintf(s.Out, "Trusted. %s = %s is in this repository's git config.\n", promote.TrustKey, cfg.Hash)
	}
	return nil
}

// printExecCommands lists every rule's exec commands as they will be run.
func printExecCommands(w io.Writer, p painter, ws *promote.Workspace) {
	fmt.Fprintln(w, "Exec actions (each run with sh -c at the repository root):")
	for i, u := range ws.Config.Updates {
		if len(u.Exec) == 0 {
			continue
		}
		name := u.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		fmt.Fprintf(w, "  rule %s (timeout %s):\n", name, u.ExecTimeout)
		for _, c := range u.Exec {
			fmt.Fprintf(w, "    %s\n", p.bold(displayCommand(c)))
		}
	}
}

// displayCommand shows a command as sh will read it. A command with
// control or invisible characters (a carriage return, an escape sequence,
// a bidirectional override) could look like another on a terminal, so it
// is shown quoted, every such character escaped.
func displayCommand(c string) string {
	for _, r := range c {
		if !unicode.IsPrint(r) {
			return strconv.QuoteToASCII(c)
		}
	}
	return c
}

// printExecResult says which exec actions ran for a commit and which files
// they changed or created (committed with the edits; the diff shown before
// the commit holds only the edits).
func printExecResult(w io.Writer, p painter, res promote.CommitResult) {
	if len(res.Exec) == 0 {
		return
	}
	for _, r := range res.Exec {
		fmt.Fprintf(w, "Ran %s (rule %s, %s)\n", p.bold(displayCommand(r.Command)), r.Rule, r.Duration.Round(time.Millisecond))
	}
	if len(res.ExecPaths) == 0 {
		fmt.Fprintln(w, "The exec actions changed no file.")
		return
	}
	fmt.Fprintf(w, "The exec actions changed, and the commit holds: %s\n", strings.Join(res.ExecPaths, ", "))
}
