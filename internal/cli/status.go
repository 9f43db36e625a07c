package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/urfave/cli/v2"
)

type statusOptions struct {
	global
	json     bool
	exitCode bool
	all      bool
	only     []string
}

func statusCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show, for each managed image, the tag a bump would choose and why",
		UsageText: "git laminar status [--json] [--exit-code] [--all-candidates] [--only IMAGE]...",
		Description: "Resolves every managed reference as bump does, changes nothing, and prints for\n" +
			"each image and current tag: the files that refer to it, the tag its rule chooses,\n" +
			"and why the nearest other candidates lost (filtered, excluded, older, too young,\n" +
			"not a valid tag, ...). Uncommitted changes do not matter here.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print a JSON object for scripts"},
			&cli.BoolFlag{Name: "exit-code", Usage: "exit 1 when a bump would change something"},
			&cli.BoolFlag{Name: "all-candidates", Aliases: []string{"a"}, Usage: "list every tag considered, not only the nearest"},
			&cli.StringSliceFlag{Name: "only", Usage: "show only `IMAGE` (repeatable)"},
			refreshFlag,
			timeoutFlag(0),
		},
		Action: func(c *cli.Context) error {
			g, err := globals(c, s)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("status takes no arguments (got %q); use --only IMAGE", c.Args().First()))
			}
			return runStatus(c, s, statusOptions{global: g, json: c.Bool("json"), exitCode: c.Bool("exit-code"),
				all: c.Bool("all-candidates"), only: c.StringSlice("only")})
		},
	}
}

// StatusResult is the --json output of status. The field names are a contract.
type StatusResult struct {
	Images []ImageStatus `json:"images"`
	// Unmanaged are the tagged references under a registry prefix that no
	// rule manages, with each rule's reason.
	Unmanaged []UnmanagedStatus `json:"unmanaged"`
	Failures  []FailureEntry    `json:"failures"`
}

// UnmanagedStatus is one image at one current tag that no rule manages.
type UnmanagedStatus struct {
	Image      string      `json:"image"`
	Current    string      `json:"current"`
	References []Location  `json:"references"`
	Rules      []OtherRule `json:"rules"`
}

// ImageStatus is one image at one current tag under one rule.
type ImageStatus struct {
	Image      string          `json:"image"`
	Rule       string          `json:"rule"`
	Current    string          `json:"current"`
	Chosen     string          `json:"chosen"`
	Changed    bool            `json:"changed"`
	Digest     string          `json:"digest,omitempty"`
	Held       string          `json:"held,omitempty"`
	Order      string          `json:"order"`
	Reason     string          `json:"reason"`
	References []Location      `json:"references"`
	Candidates []CandidateInfo `json:"candidates"`
	Considered int             `json:"considered"`
	// OtherRules are the rules that do not manage the image's references
	// here, and why.
	OtherRules []OtherRule `json:"other_rules"`
}

// OtherRule is a rule that does not manage an image, and why.
type OtherRule struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Location is a place in a file.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// CandidateInfo is one tag and what became of it.
type CandidateInfo struct {
	Tag     string `json:"tag"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

// nearest is how many candidates the text output shows per image.
const nearest = 6

func runStatus(c *cli.Context, s Streams, opt statusOptions) error {
	timeout, err := timeoutOf(c)
	if err != nil {
		return err
	}
	ws, err := openWorkspace(opt.global, false)
	if err != nil {
		return err
	}
	held, err := heldImages(c, ws)
	if err != nil {
		return exit(ExitError, err)
	}
	bar := newProgress(s, "Resolving images")
	reg, err := registryFor(c, s, ws)
	if err != nil {
		return err
	}
	// The text shows the nearest candidates; --all-candidates and --json all.
	keep := func(i int, _ policy.Verdict) bool { return opt.all || opt.json || i < nearest }
	rctx, cancel := registryDeadline(c.Context, timeout)
	defer cancel()
	res, err := ws.Resolve(rctx, reg, promote.Options{KeepVerdict: keep, Only: opt.only, Held: held, Progress: bar.update})
	bar.done()
	if err != nil {
		return exit(ExitError, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(s.Err, "warning: "+printable.String(w))
	}
	out := StatusResult{Images: []ImageStatus{}, Unmanaged: unmanagedStatus(res.References, opt.only), Failures: []FailureEntry{}}
	moves := false
	for _, d := range res.Decisions {
		st := ImageStatus{Image: d.Image, Rule: d.Rule, Current: d.Current, Chosen: d.Choice.Tag, Changed: d.Moves(),
			Digest: d.Digest, Held: d.Held, Order: d.Choice.Order, Reason: d.Choice.Reason,
			References: []Location{}, Candidates: []CandidateInfo{}, Considered: d.Considered}
		if d.Held != "" {
			st.Chosen = d.Current
		}
		st.OtherRules = []OtherRule{}
		seen := map[OtherRule]bool{}
		for _, r := range d.Refs {
			st.References = append(st.References, Location{File: r.Path, Line: r.Line})
			for _, p := range r.Passed {
				o := OtherRule{Rule: p.Rule, Reason: p.Why}
				if !seen[o] {
					seen[o] = true
					st.OtherRules = append(st.OtherRules, o)
				}
			}
		}
		for _, v := range d.Choice.Verdicts {
			st.Candidates = append(st.Candidates, CandidateInfo{Tag: v.Tag, Outcome: string(v.Outcome), Reason: v.Reason})
		}
		moves = moves || st.Changed
		out.Images = append(out.Images, st)
	}
	for _, f := range res.Failures {
		out.Failures = append(out.Failures, FailureEntry{Image: f.Image, Error: f.Err.Error()})
	}

	if opt.json {
		if err := writeJSON(s.Out, out); err != nil {
			return err
		}
	} else {
		printStatus(s.Out, newPainter(opt.color), out, opt.all)
		if len(out.Images) == 0 && len(out.Failures) == 0 {
			fmt.Fprintln(s.Err, "No managed image references. (git laminar scan --all lists every reference.)")
		}
	}
	switch {
	case len(out.Failures) > 0:
		return exit(ExitPartial, nil)
	case moves && opt.exitCode:
		return exit(ExitChanges, nil)
	}
	return nil
}

// unmanagedStatus groups the tagged references under a registry prefix
// that no rule manages by image and tag, with why each rule passed them.
func unmanagedStatus(refs []promote.Reference, only []string) []UnmanagedStatus {
	out := []UnmanagedStatus{}
	index := map[[2]string]int{}
	seen := map[[2]string]map[OtherRule]bool{}
	for _, r := range refs {
		if r.Managed() || r.Registry == "" || r.Ref.Tag == "" || !promote.Selected(only, r.Ref) {
			continue
		}
		k := [2]string{r.Ref.Image(), r.Ref.Tag}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			seen[k] = map[OtherRule]bool{}
			out = append(out, UnmanagedStatus{Image: k[0], Current: k[1], References: []Location{}, Rules: []OtherRule{}})
		}
		out[i].References = append(out[i].References, Location{File: r.Path, Line: r.Line})
		for _, p := range r.Passed {
			o := OtherRule{Rule: p.Rule, Reason: p.Why}
			if !seen[k][o] {
				seen[k][o] = true
				out[i].Rules = append(out[i].Rules, o)
			}
		}
	}
	return out
}

func printStatus(w io.Writer, p painter, r StatusResult, all bool) {
	for i, st := range r.Images {
		if i > 0 {
			fmt.Fprintln(w)
		}
		head := fmt.Sprintf("%s  %s", p.bold(st.Image), p.dim("["+printable.String(st.Rule)+"]"))
		switch {
		case st.Held != "":
			fmt.Fprintf(w, "%s  %s  %s\n", head, st.Current, p.yellow("held: "+printable.String(st.Held)))
		case st.Changed && st.Chosen != st.Current:
			fmt.Fprintf(w, "%s  %s -> %s\n", head, p.red(st.Current), p.green(st.Chosen))
		case st.Changed:
			fmt.Fprintf(w, "%s  %s  %s\n", head, st.Current, p.green("digest -> "+st.Digest))
		default:
			fmt.Fprintf(w, "%s  %s  %s\n", head, st.Current, p.dim("up to date"))
		}
		locs := make([]string, 0, len(st.References))
		for _, l := range st.References {
			locs = append(locs, fmt.Sprintf("%s:%d", printable.String(l.File), l.Line))
		}
		fmt.Fprintf(w, "  in %s\n", strings.Join(locs, ", "))
		for _, o := range st.OtherRules {
			fmt.Fprintf(w, "  %s\n", p.dim(fmt.Sprintf("not rule %s: %s", printable.String(o.Rule), printable.String(o.Reason))))
		}
		// The chosen candidate's line already says why it won.
		if st.Reason != "" && st.Held == "" && (len(st.Candidates) == 0 || st.Candidates[0].Outcome != string(policy.Chosen)) {
			fmt.Fprintf(w, "  %s\n", printable.String(st.Reason))
		}
		shown := st.Candidates
		if !all && len(shown) > nearest {
			shown = shown[:nearest]
		}
		for _, c := range shown {
			fmt.Fprintf(w, "    %-12s %-28s %s\n", outcomeLabel(p, c.Outcome), printableTag(c.Tag), printable.String(c.Reason))
		}
		if len(shown) < st.Considered {
			fmt.Fprintf(w, "    %s\n", p.dim(fmt.Sprintf("... %d more (--all-candidates)", st.Considered-len(shown))))
		}
	}
	if len(r.Unmanaged) > 0 {
		if len(r.Images) > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, p.bold("Not managed:"))
		for _, u := range r.Unmanaged {
			locs := make([]string, 0, len(u.References))
			for _, l := range u.References {
				locs = append(locs, fmt.Sprintf("%s:%d", printable.String(l.File), l.Line))
			}
			fmt.Fprintf(w, "  %s  %s  in %s\n", printable.String(u.Image), printableTag(u.Current), strings.Join(locs, ", "))
			for _, o := range u.Rules {
				fmt.Fprintf(w, "    %s\n", p.dim(fmt.Sprintf("not rule %s: %s", printable.String(o.Rule), printable.String(o.Reason))))
			}
		}
	}
	if len(r.Failures) > 0 {
		if len(r.Images) > 0 || len(r.Unmanaged) > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, p.bold(p.red("Failed:")))
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s\n", printable.String(f.Error))
		}
	}
}

func outcomeLabel(p painter, o string) string {
	switch policy.Outcome(o) {
	case policy.Chosen:
		return p.green(o)
	case policy.Current:
		return p.bold(o)
	}
	return p.dim(o)
}

// printableTag shows a tag as it is when it is a valid tag and quoted
// otherwise: registries are untrusted, and a tag holding escape sequences
// must not reach a terminal raw.
func printableTag(t string) string {
	if imageref.ValidTag(t) {
		return t
	}
	return `"` + printable.String(t) + `"`
}
