package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/git-laminar/git-laminar/internal/initconfig"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/scan"
	"github.com/urfave/cli/v2"
)

type initOptions struct {
	global
	dryRun        bool
	allRegistries bool
}

func initCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "propose a laminar.toml from the image references in tracked files",
		UsageText: "git laminar init [--dry-run] [--all-registries]",
		Description: "Scans every tracked file, as scan --all does, and writes laminar.toml at the\n" +
			"repository root: a [[registry]] per private registry prefix and an [[update]]\n" +
			"rule per track the current tags follow (a major version, a branch's builds),\n" +
			"each with a comment naming the references it manages. An existing laminar.toml\n" +
			"is never overwritten. With --dry-run, the proposal is printed instead.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print the proposal instead of writing it"},
			&cli.BoolFlag{Name: "all-registries", Usage: "propose public images too (Docker Hub's official images, registry.k8s.io, ...)"},
		},
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("init takes no arguments (got %q)", c.Args().First()))
			}
			return runInit(c, s, initOptions{global: g, dryRun: c.Bool("dry-run"), allRegistries: c.Bool("all-registries")})
		},
	}
}

func runInit(c *cli.Context, s Streams, opt initOptions) error {
	dir, err := workdir()
	if err != nil {
		return exit(ExitError, err)
	}
	ws, err := promote.Open(dir, promote.OpenOptions{ConfigPath: opt.configPath, NoConfig: true, Warn: opt.warn})
	if err != nil {
		return exit(ExitError, err)
	}
	target := ws.Config.Path
	shown := printable.String(target)
	if rel, err := filepath.Rel(ws.Repo.Root, target); err == nil && filepath.IsLocal(rel) {
		shown = printable.String(filepath.ToSlash(rel))
	}
	if !opt.dryRun {
		// Checked before the scan, so that the refusal is quick; the
		// exclusive create below is what keeps a file made meanwhile.
		if _, err := os.Lstat(target); err == nil {
			return exit(ExitError, fmt.Errorf("%s already exists; init never overwrites it (git laminar init --dry-run prints a proposal to compare)", shown))
		}
	}
	refs, err := ws.Scan(c.Context)
	if err != nil {
		return exit(ExitError, err)
	}
	ms := make([]scan.Match, len(refs))
	for i, r := range refs {
		ms[i] = r.Match
	}
	text := initconfig.Propose(ms, initconfig.Options{AllRegistries: opt.allRegistries})
	if err := initconfig.Check(text); err != nil {
		return exit(ExitError, fmt.Errorf("the proposed configuration does not load, which is a bug: %w", err))
	}
	if opt.dryRun {
		_, err := s.Out.Write(text)
		return err
	}
	if err := writeNew(target, text); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return exit(ExitError, fmt.Errorf("%s already exists; init never overwrites it", shown))
		}
		return exit(ExitError, fmt.Errorf("writing %s: %w", shown, err))
	}
	fmt.Fprintf(s.Out, "Wrote %s from %d image references. Review it, then: git laminar status\n", shown, len(ms))
	return nil
}

// writeNew creates path with data, failing if anything (a symbolic link
// included) is there already; a failed write leaves no file behind.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
