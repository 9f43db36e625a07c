package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"

	"github.com/git-laminar/git-laminar/internal/printable"
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

// scanGCPercent is the GOGC of a scan, unless the environment sets one.
const scanGCPercent = 400

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
	if s.Getenv == nil || s.Getenv("GOGC") == "" {
		// Reading every tracked file allocates a little per file while the
		// live heap stays small (about 12 MB for 20,000 files): at the
		// default 100 the collector would run a dozen times for nothing.
		// Restored on return, for callers that run more than one command.
		defer debug.SetGCPercent(debug.SetGCPercent(scanGCPercent))
	}
	refs, err := ws.Scan(c.Context)
	if err != nil {
		return exit(ExitError, err)
	}
	entries := make([]ScanEntry, 0, len(refs))
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
		_, err := s.Out.Write(printable.JSON(appendScanJSON(nil, entries)))
		return err
	}
	p := newPainter(opt.color)
	out := bufio.NewWriterSize(s.Out, 64<<10)
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
			rule = " " + p.dim("["+printable.String(e.Rule)+"]")
		}
		fmt.Fprintf(out, "%s:%d: %s%s\n", p.bold(printable.String(e.File)), e.Line, printable.String(ref), rule)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if len(entries) == 0 && !opt.all {
		fmt.Fprintln(s.Err, "No managed image references. (git laminar scan --all lists every reference.)")
	}
	return nil
}

// writeJSON prints v for scripts. Values keep their exact text; what
// encoding/json leaves raw and a terminal would act on (U+202E, C1
// controls) is written as a \u escape.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(printable.JSON(buf.Bytes()))
	return err
}

// appendScanJSON appends entries as writeJSON would print them (indented by
// two spaces, HTML left unescaped, a final newline), without reflection:
// a whole repository's references make this the bulk of `scan --json`.
func appendScanJSON(b []byte, entries []ScanEntry) []byte {
	if entries == nil {
		return append(b, "null\n"...)
	}
	if len(entries) == 0 {
		return append(b, "[]\n"...)
	}
	b = slices.Grow(b, len(entries)*300)
	b = append(b, '[')
	for i := range entries {
		e := &entries[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  {\n    \"file\": "...)
		b = appendJSONString(b, e.File)
		b = append(b, ",\n    \"line\": "...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
		b = append(b, ",\n    \"column\": "...)
		b = strconv.AppendInt(b, int64(e.Column), 10)
		b = append(b, ",\n    \"image\": "...)
		b = appendJSONString(b, e.Image)
		b = append(b, ",\n    \"tag\": "...)
		b = appendJSONString(b, e.Tag)
		b = append(b, ",\n    \"digest\": "...)
		b = appendJSONString(b, e.Digest)
		b = append(b, ",\n    \"kind\": "...)
		b = appendJSONString(b, e.Kind)
		b = append(b, ",\n    \"canonical\": "...)
		b = appendJSONString(b, e.Canonical)
		b = append(b, ",\n    \"managed\": "...)
		b = strconv.AppendBool(b, e.Managed)
		if e.Rule != "" {
			b = append(b, ",\n    \"rule\": "...)
			b = appendJSONString(b, e.Rule)
		}
		b = append(b, "\n  }"...)
	}
	return append(b, "\n]\n"...)
}

// appendJSONString appends s quoted as encoding/json (HTML unescaped) does.
// Printable ASCII other than quote and backslash is copied; any other string
// goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
