// Package trust decides what `git laminar trust` covers and compares it
// with what was trusted. Exec actions are commands in laminar.toml, a
// versioned file; the scripts they run are versioned too. Trust therefore
// covers the configuration and every tracked file the commands run: the
// files a command names, the makefiles of a make command, and what a
// rule's exec_trust globs list. A Record is that state as the local user
// trusted it; Compare says what changed since. The package reads no file:
// callers hand it the tracked paths and the hashes of their contents.
package trust

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/printable"
)

// Why a file is covered.
const (
	KindCommand   = "command"    // a word of the command names it
	KindMakefile  = "makefile"   // make reads it
	KindExecTrust = "exec_trust" // an exec_trust glob lists it
	KindSymlink   = "symlink"    // a covered symlink points at it
)

// ModeSymlink is the git mode of a symbolic link.
const ModeSymlink = "120000"

// Reason is why one file is covered.
type Reason struct {
	Rule    string `json:"rule"`
	Kind    string `json:"kind"`
	Command string `json:"command,omitempty"` // the exec command (command, makefile)
	Glob    string `json:"glob,omitempty"`    // the exec_trust glob
	Link    string `json:"link,omitempty"`    // the covered symlink (symlink)
}

func (r Reason) String() string {
	rule := printable.String(r.Rule)
	switch r.Kind {
	case KindMakefile:
		return fmt.Sprintf("makefile of %s (rule %s)", quote(r.Command), rule)
	case KindExecTrust:
		return fmt.Sprintf("exec_trust %s (rule %s)", quote(r.Glob), rule)
	case KindSymlink:
		return fmt.Sprintf("target of symlink %s (rule %s)", quote(r.Link), rule)
	}
	return fmt.Sprintf("named in %s (rule %s)", quote(r.Command), rule)
}

// Entry is a tracked path: a regular file or a symbolic link.
type Entry struct {
	Path   string // slash-separated, relative to the repository root
	Mode   string // "100644", "100755" or ModeSymlink
	Target string // a symlink's target, as written in the link
}

// Covered is a tracked path that trust covers, and why.
type Covered struct {
	Path    string
	Reasons []Reason
}

// Cover lists the tracked paths the exec actions of cfg run, sorted. root
// is the absolute top of the working tree (commands may name files by it).
func Cover(cfg *config.Config, tracked []Entry, root string) []Covered {
	byPath := make(map[string]Entry, len(tracked))
	for _, e := range tracked {
		byPath[e.Path] = e
	}
	covered := map[string]*Covered{}
	var order []string
	add := func(p string, r Reason) {
		c := covered[p]
		if c == nil {
			c = &Covered{Path: p}
			covered[p] = c
			order = append(order, p)
		}
		for _, have := range c.Reasons {
			if have == r {
				return
			}
		}
		c.Reasons = append(c.Reasons, r)
	}
	for i, u := range cfg.Updates {
		if len(u.Exec) == 0 {
			continue
		}
		rule := RuleLabel(u, i)
		for _, cmd := range u.Exec {
			for _, c := range candidates(cmd, root) {
				if _, ok := byPath[c.path]; ok {
					add(c.path, Reason{Rule: rule, Kind: c.kind, Command: cmd})
				} else if link := linkPrefix(c.path, byPath); link != "" {
					// scripts/x.sh where scripts is a tracked symlink to a
					// folder: the link is covered, and below, what it holds.
					add(link, Reason{Rule: rule, Kind: c.kind, Command: cmd})
				}
			}
		}
		if len(u.ExecTrust) > 0 {
			for _, e := range tracked {
				if g, ok := u.ExecTrustGlob(e.Path); ok {
					add(e.Path, Reason{Rule: rule, Kind: KindExecTrust, Glob: g})
				}
			}
		}
	}
	// What a covered symlink points at runs as well, when the repository
	// holds it: the file, or every file of the folder. order grows as
	// targets are added, so chains are followed.
	for i := 0; i < len(order); i++ {
		link := byPath[order[i]]
		if link.Mode != ModeSymlink {
			continue
		}
		target, ok := repoPath(path.Dir(link.Path), link.Target, root)
		if !ok {
			continue
		}
		r := Reason{Rule: covered[link.Path].Reasons[0].Rule, Kind: KindSymlink, Link: link.Path}
		if _, tracked := byPath[target]; tracked {
			add(target, r)
			continue
		}
		for _, e := range tracked {
			if strings.HasPrefix(e.Path, target+"/") {
				add(e.Path, r)
			}
		}
	}
	sort.Strings(order)
	out := make([]Covered, len(order))
	for i, p := range order {
		out[i] = *covered[p]
	}
	return out
}

// linkPrefix returns the folder of p that is a tracked symlink, if any.
func linkPrefix(p string, byPath map[string]Entry) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			if e, ok := byPath[p[:i]]; ok && e.Mode == ModeSymlink {
				return p[:i]
			}
		}
	}
	return ""
}

// RuleLabel is a rule's name, or "#N" (its place in laminar.toml) when it
// has none, as promotions name it.
func RuleLabel(u config.Update, i int) string {
	if u.Name != "" {
		return u.Name
	}
	return fmt.Sprintf("#%d", i+1)
}

// quote shows a command or path in a message: as it is when it is plain,
// quoted with every control and invisible character escaped when it could
// pass for something else on a terminal.
func quote(s string) string {
	if !printable.Is(s) {
		return fmt.Sprintf("%+q", s)
	}
	if strings.ContainsAny(s, " \"'") || s == "" {
		return fmt.Sprintf("%q", s)
	}
	return s
}
