// Package promote runs the pipeline for one repository: it opens the
// workspace, scans tracked files, asks registries for tags, lets each rule's
// policy choose, builds the plan and renders the new file contents; Commit
// then writes them and records one commit. Commands (bump, scan, status)
// are thin fronts over it, so the whole run is testable without a terminal.
package promote

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// Workspace is a repository with its loaded configuration.
type Workspace struct {
	Repo   *gitrepo.Repo
	Config *config.Config
	rules  []rule
}

type rule struct {
	update config.Update
	policy *policy.Policy
}

// ErrNoConfig is returned (wrapped) when the repository has no laminar.toml.
var ErrNoConfig = config.ErrNotFound

// OpenOptions say where the configuration is and whether it must exist.
type OpenOptions struct {
	// ConfigPath is read instead of laminar.toml at the repository root.
	ConfigPath string
	// ConfigOptional lets commands that can work without rules (scan --all)
	// run in a repository that has no laminar.toml.
	ConfigOptional bool
}

// Open finds the repository containing dir and loads its configuration.
func Open(dir string, opt OpenOptions) (*Workspace, error) {
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return nil, err
	}
	configPath := opt.ConfigPath
	if configPath == "" {
		configPath = filepath.Join(repo.Root, config.FileName)
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		if !errors.Is(err, config.ErrNotFound) {
			return nil, err
		}
		if !opt.ConfigOptional || opt.ConfigPath != "" {
			return nil, fmt.Errorf("%w in %s: copy laminar.toml.example from the git-laminar sources (or see git help laminar) and declare a [[registry]] and an [[update]] rule", config.ErrNotFound, repo.Root)
		}
		cfg = &config.Config{Path: configPath}
	}
	w := &Workspace{Repo: repo, Config: cfg}
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
		w.rules = append(w.rules, rule{update: u, policy: p})
	}
	return w, nil
}

func ruleLabel(u config.Update) string {
	if u.Name != "" {
		return fmt.Sprintf("%q", u.Name)
	}
	return fmt.Sprintf("at line %d", u.Line)
}

// Reference is one scanned image reference and the rule that manages it.
type Reference struct {
	scan.Match
	Registry string // name or prefix of the [[registry]] it lies under; empty if none
	Rule     string // name of the managing rule; empty when unmanaged
	rule     int    // index into rules, -1 when unmanaged
}

// Managed reports whether a rule manages the reference.
func (r Reference) Managed() bool { return r.rule >= 0 }

// Scan finds every image reference in tracked files and says which rule, if
// any, manages each. References are sorted by file, line and column.
func (w *Workspace) Scan(ctx context.Context) ([]Reference, error) {
	files, err := w.Repo.TrackedFiles()
	if err != nil {
		return nil, fmt.Errorf("listing tracked files: %w", err)
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	matches, err := scan.Files(ctx, w.Repo.Root, paths, scan.Options{})
	if err != nil {
		return nil, err
	}
	refs := make([]Reference, 0, len(matches))
	for _, m := range matches {
		refs = append(refs, w.assign(m))
	}
	return refs, nil
}

// assign finds the first rule (in file order) that manages m: its registry
// prefix covers the image, the rule's files cover the path, and the current
// tag matches the rule's pattern.
func (w *Workspace) assign(m scan.Match) Reference {
	ref := Reference{Match: m, rule: -1}
	for _, reg := range w.Config.Registries {
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
	for i, r := range w.rules {
		if r.update.Covers(m.Path) && r.policy.Manages(m.Ref.Tag) {
			ref.rule = i
			ref.Rule = r.update.Name
			if ref.Rule == "" {
				ref.Rule = fmt.Sprintf("#%d", i+1)
			}
			break
		}
	}
	return ref
}

// UnusedPrefixes returns the registries under whose prefix no reference lies:
// almost always a typo in the prefix, which would otherwise manage nothing
// in silence.
func (w *Workspace) UnusedPrefixes(refs []Reference) []config.Registry {
	used := map[string]bool{}
	for _, r := range refs {
		used[r.Registry] = true
	}
	var out []config.Registry
	for _, reg := range w.Config.Registries {
		key := reg.Name
		if key == "" {
			key = reg.Prefix
		}
		if !used[key] {
			out = append(out, reg)
		}
	}
	return out
}

func joinPaths(paths []string) string { return strings.Join(paths, ", ") }
