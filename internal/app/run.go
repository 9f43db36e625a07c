package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/commitmsg"
	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/history"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// RunOptions say what one unattended run of a clone does.
type RunOptions struct {
	// Dir is the clone's working tree, or any directory inside it.
	Dir string
	// ConfigPath is read instead of laminar.toml at the root; it is
	// read again after the fetch.
	ConfigPath string
	// Remote and Branch are where to fetch from and push to; empty: [git]
	// remote and branch, then the current branch's upstream, then
	// origin/<current branch>.
	Remote, Branch string
	// Retries is how often a push refused because the remote moved is
	// recomputed on the new tip and tried again; negative: [git] retries,
	// else config.DefaultRetries.
	Retries int
	// RetryWait is the wait before the first retry, doubled each time (at
	// most a minute, half of it random).
	RetryWait time.Duration
	// FailIfLocked makes a run that finds the lock taken end with
	// StatusLocked and an error, instead of StatusOK.
	FailIfLocked bool
	// Timeout bounds the time spent asking registries, however often the
	// run recomputes; 0: none.
	Timeout time.Duration
	// PullRequest proposes each rule's promotions in a pull request
	// instead of pushing to Branch ([pull_request] enabled does too).
	PullRequest bool
	// Commit says how commits are made: signing, and NoVerify to skip the
	// commit hooks ([git] verify = false does too). Hooks that are files
	// of the working tree never run: whoever pushes controls them.
	Commit gitrepo.CommitOptions
	// MetricsFile, when set, is replaced with Prometheus metrics of the
	// run (node_exporter's textfile collector).
	MetricsFile string
	// SSHKey and KnownHosts, when set, replace [git] ssh_key and
	// known_hosts for the fetch and push: the service's fleet file names
	// each repository's key.
	SSHKey     string
	KnownHosts []string
}

// Run is one unattended run of one clone: take the lock (the one every
// git-laminar command that changes the clone takes), settle an interrupted
// run, fetch, bring the local branch to the remote tip (keeping run's own
// unpushed commits under BackupRefPrefix, stopping at anyone else's), read
// laminar.toml again from the fetched tree, promote every managed image,
// commit and push; when the push is refused because the remote moved,
// fetch and recompute, up to Retries times. With PullRequest the commits
// go to pull requests instead. It ends by writing the metrics file and
// sending the [notify] webhook, whose failures are only logged.
//
// The report says what was done whatever the outcome; the error is what
// ended a run whose Status is neither StatusOK nor StatusPartial.
func Run(ctx context.Context, opt RunOptions, deps Deps) (RunReport, error) {
	r := &runner{deps: deps, log: deps.logger(), opt: opt}
	r.rep.Started = deps.now()
	var cancel context.CancelFunc
	r.regCtx, cancel = withDeadline(ctx, opt.Timeout)
	defer cancel()
	status, err := r.run(ctx)
	r.finish(ctx, status, err)
	if status == StatusOK || status == StatusPartial {
		err = nil
	}
	return r.rep, err
}

// runner is one run: what it found, did and will report.
type runner struct {
	deps Deps
	log  *slog.Logger
	opt  RunOptions
	ws   *promote.Workspace
	reg  *registry.Client
	// regBase is reg's count of requests when the run took it.
	regBase registry.Stats
	tg      target
	// regCtx is the run's context with its timeout: one deadline for
	// asking the registries, however often a moved remote makes the run
	// promote again.
	regCtx context.Context
	// own are the commits this run made: a retry recomputes them as it
	// does any promotion commit of run's.
	own map[string]bool
	rep RunReport
}

func (r *runner) getenv(k string) string { return r.deps.getenv(k) }

// run does the work and returns the status and the error that ended the
// run, if any.
func (r *runner) run(ctx context.Context) (Status, error) {
	ws, err := promote.Open(r.opt.Dir, promote.OpenOptions{ConfigPath: r.opt.ConfigPath,
		Warn: func(msg string) { r.log.Warn("tracked file skipped", "reason", msg) }})
	if err != nil {
		return StatusError, err
	}
	r.ws = ws
	r.rep.Root, r.rep.Repository = ws.Repo.Root, ws.Repo.Root
	unlock, status, err := r.lock(ctx)
	if unlock == nil {
		return status, err
	}
	defer unlock()
	if err := r.resolve(); err != nil {
		return StatusError, err
	}
	return r.loop(ctx, r.retries(), r.runStep)
}

// lock takes the lock and settles what an interrupted run left; a nil
// unlock means the run ends with the status and error returned.
func (r *runner) lock(ctx context.Context) (func() error, Status, error) {
	repo := r.ws.Repo
	r.setCommitOptions()
	unlock, stale, err := repo.TryLock(LockName)
	if err != nil {
		var le *gitrepo.LockedError
		if errors.As(err, &le) {
			r.rep.Locked = true
			r.log.Info("another run holds the lock", "lock", le.Path, "pid", le.Holder.PID, "host", le.Holder.Host)
			if r.opt.FailIfLocked {
				return nil, StatusLocked, err
			}
			return nil, StatusOK, nil
		}
		return nil, StatusError, err
	}
	if stale != nil {
		r.log.Warn("recovered a lock left by a process that is gone", "pid", stale.PID, "since", stale.Started.Format(time.RFC3339))
	}
	settled, err := r.ws.Recover(ctx)
	if err != nil {
		unlock()
		return nil, StatusUnfinished, err
	}
	r.rep.Recovered = settled
	logRecovered(r.log, settled)
	return unlock, StatusOK, nil
}

// resolve settles where the run fetches from and pushes to, and takes
// its registry client.
func (r *runner) resolve() error {
	var err error
	r.tg, err = resolveTarget(r.ws, r.opt.Remote, r.opt.Branch, r.getenv, "HEAD is detached; run works on a branch (git switch <branch>)")
	if err != nil {
		return err
	}
	if r.opt.SSHKey != "" {
		r.tg.t.SSHKey = r.opt.SSHKey
	}
	if len(r.opt.KnownHosts) > 0 {
		r.tg.t.KnownHosts = r.opt.KnownHosts
	}
	r.rep.Remote, r.rep.Branch = r.tg.remote.Name, r.tg.branch
	if r.tg.remote.URL != "" {
		r.rep.Repository = gitrepo.Redact(r.tg.remote.URL)
	}
	r.takeRegistry()
	return nil
}

func (r *runner) takeRegistry() {
	r.reg = r.deps.registry(r.ws.Config)
	r.regBase = r.reg.Stats()
}

func (r *runner) retries() int {
	retries := config.DefaultRetries
	if g := gitConfig(r.ws, r.getenv); g.Retries != nil {
		retries = *g.Retries
	}
	if r.opt.Retries >= 0 {
		retries = r.opt.Retries
	}
	return retries
}

// step is one attempt on the remote tip: it commits, or proposes, and
// says whether a commit waits to be pushed. A non-nil error ends the run
// with the status returned.
type step func(ctx context.Context, tip string) (push bool, status Status, err error)

// loop fetches, brings the branch to the remote tip, reads the
// configuration again and runs do on the tip; when do leaves a commit, it
// pushes it, and when the push is refused because the remote moved, it
// starts again, up to retries times.
func (r *runner) loop(ctx context.Context, retries int, do step) (Status, error) {
	repo := r.ws.Repo
	var pushErr error
	lastTip := ""
	for attempt := 0; ; attempt++ {
		r.rep.Attempts = attempt + 1
		oldTracking, _, err := repo.ReadRef(gitrepo.RemoteTrackingRef(r.tg.remote.Name, r.tg.branch))
		if err != nil {
			return StatusError, err
		}
		tip, err := repo.Fetch(ctx, r.tg.remote, r.tg.branch, r.tg.t)
		if err != nil {
			return StatusError, err
		}
		r.log.Info("fetched", "remote", r.tg.remote.Name, "url", gitrepo.Redact(r.tg.remote.URL), "branch", r.tg.branch, "commit", tip)
		if pushErr != nil && tip == lastTip {
			// Refused although the remote did not move: not a race (a
			// hook, permissions). Retrying would not help.
			r.log.Error("push refused although the remote did not move; not retrying",
				"note", "the promotion commit stays on the local branch; the next run recomputes it")
			return StatusPushFailed, pushErr
		}
		lastTip = tip

		if status, err := r.sync(ctx, tip, oldTracking); err != nil {
			return status, err
		}
		if err := r.reload(); err != nil {
			return StatusError, err
		}
		push, status, err := do(ctx, tip)
		if err != nil || !push {
			return status, err
		}
		pushErr = repo.Push(ctx, r.tg.remote, r.tg.local, r.tg.branch, r.tg.t)
		if pushErr == nil {
			r.rep.Pushed = true
			r.log.Info("pushed", "remote", r.tg.remote.Name, "branch", r.tg.branch, "commit", r.rep.Commit)
			return r.okStatus(), nil
		}
		if errors.Is(pushErr, gitrepo.ErrHostKey) || ctx.Err() != nil {
			return StatusPushFailed, pushErr
		}
		if attempt >= retries {
			r.log.Error("push refused; giving up", "attempts", attempt+1, "error", pushErr.Error(),
				"note", "the promotion commit stays on the local branch; the next run recomputes it")
			return StatusPushFailed, pushErr
		}
		wait := r.opt.RetryWait << attempt
		if wait > time.Minute {
			wait = time.Minute
		}
		wait = wait/2 + rand.N(wait/2+1)
		r.log.Warn("push refused", "attempt", attempt+1, "retries", retries, "wait", wait.String(), "error", pushErr.Error())
		select {
		case <-ctx.Done():
			return StatusPushFailed, ctx.Err()
		case <-time.After(wait):
		}
		r.rep.Commit, r.rep.Promotions, r.rep.Failures, r.rep.HeldBack = "", nil, nil, nil
	}
}

// runStep is run's attempt: promote every managed image, or propose them
// in pull requests.
func (r *runner) runStep(ctx context.Context, tip string) (bool, Status, error) {
	if r.opt.PullRequest || r.ws.Config.PullRequest.Enabled {
		status, err := r.proposeForReview(ctx, tip)
		return false, status, err
	}
	prop, err := r.propose(ctx, tip)
	if err != nil {
		return false, failStatus(err), err
	}
	if prop == nil {
		return false, r.okStatus(), nil
	}
	res, err := r.ws.Commit(ctx, prop, tip)
	if err != nil {
		return false, failStatus(err), err
	}
	r.committed(res.Hash)
	r.log.Info("committed", "commit", res.Hash, "promotions", len(prop.Plan.Promotions))
	if res.TrustErr != nil {
		r.warn("trust not kept", res.TrustErr)
	}
	return true, StatusOK, nil
}

func (r *runner) committed(hash string) {
	r.rep.Commit = hash
	if r.own == nil {
		r.own = map[string]bool{}
	}
	r.own[hash] = true
}

func (r *runner) warn(msg string, err error) {
	r.log.Warn(msg, "error", err.Error())
	r.rep.Warnings = append(r.rep.Warnings, msg+": "+err.Error())
}

func (r *runner) okStatus() Status {
	if len(r.rep.Failures) > 0 {
		return StatusPartial
	}
	return StatusOK
}

// reload reads laminar.toml again from the tree the run just synced to:
// the promotions, and the decision whether exec actions may run, follow
// the configuration of the tree they are committed on, never the one read
// before the fetch.
func (r *runner) reload() error {
	ws, err := r.ws.Reload()
	if err != nil {
		return fmt.Errorf("after the fetch: %w", err)
	}
	changed := ws.Config.Hash != r.ws.Config.Hash
	r.ws = ws
	if changed {
		r.log.Info("configuration changed", "config", ws.Config.Path, "hash", ws.Config.Hash)
		r.takeRegistry()
	}
	r.setCommitOptions()
	return nil
}

// setCommitOptions says how the run's commits are made: the options'
// signing and NoVerify, [git] verify, and, unattended, no hook that is a
// file of the working tree, which whoever pushes controls.
func (r *runner) setCommitOptions() {
	o := r.opt.Commit
	o.RefuseWorktreeHooks = true
	if v := gitConfig(r.ws, r.getenv).Verify; v != nil && !*v {
		o.NoVerify = true
	}
	r.ws.CommitOptions = o
}

// sync brings the local branch to the remote tip. Local commits that are
// not on the remote are kept: run's own unpushed promotion commits are
// saved to a backup ref and recomputed; any other stops the run.
func (r *runner) sync(ctx context.Context, tip, oldTracking string) (Status, error) {
	repo := r.ws.Repo
	head, _, err := repo.Head()
	if err != nil {
		return StatusError, err
	}
	if head == tip {
		r.log.Info("synced", "action", "up-to-date", "commit", tip)
		return StatusOK, nil
	}
	ahead, err := repo.RevList(ctx, []string{head}, []string{tip})
	if err != nil {
		return StatusError, err
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
			return StatusError, err
		}
		var foreign []string
		for _, c := range unpushed {
			if !r.own[c.Hash] && !OwnCommit(c, r.ws.Config.Commit.Message != "") {
				subject, _, _ := strings.Cut(c.Message, "\n")
				foreign = append(foreign, short(c.Hash)+" "+subject)
			}
		}
		if len(foreign) > 0 {
			r.log.Error("local commits are not on the remote; nothing changed",
				"branch", r.tg.local, "remote_branch", r.tg.where(), "commits", strings.Join(foreign, "; "))
			return StatusDiverged, fmt.Errorf("%s has %d commit(s) that are not on %s: push, rebase or drop them, then run again",
				r.tg.local, len(foreign), r.tg.where())
		}
		backup := BackupRefPrefix + r.deps.now().UTC().Format("20060102T150405.000000000Z")
		if err := repo.UpdateRef(backup, head, "new", "laminar run: backup before recomputing on "+short(tip), r.signature()); err != nil {
			return StatusError, fmt.Errorf("saving %s before recomputing: %w", short(head), err)
		}
		r.log.Info("saved unpushed promotion commits", "ref", backup, "commit", head, "commits", len(ahead))
		action = "reset"
	}
	err = repo.MoveBranch(ctx, gitrepo.MoveRequest{
		To: tip, ExpectHead: head, Who: r.signature(),
		Reflog: fmt.Sprintf("laminar run: %s to %s", action, r.tg.where()),
	})
	if err != nil {
		return failStatus(err), err
	}
	r.log.Info("synced", "action", action, "from", head, "to", tip)
	return StatusOK, nil
}

// OwnCommit reports whether c is a promotion commit as bump and run write
// them: a "Promote ..." subject and only promotion trailers. Holds,
// releases, rollbacks and `set` commits are people's decisions, never
// recomputed. Where laminar.toml has a message template (templated), the
// subject is the template's: any but set's "Set ..." will do.
func OwnCommit(c gitrepo.Commit, templated bool) bool {
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

func (r *runner) signature() gitrepo.Signature {
	if _, c, err := r.ws.Repo.Identity(); err == nil {
		return c
	}
	return gitrepo.Signature{Name: "git-laminar", Email: "git-laminar@localhost", When: r.deps.now()}
}

// propose resolves and logs what it found; a nil proposal means nothing
// to promote.
func (r *runner) propose(ctx context.Context, tip string) (*promote.Proposal, error) {
	held, err := history.Holds(ctx, r.ws.Repo)
	if err != nil {
		return nil, fmt.Errorf("reading holds: %w", err)
	}
	// Only the registry's invalid tags are worth a log line.
	keep := func(_ int, v policy.Verdict) bool { return v.Outcome == policy.Invalid }
	prop, err := r.ws.Propose(r.regCtx, r.reg, promote.Options{Held: held, KeepVerdict: keep, SkipUntrusted: true})
	if err != nil {
		return nil, err
	}
	for _, u := range prop.Untrusted {
		r.log.Error("exec actions not trusted; the rule's promotions are not committed", "rule", u.Rule,
			"changed", u.Err.Diff.String(), "images", strings.Join(u.Images, ","),
			"fix", "review with git laminar trust --show, then git laminar trust")
		r.rep.HeldBack = append(r.rep.HeldBack, HeldBack{Rule: u.Rule, Images: u.Images, Reason: u.Err.Diff.String()})
		for _, image := range u.Images {
			r.rep.Failures = append(r.rep.Failures, Failure{Image: image, Error: fmt.Sprintf("rule %s: %v", u.Rule, u.Err)})
		}
	}
	r.rep.Warnings = append(r.rep.Warnings, prop.Warnings...)
	for _, d := range prop.Decisions {
		for _, v := range d.Choice.Verdicts {
			if v.Outcome == policy.Invalid {
				r.log.Warn("registry tag ignored", "image", d.Image, "tag", v.Tag, "reason", v.Reason)
				r.rep.Warnings = append(r.rep.Warnings, fmt.Sprintf("registry tag ignored: %s:%s: %s", d.Image, v.Tag, v.Reason))
			}
		}
		if d.Held != "" && d.Choice.Changed {
			r.log.Info("held", "image", d.Image, "tag", d.Current, "reason", d.Held)
			if r.rep.Holds == nil {
				r.rep.Holds = map[string]string{}
			}
			r.rep.Holds[d.Image] = d.Held
		}
	}
	for _, f := range prop.Failures {
		r.rep.Failures = append(r.rep.Failures, Failure{Image: f.Image, Error: f.Err.Error()})
		r.log.Error("image failed", "image", f.Image, "error", f.Err.Error())
	}
	if prop.Plan.Empty() {
		r.log.Info("nothing to promote", "commit", tip)
		return nil, nil
	}
	for _, pr := range prop.Plan.Promotions {
		r.rep.Promotions = append(r.rep.Promotions, Promotion{Image: pr.Image, From: pr.From, To: pr.To, Digest: pr.Digest, Rule: pr.Rule, Files: pr.Paths})
		r.log.Info("promoted", "image", pr.Image, "from", pr.From, "to", pr.To, "files", commitmsg.FileList(pr.Paths), "file_count", len(pr.Paths))
	}
	return prop, nil
}

// logRecovered logs what was settled of an interrupted run.
func logRecovered(log *slog.Logger, s *gitrepo.Settled) {
	if s == nil {
		return
	}
	log.Warn("recovered an interrupted run", "op", s.Op, "pid", s.PID, "started", s.Started,
		"committed", s.Committed, "restored", len(s.Restored), "completed", len(s.Completed),
		"index", len(s.Index), "locks", len(s.Locks), "temps", len(s.Temps))
}
