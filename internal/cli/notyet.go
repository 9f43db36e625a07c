package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// notYet is a command that is declared but not available in this build; it
// is hidden from help and fails clearly when called.
func notYet(name, usage string) *cli.Command {
	return &cli.Command{
		Name:   name,
		Usage:  usage,
		Hidden: true,
		Action: func(*cli.Context) error {
			return exit(ExitError, fmt.Errorf("%s is not available in this build", name))
		},
	}
}
