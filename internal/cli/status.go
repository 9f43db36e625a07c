package cli

import "github.com/urfave/cli/v2"

func statusCommand(s Streams) *cli.Command {
	return notYet("status", "show, for each managed reference, the tag a bump would choose and why")
}
