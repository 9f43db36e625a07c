package cli

import (
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/git-laminar/git-laminar/hooks"
	"github.com/git-laminar/git-laminar/internal/check"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/hookinstall"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/urfave/cli/v2"
)

func installHooksCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "install-hooks",
		Usage:     "install the pre-push hook into the repository's hooks directory",
		UsageText: "git laminar install-hooks [--force]",
		Description: "Writes a small pre-push shim into the directory git runs hooks from\n" +
			"(core.hooksPath if set, else the hooks of the common git dir, shared by linked\n" +
			"worktrees). The shim runs git laminar hook pre-push, which refuses a push whose\n" +
			"image references do not exist in their registries or whose Laminar-* trailers\n" +
			"are malformed. Our older shims are upgraded; a hook that is not ours is never\n" +
			"replaced unless --force, which first moves it to pre-push.laminar-backup.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace a hook that is not ours, after moving it to <hook>.laminar-backup"},
		},
		Action: func(c *cli.Context) error {
			if _, err := globals(c, s); err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("install-hooks takes no arguments (got %q)", c.Args().First()))
			}
			dir, err := hooksDir()
			if err != nil {
				return err
			}
			results, err := hookinstall.Install(dir, hookinstall.Options{Force: c.Bool("force")})
			for _, r := range results {
				switch r.Action {
				case hookinstall.Installed:
					fmt.Fprintf(s.Out, "Installed %s hook: %s\n", r.Hook, r.Path)
					if r.Backup != "" {
						fmt.Fprintf(s.Out, "The previous %s hook was moved to %s (uninstall-hooks puts it back).\n", r.Hook, r.Backup)
					}
				case hookinstall.Upgraded:
					fmt.Fprintf(s.Out, "Upgraded %s hook from v%d to v%d: %s\n", r.Hook, r.Version, hooks.Version, r.Path)
				case hookinstall.Unchanged:
					fmt.Fprintf(s.Out, "The %s hook is up to date: %s\n", r.Hook, r.Path)
				case hookinstall.Newer:
					fmt.Fprintf(s.Out, "Kept %s hook: %s is v%d, newer than this git-laminar's v%d (--force replaces it)\n", r.Hook, r.Path, r.Version, hooks.Version)
				}
			}
			if err != nil {
				return exit(ExitError, err)
			}
			if _, err := exec.LookPath("git-laminar"); err != nil {
				fmt.Fprintln(s.Err, "warning: git-laminar is not on PATH, so the hook will refuse every push until it is (make install)")
			}
			return nil
		},
	}
}

func uninstallHooksCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "uninstall-hooks",
		Usage:     "remove the hooks that install-hooks wrote",
		UsageText: "git laminar uninstall-hooks",
		Description: "Removes git-laminar's shims from the hooks directory and puts back a hook that\n" +
			"install-hooks --force moved to <hook>.laminar-backup. Hooks that are not ours,\n" +
			"and our shims that were edited by hand, are left alone.",
		Action: func(c *cli.Context) error {
			if _, err := globals(c, s); err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("uninstall-hooks takes no arguments (got %q)", c.Args().First()))
			}
			dir, err := hooksDir()
			if err != nil {
				return err
			}
			results, err := hookinstall.Uninstall(dir)
			for _, r := range results {
				switch r.Action {
				case hookinstall.Removed:
					fmt.Fprintf(s.Out, "Removed %s hook: %s\n", r.Hook, r.Path)
					if r.Backup != "" {
						fmt.Fprintf(s.Out, "Restored the previous %s hook from %s\n", r.Hook, r.Backup)
					}
				case hookinstall.Absent:
					fmt.Fprintf(s.Out, "No %s hook in %s\n", r.Hook, dir)
				case hookinstall.Kept:
					fmt.Fprintf(s.Out, "Left %s alone: %s\n", r.Path, r.Reason)
				}
			}
			if err != nil {
				return exit(ExitError, err)
			}
			return nil
		},
	}
}

// hooksDir is the directory git runs the current repository's hooks from.
func hooksDir() (string, error) {
	wd, err := workdir()
	if err != nil {
		return "", err
	}
	repo, err := gitrepo.Open(wd)
	if err != nil {
		return "", exit(ExitError, err)
	}
	dir, err := repo.HooksDir()
	if err != nil {
		return "", exit(ExitError, err)
	}
	return dir, nil
}

func hookCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "hook",
		Usage:     "run a git hook (called by the installed shims)",
		UsageText: "git laminar hook pre-push [REMOTE [URL]]",
		Hidden:    true,
		Description: "Runs the check behind an installed hook. pre-push reads git's hook input\n" +
			"(\"<local ref> <local sha1> <remote ref> <remote sha1>\" per line) and refuses the\n" +
			"push, exiting 1, when a pushed tree names an image that does not exist in its\n" +
			"registry or a pushed commit has a malformed Laminar-* trailer.",
		Flags: []cli.Flag{hookTimeoutFlag()},
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			switch name := c.Args().First(); name {
			case "pre-push":
				return runPrePush(c, s, g)
			case "":
				return exit(ExitError, errors.New("hook: name the hook to run (pre-push)"))
			default:
				return exit(ExitError, fmt.Errorf("hook: git-laminar has no %s hook (only pre-push)", name))
			}
		},
	}
}

func runPrePush(c *cli.Context, s Streams, g global) error {
	wd, err := workdir()
	if err != nil {
		return err
	}
	repo, err := gitrepo.Open(wd)
	if err != nil {
		return exit(ExitError, fmt.Errorf("pre-push: %w", err))
	}
	updates, err := check.ParsePrePush(s.In)
	if err != nil {
		return exit(ExitError, fmt.Errorf("pre-push: %w", err))
	}
	timeout, err := timeoutOf(c)
	if err != nil {
		return err
	}
	reg := hookRegistry(wd, g)
	defer reg.Flush() // the cache only saves requests: a failed write is not worth failing a push
	rctx, cancel := registryDeadline(c.Context, timeout)
	defer cancel()
	rep, err := check.Push(rctx, repo, reg, updates, check.TreeOptions{ConfigPath: g.configPath, Warn: g.warn})
	if err != nil {
		return exit(ExitError, fmt.Errorf("pre-push: %w (push without the check: git push --no-verify)", err))
	}
	if len(rep.Problems) == 0 {
		return nil
	}
	printProblems(s.Err, newPainter(g.color && s.IsTTY(s.Err)), "refusing push: "+check.Plural(len(rep.Problems)), rep.Problems)
	if check.Unreachable(rep.Problems) {
		fmt.Fprintln(s.Err, "A registry could not be asked, so nothing was verified for those images. To push anyway: git push --no-verify")
	} else {
		fmt.Fprintln(s.Err, "Fix them and push again (git push --no-verify skips this check).")
	}
	return exit(ExitProblems, nil)
}

// hookRegistry builds the registry client as the other commands do, from
// the workspace's configuration on disk when it opens; a hook checks what
// is pushed even when the working tree's laminar.toml is missing or broken.
func hookRegistry(dir string, g global) *registry.Client {
	if ws, err := promote.Open(dir, promote.OpenOptions{ConfigPath: g.configPath, ConfigOptional: true}); err == nil {
		return newRegistry(ws)
	}
	return registry.New(registry.Options{UserAgent: "git-laminar/" + Version})
}

// printProblems writes a heading and one problem per line.
func printProblems(w io.Writer, p painter, heading string, problems []check.Problem) {
	fmt.Fprintln(w, p.red(heading))
	for _, pr := range problems {
		fmt.Fprintln(w, "  "+pr.String())
	}
}
