package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/history"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/urfave/cli/v2"
)

func logCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "log",
		Usage:     "show the promotions, rollbacks and holds recorded in commit trailers",
		UsageText: "git laminar log [--json] [-n N] [--since DATE] [--rev REV] [IMAGE]",
		Description: "Reads the Laminar-* trailers of the history of HEAD (or --rev) and prints one\n" +
			"line per promotion (commit, date, author, image, from -> to), per rollback (the\n" +
			"same, then \"rollback of\" the commit it undoes) and per hold or release. IMAGE\n" +
			"filters by canonical name or by any trailing part of it (\"app\", \"acme/app\").",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print a JSON array for scripts"},
			&cli.IntFlag{Name: "max-count", Aliases: []string{"n"}, Usage: "show at most `N` entries"},
			&cli.StringFlag{Name: "since", Usage: "only entries committed after `DATE` (2006-01-02, RFC 3339, or a duration such as 7d)"},
			&cli.StringFlag{Name: "rev", Usage: "read the history of `REV` instead of HEAD"},
		},
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 1 {
				return exit(ExitError, fmt.Errorf("log takes at most one IMAGE (got %d arguments)", c.NArg()))
			}
			f := history.Filter{Image: c.Args().First(), Limit: c.Int("max-count")}
			if since := c.String("since"); since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return exit(ExitError, fmt.Errorf("--since: %w", err))
				}
				f.Since = t
			}
			return runLog(c, s, g, f, c.String("rev"), c.Bool("json"))
		},
	}
}

// LogEntry is one line of `log --json`. The field names are a contract.
// Kind is "promote", "rollback", "hold" or "release"; a hold or release
// has empty from and to.
type LogEntry struct {
	Kind   string    `json:"kind"`
	Commit string    `json:"commit"`
	Date   time.Time `json:"date"`
	Author string    `json:"author"`
	Email  string    `json:"email"`
	Image  string    `json:"image"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Digest string    `json:"digest,omitempty"`
	Rule   string    `json:"rule,omitempty"`
	// RollbackOf is, for a rollback, the full id of the commit it undoes.
	RollbackOf string `json:"rollback_of,omitempty"`
}

func runLog(c *cli.Context, s Streams, g global, f history.Filter, rev string, asJSON bool) error {
	dir, err := workdir()
	if err != nil {
		return err
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return exit(ExitError, err)
	}
	// Each record is printed as it is read: a long history is never held.
	out := bufio.NewWriterSize(s.Out, 64<<10)
	p := newPainter(g.color)
	n := 0
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("  ", "  ")
	enc.SetEscapeHTML(false)
	err = history.Each(c.Context, repo, rev, f, func(r history.Record) error {
		n++
		if asJSON {
			// As writeJSON prints the whole array, one element at a time.
			buf.Reset()
			if n == 1 {
				buf.WriteString("[\n  ")
			} else {
				buf.WriteString(",\n  ")
			}
			err := enc.Encode(LogEntry{Kind: string(r.Kind), RollbackOf: r.RollbackOf, Commit: r.Commit, Date: r.Date, Author: r.Author, Email: r.Email, Image: r.Image, From: r.From, To: r.To, Digest: r.Digest, Rule: r.Rule})
			if err != nil {
				return err
			}
			buf.Truncate(buf.Len() - 1) // the encoder's newline
			_, err = out.Write(printable.JSON(buf.Bytes()))
			return err
		}
		head := fmt.Sprintf("%s %s %-20s %s", p.yellow(short(r.Commit)), r.Date.Format("2006-01-02 15:04"), printable.String(r.Author), printable.String(r.Image))
		switch r.Kind {
		case history.Hold:
			fmt.Fprintf(out, "%s %s\n", head, p.yellow("held"))
		case history.Release:
			fmt.Fprintf(out, "%s %s\n", head, p.green("released"))
		case history.Rollback:
			fmt.Fprintf(out, "%s %s -> %s (rollback of %s)\n", head, p.red(printable.String(r.From)), p.green(printable.String(r.To)), printable.String(short(r.RollbackOf)))
		default:
			fmt.Fprintf(out, "%s %s -> %s\n", head, p.red(printable.String(r.From)), p.green(printable.String(r.To)))
		}
		return nil
	})
	if err != nil {
		// What was printed stays printed; the error says the rest is missing.
		out.Flush()
		return exit(ExitError, fmt.Errorf("reading history: %w", err))
	}
	switch {
	case asJSON && n == 0:
		out.WriteString("[]\n")
	case asJSON:
		out.WriteString("\n]\n")
	case n == 0:
		fmt.Fprintln(s.Err, "No promotions recorded.")
	}
	return out.Flush()
}

func parseSince(s string, now time.Time) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if d, err := parseAge(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02) or an age (36h, 7d)", s)
}
