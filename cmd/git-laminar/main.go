// Command git-laminar promotes container images through git. Installed on
// PATH it runs as "git laminar".
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/git-laminar/git-laminar/internal/cli"
	"golang.org/x/term"
)

// softMemoryLimit is the Go heap's soft limit unless GOMEMLIMIT sets one. A
// bump over tens of thousands of files holds about 100 MB at its peak (the
// tag verdicts of every decision), and the default pacer lets the heap grow
// to twice that before collecting; the limit makes the collector work
// harder near it instead. It is soft: a run that needs more still gets it.
const softMemoryLimit = 160 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args, cli.Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		IsTTY: func(f any) bool {
			file, ok := f.(*os.File)
			return ok && term.IsTerminal(int(file.Fd()))
		},
		Getenv: os.Getenv,
	})
	stop()
	os.Exit(code)
}
