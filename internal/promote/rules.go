package promote

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
// references are managed and by which rule. The working tree (Workspace)
// and a pushed tree (the pre-push check) are judged by this one code.
type Rules struct {
	config *config.Config
	list   []rule
}

type rule struct {
	update config.Update
	policy *policy.Policy
}

// CompileRules compiles the rules of cfg. An error is a *config.Error that
// names the file, the line and the key.
func CompileRules(cfg *config.Config) (*Rules, error) {
	rs := &Rules{config: cfg}
	for _, u := range cfg.Updates {
		p, err := policy.Compile(u)
		if err != nil {
			line, key, msg := u.Line, "update "+ruleLabel(u), err.Error()
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
		rs.list = append(rs.list, rule{update: u, policy: p})
	}
	return rs, nil
}

func ruleLabel(u config.Update) string {
	if u.Name != "" {
		return fmt.Sprintf("%q", u.Name)
	}
	return fmt.Sprintf("at line %d", u.Line)
}

// Empty reports whether nothing can be managed: no rules or no registries.
func (rs *Rules) Empty() bool { return len(rs.list) == 0 || len(rs.config.Registries) == 0 }

// Covers reports whether any rule's files cover path, so a caller can skip
// reading files no rule could manage.
func (rs *Rules) Covers(path string) bool {
	for _, r := range rs.list {
		if r.update.Covers(path) {
			return true
		}
	}
	return false
}

// Assign finds the rule that manages m: the first (in file order) whose
// files cover the path, whose images (if any) match the image and whose
// pattern matches the current tag, for an image under a [[registry]]
// prefix. An unmanaged reference is returned with Managed() false. The
// other rules are in Passed, each with the reason it does not manage m.
func (rs *Rules) Assign(m scan.Match) Reference {
	ref := Reference{Match: m, rule: -1}
	for _, reg := range rs.config.Registries {
		if imageref.UnderPrefix(m.Ref, reg.Prefix) {
			ref.Registry = reg.Name
			if ref.Registry == "" {
				ref.Registry = reg.Prefix
			}
			break
		}
	}
	if ref.Registry == "" || m.Ref.Tag == "" {
		return ref
	}
	for i, r := range rs.list {
		why := ""
		switch {
		case !r.update.Covers(m.Path):
			why = "not in its files"
		case !r.update.ManagesImage(m.Ref.Image(), m.Ref.Name):
			why = "its images do not match"
		case !r.policy.Manages(m.Ref.Tag):
			why = fmt.Sprintf("its pattern %s does not match the current tag", r.update.Pattern)
		}
		if why == "" && ref.rule >= 0 {
			why = "rule " + ref.Rule + " comes first"
		}
		if why != "" {
			ref.Passed = append(ref.Passed, PassedRule{Rule: rs.label(i), Why: why})
			continue
		}
		ref.rule = i
		ref.Rule = rs.label(i)
	}
	return ref
}

// label names the rule at index i: its name, or "#n" in file order.
func (rs *Rules) label(i int) string {
	if n := rs.list[i].update.Name; n != "" {
		return n
	}
	return fmt.Sprintf("#%d", i+1)
}

// PassedRule is a rule that does not manage a reference, and why.
type PassedRule struct {
	Rule string
	Why  string
}

// Selected reports whether r is among the images named by only (as
// --only names them: the name as written, the canonical name or a
// trailing part of it); an empty only selects every image.
func Selected(only []string, r imageref.Ref) bool { return selected(only, r) }
