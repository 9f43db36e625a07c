package cli

import "github.com/urfave/cli/v2"

func rollbackCommand(s Streams) *cli.Command {
	return notYet("rollback", "return an image to its previous tag and hold it there")
}
