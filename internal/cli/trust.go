package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/trust"
	"github.com/git-laminar/git-laminar/internal/truststore"
	"github.com/urfave/cli/v2"
)

type trustOptions struct {
	global
	show   bool
	revoke bool
	json   bool
}

func trustCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "trust",
		Usage:     "allow the exec actions of laminar.toml, and the files they run, as they are now",
		UsageText: "git laminar trust [--show] [--json] | --revoke",
		Description: "Exec actions are shell commands written in laminar.toml, and the scripts they run\n" +
			"are in the repository too: anyone who can push can change them. They run only once\n" +
			"you trust them as they are: laminar.toml by its sha256 (laminar.trusted in this\n" +
			"repository's own git config) and every tracked file the commands run, by path,\n" +
			"mode and sha256 (laminar-trust.json in the git dir). No push reaches either.\n\n" +
			"Trust covers the files a command names (./render.sh, sh scripts/x.sh), the\n" +
			"makefile of a make command (-f and -C followed), the targets of covered symlinks,\n" +
			"and what the rule's exec_trust globs list. Any change to laminar.toml or to a\n" +
			"covered file (content, mode, a file added or removed) needs trusting again; the\n" +
			"files git laminar's own commits change keep the trust.\n\n" +
			"trust shows the commands and the covered files and records them, replacing what\n" +
			"was trusted before. --show only shows them, whether they are trusted and what\n" +
			"changed since; --json prints the same as JSON. --revoke removes the trust.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "show", Usage: "show the exec commands, the files they run and what changed since the trust; change nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print what is covered and whether it is trusted as JSON"},
			&cli.BoolFlag{Name: "revoke", Usage: "stop trusting any version of laminar.toml in this repository"},
		},
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("trust takes no arguments (got %q)", c.Args().First()))
			}
			if c.Bool("revoke") && (c.Bool("show") || c.Bool("json")) {
				return exit(ExitError, fmt.Errorf("--revoke cannot be used together with --show or --json"))
			}
			return runTrust(s, trustOptions{global: g, show: c.Bool("show"), revoke: c.Bool("revoke"), json: c.Bool("json")})
		},
	}
}

// TrustResult is the output of trust --json.
type TrustResult struct {
	Config        string         `json:"config"`
	ConfigHash    string         `json:"config_hash"`
	HasExec       bool           `json:"has_exec"`
	Trusted       bool           `json:"trusted"`
	Recorded      bool           `json:"recorded"`
	ConfigChanged bool           `json:"config_changed"`
	Commands      []TrustCommand `json:"commands"`
	Files         []TrustFile    `json:"files"`
	Changed       []string       `json:"changed"`
	Added         []string       `json:"added"`
	Removed       []string       `json:"removed"`
	RecordError   string         `json:"record_error,omitempty"`
}

// TrustCommand is one exec action.
type TrustCommand struct {
	Rule    string `json:"rule"`
	Command string `json:"command"`
	Timeout string `json:"timeout"`
}

// TrustFile is one covered file as it is now.
type TrustFile struct {
	Path    string         `json:"path"`
	Mode    string         `json:"mode"`
	Hash    string         `json:"hash"`
	Trusted bool           `json:"trusted"`
	Change  string         `json:"change,omitempty"` // "changed" or "added" since the trust
	Reasons []trust.Reason `json:"reasons"`
}

func runTrust(s Streams, opt trustOptions) error {
	ws, err := openWorkspace(opt.global, false)
	if err != nil {
		return err
	}
	p := newPainter(opt.color)
	if !opt.show {
		// A bump or run keeps the trust across its own commit by writing
		// the record: under the lock, so it can neither undo a revoke nor
		// overwrite what is trusted here meanwhile.
		unlock, err := ws.Lock()
		if err != nil {
			if errors.Is(err, gitrepo.ErrLocked) {
				return exit(ExitLocked, err)
			}
			return exit(ExitError, err)
		}
		defer unlock()
	}
	if opt.revoke {
		n, err := ws.Revoke()
		if err != nil {
			return exit(ExitError, err)
		}
		if n == 0 {
			fmt.Fprintln(s.Out, "Nothing was trusted in this repository.")
		} else {
			fmt.Fprintln(s.Out, "Exec actions will not run until you trust laminar.toml again.")
		}
		return nil
	}

	st, err := ws.TrustStatus()
	if err != nil {
		return exit(ExitError, err)
	}
	cfg := ws.Config
	record := !opt.show && cfg.HasExec() && !st.Trusted()
	if record {
		// What is recorded is what the status read: the state shown below.
		if _, err := ws.TrustAs(st); err != nil {
			return exit(ExitError, err)
		}
	}
	if opt.json {
		if record {
			if st, err = ws.TrustStatus(); err != nil {
				return exit(ExitError, err)
			}
		}
		return writeJSON(s.Out, trustResult(ws, st))
	}

	fmt.Fprintf(s.Out, "%s %s\n", cfg.Path, p.yellow(cfg.Hash))
	if !cfg.HasExec() {
		fmt.Fprintln(s.Out, "It has no exec actions: there is nothing to trust.")
		return nil
	}
	printExecCommands(s.Out, p, ws)
	printCovered(s.Out, p, st)
	trusted := st.Trusted()
	if !trusted && !st.Diff.NoRecord {
		printTrustDiff(s.Out, st)
	}
	if st.RecordErr != nil {
		fmt.Fprintf(s.Out, "The trust record cannot be read (%v); trusting again replaces it.\n", st.RecordErr)
	}
	switch {
	case opt.show && trusted:
		fmt.Fprintln(s.Out, "Trusted: these commands run after the edits of their rule.")
	case opt.show:
		fmt.Fprintln(s.Out, "Not trusted: runs that need these commands are refused. Run `git laminar trust` to allow them.")
	case trusted:
		fmt.Fprintln(s.Out, "Already trusted.")
	default:
		fmt.Fprintf(s.Out, "Trusted. %s = %s is in this repository's git config.\n", truststore.Key, cfg.Hash)
		fmt.Fprintf(s.Out, "With it, %d file(s) the commands run, in %s in the git dir.\n", len(st.Files), truststore.File)
	}
	return nil
}

// printCovered lists the files trust covers and why.
func printCovered(w io.Writer, p painter, st *truststore.Status) {
	if len(st.Covered) == 0 {
		fmt.Fprintln(w, "Files they run: none of the commands names a tracked file (list what they run in exec_trust).")
		return
	}
	fmt.Fprintln(w, "Files they run (trust covers them as they are now):")
	for _, c := range st.Covered {
		reasons := make([]string, len(c.Reasons))
		for i, r := range c.Reasons {
			reasons[i] = r.String()
		}
		fmt.Fprintf(w, "  %s: %s\n", p.bold(displayCommand(c.Path)), strings.Join(reasons, "; "))
	}
}

// printTrustDiff says what changed since the trusted state.
func printTrustDiff(w io.Writer, st *truststore.Status) {
	d := st.Diff
	fmt.Fprintln(w, "Changed since `git laminar trust`:")
	if d.ConfigChanged {
		fmt.Fprintf(w, "  %s changed\n", displayCommand(st.Config))
	}
	for _, l := range []struct {
		what  string
		paths []string
	}{{"changed", d.Changed}, {"added", d.Added}, {"removed", d.Removed}} {
		for _, path := range l.paths {
			fmt.Fprintf(w, "  %s %s\n", displayCommand(path), l.what)
		}
	}
}

func trustResult(ws *promote.Workspace, st *truststore.Status) TrustResult {
	d := st.Diff
	r := TrustResult{
		Config: st.Config, ConfigHash: st.ConfigHash, HasExec: ws.Config.HasExec(),
		Trusted: ws.Config.HasExec() && st.Trusted(), Recorded: !d.NoRecord, ConfigChanged: d.ConfigChanged,
		Commands: []TrustCommand{}, Files: []TrustFile{},
		Changed: nonNil(d.Changed), Added: nonNil(d.Added), Removed: nonNil(d.Removed),
	}
	if st.RecordErr != nil {
		r.RecordError = st.RecordErr.Error()
	}
	for i, u := range ws.Config.Updates {
		for _, c := range u.Exec {
			r.Commands = append(r.Commands, TrustCommand{Rule: trust.RuleLabel(u, i), Command: c, Timeout: u.ExecTimeout.String()})
		}
	}
	change := map[string]string{}
	for _, p := range d.Changed {
		change[p] = "changed"
	}
	for _, p := range d.Added {
		change[p] = "added"
	}
	for i, c := range st.Covered {
		f := st.Files[i]
		r.Files = append(r.Files, TrustFile{Path: c.Path, Mode: f.Mode, Hash: f.Hash, Reasons: c.Reasons,
			Change: change[c.Path], Trusted: !d.NoRecord && change[c.Path] == ""})
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// printExecCommands lists every rule's exec commands as they will be run.
func printExecCommands(w io.Writer, p painter, ws *promote.Workspace) {
	fmt.Fprintln(w, "Exec actions (each run with sh -c at the repository root):")
	for i, u := range ws.Config.Updates {
		if len(u.Exec) == 0 {
			continue
		}
		name := u.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		fmt.Fprintf(w, "  rule %s (timeout %s):\n", printable.String(name), u.ExecTimeout)
		for _, c := range u.Exec {
			fmt.Fprintf(w, "    %s\n", p.bold(displayCommand(c)))
		}
	}
}

// displayCommand shows a command as sh will read it. A command with
// control or invisible characters (a carriage return, an escape sequence,
// a bidirectional override) could look like another on a terminal, so it
// is shown quoted, every such character escaped.
func displayCommand(c string) string {
	if !printable.Is(c) {
		return strconv.QuoteToASCII(c)
	}
	return c
}

// printExecResult says which exec actions ran for a commit and which files
// they changed or created (committed with the edits; the diff shown before
// the commit holds only the edits).
func printExecResult(w io.Writer, p painter, res promote.CommitResult) {
	if len(res.Exec) == 0 {
		return
	}
	for _, r := range res.Exec {
		fmt.Fprintf(w, "Ran %s (rule %s, %s)\n", p.bold(displayCommand(r.Command)), printable.String(r.Rule), r.Duration.Round(time.Millisecond))
	}
	if len(res.ExecPaths) == 0 {
		fmt.Fprintln(w, "The exec actions changed no file.")
		return
	}
	fmt.Fprintf(w, "The exec actions changed, and the commit holds: %s\n", strings.Join(res.ExecPaths, ", "))
}
