package cli

import "github.com/urfave/cli/v2"

func releaseCommand(s Streams) *cli.Command {
	return notYet("release", "let bumps manage a held image again")
}
