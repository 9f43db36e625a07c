package gitrepo

import (
	"fmt"
	"sort"
	"strings"
)

// AddNew puts untracked files into the index, as `git add -- <paths>`
// would, so that Commit can record them: files that a step of the run
// created (the output of an exec action). Each path must be a regular file
// in the working tree that the index does not hold. Its blob is written
// and its index entry added with fresh stat data; every other entry and
// the resolve-undo records are kept, the caches git rebuilds (cache tree,
// untracked cache, fsmonitor) are dropped.
//
// The returned undo removes those entries again, unless something else
// changed them meanwhile; call it when the commit that was to record the
// files fails, to leave the index as it was.
func (r *Repo) AddNew(paths []string) (undo func() error, err error) {
	noop := func() error { return nil }
	if len(paths) == 0 {
		return noop, nil
	}
	clean, err := cleanPaths("add", paths)
	if err != nil {
		return nil, err
	}
	ilock, idx, err := r.lockIndex()
	if err != nil {
		return nil, err
	}
	defer ilock.rollback()
	wc, err := r.loadWorktreeConfig(true)
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(idx.entries))
	for _, e := range idx.entries {
		names[e.name] = true
	}
	var added []newIndexEntry
	for _, p := range clean {
		if names[p] {
			return nil, fmt.Errorf("add: %s is already in the index", p)
		}
		// A file where the index has a directory, or under a path the
		// index has as a file (or a sparse directory), cannot be added.
		if i := sort.Search(len(idx.entries), func(i int) bool { return idx.entries[i].name >= p+"/" }); i < len(idx.entries) && strings.HasPrefix(idx.entries[i].name, p+"/") {
			return nil, fmt.Errorf("add: %s is a directory in the index", p)
		}
		for d := p; strings.Contains(d, "/"); {
			d = d[:strings.LastIndexByte(d, '/')]
			if names[d] || names[d+"/"] {
				return nil, fmt.Errorf("add: %s: %s is a file or sparse directory in the index", p, d)
			}
		}
		data, err := r.stageFile("add", p, wc, modeRegular|0o644)
		if err != nil {
			return nil, err
		}
		added = append(added, newIndexEntry{name: p, entryData: data})
	}
	if err := ilock.commit(idx.splice(added, nil)); err != nil {
		return nil, fmt.Errorf("add: writing the index: %w", err)
	}
	return func() error { return r.removeAdded(added) }, nil
}

// removeAdded drops the stage-0 entries AddNew made, where they still hold
// the object it wrote.
func (r *Repo) removeAdded(added []newIndexEntry) error {
	ilock, idx, err := r.lockIndex()
	if err != nil {
		return err
	}
	defer ilock.rollback()
	remove := map[string]bool{}
	for _, a := range added {
		if i, _ := idx.find(a.name); i >= 0 && idx.entries[i].hash == a.hash {
			remove[a.name] = true
		}
	}
	if len(remove) == 0 {
		return nil
	}
	if err := ilock.commit(idx.splice(nil, remove)); err != nil {
		return fmt.Errorf("restoring the index: %w", err)
	}
	return nil
}
