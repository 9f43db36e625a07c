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
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/edit"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/registry"
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

// Failure is one image that could not be resolved; the others go on.
type Failure struct {
	Image string
	Err   error
}

func (f Failure) Error() string { return f.Image + ": " + f.Err.Error() }

// Decision is what one rule's policy chose for one image at one current tag.
type Decision struct {
	Image   string // canonical image name
	Repo    string // repository as the registry API names it
	Rule    string
	Current string
	Choice  policy.Choice
	Digest  string // digest of the chosen tag, when known
	Refs    []Reference
}

// Proposal is everything a bump would do, computed without writing.
type Proposal struct {
	References []Reference
	Decisions  []Decision
	Failures   []Failure
	Plan       plan.Plan
	Changes    []edit.Change
}

// Options tune a proposal.
type Options struct {
	// Only limits the run to these images (canonical or as written); empty means all.
	Only []string
	// Now is the clock for min_age; zero means time.Now.
	Now time.Time
}

// Propose resolves every managed reference against its registry and renders
// the changes. Registry failures are collected per image in the proposal, not
// returned: the other images still get promoted.
func (w *Workspace) Propose(ctx context.Context, reg *registry.Client, opt Options) (*Proposal, error) {
	refs, err := w.Scan(ctx)
	if err != nil {
		return nil, err
	}
	if unused := w.UnusedPrefixes(refs); len(unused) > 0 {
		r := unused[0]
		return nil, &config.Error{File: w.Config.Path, Line: r.Line, Key: "registry prefix",
			Msg: fmt.Sprintf("%q matches no image reference in tracked files", r.Prefix)}
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	p := &Proposal{References: refs}

	// One decision per (image, rule, current tag): the same image referenced
	// from many files is resolved once.
	type key struct{ repo, rule, current string }
	groups := map[key]*Decision{}
	var order []key
	for _, r := range refs {
		if !r.Managed() || !selected(opt.Only, r.Ref) {
			continue
		}
		k := key{r.Ref.Repo(), r.Rule, r.Ref.Tag}
		d := groups[k]
		if d == nil {
			d = &Decision{Image: r.Ref.Image(), Repo: k.repo, Rule: r.Rule, Current: r.Ref.Tag}
			groups[k] = d
			order = append(order, k)
		}
		d.Refs = append(d.Refs, r)
	}
	repos := make([]string, 0, len(groups))
	seen := map[string]bool{}
	for _, k := range order {
		if !seen[k.repo] {
			seen[k.repo] = true
			repos = append(repos, k.repo)
		}
	}
	lists := reg.TagsOf(ctx, repos)

	failed := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, k := range order {
		d := groups[k]
		list := lists[k.repo]
		if list.Err != nil {
			failed[d.Image] = list.Err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := w.decide(ctx, reg, d, list.Tags, now)
			if err != nil {
				mu.Lock()
				if failed[d.Image] == nil {
					failed[d.Image] = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	var inputs []plan.Input
	for _, k := range order {
		d := groups[k]
		if failed[d.Image] != nil {
			continue
		}
		p.Decisions = append(p.Decisions, *d)
		if !d.Choice.Changed {
			continue
		}
		for _, r := range d.Refs {
			inputs = append(inputs, plan.Input{Match: r.Match, Rule: d.Rule, To: d.Choice.Tag, ToDigest: d.Digest})
		}
	}
	for image, err := range failed {
		p.Failures = append(p.Failures, Failure{Image: image, Err: err})
	}
	sort.Slice(p.Failures, func(i, j int) bool { return p.Failures[i].Image < p.Failures[j].Image })
	sort.Slice(p.Decisions, func(i, j int) bool {
		a, b := p.Decisions[i], p.Decisions[j]
		if a.Image != b.Image {
			return a.Image < b.Image
		}
		return a.Current < b.Current
	})

	p.Plan, err = plan.Build(inputs)
	if err != nil {
		return nil, err
	}
	if dirty, err := w.Repo.Dirty(p.Plan.Paths()); err != nil {
		return nil, fmt.Errorf("checking for uncommitted changes: %w", err)
	} else if len(dirty) > 0 {
		return nil, &DirtyError{Paths: dirty}
	}
	p.Changes, err = edit.Render(w.Repo.Root, p.Plan)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DirtyError names files that would be edited but have uncommitted changes.
type DirtyError struct{ Paths []string }

func (e *DirtyError) Error() string {
	return fmt.Sprintf("refusing to edit files with uncommitted changes: %s (commit or stash them first)", strings.Join(e.Paths, ", "))
}

// decide lists what the policy needs and lets it choose.
func (w *Workspace) decide(ctx context.Context, reg *registry.Client, d *Decision, tags []string, now time.Time) error {
	pol := w.ruleByName(d.Rule).policy
	kept, rejected := pol.Candidates(d.Current, tags)
	current := policy.Tag{Name: d.Current}
	candidates := make([]policy.Tag, len(kept))
	for i, t := range kept {
		candidates[i] = policy.Tag{Name: t}
	}
	if pol.NeedsCreated(d.Current, kept) {
		if err := fillCreated(ctx, reg, d.Repo, &current, candidates); err != nil {
			return err
		}
	}
	d.Choice = pol.Select(current, candidates, now)
	d.Choice.Verdicts = append(d.Choice.Verdicts, rejected...)
	if d.Choice.Err != nil {
		return d.Choice.Err
	}
	if d.Choice.Changed {
		info, err := reg.Image(ctx, d.Repo, d.Choice.Tag)
		if err != nil {
			// The digest is needed only where a reference pins one; elsewhere
			// it merely enriches the record.
			for _, r := range d.Refs {
				if r.Ref.Digest != "" {
					return fmt.Errorf("reading digest of %s:%s: %w", d.Image, d.Choice.Tag, err)
				}
			}
			return nil
		}
		d.Digest = info.Digest
	}
	return nil
}

func (w *Workspace) ruleByName(name string) rule {
	for i, r := range w.rules {
		n := r.update.Name
		if n == "" {
			n = fmt.Sprintf("#%d", i+1)
		}
		if n == name {
			return r
		}
	}
	panic("promote: unknown rule " + name)
}

// fillCreated fetches creation times for the current tag and candidates,
// a few at a time. A current tag the registry no longer has stays unknown.
func fillCreated(ctx context.Context, reg *registry.Client, repo string, current *policy.Tag, candidates []policy.Tag) error {
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	fetch := func(t *policy.Tag, mustExist bool) {
		defer wg.Done()
		sem <- struct{}{}
		defer func() { <-sem }()
		info, err := reg.Image(ctx, repo, t.Name)
		if err != nil {
			if mustExist && !errors.Is(err, registry.ErrNotFound) {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("reading creation time of %s:%s: %w", repo, t.Name, err)
				}
				mu.Unlock()
			}
			return
		}
		t.Created, t.Digest = info.Created, info.Digest
	}
	wg.Add(1)
	go fetch(current, false)
	for i := range candidates {
		wg.Add(1)
		go fetch(&candidates[i], true)
	}
	wg.Wait()
	return firstErr
}

func selected(only []string, r imageref.Ref) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if o == r.Name || o == r.Image() || o == r.Repo() {
			return true
		}
		if parsed, err := imageref.Parse(o); err == nil && parsed.Repo() == r.Repo() {
			return true
		}
	}
	return false
}
