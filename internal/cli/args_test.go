package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/urfave/cli/v2"
)

// parsed is what a command's action saw: its positional arguments and the
// flags that were set, with their values, the app's own flags included.
type parsed struct {
	Args  []string
	Flags map[string]string
}

// parseWith runs args through the app's real parsing with every action
// replaced by one that records what it was given.
func parseWith(t *testing.T, args ...string) (parsed, error) {
	t.Helper()
	app := newApp(Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard,
		IsTTY: func(any) bool { return false }, Getenv: func(string) string { return "" }})
	var got parsed
	for _, cmd := range app.Commands {
		cmd := cmd
		cmd.Action = func(c *cli.Context) error {
			got = parsed{Args: c.Args().Slice(), Flags: map[string]string{}}
			for _, f := range append(append([]cli.Flag{}, app.Flags...), cmd.Flags...) {
				name := f.Names()[0]
				if !c.IsSet(name) {
					continue
				}
				switch v := c.Value(name).(type) {
				case cli.StringSlice:
					got.Flags[name] = strings.Join(v.Value(), ",")
				default:
					got.Flags[name] = fmt.Sprint(v)
				}
			}
			return nil
		}
	}
	err := runApp(context.Background(), app, append([]string{"git-laminar"}, args...))
	return got, err
}

// TestFlagsAnywhere: every command takes its flags before, between and
// after its arguments, as git's commands do, with "--" ending the flags.
// Each row's args must parse to want; the rows of a command cover the
// orders a user types.
func TestFlagsAnywhere(t *testing.T) {
	f := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		args      string
		wantArgs  []string
		wantFlags map[string]string
	}{
		// set: two positionals, boolean and valued flags.
		{"set app develop-b2ee56fd --yes --push", []string{"app", "develop-b2ee56fd"}, f("yes", "true", "push", "true")},
		{"set --yes app --push develop-b2ee56fd", []string{"app", "develop-b2ee56fd"}, f("yes", "true", "push", "true")},
		{"set --yes --push app develop-b2ee56fd", []string{"app", "develop-b2ee56fd"}, f("yes", "true", "push", "true")},
		{"set -ny app develop-b2ee56fd", []string{"app", "develop-b2ee56fd"}, f("dry-run", "true", "yes", "true")},
		{"set app --from-commit b2ee56fd", []string{"app"}, f("from-commit", "b2ee56fd")},
		{"set app --from-commit=b2ee56fd --short", []string{"app"}, f("from-commit", "b2ee56fd", "short", "true")},
		{"set --from-commit b2ee56fd --push app", []string{"app"}, f("from-commit", "b2ee56fd", "push", "true")},
		{"set app tag --yes=false", []string{"app", "tag"}, f("yes", "false")},
		{"set app tag --timeout 5s", []string{"app", "tag"}, f("timeout", "5s")},
		{"set -- -weird-image tag", []string{"-weird-image", "tag"}, f()},
		{"set --dry-run -- app --yes", []string{"app", "--yes"}, f("dry-run", "true")},
		{"set app -- --", []string{"app", "--"}, f()},
		{"set app - --json", []string{"app", "-"}, f("json", "true")},
		// The app's flags after the command.
		{"set app tag --config other.toml", []string{"app", "tag"}, f("config", "other.toml")},
		{"set --config=other.toml app --color never tag", []string{"app", "tag"}, f("config", "other.toml", "color", "never")},
		{"--config other.toml set app tag -y", []string{"app", "tag"}, f("config", "other.toml", "yes", "true")},
		// rollback: one positional, --to with a value.
		{"rollback app --to develop-aaaaaaa1", []string{"app"}, f("to", "develop-aaaaaaa1")},
		{"rollback --to=develop-aaaaaaa1 app --push", []string{"app"}, f("to", "develop-aaaaaaa1", "push", "true")},
		{"rollback --push app", []string{"app"}, f("push", "true")},
		{"rollback app --to --yes", []string{"app"}, f("to", "--yes")},
		// release
		{"release app --push --json", []string{"app"}, f("push", "true", "json", "true")},
		{"release --push app", []string{"app"}, f("push", "true")},
		// log: an optional positional, an int flag with a short alias.
		{"log web --json", []string{"web"}, f("json", "true")},
		{"log --json web", []string{"web"}, f("json", "true")},
		{"log web -n 3 --since=7d", []string{"web"}, f("max-count", "3", "since", "7d")},
		{"log -n 3 web --rev main", []string{"web"}, f("max-count", "3", "rev", "main")},
		{"log --json", nil, f("json", "true")},
		// hook: the hook's name and git's arguments after it.
		{"hook --timeout 1m pre-push origin ssh://git@127.0.0.1/repo", []string{"pre-push", "origin", "ssh://git@127.0.0.1/repo"}, f("timeout", "1m0s")},
		// After the hook's name the arguments are git's, whatever they look like.
		{"hook pre-push -origin --timeout", []string{"pre-push", "-origin", "--timeout"}, f()},
		{"hook pre-push -- -x", []string{"pre-push", "--", "-x"}, f()},
		// The commands without positionals take their flags as before; an
		// argument reaches them, to be refused by name.
		{"bump --only app --dry-run", nil, f("dry-run", "true", "only", "app")},
		{"bump stray --dry-run", []string{"stray"}, f("dry-run", "true")},
		{"status --only=app --only web --json", nil, f("only", "app,web", "json", "true")},
		{"scan --all --json", nil, f("all", "true", "json", "true")},
		{"verify --json", nil, f("json", "true")},
		{"run --remote origin --retries 2 --log-format=json", nil, f("remote", "origin", "retries", "2", "log-format", "json")},
		{"trust --show --json", nil, f("show", "true", "json", "true")},
		{"install-hooks -f", nil, f("force", "true")},
		{"uninstall-hooks stray", []string{"stray"}, f()},
		{"init --dry-run --all-registries", nil, f("dry-run", "true", "all-registries", "true")},
		{"init -n", nil, f("dry-run", "true")},
		{"completion bash", []string{"bash"}, f()},
		{"serve --fleet fleet.toml --shard 1/3 --listen=127.0.0.1:9000", nil, f("fleet", "fleet.toml", "shard", "1/3", "listen", "127.0.0.1:9000")},
		{"--color never completion zsh", []string{"zsh"}, f("color", "never")},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.args, func(t *testing.T) {
			args := strings.Fields(tc.args)
			for _, a := range args {
				if !strings.HasPrefix(a, "-") {
					covered[a] = true
					break
				}
			}
			got, err := parseWith(t, args...)
			if err != nil {
				t.Fatalf("parsing %q: %v", tc.args, err)
			}
			want := parsed{Args: tc.wantArgs, Flags: tc.wantFlags}
			if want.Args == nil {
				want.Args = []string{}
			}
			if got.Args == nil {
				got.Args = []string{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("parsing %q (-want +got):\n%s", tc.args, diff)
			}
		})
	}
	// A command added later gets rows here.
	var missing []string
	for _, cmd := range newApp(Streams{}).Commands {
		if !covered[cmd.Name] {
			missing = append(missing, cmd.Name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no rows for commands %v", missing)
	}
}

// TestFlagsAnywhereRefused: a flag the command does not know is refused by
// name wherever it stands, and a flag missing its value says so.
func TestFlagsAnywhereRefused(t *testing.T) {
	tests := []struct {
		args string
		want string
	}{
		{"set app tag --bogus", "flag provided but not defined: -bogus"},
		{"set --bogus app tag", "flag provided but not defined: -bogus"},
		{"log web --to x", "flag provided but not defined: -to"},
		{"release app --yes", "flag provided but not defined: -yes"},
		{"set app tag -v", "flag provided but not defined: -v"},
		{"rollback app --to", "flag needs an argument: -to"},
		{"log web -n", "flag needs an argument: -n"},
		{"set app tag --config", "flag needs an argument: -config"},
		{"log web -n three", `invalid value "three" for flag -n`},
	}
	for _, tc := range tests {
		t.Run(tc.args, func(t *testing.T) {
			got, err := parseWith(t, strings.Fields(tc.args)...)
			if err == nil {
				t.Fatalf("parsing %q succeeded with %+v; want an error containing %q", tc.args, got, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parsing %q: %v; want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

// FuzzPermuteArgs: permuting adds or duplicates no argument (only a "--"
// may be added or dropped), loses none unless it ends with a flag that lacks
// its value, for urfave/cli to refuse, and is stable: permuting again
// changes nothing. Seeds are in testdata/fuzz.
func FuzzPermuteArgs(f *testing.F) {
	app := newApp(Streams{})
	f.Fuzz(func(t *testing.T, line string) {
		args := append([]string{"git-laminar"}, strings.Split(line, "\x00")...)
		out := permuteArgs(app, args)
		count := func(xs []string) map[string]int {
			m := map[string]int{}
			for _, x := range xs {
				if x != "--" {
					m[x]++
				}
			}
			return m
		}
		in, got := count(args), count(out)
		for a, n := range got {
			if n > in[a] {
				t.Fatalf("permuteArgs(%q) = %q: %q added", args, out, a)
			}
		}
		last := out[len(out)-1]
		dangling := len(out) > 1 && isFlagArg(last) && last != "--" && (takesValue(flagTable(app.Flags), last) || anyTakesValue(app, last))
		if diff := cmp.Diff(in, got); diff != "" && !dangling {
			t.Fatalf("permuteArgs(%q) = %q: arguments changed (-in +out):\n%s", args, out, diff)
		}
		if again := permuteArgs(app, out); !cmp.Equal(out, again) {
			t.Fatalf("permuteArgs is not stable: %q -> %q -> %q", args, out, again)
		}
	})
}

func anyTakesValue(app *cli.App, a string) bool {
	for _, cmd := range app.Commands {
		if takesValue(flagTable(cmd.Flags), a) {
			return true
		}
	}
	return false
}
