package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/git-laminar/git-laminar/internal/app"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/urfave/cli/v2"
)

type runOptions struct {
	global
	remote, branch string
	retries        int // -1: from configuration
	retryWait      time.Duration
	logFormat      string
	failIfLocked   bool
	metricsFile    string
	timeout        time.Duration
	pullRequest    bool // propose for review instead of pushing (or [pull_request] enabled)
}

func runCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "fetch, bump, commit and push: for cron and systemd timers",
		UsageText: "git laminar run [--remote NAME] [--branch NAME] [--retries N] [--log-format text|json] [--fail-if-locked] [--metrics-file PATH] [--pull-request]",
		Description: "An unattended bump. It takes the repository's lock, fetches the remote branch\n" +
			"(the current branch's upstream, else origin/<branch>), moves the local branch and\n" +
			"its files to it, promotes every managed image as bump --yes would, commits and\n" +
			"pushes (never with force). When the push is refused because the remote moved, it\n" +
			"fetches again, recomputes the promotions on the new tip and pushes again, up to\n" +
			"--retries times.\n\n" +
			"Local commits are never lost. Unpushed commits of run's own are saved under\n" +
			"refs/laminar/backup/ before they are recomputed; any other commit that is not on\n" +
			"the remote (your work, or a remote that was force-pushed under it) stops the run\n" +
			"with status 5 and changes nothing. Files are only changed where the remote\n" +
			"changed them, and only if they have no local changes.\n\n" +
			"It logs one line per step to stderr (--log-format json: one JSON object per line).\n\n" +
			"The configuration is read again after the fetch: the rules, and whether exec\n" +
			"actions may run, are those of the fetched tree. When it, or a file the exec\n" +
			"actions run, differs from what `git laminar trust` recorded, the rules with exec\n" +
			"actions are left out (logged with what changed) and the others are pushed.\n\n" +
			"Exit status: 0 done (pushed, or nothing to do, or another run holds the lock),\n" +
			"2 failed, 3 some images failed, or rules were left out for untrusted exec\n" +
			"actions, while the others were pushed, 4 another run holds the lock (with\n" +
			"--fail-if-locked), 5 local commits that are not on the remote,\n" +
			"6 the push failed (after the retries); the promotion commit stays on the local\n" +
			"branch and the next run recomputes it; 7 an interrupted promotion could be\n" +
			"neither finished nor undone (the message names the files).\n\n" +
			"With --pull-request (or [pull_request] enabled = true) the promotions are not\n" +
			"pushed to the branch: each rule's commit goes to a branch of its own\n" +
			"(laminar/<rule>) and a pull or merge request is opened or updated from it; the\n" +
			"local branch and its files stay at the remote tip. See PULL REQUESTS in\n" +
			"git help laminar.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "remote", Usage: "fetch from and push to remote `NAME` (default: the upstream's, else origin)"},
			&cli.StringFlag{Name: "branch", Usage: "the remote branch `NAME` (default: the upstream's, else the current branch's name)"},
			&cli.IntFlag{Name: "retries", Value: -1, DefaultText: "3, or [git] retries", Usage: "recompute and push again `N` times when the remote moved"},
			&cli.DurationFlag{Name: "retry-wait", Value: time.Second, Usage: "wait `DURATION` before the first retry; doubled each time"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log as `FORMAT`: text or json"},
			&cli.BoolFlag{Name: "fail-if-locked", Usage: "exit 4 when another run holds the lock, instead of logging it and exiting 0"},
			&cli.StringFlag{Name: "metrics-file", Usage: "write Prometheus metrics of the run to `PATH` (node_exporter's textfile collector)"},
			timeoutFlag(defaultRunTimeout),
			pullRequestFlag(),
		}, commitFlags()...),
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("run takes no arguments (got %q)", c.Args().First()))
			}
			opt := runOptions{
				global: g, remote: c.String("remote"), branch: c.String("branch"), retries: c.Int("retries"),
				retryWait: c.Duration("retry-wait"), logFormat: c.String("log-format"),
				failIfLocked: c.Bool("fail-if-locked"), metricsFile: c.String("metrics-file"),
				pullRequest: c.Bool("pull-request"),
			}
			if opt.timeout, err = timeoutOf(c); err != nil {
				return err
			}
			if opt.logFormat != "text" && opt.logFormat != "json" {
				return exit(ExitError, fmt.Errorf("--log-format: %q is not text or json", opt.logFormat))
			}
			if opt.retryWait < 0 {
				return exit(ExitError, fmt.Errorf("--retry-wait: %s is negative", opt.retryWait))
			}
			if opt.retries < -1 || opt.retries > 100 {
				return exit(ExitError, fmt.Errorf("--retries: %d is not between 0 and 100", opt.retries))
			}
			return runRun(c.Context, s, opt)
		},
	}
}

// newLogger logs to w as text or JSON lines. Values come from registries,
// remotes and commits: each is escaped as on a terminal before the format
// quotes it, so that an event is one line however it is read, decoded
// JSON included.
func newLogger(w io.Writer, format string) *slog.Logger {
	o := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: escapeAttr}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

func escapeAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Any().(type) {
	case string:
		a.Value = slog.StringValue(printable.String(v))
	case error:
		a.Value = slog.StringValue(printable.String(v.Error()))
	}
	return a
}

func runRun(ctx context.Context, s Streams, opt runOptions) error {
	log := newLogger(s.Err, opt.logFormat)
	dir, err := workdir()
	if err != nil {
		log.Error("failed", "status", ExitError, "error", err.Error())
		return exit(ExitError, nil)
	}
	rep, _ := app.Run(ctx, app.RunOptions{
		Dir: dir, ConfigPath: opt.configPath, Remote: opt.remote, Branch: opt.branch,
		Retries: opt.retries, RetryWait: opt.retryWait, FailIfLocked: opt.failIfLocked,
		Timeout: opt.timeout, PullRequest: opt.pullRequest, Commit: opt.global.commit,
		MetricsFile: opt.metricsFile,
	}, app.Deps{Registry: app.FromConfig(app.RegistrySetup{UserAgent: userAgent()}), Logger: log, Getenv: s.Getenv})
	if rep.Status == app.StatusOK {
		return nil
	}
	// The log already holds the error; print nothing more.
	return exit(int(rep.Status), nil)
}
