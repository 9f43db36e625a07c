package cli

import "github.com/urfave/cli/v2"

func trustCommand(s Streams) *cli.Command {
	return notYet("trust", "allow the exec actions of this exact laminar.toml to run")
}
