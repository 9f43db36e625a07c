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
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/rules"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// Workspace is a repository with its loaded configuration.
type Workspace struct {
	Repo   *gitrepo.Repo
	Config *config.Config
	rules  *ruleSet
	warn   func(string)
	// Recovered is what LockAndRecover or Recover settled of an interrupted run;
	// nil when there was nothing.
	Recovered *gitrepo.Settled
	// CommitOptions say how commits are made: signing and hooks, as the
	// command line and [git] verify say. The zero value is `git commit`'s
	// default.
	CommitOptions gitrepo.CommitOptions
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
	// NoConfig reads no configuration at all, as if there were none:
	// init proposes one whether or not a file is there already.
	NoConfig bool
	// Warn, if set, is told of what a scan leaves out without failing: a
	// tracked file skipped for its name (see OddName).
	Warn func(string)
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
	if opt.NoConfig {
		cfg := &config.Config{Path: configPath}
		rs, err := compileRules(cfg)
		if err != nil {
			return nil, err
		}
		return &Workspace{Repo: repo, Config: cfg, rules: rs, warn: opt.Warn}, nil
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		if !errors.Is(err, config.ErrNotFound) {
			return nil, err
		}
		if !opt.ConfigOptional || opt.ConfigPath != "" {
			return nil, fmt.Errorf("%w in %s: run git laminar init to propose one from the image references here (or copy laminar.toml.example and declare a [[registry]] and an [[update]] rule)", config.ErrNotFound, repo.Root)
		}
		cfg = &config.Config{Path: configPath}
	}
	rs, err := compileRules(cfg)
	if err != nil {
		return nil, err
	}
	return &Workspace{Repo: repo, Config: cfg, rules: rs, warn: opt.Warn}, nil
}

// Reload reads the configuration file again, as the working tree holds it
// now: after a fetch moved the tree, the rules and exec actions to apply
// are those of the new tree, never those read before.
func (w *Workspace) Reload() (*Workspace, error) {
	cfg, err := config.Load(w.Config.Path)
	if err != nil {
		return nil, err
	}
	rs, err := compileRules(cfg)
	if err != nil {
		return nil, err
	}
	return &Workspace{Repo: w.Repo, Config: cfg, rules: rs, warn: w.warn}, nil
}

// Reference is one scanned image reference and the rule that manages it.
type Reference struct {
	scan.Match
	Registry string // name or prefix of the [[registry]] it lies under; empty if none
	Rule     string // name of the managing rule; empty when unmanaged
	rule     int    // index into rules, -1 when unmanaged
	// Passed are the rules that do not manage the reference, in file
	// order, each with the reason.
	Passed []rules.Passed
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
		if why := OddName(f.Path); why != "" {
			if w.warn != nil {
				w.warn(why)
			}
			continue
		}
		paths = append(paths, f.Path)
	}
	matches, err := scan.Files(ctx, w.Repo.Root, paths, scan.Options{})
	if err != nil {
		return nil, err
	}
	refs := make([]Reference, 0, len(matches))
	for _, m := range matches {
		refs = append(refs, w.rules.Assign(m))
	}
	return refs, nil
}

// OddName returns the warning for a tracked file whose name holds a
// control character (a newline, an escape sequence), an invisible
// formatting character (a bidirectional override) or bytes that are not
// UTF-8, and "" for any other name. Such a file is skipped, not scanned:
// its name cannot be shown as it is, nor be written into a commit by
// every git tool, and one odd name must not stop every other promotion.
func OddName(path string) string {
	if printable.Is(path) {
		return ""
	}
	return fmt.Sprintf("skipped \"%s\": its name holds a control character, an invisible formatting character or bytes that are not UTF-8; rename it to have it managed", printable.String(path))
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
