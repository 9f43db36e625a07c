package cli

import "github.com/urfave/cli/v2"

func runCommand(s Streams) *cli.Command {
	return notYet("run", "fetch, bump, commit and push: for cron and systemd timers")
}
