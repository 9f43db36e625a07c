package cli

import "github.com/urfave/cli/v2"

func installHooksCommand(s Streams) *cli.Command {
	return notYet("install-hooks", "install the pre-push hook into the repository's hooks directory")
}

func uninstallHooksCommand(s Streams) *cli.Command {
	return notYet("uninstall-hooks", "remove the hooks that install-hooks wrote")
}

func hookCommand(s Streams) *cli.Command {
	return notYet("hook", "run a git hook (called by the installed shims)")
}
