package cli

import "github.com/urfave/cli/v2"

func verifyCommand(s Streams) *cli.Command {
	return notYet("verify", "check that every managed reference exists in its registry")
}
