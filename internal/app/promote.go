package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/git-laminar/git-laminar/internal/commitmsg"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/history"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/pullreq"
)

// PromoteOptions say which image to set to which tag in one clone, and
// where the commit goes.
type PromoteOptions struct {
	// Dir is the clone's working tree, or any directory inside it.
	Dir string
	// ConfigPath is read instead of laminar.toml at the root.
	ConfigPath string
	// Image names the image: its canonical name ("host/path"), the name as
	// written in a file, or a trailing part of it ("app", "acme/app").
	Image string
	// Tag is the tag to set. With FromCommit it is left empty: the tag is
	// the one CI built from that commit of the application (see
	// promote.TagsForCommit; Short picks among short forms).
	Tag        string
	FromCommit string
	Short      bool
	// ManagedOnly sets only references a rule manages; an image no rule
	// manages here ends with PromoteReport.NotManaged. Without it every
	// reference to the image is set, as `git laminar set` does.
	ManagedOnly bool
	// DryRun computes the change and shows it to Review, and stops there:
	// it takes no lock and writes nothing.
	DryRun bool
	// Push pushes the commit as Run does; PullRequest proposes it in a
	// pull request instead ([pull_request] base first).
	Push        bool
	PullRequest bool
	// Sync makes the promotion unattended, as Run is: it fetches and
	// brings the branch to the remote tip first, sets the tag there, and
	// when the push is refused because the remote moved, recomputes on the
	// new tip up to Retries times (negative: [git] retries); hooks that are
	// files of the working tree do not run. Without it the commit is made
	// on HEAD as it is and pushed once.
	Sync           bool
	Remote, Branch string // as in RunOptions (Sync and Push only)
	Retries        int
	RetryWait      time.Duration
	// Timeout bounds the time spent asking registries; 0: none.
	Timeout time.Duration
	// Commit says how the commit is made (signing, hooks).
	Commit gitrepo.CommitOptions
	// Review, when set, is shown the change before anything is written
	// (DryRun or not); returning false declines it (StatusDeclined).
	Review func(*SetPlan) (bool, error)
	// Warn is told of tracked files the scan skips; nil: the logger.
	Warn func(string)
	// SSHKey and KnownHosts as in RunOptions.
	SSHKey     string
	KnownHosts []string
}

// SetPlan is what a promotion is about to commit.
type SetPlan struct {
	Image string // canonical name
	Tag   string
	// FromCommit is the application commit Tag was found from, if any.
	FromCommit string
	// Set is the change: diffs, promotions, references skipped. Nil when
	// every reference is at Tag already and the commit only ends a hold.
	Set *promote.SetProposal
	// Release: the commit ends the image's hold, whose reason is
	// HoldReason.
	Release    bool
	HoldReason string
	Message    string
	// Recovered is what was settled of an interrupted run before.
	Recovered *gitrepo.Settled
}

// PromoteReport is what a promotion did.
type PromoteReport struct {
	Root       string
	Repository string // the remote's URL without credentials, else Root
	Image      string // canonical name; empty when none was found
	Tag        string // the tag set (found from FromCommit, when given)
	FromCommit string
	// NotManaged: with ManagedOnly, no rule of this clone manages Image.
	NotManaged bool
	// Unchanged: every reference is at Tag already and nothing is held.
	Unchanged bool
	// Released is the image whose hold the commit ends, if any.
	Released string
	Status   Status
	Locked   bool
	Plan     *SetPlan // what was (or would have been) committed
	Commit   string
	// Pushed: Commit went to Remote/Branch.
	Pushed         bool
	Remote, Branch string
	PullRequests   []PullRequest
	Promotions     []Promotion
	Warnings       []string
	Duration       time.Duration
	// TrustErr says the trust record could not follow the commit.
	TrustErr error
}

// Where names where the commit was pushed ("origin/main").
func (r PromoteReport) Where() string { return r.Remote + "/" + r.Branch }

// ErrDeclined is returned when Review declines the change.
var ErrDeclined = errors.New("declined")

// Promote sets one image to one tag in one clone, after checking the tag
// exists in its registry, commits with the usual trailers (ending the
// image's hold, if any) and pushes or proposes the commit: the code
// behind `git laminar set` and the service's promotions. It holds the
// clone's lock throughout (not for a DryRun).
func Promote(ctx context.Context, opt PromoteOptions, deps Deps) (PromoteReport, error) {
	started := deps.now()
	r := &runner{deps: deps, log: deps.logger(), opt: RunOptions{
		Dir: opt.Dir, ConfigPath: opt.ConfigPath, Remote: opt.Remote, Branch: opt.Branch,
		Retries: opt.Retries, RetryWait: opt.RetryWait, Timeout: opt.Timeout, Commit: opt.Commit,
		PullRequest: opt.PullRequest, SSHKey: opt.SSHKey, KnownHosts: opt.KnownHosts,
	}}
	p := &promoter{r: r, opt: opt, rep: PromoteReport{FromCommit: opt.FromCommit}}
	var cancel context.CancelFunc
	r.regCtx, cancel = withDeadline(ctx, opt.Timeout)
	defer cancel()
	status, err := p.run(ctx)
	if r.reg != nil {
		_ = r.reg.Flush() // the cache on disk only saves requests
	}
	p.rep.Status = status
	p.rep.Duration = deps.now().Sub(started)
	if errors.Is(err, ErrDeclined) {
		err = nil
	}
	return p.rep, err
}

type promoter struct {
	r   *runner
	opt PromoteOptions
	rep PromoteReport
}

func (p *promoter) run(ctx context.Context) (Status, error) {
	r := p.r
	warn := p.opt.Warn
	if warn == nil {
		warn = func(msg string) { r.log.Warn("tracked file skipped", "reason", msg) }
	}
	ws, err := promote.Open(p.opt.Dir, promote.OpenOptions{ConfigPath: p.opt.ConfigPath, ConfigOptional: true, Warn: warn})
	if err != nil {
		return StatusError, err
	}
	r.ws = ws
	ws.CommitOptions = p.opt.Commit
	p.rep.Root, p.rep.Repository = ws.Repo.Root, ws.Repo.Root
	if p.opt.Sync && !p.opt.DryRun {
		unlock, status, err := r.lock(ctx)
		if unlock == nil {
			if r.rep.Locked {
				p.rep.Locked = true
				if err == nil {
					err = fmt.Errorf("another git laminar run holds %s", LockName)
				}
				return StatusLocked, err
			}
			return status, err
		}
		defer unlock()
		if err := r.resolve(); err != nil {
			return StatusError, err
		}
		p.rep.Remote, p.rep.Branch, p.rep.Repository = r.rep.Remote, r.rep.Branch, r.rep.Repository
		status, err = r.loop(ctx, r.retries(), p.step)
		p.rep.Pushed = r.rep.Pushed
		return status, err
	}
	if !p.opt.DryRun {
		unlock, err := ws.LockAndRecover(ctx)
		if err != nil {
			p.rep.Locked = errors.Is(err, gitrepo.ErrLocked)
			return lockStatus(err), err
		}
		defer unlock()
	}
	head, _, err := ws.Repo.Head()
	if err != nil {
		return StatusError, fmt.Errorf("reading HEAD: %w", err)
	}
	r.takeRegistry()
	push, status, err := p.step(ctx, head)
	if err != nil || !push {
		return status, err
	}
	tg, err := pushOnce(ctx, ws, p.opt.Remote, p.opt.Branch, r.deps)
	p.rep.Remote, p.rep.Branch = tg.remote.Name, tg.branch
	if tg.remote.URL != "" {
		p.rep.Repository = gitrepo.Redact(tg.remote.URL)
	}
	if err != nil {
		return StatusPushFailed, err
	}
	p.rep.Pushed = true
	return StatusOK, nil
}

// step sets the tag on head: it finds the image, the tag, the hold, shows
// the change to Review and commits it (or proposes it). It reports
// whether a commit waits to be pushed.
func (p *promoter) step(ctx context.Context, head string) (bool, Status, error) {
	// After a fetch, r.ws is the configuration as fetched.
	r, ws := p.r, p.r.ws
	p.rep.Commit, p.rep.Promotions, p.rep.PullRequests, p.rep.Plan = "", nil, nil, nil
	refs, err := ws.Scan(ctx)
	if err != nil {
		return false, StatusError, err
	}
	if p.opt.ManagedOnly {
		managed := refs[:0:0]
		for _, ref := range refs {
			if ref.Managed() {
				managed = append(managed, ref)
			}
		}
		refs = managed
	}
	image, err := promote.FindImage(p.opt.Image, promote.Images(refs))
	if err != nil {
		var ie *promote.ImageError
		if p.opt.ManagedOnly && errors.As(err, &ie) && len(ie.Candidates) == 0 {
			p.rep.NotManaged = true
			return false, StatusOK, nil
		}
		return false, StatusError, err
	}
	p.rep.Image = image
	tag := p.opt.Tag
	if p.opt.FromCommit != "" {
		tag, err = ws.TagForCommit(r.regCtx, r.reg, refs, image, p.opt.FromCommit, p.opt.Short)
		if err != nil {
			return false, StatusError, err
		}
	}
	p.rep.Tag = tag
	holds, err := history.HeldAt(ctx, ws.Repo, "")
	if err != nil {
		return false, StatusError, fmt.Errorf("reading holds: %w", err)
	}
	hold, held := holds[image]
	sp, err := ws.ProposeSet(r.regCtx, r.reg, refs, promote.SetRequest{Image: image, Tag: tag})
	if err != nil {
		return false, StatusError, err
	}
	plan := &SetPlan{Image: image, Tag: tag, FromCommit: p.opt.FromCommit, Recovered: ws.Recovered}
	if r.rep.Recovered != nil {
		plan.Recovered = r.rep.Recovered
	}
	if held {
		plan.Release, plan.HoldReason = true, hold.Reason()
		p.rep.Released = image
	}
	if sp.Plan.Empty() {
		if !held {
			p.rep.Unchanged = true
			return false, StatusOK, nil
		}
		// Already at the tag, but held: the commit still ends the hold.
		if plan.Message, err = commitmsg.Release(image, hold.Reason()); err != nil {
			return false, StatusError, err
		}
	} else {
		plan.Set = sp
		if plan.Message, err = commitmsg.Set(sp.Plan, image, tag, held); err != nil {
			return false, StatusError, err
		}
		for _, pr := range sp.Plan.Promotions {
			p.rep.Promotions = append(p.rep.Promotions, Promotion{Image: pr.Image, From: pr.From, To: pr.To, Digest: pr.Digest, Rule: pr.Rule, Files: pr.Paths})
		}
	}
	p.rep.Plan = plan
	if p.opt.Review != nil {
		ok, err := p.opt.Review(plan)
		if err != nil {
			return false, StatusError, err
		}
		if !ok && !p.opt.DryRun {
			return false, StatusDeclined, ErrDeclined
		}
	}
	if p.opt.DryRun {
		return false, StatusOK, nil
	}
	if plan.Set == nil {
		hash, err := ws.CommitRecord(ctx, plan.Message, head)
		if err != nil {
			return false, StatusError, err
		}
		p.committed(hash)
		return p.opt.Push, StatusOK, nil
	}
	if p.opt.PullRequest {
		outs, err := p.proposeSet(ctx, plan, head)
		p.rep.PullRequests = outs
		if len(outs) > 0 {
			p.rep.Commit = outs[len(outs)-1].Commit
		}
		if err != nil {
			return false, StatusPushFailed, err
		}
		return false, StatusOK, nil
	}
	cr, err := ws.CommitMessage(ctx, sp.Proposal, plan.Message, head)
	if err != nil {
		return false, failStatus(err), err
	}
	p.committed(cr.Hash)
	p.rep.TrustErr = cr.TrustErr
	if cr.TrustErr != nil {
		p.rep.Warnings = append(p.rep.Warnings, cr.TrustErr.Error())
	}
	return p.opt.Push, StatusOK, nil
}

func (p *promoter) committed(hash string) {
	p.rep.Commit = hash
	p.r.committed(hash)
}

// proposeSet proposes the set's commit for review: on the run's remote
// and branch when synced, else as ProposeLocal does.
func (p *promoter) proposeSet(ctx context.Context, plan *SetPlan, head string) ([]PullRequest, error) {
	r := p.r
	if !p.opt.Sync {
		return ProposeLocal(ctx, r.ws, plan.Set.Proposal, head, plan.Message, r.deps)
	}
	pr, err := pullRequestConfig(r.ws, r.getenv)
	if err != nil {
		return nil, err
	}
	fg, err := pullreq.Connect(ctx, r.ws.Repo, pr, r.tg.remote.URL, r.getenv)
	if err != nil {
		return nil, err
	}
	flow := &pullreq.Flow{Repo: r.ws.Repo, Remote: r.tg.remote, Transport: r.tg.t, Forge: fg, Base: first(pr.Base, r.tg.branch), Config: pr}
	outs, err := flow.ProposeAll(ctx, r.ws, plan.Set.Proposal, head, plan.Message)
	var out []PullRequest
	for _, o := range outs {
		out = append(out, pullRequestOf(o))
	}
	return out, err
}
