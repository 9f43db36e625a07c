// Package app holds git-laminar's use cases: one unattended run of a clone
// (Run), setting one image to one tag and pushing or proposing it
// (Promote), and which images a clone manages (References). Each takes an
// options struct and its dependencies (Deps) and returns a report; none
// reads flags, touches stdio or exits. The command line and the service
// both call it, so that a cron `git laminar run` and the service share one
// implementation, one lock and one push.
package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/registry"
)

// LockName is the lock file in the git directory that keeps two runs on
// one clone from interleaving: `git laminar run` from cron, the service
// and an interactive set all take it.
const LockName = promote.LockName

// BackupRefPrefix is where a run keeps its own unpushed commits before it
// recomputes them on a new remote tip: nothing is ever lost.
const BackupRefPrefix = "refs/laminar/backup/"

// SSHPassphraseEnv names the environment variable that holds the
// passphrase of [git] ssh_key, when the key has one.
const SSHPassphraseEnv = config.SSHPassphraseEnv

// Deps are what a use case needs from its surroundings. The zero value
// works: a registry client per repository built from its configuration
// and the process's environment, no logging, the real clock.
type Deps struct {
	// Registry returns the registry client for a clone whose
	// configuration is cfg. Shared(c) hands every run the same client, so
	// that many concurrent runs of different repositories share its
	// connections, rate limits and disk cache; FromConfig builds one per
	// configuration, as the command line does. Nil: FromConfig with Getenv.
	Registry RegistrySource
	// Logger receives one record per step of a run. Nil: nothing is logged.
	Logger *slog.Logger
	// Getenv reads the environment: the user-level file's location, the
	// webhook and token variables laminar.toml names, the SSH key's
	// passphrase. Nil: os.Getenv.
	Getenv func(string) string
	// Now is the clock of reports and backup ref names. Nil: time.Now.
	Now func() time.Time
}

func (d Deps) getenv(k string) string {
	if d.Getenv != nil {
		return d.Getenv(k)
	}
	return os.Getenv(k)
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d Deps) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// RegistrySource returns the registry client for a clone's configuration.
type RegistrySource func(cfg *config.Config) (*registry.Client, error)

// Shared is a RegistrySource that returns c whatever the configuration:
// per-registry settings of each laminar.toml are then not applied, only
// those c was built with. A Client reuses what it listed for its whole
// life: share one among the runs of one round, not across rounds (see
// PerRun).
func Shared(c *registry.Client) RegistrySource {
	return func(*config.Config) (*registry.Client, error) { return c, nil }
}

// PerRun is a RegistrySource for a long-lived process: each run gets a
// client of its own built from opt (a Client reuses what it learned for
// its whole life, so one shared for days would never see a new tag),
// sharing opt.CacheDir's cache on disk (and opt.Transport's connections,
// when set) with every other run.
func PerRun(opt registry.Options) RegistrySource {
	return func(*config.Config) (*registry.Client, error) { return registry.New(opt), nil }
}

// registry builds the client for cfg. A source that fails (a broken
// user-level file) gives a client whose every request fails with its
// message, by image: the run's other steps still go on and say why.
func (d Deps) registry(cfg *config.Config) *registry.Client {
	src := d.Registry
	if src == nil {
		src = FromConfig(RegistrySetup{Getenv: d.Getenv})
	}
	c, err := src(cfg)
	if err != nil {
		return registry.Unavailable(err)
	}
	return c
}

// Status is how a use case ended. Its values are the exit statuses of
// `git laminar run`, which scripts rely on: they never change meaning.
type Status int

const (
	StatusOK       Status = 0 // done: pushed, proposed, nothing to do, or another run holds the lock
	StatusDeclined Status = 1 // the change was declined when reviewed (Promote)
	StatusError    Status = 2 // failed and changed nothing
	StatusPartial  Status = 3 // some images failed, or rules were held back; the others were handled
	StatusLocked   Status = 4 // another run holds the lock (RunOptions.FailIfLocked)
	StatusDiverged Status = 5 // the local branch has commits that are not on the remote; nothing changed
	// StatusPushFailed: the push (or the pull request) failed after the
	// retries; the commit stays on the local branch and the next run
	// recomputes it.
	StatusPushFailed Status = 6
	// StatusUnfinished: an interrupted promotion could be neither finished
	// nor undone; the error names the files.
	StatusUnfinished Status = 7
)

// failStatus is the status of a failed change: StatusUnfinished when an
// interrupted promotion is left in the journal, else StatusError.
func failStatus(err error) Status {
	var ue *gitrepo.UnsettledError
	if errors.As(err, &ue) {
		return StatusUnfinished
	}
	return StatusError
}

// lockStatus is the status of a failure to lock (and recover).
func lockStatus(err error) Status {
	if errors.Is(err, gitrepo.ErrLocked) {
		return StatusLocked
	}
	return failStatus(err)
}

// withDeadline returns ctx ending after d (none when d is 0), whose cause
// names the timeout: the registry client puts it in the error of every
// image it could not decide in time.
func withDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, &DeadlineError{Timeout: d})
}

// DeadlineError is the cause of a registry deadline that passed.
type DeadlineError struct{ Timeout time.Duration }

func (e *DeadlineError) Error() string {
	return "the deadline of --timeout " + e.Timeout.String() + " passed before the registry answered"
}
