// Package cli is the command-line front of git-laminar: one file per command,
// each turning flags into an options struct and calling a run function that
// writes to the given streams. It is the only package that knows about
// terminals, colour and prompts.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"

	"github.com/urfave/cli/v2"
)

// Exit codes. Scripts rely on them, so they never change meaning.
const (
	ExitOK      = 0 // success; with --exit-code: nothing to promote
	ExitChanges = 1 // --exit-code: there is something to promote; or the user declined
	ExitError   = 2 // the run failed and changed nothing (bad config, not a repository, ...)
	ExitPartial = 3 // some images failed; the others were handled
	ExitLocked  = 4 // another run holds the repository's lock
	// run only:
	ExitDiverged   = 5 // the local branch has commits that are not on the remote; nothing changed
	ExitPushFailed = 6 // the push failed, after the retries; the commit stays on the local branch
	// An interrupted promotion is recorded in the git dir's journal and
	// could be neither finished nor undone: the files named hold its new
	// content or changes made since. Nothing else was done.
	ExitUnfinished = 7
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

// Streams are the process's standard streams, injectable for tests.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	IsTTY  func(any) bool // reports whether a stream is a terminal
	Getenv func(string) string
}

// exitError carries an exit code through urfave/cli without it printing.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// exit returns an error that makes Run exit with code, printing err (if any).
func exit(code int, err error) error { return &exitError{code: code, err: err} }

// Run runs the application with args (args[0] is the program name) and
// returns the process exit code.
func Run(ctx context.Context, args []string, s Streams) int {
	err := runApp(ctx, newApp(s), args)
	if err == nil {
		return ExitOK
	}
	code := ExitError
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "git-laminar") {
			msg = "git-laminar: " + msg
		}
		// The last line of defence: whatever an error quotes, no escape
		// sequence reaches the terminal. Line breaks stay, since some of
		// our messages have several lines; outside text in an error has
		// been escaped, line breaks included, where it was quoted.
		fmt.Fprintln(s.Err, printable.Text(msg))
	}
	return code
}

// runApp parses args, flags in any position, and runs the command.
func runApp(ctx context.Context, app *cli.App, args []string) error {
	return app.RunContext(ctx, permuteArgs(app, args))
}

func newApp(s Streams) *cli.App {
	app := &cli.App{
		Name:      "git-laminar",
		HelpName:  "git laminar",
		Usage:     "promote container images through git",
		UsageText: "git laminar <command> [options]",
		Version:   Version,
		Description: "Finds image references in the tracked files of a manifests repository, asks the\n" +
			"registries for newer tags under each rule of laminar.toml, shows the diff and records\n" +
			"each promotion in one commit with Laminar-Promote trailers. See git help laminar.",
		Reader:                 s.In,
		Writer:                 s.Out,
		ErrWriter:              s.Err,
		HideHelpCommand:        true,
		Suggest:                true,
		UseShortOptionHandling: true,
		EnableBashCompletion:   true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "read rules from `FILE` instead of laminar.toml at the repository root", EnvVars: []string{"LAMINAR_CONFIG"}},
			&cli.StringFlag{Name: "color", Value: "auto", Usage: "colour output: auto, always or never"},
		},
		// Errors are printed once, by Run, with our exit codes.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return exit(ExitError, fmt.Errorf("%w (see git laminar %s --help)", err, c.Command.Name))
		},
		Commands: []*cli.Command{
			initCommand(s),
			scanCommand(s),
			statusCommand(s),
			bumpCommand(s),
			setCommand(s),
			rollbackCommand(s),
			releaseCommand(s),
			logCommand(s),
			verifyCommand(s),
			runCommand(s),
			trustCommand(s),
			installHooksCommand(s),
			uninstallHooksCommand(s),
			hookCommand(s),
			completionCommand(s),
			serveCommand(s),
		},
	}
	return app
}

// global holds the flags every command shares.
type global struct {
	configPath string
	color      bool
	stderr     io.Writer // where warnings go
	commit     gitrepo.CommitOptions
}

func globals(c *cli.Context, s Streams) (global, error) {
	g := global{configPath: c.String("config"), stderr: s.Err}
	switch mode := c.String("color"); mode {
	case "always":
		g.color = true
	case "never":
	case "auto", "":
		g.color = s.IsTTY(s.Out) && s.Getenv("NO_COLOR") == "" && s.Getenv("TERM") != "dumb"
	default:
		return g, exit(ExitError, fmt.Errorf("--color: %q is not auto, always or never", mode))
	}
	var err error
	if g.commit, err = commitOptions(c); err != nil {
		return g, err
	}
	return g, nil
}

// warn prints a warning that stops nothing.
func (g global) warn(msg string) {
	if g.stderr != nil {
		fmt.Fprintln(g.stderr, "warning: "+msg)
	}
}

// workdir is where the command runs; git runs subcommands in the caller's
// directory, and "git -C dir laminar" changes it before we start.
func workdir() (string, error) {
	return os.Getwd()
}

// openWorkspace opens the repository around the working directory with its
// laminar.toml (or --config). configOptional lets commands that can work
// without rules run where there is none.
func openWorkspace(g global, configOptional bool) (*promote.Workspace, error) {
	dir, err := workdir()
	if err != nil {
		return nil, exit(ExitError, err)
	}
	ws, err := promote.Open(dir, promote.OpenOptions{ConfigPath: g.configPath, ConfigOptional: configOptional, Warn: g.warn})
	if err != nil {
		return nil, exit(ExitError, err)
	}
	ws.CommitOptions = g.commit
	return ws, nil
}

func parseAge(s string) (time.Duration, error) { return config.ParseAge(s) }
