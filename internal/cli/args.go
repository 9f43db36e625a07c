package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// verbatimAfter names the commands whose arguments, after the first n,
// are another program's and never flags: git calls "hook pre-push REMOTE
// URL", and a remote's name or URL may start with "-".
var verbatimAfter = map[string]int{"hook": 1}

// completionFlag is the hidden flag shells append, last, to ask for completions.
const completionFlag = "--generate-bash-completion"

// permuteArgs puts a command's flags before its positional arguments, as
// git's own option parser accepts them: urfave/cli, like Go's flag package,
// stops at the first positional argument, so "set app TAG --yes" would take
// "--yes" for a third argument. Each command's flag definitions say which
// flags take a value ("--to X" as well as "--to=X"); a boolean flag never
// takes the next argument. The positional arguments follow a "--" in the
// result, so none of them is read as a flag afterwards, and "--" in args
// ends the flags as usual. The app's own flags (--config, --color) given
// after the command move in front of it. Unknown flags stay with the
// command's, where urfave/cli refuses them by name.
func permuteArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := flagTable(app.Flags)
	// The app-level help and version flags stay where they were given:
	// after a command, "-v" is not the version.
	appLevel := flagTable(append([]cli.Flag{cli.HelpFlag, cli.VersionFlag}, app.Flags...))

	i := 1
	for i < len(args) && isFlagArg(args[i]) && args[i] != "--" {
		if takesValue(appLevel, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) || args[i] == "--" {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil || cmd.SkipFlagParsing || len(cmd.Subcommands) > 0 {
		return args
	}
	local := flagTable(append([]cli.Flag{cli.HelpFlag}, cmd.Flags...))

	rest := args[i+1:]
	completing := len(rest) > 0 && rest[len(rest)-1] == completionFlag
	if completing {
		rest = rest[:len(rest)-1]
	}
	var moved, flags, positional []string
	dangling := false // a flag that needs a value ends the arguments
	danglingGlobal := false
	verbatim, hasVerbatim := verbatimAfter[cmd.Name]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if hasVerbatim && len(positional) >= verbatim {
			positional = append(positional, rest[j:]...)
			break
		}
		if a == "--" {
			positional = append(positional, rest[j+1:]...)
			break
		}
		if !isFlagArg(a) {
			positional = append(positional, a)
			continue
		}
		if _, ok := local["gpg-sign"]; ok {
			a = signFlagArg(a)
		}
		dst, table := &flags, local
		if _, ok := local[flagName(a)]; !ok {
			if _, ok := global[flagName(a)]; ok {
				dst, table = &moved, global
			}
		}
		*dst = append(*dst, a)
		if takesValue(table, a) {
			if j+1 == len(rest) {
				dangling, danglingGlobal = true, dst == &moved
				break
			}
			j++
			*dst = append(*dst, rest[j])
		}
	}
	if dangling {
		// Left last, so that urfave/cli says the flag needs an argument
		// rather than take the "--" or the command below for its value.
		if danglingGlobal {
			return append(args[:i:i], moved...)
		}
		positional = nil
	}

	out := make([]string, 0, len(args)+2)
	out = append(out, args[:i]...)
	out = append(out, moved...)
	out = append(out, args[i])
	out = append(out, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	if completing {
		out = append(out, completionFlag)
	}
	return out
}

// flagTable maps every name and alias of flags to whether it takes a value.
func flagTable(flags []cli.Flag) map[string]bool {
	t := map[string]bool{}
	for _, f := range flags {
		value := true
		if d, ok := f.(cli.DocGenerationFlag); ok {
			value = d.TakesValue()
		}
		for _, n := range f.Names() {
			t[n] = value
		}
	}
	return t
}

// isFlagArg reports whether a looks like a flag; "-" alone is an argument
// (standard input, by convention).
func isFlagArg(a string) bool { return len(a) > 1 && a[0] == '-' }

// flagName is the name of flag argument a: "--to=X" and "-to" are "to".
func flagName(a string) string {
	name := strings.TrimLeft(a, "-")
	name, _, _ = strings.Cut(name, "=")
	return name
}

// takesValue reports whether flag argument a consumes the next argument:
// a known flag with a value, not written as name=value.
func takesValue(table map[string]bool, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	return table[flagName(a)]
}
