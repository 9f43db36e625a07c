package cli

import (
	"fmt"
	"io"
	"sort"

	"github.com/git-laminar/git-laminar/internal/commitmsg"
	"github.com/git-laminar/git-laminar/internal/history"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/urfave/cli/v2"
)

func releaseCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "release",
		Usage:     "let bumps manage a held image again",
		UsageText: "git laminar release [--push] IMAGE",
		Description: "Ends the hold that a rollback put on IMAGE with a commit that changes no file\n" +
			"and carries a Laminar-Release trailer; the next bump or run promotes the image\n" +
			"again. IMAGE is matched as by set, among the referenced and the held images. An\n" +
			"image that is not held is left as it is.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "push", Usage: "push the branch after committing (to its upstream, else origin)"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout"},
		}, commitFlags()...),
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return exit(ExitError, fmt.Errorf("release takes one IMAGE (got %d arguments)", c.NArg()))
			}
			return runRelease(c, s, changeOptions{global: g, push: c.Bool("push"), json: c.Bool("json")}, c.Args().First())
		},
	}
}

func runRelease(c *cli.Context, s Streams, opt changeOptions, arg string) error {
	ctx := c.Context
	ss, err := openSession(opt)
	if err != nil {
		return err
	}
	defer ss.unlock()
	refs, err := ss.ws.Scan(ctx)
	if err != nil {
		return exit(ExitError, err)
	}
	holds, err := history.HeldAt(ctx, ss.ws.Repo, "")
	if err != nil {
		return exit(ExitError, fmt.Errorf("reading holds: %w", err))
	}
	images := promote.Images(refs)
	for im := range holds {
		images = append(images, im)
	}
	sort.Strings(images)
	image, err := promote.FindImage(arg, dedup(images))
	if err != nil {
		return exit(ExitError, err)
	}
	res := SetResult{Image: image, Release: image}
	hold, held := holds[image]
	if !held {
		fmt.Fprintf(s.Err, "%s is not held; nothing to release.\n", image)
		res.Release = ""
		return finishChange(s, opt, res, ExitOK)
	}
	msg, err := commitmsg.Release(image, hold.Reason())
	if err != nil {
		return exit(ExitError, err)
	}
	return commitRecord(c, s, opt, ss, msg, res)
}

func dedup(sorted []string) []string {
	var out []string
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// heldImages is what bump and status pass as promote.Options.Held.
func heldImages(c *cli.Context, ws *promote.Workspace) (map[string]string, error) {
	held, err := history.Holds(c.Context, ws.Repo)
	if err != nil {
		return nil, fmt.Errorf("reading holds: %w", err)
	}
	return held, nil
}

// HeldEntry is one held image in bump's JSON summary.
type HeldEntry struct {
	Image   string `json:"image"`
	Current string `json:"current"`
	Reason  string `json:"reason"`
}

// heldEntries lists the held images among decisions, once per image and tag.
func heldEntries(ds []promote.Decision) []HeldEntry {
	var out []HeldEntry
	seen := map[[2]string]bool{}
	for _, d := range ds {
		k := [2]string{d.Image, d.Current}
		if d.Held == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, HeldEntry{Image: d.Image, Current: d.Current, Reason: d.Held})
	}
	return out
}

func printHeld(w io.Writer, p painter, held []HeldEntry) {
	if len(held) == 0 {
		return
	}
	fmt.Fprintln(w, p.bold("Held:"))
	for _, h := range held {
		fmt.Fprintf(w, "  %s  %s  (%s; git laminar release to promote it again)\n", h.Image, h.Current, printable.String(h.Reason))
	}
}
