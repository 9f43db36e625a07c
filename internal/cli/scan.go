package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

type scanOptions struct {
	global
	all  bool
	json bool
}

func scanCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "scan",
		Usage:     "list the image references in tracked files",
		UsageText: "git laminar scan [--all] [--json]",
		Description: "Lists the image references that a rule of laminar.toml manages, one per line as\n" +
			"file:line: image:tag [rule]. With --all, every image reference in tracked files,\n" +
			"managed or not (no laminar.toml needed).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list every image reference, managed or not"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON array for scripts"},
		},
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("scan takes no arguments (got %q)", c.Args().First()))
			}
			return runScan(c, s, scanOptions{global: g, all: c.Bool("all"), json: c.Bool("json")})
		},
	}
}

// ScanEntry is one line of `scan --json`. The field names are a contract.
type ScanEntry struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	Image     string `json:"image"`
	Tag       string `json:"tag"`
	Digest    string `json:"digest"`
	Kind      string `json:"kind"`
	Canonical string `json:"canonical"`
	Managed   bool   `json:"managed"`
	Rule      string `json:"rule,omitempty"`
}

func runScan(c *cli.Context, s Streams, opt scanOptions) error {
	ws, err := openWorkspace(opt.global, opt.all)
	if err != nil {
		return err
	}
	refs, err := ws.Scan(c.Context)
	if err != nil {
		return exit(ExitError, err)
	}
	entries := []ScanEntry{}
	for _, r := range refs {
		if !opt.all && !r.Managed() {
			continue
		}
		entries = append(entries, ScanEntry{
			File: r.Path, Line: r.Line, Column: r.Column, Image: r.Ref.Name, Tag: r.Ref.Tag, Digest: r.Ref.Digest,
			Kind: string(r.Kind), Canonical: r.Ref.Image(), Managed: r.Managed(), Rule: r.Rule,
		})
	}
	if opt.json {
		return writeJSON(s.Out, entries)
	}
	p := newPainter(opt.color)
	for _, e := range entries {
		ref := e.Image
		if e.Tag != "" {
			ref += ":" + e.Tag
		}
		if e.Digest != "" {
			ref += "@" + e.Digest
		}
		rule := ""
		if e.Rule != "" {
			rule = " " + p.dim("["+e.Rule+"]")
		}
		fmt.Fprintf(s.Out, "%s:%d: %s%s\n", p.bold(e.File), e.Line, ref, rule)
	}
	if len(entries) == 0 && !opt.all {
		fmt.Fprintln(s.Err, "No managed image references. (git laminar scan --all lists every reference.)")
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
