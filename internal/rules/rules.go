// Package rules compiles the [[update]] rules of a configuration and says
// which rule, if any, manages each scanned image reference, and why the
// others do not. The working tree (package promote) and a pushed tree (the
// pre-push check) are judged by this one code.
package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// Rules are a configuration's [[update]] rules, compiled: they say which
// references are managed and by which rule.
type Rules struct {
	config *config.Config
	list   []Rule
}

// Rule is one [[update]] rule and its compiled policy.
type Rule struct {
	Update config.Update
	Policy *policy.Policy
}

// Compile compiles the rules of cfg. An error is a *config.Error that
// names the file, the line and the key.
func Compile(cfg *config.Config) (*Rules, error) {
	rs := &Rules{config: cfg}
	for _, u := range cfg.Updates {
		p, err := policy.Compile(u)
		if err != nil {
			line, key, msg := u.Line, "update "+Name(u), err.Error()
			var pe *policy.Error
			if errors.As(err, &pe) {
				base, _, _ := strings.Cut(pe.Key, "[")
				if l := u.KeyLines[base]; l > 0 {
					line = l
				}
				key += "." + pe.Key
				msg = fmt.Sprintf("%q: %s", pe.Value, pe.Problem)
			}
			return nil, &config.Error{File: cfg.Path, Line: line, Key: key, Msg: msg}
		}
		rs.list = append(rs.list, Rule{Update: u, Policy: p})
	}
	return rs, nil
}

// Name names a rule in messages: its name quoted, or "at line N".
func Name(u config.Update) string {
	if u.Name != "" {
		return fmt.Sprintf("%q", u.Name)
	}
	return fmt.Sprintf("at line %d", u.Line)
}

// List returns the rules in file order.
func (rs *Rules) List() []Rule { return rs.list }

// Empty reports whether nothing can be managed: no rules or no registries.
func (rs *Rules) Empty() bool { return len(rs.list) == 0 || len(rs.config.Registries) == 0 }

// Covers reports whether any rule's files cover path, so a caller can skip
// reading files no rule could manage.
func (rs *Rules) Covers(path string) bool {
	for _, r := range rs.list {
		if r.Update.Covers(path) {
			return true
		}
	}
	return false
}

// Assignment says which rule manages a reference.
type Assignment struct {
	Registry string // name or prefix of the [[registry]] it lies under; empty if none
	Rule     string // label of the managing rule; empty when unmanaged
	Index    int    // index of the managing rule in List, -1 when unmanaged
	// Passed are the rules that do not manage the reference, in file
	// order, each with the reason.
	Passed []Passed
}

// Managed reports whether a rule manages the reference.
func (a Assignment) Managed() bool { return a.Index >= 0 }

// Assign finds the rule that manages m: the first (in file order) whose
// files cover the path, whose images (if any) match the image and whose
// pattern matches the current tag, for an image under a [[registry]]
// prefix. An unmanaged reference has Managed() false. The other rules are
// in Passed, each with the reason it does not manage m.
func (rs *Rules) Assign(m scan.Match) Assignment {
	a := Assignment{Index: -1}
	for _, reg := range rs.config.Registries {
		if imageref.UnderPrefix(m.Ref, reg.Prefix) {
			a.Registry = reg.Name
			if a.Registry == "" {
				a.Registry = reg.Prefix
			}
			break
		}
	}
	if a.Registry == "" || m.Ref.Tag == "" {
		return a
	}
	for i, r := range rs.list {
		why := ""
		switch {
		case !r.Update.Covers(m.Path):
			why = "not in its files"
		case !r.Update.ManagesImage(m.Ref.Image(), m.Ref.Name):
			why = "its images do not match"
		case !r.Policy.Manages(m.Ref.Tag):
			why = fmt.Sprintf("its pattern %s does not match the current tag", r.Update.Pattern)
		}
		if why == "" && a.Index >= 0 {
			why = "rule " + a.Rule + " comes first"
		}
		if why != "" {
			a.Passed = append(a.Passed, Passed{Rule: rs.Label(i), Why: why})
			continue
		}
		a.Index = i
		a.Rule = rs.Label(i)
	}
	return a
}

// Label names the rule at index i: its name, or "#n" in file order.
func (rs *Rules) Label(i int) string {
	if n := rs.list[i].Update.Name; n != "" {
		return n
	}
	return fmt.Sprintf("#%d", i+1)
}

// Passed is a rule that does not manage a reference, and why.
type Passed struct {
	Rule string
	Why  string
}
