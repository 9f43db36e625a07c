package promote

import (
	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/rules"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// ruleSet is a configuration's rules (see package rules) as the
// workspace reads them: by index, with each rule's update and policy.
type ruleSet struct {
	*rules.Rules
	list []compiledRule
}

type compiledRule struct {
	update config.Update
	policy *policy.Policy
}

func compileRules(cfg *config.Config) (*ruleSet, error) {
	rs, err := rules.Compile(cfg)
	if err != nil {
		return nil, err
	}
	out := &ruleSet{Rules: rs}
	for _, r := range rs.List() {
		out.list = append(out.list, compiledRule{update: r.Update, policy: r.Policy})
	}
	return out, nil
}

// Assign is rules.Rules.Assign as a Reference.
func (rs *ruleSet) Assign(m scan.Match) Reference {
	a := rs.Rules.Assign(m)
	return Reference{Match: m, Registry: a.Registry, Rule: a.Rule, rule: a.Index, Passed: a.Passed}
}

// Selected reports whether r is among the images named by only (as
// --only names them: the name as written, the canonical name or a
// trailing part of it); an empty only selects every image.
func Selected(only []string, r imageref.Ref) bool { return selected(only, r) }
