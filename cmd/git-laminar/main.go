// Command git-laminar promotes container images through git. Installed on
// PATH it runs as "git laminar".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/git-laminar/git-laminar/internal/cli"
	"golang.org/x/term"
)

func main() {
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
