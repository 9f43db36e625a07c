package cli

import (
	"errors"
	"strings"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/urfave/cli/v2"
)

// commitFlags are `git commit`'s options for how a commit is made, on the
// commands that commit: -S/--gpg-sign[=KEY], --no-gpg-sign, --no-verify.
// --gpg-sign takes its key only as "=KEY" (or "-SKEY"), as in git;
// permuteArgs rewrites the bare forms to "--gpg-sign=".
func commitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "gpg-sign", Aliases: []string{"S"}, Usage: "sign the commit, with `KEY` when given as --gpg-sign=KEY (else git's user.signingKey)"},
		&cli.BoolFlag{Name: "no-gpg-sign", Usage: "do not sign the commit, even with commit.gpgSign set"},
		&cli.BoolFlag{Name: "no-verify", Usage: "skip the pre-commit and commit-msg hooks"},
	}
}

// signFlagArg rewrites a's spelling of -S/--gpg-sign so that its key is
// never the next argument: "-S" and "--gpg-sign" become "--gpg-sign=" (the
// default key), "-SKEY" becomes "--gpg-sign=KEY".
func signFlagArg(a string) string {
	switch {
	case a == "-S" || a == "--gpg-sign" || a == "-gpg-sign":
		return "--gpg-sign="
	case strings.HasPrefix(a, "-S") && !strings.HasPrefix(a, "-S="):
		return "--gpg-sign=" + a[2:]
	case strings.HasPrefix(a, "-S="):
		return "--gpg-sign=" + a[3:]
	}
	return a
}

// commitOptions reads commitFlags; the last of -S and --no-gpg-sign given
// is not known to urfave/cli, so both together are refused.
func commitOptions(c *cli.Context) (gitrepo.CommitOptions, error) {
	var o gitrepo.CommitOptions
	if c.IsSet("gpg-sign") && c.Bool("no-gpg-sign") {
		return o, exit(ExitError, errors.New("--gpg-sign and --no-gpg-sign contradict each other"))
	}
	switch {
	case c.IsSet("gpg-sign"):
		o.Sign, o.SignKey = gitrepo.SignAlways, c.String("gpg-sign")
		if strings.HasPrefix(o.SignKey, "-") {
			return o, exit(ExitError, errors.New("--gpg-sign: a key may not start with \"-\""))
		}
	case c.Bool("no-gpg-sign"):
		o.Sign = gitrepo.SignNever
	}
	o.NoVerify = c.Bool("no-verify")
	return o, nil
}
