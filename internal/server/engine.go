package server

import (
	"context"
	"time"
)

// Engine does the work on one clone: the use cases of `git laminar run`
// and `set`, behind the lock they share. The service schedules it and
// never edits a file itself.
type Engine interface {
	// Run is one unattended promotion of the clone, as `git laminar run`:
	// fetch, follow the remote branch, promote, commit, push.
	Run(ctx context.Context, t Target) (Outcome, error)
	// Promote sets image to the requested tag in the clone and pushes,
	// after checking the tag exists, as `git laminar set --push`.
	Promote(ctx context.Context, t Target, p PromoteRequest) (Outcome, error)
	// References lists the names (no tag) of the images the clone's rules
	// manage: canonical, and as the registry's API spells them where that
	// differs.
	References(ctx context.Context, t Target) ([]string, error)
	// Status is what `git laminar status` and `log` say of the clone.
	Status(ctx context.Context, t Target) (RepoStatus, error)
}

// Target is one repository's clone and how to reach its remote.
type Target struct {
	Name        string
	Dir         string // the clone's working tree
	Config      string // laminar.toml inside the clone; empty: the default
	Branch      string // the remote branch followed; empty: the clone's upstream
	PullRequest bool
	SSHKey      string
	KnownHosts  []string
	// Refresh: the job was asked for (API, webhook) because the registry
	// changed; cached tag lists do not answer it.
	Refresh bool
}

// PromoteRequest is the body of POST /v1/promote.
type PromoteRequest struct {
	Image  string `json:"image"`
	Tag    string `json:"tag,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// Outcome is what one run or promotion did.
type Outcome struct {
	// Result is "promoted", "up-to-date", "partial" (some images failed),
	// "failed" or "locked" (another process held the lock).
	Result     string         `json:"result"`
	Commit     string         `json:"commit,omitempty"`
	Pushed     bool           `json:"pushed"`
	Promotions []Promotion    `json:"promotions"`
	Failures   []Failure      `json:"failures"`
	Requests   []RequestCount `json:"-"`
	Error      string         `json:"error,omitempty"`
	Started    time.Time      `json:"started"`
	Finished   time.Time      `json:"finished"`
	Trigger    string         `json:"trigger,omitempty"`
}

// Promotion is one image moved from one tag to another.
type Promotion struct {
	Image string `json:"image"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Failure is one image that could not be handled.
type Failure struct {
	Image string `json:"image"`
	Error string `json:"error"`
}

// RequestCount is a number of registry requests of one kind to one host.
type RequestCount struct {
	Host, Kind string
	N          int64
}

// RepoStatus is what the status page shows of a repository's images.
type RepoStatus struct {
	Images  []ImageStatus `json:"images"`
	History []Event       `json:"history"` // the last promotions, newest first
}

// ImageStatus is one image at one current tag.
type ImageStatus struct {
	Image   string `json:"image"`
	Rule    string `json:"rule"`
	Current string `json:"current"`
	Newest  string `json:"newest"` // the tag its rule allows
	Reason  string `json:"reason"`
	Held    string `json:"held,omitempty"`
}

// Event is one record read from the trailers of history.
type Event struct {
	Kind   string    `json:"kind"`
	Commit string    `json:"commit"`
	Date   time.Time `json:"date"`
	Author string    `json:"author"`
	Image  string    `json:"image"`
	From   string    `json:"from"`
	To     string    `json:"to"`
}
