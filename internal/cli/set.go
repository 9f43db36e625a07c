package cli

import "github.com/urfave/cli/v2"

func setCommand(s Streams) *cli.Command {
	return notYet("set", "set one exact tag everywhere an image is referenced")
}
