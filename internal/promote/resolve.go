package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/edit"
	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/registry"
)

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
	// Digest is the registry's digest of the chosen tag, when known. With
	// order "digest" it is the digest the current tag points at now.
	Digest string
	// Held is the reason the image is held (by a rollback), or empty.
	// A held image keeps its tag whatever its rule would choose.
	Held string
	Refs []Reference
	// Considered is how many tags the policy judged, kept verdicts or not.
	Considered int

	rule int
}

// Moves reports whether the decision changes any reference: to a new tag,
// or (following a mutable tag) to a new digest.
func (d Decision) Moves() bool {
	if d.Held != "" {
		return false
	}
	if d.Choice.Changed {
		return true
	}
	if d.Choice.FollowDigest && d.Digest != "" {
		for _, r := range d.Refs {
			if r.Ref.Digest != "" && r.Ref.Digest != d.Digest {
				return true
			}
		}
	}
	return false
}

// Resolution is every managed reference resolved against its registry.
type Resolution struct {
	References []Reference
	Decisions  []Decision
	Failures   []Failure
	// Warnings are things the user should know that did not stop anything,
	// such as a tag list cut at max_tags.
	Warnings []string

	// dirty is the check for uncommitted changes of the files with managed
	// references, begun as soon as they were scanned (see startDirty).
	dirty *dirtyCheck
}

// dirtyCheck is a Repo.Dirty of the files a bump might edit, run while the
// registries are asked: its answer is ready by the time the plan is, and
// it describes the files as they were scanned. (Writing re-checks each
// file's bytes, so a change made meanwhile is still caught.)
type dirtyCheck struct {
	done  chan struct{}
	paths map[string]bool // checked
	dirty map[string]bool
	err   error
}

func (w *Workspace) startDirty(refs []Reference) *dirtyCheck {
	dc := &dirtyCheck{done: make(chan struct{}), paths: map[string]bool{}, dirty: map[string]bool{}}
	var paths []string
	for _, r := range refs {
		if r.Managed() && !dc.paths[r.Path] {
			dc.paths[r.Path] = true
			paths = append(paths, r.Path)
		}
	}
	go func() {
		defer close(dc.done)
		dirty, err := w.Repo.Dirty(paths)
		dc.err = err
		for _, p := range dirty {
			dc.dirty[p] = true
		}
	}()
	return dc
}

// dirtyPaths returns which of paths have uncommitted changes, from the
// early check where it covers them.
func (w *Workspace) dirtyPaths(dc *dirtyCheck, paths []string) ([]string, error) {
	if dc == nil {
		return w.Repo.Dirty(paths)
	}
	<-dc.done
	if dc.err != nil {
		return nil, dc.err
	}
	var dirty, unchecked []string
	for _, p := range paths {
		switch {
		case !dc.paths[p]:
			unchecked = append(unchecked, p)
		case dc.dirty[p]:
			dirty = append(dirty, p)
		}
	}
	if len(unchecked) > 0 {
		more, err := w.Repo.Dirty(unchecked)
		if err != nil {
			return nil, err
		}
		dirty = append(dirty, more...)
	}
	return dirty, nil
}

// Proposal is everything a bump would do, computed without writing.
type Proposal struct {
	Resolution
	Plan    plan.Plan
	Changes []edit.Change
	// Untrusted are the rules left out for untrusted exec actions (see
	// Options.SkipUntrusted).
	Untrusted []UntrustedRule
	// ObjectFormat is the repository's, "sha1" or "sha256": how a diff
	// of Changes names their blobs.
	ObjectFormat string
}

// Options tune a resolution.
type Options struct {
	// Only limits the run to these images (canonical or as written); empty means all.
	Only []string
	// Held maps canonical image names to the reason they are held; such
	// images are resolved for display but never moved.
	Held map[string]string
	// Now is the clock for min_age; zero means time.Now.
	Now time.Time
	// Progress, if set, is called as images are resolved (done of total).
	Progress func(done, total int)
	// KeepVerdict says which of a decision's verdicts (best first, one per
	// tag the registry listed) to keep in Choice.Verdicts; nil keeps none.
	// They explain a choice (status, run's warnings) and, over hundreds of
	// repositories of hundreds of tags, would otherwise be most of a run's
	// memory. Decision.Considered counts them all.
	KeepVerdict func(i int, v policy.Verdict) bool
	// NoDigests skips reading the digest of each chosen tag where no
	// reference pins one: it only enriches the commit's trailers
	// (Laminar-Digest), so a dry run does without the request.
	NoDigests bool
	// WillPrepare says the caller goes on to Prepare the resolution. The
	// check for uncommitted changes is then begun at once, overlapping the
	// registry requests, and awaited by Prepare. Left false (status), no
	// git reads go on once Resolve has returned.
	WillPrepare bool
	// SkipUntrusted makes Propose leave out the promotions of rules whose
	// exec actions are not trusted (Proposal.Untrusted says which), so that
	// the other rules' promotions can still be committed. Without it such a
	// proposal is refused when committed (UntrustedError).
	SkipUntrusted bool
}

// Propose resolves every managed reference and renders the changes a bump
// would make. Registry failures are collected per image, not returned: the
// other images still get promoted.
func (w *Workspace) Propose(ctx context.Context, reg *registry.Client, opt Options) (*Proposal, error) {
	opt.WillPrepare = true
	res, err := w.Resolve(ctx, reg, opt)
	if err != nil {
		return nil, err
	}
	var untrusted []UntrustedRule
	if opt.SkipUntrusted {
		if untrusted, err = w.holdBackUntrusted(res); err != nil {
			return nil, err
		}
	}
	p, err := w.Prepare(res)
	if err != nil {
		return nil, err
	}
	p.Untrusted = untrusted
	return p, nil
}

// UntrustedRule is a rule whose promotions were left out because its exec
// actions are not trusted.
type UntrustedRule struct {
	Rule   string
	Images []string // the images it would have promoted
	Err    *UntrustedError
}

// holdBackUntrusted removes from res the moving decisions of the rules
// whose exec actions would run but are not trusted, and says which.
func (w *Workspace) holdBackUntrusted(res *Resolution) ([]UntrustedRule, error) {
	moving := map[int][]string{}
	for _, d := range res.Decisions {
		if d.Moves() && len(w.rules.list[d.rule].update.Exec) > 0 {
			moving[d.rule] = append(moving[d.rule], d.Image)
		}
	}
	if len(moving) == 0 {
		return nil, nil
	}
	st, err := w.TrustStatus()
	if err != nil {
		return nil, err
	}
	if st.Trusted() {
		return nil, nil
	}
	var out []UntrustedRule
	for i, r := range w.rules.list {
		images, ok := moving[i]
		if !ok {
			continue
		}
		label := ruleName(r.update, i)
		var cmds []string
		for _, c := range r.update.Exec {
			cmds = append(cmds, label+": "+c)
		}
		sort.Strings(images)
		images = slices.Compact(images)
		out = append(out, UntrustedRule{Rule: label, Images: images,
			Err: &UntrustedError{Config: w.Config.Path, Hash: w.Config.Hash, Commands: cmds, Diff: st.Diff}})
	}
	kept := res.Decisions[:0:0]
	for _, d := range res.Decisions {
		if _, held := moving[d.rule]; !held || !d.Moves() {
			kept = append(kept, d)
		}
	}
	res.Decisions = kept
	return out, nil
}

// Prepare builds the plan for a resolution, refuses files with uncommitted
// changes, and renders the new contents without writing them.
func (w *Workspace) Prepare(res *Resolution) (*Proposal, error) {
	return w.PrepareEach(res, nil)
}

// PrepareEach is Prepare for large runs: it hands each file's change, old
// and new contents, to each as soon as it is rendered (in path order), and
// the proposal keeps only what Commit needs, the new contents and a hash of
// the old (edit.Change.Slim), so two copies of every changed file are never
// held at once. A rendering error can come after each has seen earlier
// files. With each nil it is Prepare and keeps both contents.
func (w *Workspace) PrepareEach(res *Resolution, each func(edit.Change) error) (*Proposal, error) {
	p := &Proposal{Resolution: *res, ObjectFormat: w.Repo.ObjectFormat()}
	var inputs []plan.Input
	for _, d := range res.Decisions {
		if !d.Moves() {
			continue
		}
		for _, r := range d.Refs {
			inputs = append(inputs, plan.Input{Match: r.Match, Rule: d.Rule, To: d.Choice.Tag, ToDigest: d.Digest})
		}
	}
	var err error
	p.Plan, err = plan.Build(inputs)
	if err != nil {
		return nil, err
	}
	if dirty, err := w.dirtyPaths(res.dirty, p.Plan.Paths()); err != nil {
		return nil, fmt.Errorf("checking for uncommitted changes: %w", err)
	} else if len(dirty) > 0 {
		return nil, &DirtyError{Paths: dirty}
	}
	if each == nil {
		p.Changes, err = edit.Render(w.Repo.Root, p.Plan)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	err = edit.RenderEach(w.Repo.Root, p.Plan, func(c edit.Change) error {
		if err := each(c); err != nil {
			return err
		}
		p.Changes = append(p.Changes, c.Slim())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Resolve scans, lists the tags of every managed repository once, and lets
// each rule's policy choose.
func (w *Workspace) Resolve(ctx context.Context, reg *registry.Client, opt Options) (*Resolution, error) {
	refs, err := w.Scan(ctx)
	if err != nil {
		return nil, err
	}
	if unused := w.UnusedPrefixes(refs); len(unused) > 0 {
		r := unused[0]
		return nil, &config.Error{File: w.Config.Path, Line: r.Line, Key: "registry prefix",
			Msg: fmt.Sprintf("%q matches no image reference in tracked files", r.Prefix)}
	}
	var dirty *dirtyCheck
	if opt.WillPrepare {
		dirty = w.startDirty(refs)
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}

	// One decision per (image, rule, current tag): the same image referenced
	// from many files is resolved once.
	type key struct {
		repo, current string
		rule          int
	}
	groups := map[key]*Decision{}
	var order []key
	for _, r := range refs {
		if !r.Managed() || !selected(opt.Only, r.Ref) {
			continue
		}
		k := key{r.Ref.Repo(), r.Ref.Tag, r.rule}
		d := groups[k]
		if d == nil {
			d = &Decision{Image: r.Ref.Image(), Repo: k.repo, Rule: r.Rule, Current: r.Ref.Tag, rule: r.rule, Held: opt.Held[r.Ref.Image()]}
			groups[k] = d
			order = append(order, k)
		}
		d.Refs = append(d.Refs, r)
	}
	// A held image keeps its tag whatever the registry says, so it is not
	// asked at all: a registry that fails for it cannot fail the run. The
	// others are grouped by repository, listed once each.
	var repos []string
	byRepo := map[string][]*Decision{}
	pending := 0
	for _, k := range order {
		d := groups[k]
		if d.Held != "" {
			d.Choice = policy.Choice{Current: d.Current, Tag: d.Current, Reason: "held: " + d.Held}
			continue
		}
		if byRepo[k.repo] == nil {
			repos = append(repos, k.repo)
		}
		byRepo[k.repo] = append(byRepo[k.repo], d)
		pending++
	}
	failed := map[string]error{}
	warned := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := 0
	report := func() {
		done++
		if opt.Progress != nil {
			opt.Progress(done, pending)
		}
	}
	// Each repository's decisions start as soon as its tags are listed,
	// while the others are still being listed: the work after the slowest
	// listing is then only that repository's.
	sem := make(chan struct{}, 8)
	reg.TagsEach(ctx, repos, func(repo string, list registry.TagList) {
		mu.Lock()
		defer mu.Unlock()
		if list.Warning != "" {
			warned[repo] = list.Warning
		}
		// The decisions of one rule share its filtering of the tag list.
		sieves := map[int]*policy.Sieve{}
		for _, d := range byRepo[repo] {
			if list.Err != nil {
				failed[d.Image] = list.Err
				report()
				continue
			}
			sieve := sieves[d.rule]
			if sieve == nil {
				sieve = w.rules.list[d.rule].policy.Sieve(list.Tags)
				sieves[d.rule] = sieve
			}
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				err := w.decide(ctx, reg, d, sieve, list, now, opt.KeepVerdict, !opt.NoDigests)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && failed[d.Image] == nil {
					failed[d.Image] = err
				}
				report()
			})
		}
	})
	var warnings []string
	for _, repo := range repos {
		if w := warned[repo]; w != "" {
			warnings = append(warnings, w)
		}
	}
	wg.Wait()

	res := &Resolution{References: refs, Warnings: warnings, dirty: dirty}
	for _, k := range order {
		if d := groups[k]; failed[d.Image] == nil {
			res.Decisions = append(res.Decisions, *d)
		}
	}
	for image, err := range failed {
		res.Failures = append(res.Failures, Failure{Image: image, Err: err})
	}
	sort.Slice(res.Failures, func(i, j int) bool { return res.Failures[i].Image < res.Failures[j].Image })
	sort.Slice(res.Decisions, func(i, j int) bool {
		a, b := res.Decisions[i], res.Decisions[j]
		if a.Image != b.Image {
			return a.Image < b.Image
		}
		return a.Current < b.Current
	})
	_ = reg.Flush() // the cache on disk only saves requests; a failed write costs nothing now
	return res, nil
}

// DirtyError names files that would be edited but have uncommitted changes.
type DirtyError struct{ Paths []string }

func (e *DirtyError) Error() string {
	return fmt.Sprintf("refusing to edit files with uncommitted changes: %s (commit or stash them first)", joinPaths(e.Paths))
}

// decide fetches what the policy needs and lets it choose.
func (w *Workspace) decide(ctx context.Context, reg *registry.Client, d *Decision, sieve *policy.Sieve, list registry.TagList, now time.Time, keep func(int, policy.Verdict) bool, digests bool) error {
	pol := w.rules.list[d.rule].policy
	kept, rejected := sieve.Candidates(d.Current)
	if pol.NeedsPushed(d.Current, kept) && list.Pushed == nil {
		return &policy.PushTimesError{Image: d.Image, API: list.API, FellBack: list.FellBack}
	}
	// Push times come with the listing, where it says them: free.
	current := policy.Tag{Name: d.Current, Pushed: list.Pushed[d.Current]}
	candidates := make([]policy.Tag, len(kept))
	for i, t := range kept {
		candidates[i] = policy.Tag{Name: t, Pushed: list.Pushed[t]}
	}
	if pol.NeedsCreated(d.Current, kept) {
		if err := fillCreated(ctx, reg, d.Repo, &current, candidates); err != nil {
			return err
		}
	}
	if keep == nil {
		// Nothing to explain: the choice alone. It judged every tag, the
		// current one once (kept is sorted and has each tag once).
		d.Choice = pol.Decide(current, candidates, now)
		d.Considered = 1 + len(kept) + len(rejected)
		if _, found := slices.BinarySearch(kept, d.Current); found {
			d.Considered--
		}
	} else {
		d.Choice = pol.Select(current, candidates, now)
		all := append(d.Choice.Verdicts, rejected...)
		d.Considered = len(all)
		d.Choice.Verdicts = nil
		for i, v := range all {
			if keep(i, v) {
				d.Choice.Verdicts = append(d.Choice.Verdicts, v)
			}
		}
	}
	if d.Choice.Err != nil {
		return d.Choice.Err
	}
	pinned := false
	for _, r := range d.Refs {
		pinned = pinned || r.Ref.Digest != ""
	}
	switch {
	case d.Choice.Changed:
		// Reading creation times (fillCreated) gave the digest with them;
		// otherwise a HEAD (or the cached resolution) is enough: the
		// creation time is not needed.
		digest := d.Choice.Digest
		if digest == "" && !pinned && !digests {
			// Only a Laminar-Digest trailer would show it: a dry run
			// writes none, so it costs no request.
			return nil
		}
		if digest == "" {
			var err error
			digest, err = reg.Digest(ctx, d.Repo, d.Choice.Tag)
			if err != nil {
				if pinned {
					return fmt.Errorf("reading digest of %s:%s: %w", d.Image, d.Choice.Tag, err)
				}
				// Elsewhere the digest merely enriches the record.
				return nil
			}
		}
		d.Digest = digest
	case d.Choice.FollowDigest && pinned:
		digest, err := reg.Digest(ctx, d.Repo, d.Current)
		if err != nil {
			return fmt.Errorf("reading digest of %s:%s: %w", d.Image, d.Current, err)
		}
		d.Digest = digest
	}
	return nil
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
		// "app", "acme/app" or the full name: any trailing part of the
		// canonical name at a path boundary, as git laminar log accepts.
		if o == r.Name || o == r.Image() || o == r.Repo() || strings.HasSuffix(r.Image(), "/"+o) {
			return true
		}
		if parsed, err := imageref.Parse(o); err == nil && parsed.Repo() == r.Repo() {
			return true
		}
	}
	return false
}
