package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// TreeOptions say where the rules for a commit's tree come from.
type TreeOptions struct {
	// ConfigPath, when set, is a file on disk read instead of the
	// laminar.toml of the tree (the --config flag, LAMINAR_CONFIG).
	ConfigPath string
}

// TreeReferences returns the managed references of the tree of the commit
// rev names, under the rules of that same tree's laminar.toml: what is
// being pushed is checked by the rules being pushed with it. A tree without
// laminar.toml manages nothing. A laminar.toml that does not parse, or
// whose rules do not compile, is a BadConfig problem.
func TreeReferences(ctx context.Context, repo *gitrepo.Repo, rev string, opt TreeOptions) ([]Reference, []Problem, error) {
	var cfg *config.Config
	var err error
	if opt.ConfigPath != "" {
		cfg, err = config.Load(opt.ConfigPath)
	} else {
		var data []byte
		data, err = repo.ReadFile(rev, config.FileName)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		cfg, err = config.Parse(config.FileName, data)
	}
	if err != nil {
		return nil, []Problem{configProblem(err, config.FileName)}, nil
	}
	rules, err := compile(cfg)
	if err != nil {
		return nil, []Problem{configProblem(err, cfg.Path)}, nil
	}
	if len(rules) == 0 || len(cfg.Registries) == 0 {
		return nil, nil, nil
	}
	files, err := repo.TreeFiles(rev)
	if err != nil {
		return nil, nil, err
	}
	var refs []Reference
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if f.Size > scan.DefaultMaxFileSize || !coveredByAny(rules, f.Path) {
			continue
		}
		content, err := repo.ReadBlob(f.Hash)
		if err != nil {
			return nil, nil, err
		}
		if isBinary(content) {
			continue
		}
		refs = append(refs, assign(cfg, rules, scan.File(f.Path, content))...)
	}
	return refs, nil, nil
}

// Rule is one compiled [[update]] rule.
type rule struct {
	update config.Update
	policy *policy.Policy
}

// compile compiles the rules of cfg, reporting an error as a config.Error
// that names the file, line and key, as promote.Open does.
func compile(cfg *config.Config) ([]rule, error) {
	var rules []rule
	for _, u := range cfg.Updates {
		p, err := policy.Compile(u)
		if err != nil {
			label := fmt.Sprintf("at line %d", u.Line)
			if u.Name != "" {
				label = fmt.Sprintf("%q", u.Name)
			}
			line, key, msg := u.Line, "update "+label, err.Error()
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
		rules = append(rules, rule{update: u, policy: p})
	}
	return rules, nil
}

func configProblem(err error, file string) Problem {
	p := Problem{File: file, Kind: BadConfig, Problem: err.Error()}
	var ce *config.Error
	if errors.As(err, &ce) {
		p.File, p.Line = ce.File, ce.Line
		p.Problem = ce.Msg
		if ce.Key != "" {
			p.Problem = ce.Key + ": " + ce.Msg
		}
	}
	return p
}

func coveredByAny(rules []rule, path string) bool {
	for _, r := range rules {
		if r.update.Covers(path) {
			return true
		}
	}
	return false
}

// assign keeps the matches a rule manages, by the same test promote uses
// for the working tree: the image lies under a [[registry]] prefix (the
// first that covers it), it has a tag, and the first rule whose files cover
// the path and whose pattern matches the tag manages it.
func assign(cfg *config.Config, rules []rule, matches []scan.Match) []Reference {
	var out []Reference
	for _, m := range matches {
		if m.Ref.Tag == "" {
			continue
		}
		under := false
		for _, reg := range cfg.Registries {
			if imageref.UnderPrefix(m.Ref, reg.Prefix) {
				under = true
				break
			}
		}
		if !under {
			continue
		}
		for _, r := range rules {
			if r.update.Covers(m.Path) && r.policy.Manages(m.Ref.Tag) {
				out = append(out, Reference{Path: m.Path, Line: m.Line, Ref: m.Ref})
				break
			}
		}
	}
	return out
}

// isBinary is scan's test: a NUL byte in the first 8000 bytes.
func isBinary(b []byte) bool {
	if len(b) > 8000 {
		b = b[:8000]
	}
	return bytes.IndexByte(b, 0) >= 0
}
