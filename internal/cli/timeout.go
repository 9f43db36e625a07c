package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"
)

// Defaults of --timeout, the deadline for asking registries. The
// unattended commands have one: run, so that a registry that answers
// slowly, or a byte at a time, cannot hold the repository's lock past the
// next cron cycle (a bump of hundreds of repositories takes a minute or
// two at the default request rates, cold); the pre-push hook, so that a
// push waits for no more than a person would (it only resolves the tags
// being pushed). The interactive commands have none: a person sees the
// progress and can interrupt, and each request still has its own timeout.
const (
	defaultRunTimeout  = 10 * time.Minute
	defaultHookTimeout = 2 * time.Minute
)

// timeoutFlag is --timeout for a command that asks registries; def 0: no
// deadline unless given.
func timeoutFlag(def time.Duration) *cli.DurationFlag {
	f := &cli.DurationFlag{Name: "timeout", Value: def,
		Usage: "stop asking registries after `DURATION`: images not decided by then fail, the others go on (0: no deadline)"}
	if def == 0 {
		f.DefaultText = "none"
	}
	return f
}

// timeoutOf reads --timeout.
func timeoutOf(c *cli.Context) (time.Duration, error) {
	d := c.Duration("timeout")
	if d < 0 {
		return 0, exit(ExitError, fmt.Errorf("--timeout: %s is negative", d))
	}
	return d, nil
}

// registryDeadline returns ctx ending after d (none when d is 0), whose
// cause names --timeout: the registry client puts it in the error of
// every image it could not decide in time.
func registryDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("the deadline of --timeout %s passed before the registry answered", d))
}

// HookTimeoutEnv sets the pre-push hook's --timeout, which the shim git
// runs does not pass.
const HookTimeoutEnv = "LAMINAR_HOOK_TIMEOUT"

func hookTimeoutFlag() *cli.DurationFlag {
	f := timeoutFlag(defaultHookTimeout)
	f.EnvVars = []string{HookTimeoutEnv}
	return f
}
