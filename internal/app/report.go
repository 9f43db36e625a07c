package app

import (
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/pullreq"
	"github.com/git-laminar/git-laminar/internal/registry"
)

// Promotion is one image moved from one tag to another.
type Promotion struct {
	Image  string   // canonical name
	From   string   // tag before
	To     string   // tag after
	Digest string   // digest of To, when known
	Rule   string   // the [[update]] rule that chose To; empty for a set
	Files  []string // files edited
}

// Failure is one image that could not be handled; the others went on.
type Failure struct {
	Image string
	Error string
}

// HeldBack is a rule whose promotions were left out because its exec
// actions are not trusted here (the configuration, or a file they run,
// differs from what `git laminar trust` recorded).
type HeldBack struct {
	Rule   string
	Images []string // the images it would have promoted
	Reason string   // what changed since the trusted state
}

// PullRequest is what a run or a promotion did to a pull or merge request.
type PullRequest struct {
	Action string // "opened", "updated", "unchanged" or "closed"
	Branch string // the request's branch (laminar/<rule>)
	Number int    // 0 when the forge did not say
	URL    string
	Commit string // the commit proposed; empty when closed
}

func pullRequestOf(o pullreq.Outcome) PullRequest {
	return PullRequest{Action: o.Action, Branch: o.Branch, Number: o.Number, URL: o.URL, Commit: o.Commit}
}

// RunReport is what one run did. It is filled in as far as the run got,
// whatever its outcome.
type RunReport struct {
	// Root is the clone's working tree; Repository names it for humans and
	// metrics: the remote's URL without credentials, else Root.
	Root       string
	Repository string
	Remote     string // the remote's name
	Branch     string // the remote branch
	Status     Status
	// Locked: another run held the lock; nothing was done.
	Locked bool
	// Recovered is what was settled of an interrupted run; nil if nothing.
	Recovered *gitrepo.Settled
	// Commit is the promotion commit made (in pull request mode, the last
	// one proposed); empty when none.
	Commit string
	// Pushed: Commit was pushed to Branch.
	Pushed bool
	// PullRequests are the requests opened, updated or closed (pull
	// request mode). Promotions were proposed, not pushed, when any has
	// Action "opened" or "updated" or "unchanged".
	PullRequests []PullRequest
	// Promotions are the promotions committed (pushed or proposed only
	// when Pushed or PullRequests say so).
	Promotions []Promotion
	Failures   []Failure
	// HeldBack are the rules left out for untrusted exec actions.
	HeldBack []HeldBack
	// Holds are images a rollback holds whose rule would move them,
	// image → reason.
	Holds map[string]string
	// Warnings are things worth knowing that stopped nothing (a tag list
	// cut at max_tags, a registry tag ignored, a trust record not kept).
	Warnings []string
	// Attempts is how many times the run fetched and promoted.
	Attempts int
	Started  time.Time
	Duration time.Duration
	// Registry counts the requests sent to registries by the client this
	// run used (with a Shared client: by every run while this one went).
	Registry registry.Stats
}

// Proposed reports whether the run's promotions went to pull requests
// rather than to the branch.
func (r RunReport) Proposed() bool {
	for _, p := range r.PullRequests {
		if p.Action != "closed" {
			return true
		}
	}
	return false
}

// statsSince is what a client did between two snapshots.
func statsSince(now, base registry.Stats) registry.Stats {
	return registry.Stats{
		TagListPages: now.TagListPages - base.TagListPages, ManifestHeads: now.ManifestHeads - base.ManifestHeads,
		ManifestGets: now.ManifestGets - base.ManifestGets, BlobGets: now.BlobGets - base.BlobGets,
		Pings: now.Pings - base.Pings, Other: now.Other - base.Other, Retries: now.Retries - base.Retries,
		RateLimited: now.RateLimited - base.RateLimited, CachedTagLists: now.CachedTagLists - base.CachedTagLists,
		CachedDigests: now.CachedDigests - base.CachedDigests, CachedImages: now.CachedImages - base.CachedImages,
		ListedImages: now.ListedImages - base.ListedImages, CacheWrites: now.CacheWrites - base.CacheWrites,
	}
}
