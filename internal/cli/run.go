package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/history"
	"github.com/git-laminar/git-laminar/internal/metrics"
	"github.com/git-laminar/git-laminar/internal/notify"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/trailer"
	"github.com/urfave/cli/v2"
)

// BackupRefPrefix is where run keeps its own unpushed promotion commits
// before it recomputes them on a new remote tip: nothing is ever lost.
const BackupRefPrefix = "refs/laminar/backup/"

// SSHPassphraseEnv names the environment variable that holds the
// passphrase of [git] ssh_key, when the key has one.
const SSHPassphraseEnv = config.SSHPassphraseEnv

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

// runState is one run: what it found, did and will report.
type runState struct {
	s       Streams
	opt     runOptions
	log     *slog.Logger
	ws      *promote.Workspace
	reg     *registry.Client
	remote  gitrepo.Remote
	local   string // local branch
	branch  string // remote branch
	t       gitrepo.Transport
	started time.Time
	// regCtx is the run's context with its --timeout: one deadline for
	// asking the registries, however often a moved remote makes the run
	// promote again.
	regCtx context.Context

	locked     bool // another run holds the lock: report nothing of ours
	commit     string
	pushed     bool
	promotions []notify.Promotion
	failures   []notify.Failure
}

func runRun(ctx context.Context, s Streams, opt runOptions) error {
	st := &runState{s: s, opt: opt, log: newLogger(s.Err, opt.logFormat), started: time.Now()}
	var cancel context.CancelFunc
	st.regCtx, cancel = registryDeadline(ctx, opt.timeout)
	defer cancel()
	code, err := st.run(ctx)
	st.finish(ctx, code, err)
	if code == ExitOK {
		return nil
	}
	// The log already holds the error; print nothing more.
	return exit(code, nil)
}

// run does the work and returns the exit code and the error that ended
// the run, if any.
func (st *runState) run(ctx context.Context) (int, error) {
	dir, err := workdir()
	if err != nil {
		return ExitError, err
	}
	ws, err := promote.Open(dir, promote.OpenOptions{ConfigPath: st.opt.configPath,
		Warn: func(msg string) { st.log.Warn("tracked file skipped", "reason", msg) }})
	if err != nil {
		return ExitError, err
	}
	st.ws = ws
	repo := ws.Repo
	st.setCommitOptions()

	unlock, stale, err := repo.TryLock(promote.LockName)
	if err != nil {
		var le *gitrepo.LockedError
		if errors.As(err, &le) {
			st.locked = true
			st.log.Info("another run holds the lock", "lock", le.Path, "pid", le.Holder.PID, "host", le.Holder.Host)
			if st.opt.failIfLocked {
				return ExitLocked, err
			}
			return ExitOK, nil
		}
		return ExitError, err
	}
	defer unlock()
	if stale != nil {
		st.log.Warn("recovered a lock left by a process that is gone", "pid", stale.PID, "since", stale.Started.Format(time.RFC3339))
	}
	settled, err := ws.Recover(ctx)
	if err != nil {
		return ExitUnfinished, err
	}
	logRecovered(st.log, settled)

	if err := st.resolveRemote(); err != nil {
		return ExitError, err
	}
	st.reg = newRegistry(ws)

	retries := config.DefaultRetries
	if g := st.gitConfig(); g.Retries != nil {
		retries = *g.Retries
	}
	if st.opt.retries >= 0 {
		retries = st.opt.retries
	}

	var pushErr error
	lastTip := ""
	for attempt := 0; ; attempt++ {
		oldTracking, _, err := repo.ReadRef(gitrepo.RemoteTrackingRef(st.remote.Name, st.branch))
		if err != nil {
			return ExitError, err
		}
		tip, err := repo.Fetch(ctx, st.remote, st.branch, st.t)
		if err != nil {
			return ExitError, err
		}
		st.log.Info("fetched", "remote", st.remote.Name, "url", gitrepo.Redact(st.remote.URL), "branch", st.branch, "commit", tip)
		if pushErr != nil && tip == lastTip {
			// Refused although the remote did not move: not a race (a
			// hook, permissions). Retrying would not help.
			st.log.Error("push refused although the remote did not move; not retrying",
				"note", "the promotion commit stays on the local branch; the next run recomputes it")
			return ExitPushFailed, pushErr
		}
		lastTip = tip

		if code, err := st.sync(ctx, tip, oldTracking); err != nil {
			return code, err
		}
		if err := st.reload(); err != nil {
			return ExitError, err
		}
		if st.opt.pullRequest || st.ws.Config.PullRequest.Enabled {
			return st.proposeForReview(ctx, tip)
		}
		done, err := st.promote(ctx, tip)
		if err != nil {
			return failCode(err), err
		}
		if done {
			return st.okCode(), nil
		}
		pushErr = repo.Push(ctx, st.remote, st.local, st.branch, st.t)
		if pushErr == nil {
			st.pushed = true
			st.log.Info("pushed", "remote", st.remote.Name, "branch", st.branch, "commit", st.commit)
			return st.okCode(), nil
		}
		if errors.Is(pushErr, gitrepo.ErrHostKey) || ctx.Err() != nil {
			return ExitPushFailed, pushErr
		}
		if attempt >= retries {
			st.log.Error("push refused; giving up", "attempts", attempt+1, "error", pushErr.Error(),
				"note", "the promotion commit stays on the local branch; the next run recomputes it")
			return ExitPushFailed, pushErr
		}
		wait := st.opt.retryWait << attempt
		if wait > time.Minute {
			wait = time.Minute
		}
		wait = wait/2 + rand.N(wait/2+1)
		st.log.Warn("push refused", "attempt", attempt+1, "retries", retries, "wait", wait.String(), "error", pushErr.Error())
		select {
		case <-ctx.Done():
			return ExitPushFailed, ctx.Err()
		case <-time.After(wait):
		}
		st.commit, st.promotions, st.failures = "", nil, nil
	}
}

func (st *runState) okCode() int {
	if len(st.failures) > 0 {
		return ExitPartial
	}
	return ExitOK
}

// reload reads laminar.toml again from the tree the run just synced to:
// the promotions, and the decision whether exec actions may run, follow
// the configuration of the tree they are committed on, never the one read
// before the fetch.
func (st *runState) reload() error {
	ws, err := st.ws.Reload()
	if err != nil {
		return fmt.Errorf("after the fetch: %w", err)
	}
	if ws.Config.Hash != st.ws.Config.Hash {
		st.log.Info("configuration changed", "config", ws.Config.Path, "hash", ws.Config.Hash)
		st.reg = newRegistry(ws)
	}
	st.ws = ws
	st.setCommitOptions()
	return nil
}

// setCommitOptions says how the run's commits are made: the command line's
// signing and --no-verify, [git] verify, and, unattended, no hook that is a
// file of the working tree, which whoever pushes controls.
func (st *runState) setCommitOptions() {
	o := st.opt.global.commit
	o.RefuseWorktreeHooks = true
	if v := st.gitConfig().Verify; v != nil && !*v {
		o.NoVerify = true
	}
	st.ws.CommitOptions = o
}

// gitConfig is [git] from laminar.toml with the user-level file's keys on top.
func (st *runState) gitConfig() config.Git {
	g := st.ws.Config.Git
	if u, err := config.LoadUser(config.UserPath(st.getenv)); err == nil {
		g = g.Merge(u.Git)
	}
	return g
}

func (st *runState) getenv(k string) string {
	if st.s.Getenv != nil {
		return st.s.Getenv(k)
	}
	return os.Getenv(k)
}

// resolveRemote settles the remote, the branches and the credentials:
// flags, then [git], then the branch's upstream, then origin/<branch>.
func (st *runState) resolveRemote() error {
	repo := st.ws.Repo
	_, local, err := repo.Head()
	if err != nil {
		return err
	}
	if local == "" {
		return errors.New("HEAD is detached; run works on a branch (git switch <branch>)")
	}
	st.local = local
	if _, err := config.LoadUser(config.UserPath(st.getenv)); err != nil {
		return err
	}
	g := st.gitConfig()
	upRemote, upBranch, hasUp, err := repo.Upstream(local)
	if err != nil {
		return err
	}
	name := first(st.opt.remote, g.Remote)
	if name == "" {
		name = "origin"
		if hasUp {
			name = upRemote
		}
	}
	st.branch = first(st.opt.branch, g.Branch)
	if st.branch == "" {
		st.branch = local
		if hasUp && upRemote == name {
			st.branch = upBranch
		}
	}
	st.remote, err = repo.Remote(name)
	if err != nil {
		return err
	}
	st.t = gitrepo.Transport{SSHKey: g.SSHKey, KnownHosts: g.KnownHosts, SSHKeyPassphrase: st.getenv(SSHPassphraseEnv)}
	return nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// sync brings the local branch to the remote tip. Local commits that are
// not on the remote are kept: run's own unpushed promotion commits are
// saved to a backup ref and recomputed; any other stops the run.
func (st *runState) sync(ctx context.Context, tip, oldTracking string) (int, error) {
	repo := st.ws.Repo
	head, _, err := repo.Head()
	if err != nil {
		return ExitError, err
	}
	if head == tip {
		st.log.Info("synced", "action", "up-to-date", "commit", tip)
		return ExitOK, nil
	}
	ahead, err := repo.RevList(ctx, []string{head}, []string{tip})
	if err != nil {
		return ExitError, err
	}
	action := "fast-forward"
	if len(ahead) > 0 {
		// Commits that were on the remote before this fetch were pushed:
		// a force push dropped them, and the remote's history wins.
		exclude := []string{tip}
		if oldTracking != "" {
			exclude = append(exclude, oldTracking)
		}
		unpushed, err := repo.RevList(ctx, []string{head}, exclude)
		if err != nil {
			return ExitError, err
		}
		var foreign []string
		for _, c := range unpushed {
			if !ownCommit(c, st.ws.Config.Commit.Message != "") {
				subject, _, _ := strings.Cut(c.Message, "\n")
				foreign = append(foreign, short(c.Hash)+" "+subject)
			}
		}
		if len(foreign) > 0 {
			st.log.Error("local commits are not on the remote; nothing changed",
				"branch", st.local, "remote_branch", st.remote.Name+"/"+st.branch, "commits", strings.Join(foreign, "; "))
			return ExitDiverged, fmt.Errorf("%s has %d commit(s) that are not on %s/%s: push, rebase or drop them, then run again",
				st.local, len(foreign), st.remote.Name, st.branch)
		}
		backup := BackupRefPrefix + time.Now().UTC().Format("20060102T150405.000000000Z")
		if err := repo.UpdateRef(backup, head, "new", "laminar run: backup before recomputing on "+short(tip), st.signature()); err != nil {
			return ExitError, fmt.Errorf("saving %s before recomputing: %w", short(head), err)
		}
		st.log.Info("saved unpushed promotion commits", "ref", backup, "commit", head, "commits", len(ahead))
		action = "reset"
	}
	err = repo.MoveBranch(ctx, gitrepo.MoveRequest{
		To: tip, ExpectHead: head, Who: st.signature(),
		Reflog: fmt.Sprintf("laminar run: %s to %s/%s", action, st.remote.Name, st.branch),
	})
	if err != nil {
		return failCode(err), err
	}
	st.log.Info("synced", "action", action, "from", head, "to", tip)
	return ExitOK, nil
}

// ownCommit reports whether c is a promotion commit as bump and run write
// them: a "Promote ..." subject and only promotion trailers. Holds,
// releases, rollbacks and `set` commits are people's decisions, never
// recomputed. Where laminar.toml has a message template (templated), the
// subject is the template's: any but set's "Set ..." will do.
func ownCommit(c gitrepo.Commit, templated bool) bool {
	if len(c.Parents) != 1 {
		return false
	}
	if templated && strings.HasPrefix(c.Message, "Set ") || !templated && !strings.HasPrefix(c.Message, "Promote ") {
		return false
	}
	promotes := 0
	for _, t := range trailer.Parse(c.Message) {
		switch t.Key {
		case trailer.KeyPromote:
			promotes++
		case trailer.KeyDigest, trailer.KeyRule:
		default:
			return false
		}
	}
	return promotes > 0
}

func (st *runState) signature() gitrepo.Signature {
	if _, c, err := st.ws.Repo.Identity(); err == nil {
		return c
	}
	return gitrepo.Signature{Name: "git-laminar", Email: "git-laminar@localhost", When: time.Now()}
}

// promote resolves, commits and reports whether the run is done (nothing
// to push).
func (st *runState) promote(ctx context.Context, tip string) (bool, error) {
	prop, err := st.propose(ctx, tip)
	if err != nil || prop == nil {
		return prop == nil && err == nil, err
	}
	res, err := st.ws.Commit(ctx, prop, tip)
	if err != nil {
		return false, err
	}
	st.commit = res.Hash
	st.log.Info("committed", "commit", res.Hash, "promotions", len(prop.Plan.Promotions))
	if res.TrustErr != nil {
		st.log.Warn("trust not kept", "error", res.TrustErr.Error())
	}
	return false, nil
}

// propose resolves and logs what it found; a nil proposal means nothing
// to promote.
func (st *runState) propose(ctx context.Context, tip string) (*promote.Proposal, error) {
	held, err := history.Holds(ctx, st.ws.Repo)
	if err != nil {
		return nil, fmt.Errorf("reading holds: %w", err)
	}
	// Only the registry's invalid tags are worth a log line.
	keep := func(_ int, v policy.Verdict) bool { return v.Outcome == policy.Invalid }
	prop, err := st.ws.Propose(st.regCtx, st.reg, promote.Options{Held: held, KeepVerdict: keep, SkipUntrusted: true})
	if err != nil {
		return nil, err
	}
	for _, u := range prop.Untrusted {
		st.log.Error("exec actions not trusted; the rule's promotions are not committed", "rule", u.Rule,
			"changed", u.Err.Diff.String(), "images", strings.Join(u.Images, ","),
			"fix", "review with git laminar trust --show, then git laminar trust")
		for _, image := range u.Images {
			st.failures = append(st.failures, notify.Failure{Image: image, Error: fmt.Sprintf("rule %s: %v", u.Rule, u.Err)})
		}
	}
	for _, d := range prop.Decisions {
		for _, v := range d.Choice.Verdicts {
			if v.Outcome == policy.Invalid {
				st.log.Warn("registry tag ignored", "image", d.Image, "tag", v.Tag, "reason", v.Reason)
			}
		}
		if d.Held != "" && d.Choice.Changed {
			st.log.Info("held", "image", d.Image, "tag", d.Current, "reason", d.Held)
		}
	}
	for _, f := range prop.Failures {
		st.failures = append(st.failures, notify.Failure{Image: f.Image, Error: f.Err.Error()})
		st.log.Error("image failed", "image", f.Image, "error", f.Err.Error())
	}
	if prop.Plan.Empty() {
		st.log.Info("nothing to promote", "commit", tip)
		return nil, nil
	}
	for _, pr := range prop.Plan.Promotions {
		st.promotions = append(st.promotions, notify.Promotion{Image: pr.Image, From: pr.From, To: pr.To, Digest: pr.Digest, Rule: pr.Rule, Files: pr.Paths})
		st.log.Info("promoted", "image", pr.Image, "from", pr.From, "to", pr.To, "files", promote.FileList(pr.Paths), "file_count", len(pr.Paths))
	}
	return prop, nil
}

// finish logs the outcome, writes the metrics file and sends the
// notification. Their own failures are logged; they do not change the
// exit status.
func (st *runState) finish(ctx context.Context, code int, runErr error) {
	attrs := []any{"status", code, "duration", time.Since(st.started).Round(time.Millisecond).String()}
	if st.commit != "" {
		attrs = append(attrs, "commit", st.commit, "pushed", st.pushed)
	}
	switch {
	case runErr != nil && code != ExitOK:
		st.log.Error("failed", append(attrs, "error", runErr.Error())...)
	case code == ExitPartial:
		st.log.Warn("done; some images failed", attrs...)
	default:
		st.log.Info("done", attrs...)
	}
	if st.ws == nil || st.locked {
		return
	}
	repoName := st.ws.Repo.Root
	if st.remote.URL != "" {
		repoName = gitrepo.Redact(st.remote.URL)
	}
	failed := code != ExitOK && code != ExitPartial
	if st.opt.metricsFile != "" {
		m := metrics.Run{
			Repository: repoName, Started: st.started, Finished: time.Now(),
			Failures: len(st.failures), Failed: failed,
		}
		if st.pushed {
			m.Promotions = len(st.promotions)
		}
		if st.reg != nil {
			rs := st.reg.Stats()
			m.Requests = map[string]int64{
				"tag_list": rs.TagListPages, "manifest_head": rs.ManifestHeads, "manifest_get": rs.ManifestGets,
				"blob": rs.BlobGets, "ping": rs.Pings, "other": rs.Other,
			}
		}
		if err := metrics.WriteTextfile(st.opt.metricsFile, m); err != nil {
			st.log.Warn("writing the metrics file failed", "path", st.opt.metricsFile, "error", err.Error())
		}
	}
	if n := st.ws.Config.Notify; n.Enabled() {
		url, err := n.WebhookURL(st.getenv)
		if err != nil {
			st.log.Warn("notification not sent", "error", err.Error())
			return
		}
		sum := notify.Summary{
			Repository: repoName, Branch: st.branch, Commit: st.commit, Pushed: st.pushed,
			Failures: st.failures, Started: st.started, Finished: time.Now(),
		}
		if st.pushed {
			sum.Promotions = st.promotions
		}
		if failed && runErr != nil {
			sum.Error = runErr.Error()
		}
		if err := notify.Send(ctx, notify.Config{URL: url, Format: n.Format, Timeout: n.Timeout}, sum); err != nil {
			st.log.Warn("notification failed", "error", err.Error())
		}
	}
}
