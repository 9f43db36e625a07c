package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// TrackedFile is a regular file recorded in the index.
type TrackedFile struct {
	Path string // slash-separated, relative to Root
	Mode string // "100644" or "100755"
}

// TrackedFiles lists the regular files of the index: slash-separated paths
// relative to Root, sorted. Symlinks, submodules (gitlinks), sparse
// directory entries, conflicted paths, intent-to-add entries and entries
// outside a sparse checkout (skip-worktree) are left out: none of them is a
// file git-laminar could edit and commit.
func (r *Repo) TrackedFiles() ([]TrackedFile, error) {
	idx, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	out := make([]TrackedFile, 0, len(idx.entries))
	for i := range idx.entries {
		e := &idx.entries[i]
		if !e.isRegularFile() || e.stage() != 0 || e.intentToAdd() || e.skipWorktree() {
			continue
		}
		if i+1 < len(idx.entries) && idx.entries[i+1].name == e.name {
			continue // also has conflict stages
		}
		mode := "100644"
		if e.mode&0o111 != 0 {
			mode = "100755"
		}
		out = append(out, TrackedFile{Path: e.name, Mode: mode})
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].Path < out[j].Path }) {
		sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	}
	return out, nil
}

// TrackedSymlinks lists the symbolic links of the index (stage 0, in the
// working tree), as TrackedFiles lists regular files: slash-separated
// paths relative to Root, sorted.
func (r *Repo) TrackedSymlinks() ([]string, error) {
	idx, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	var out []string
	for i := range idx.entries {
		e := &idx.entries[i]
		if e.mode&modeTypeMask != modeSymlink || e.stage() != 0 || e.intentToAdd() || e.skipWorktree() {
			continue
		}
		if i+1 < len(idx.entries) && idx.entries[i+1].name == e.name {
			continue
		}
		out = append(out, e.name)
	}
	sort.Strings(out)
	return out, nil
}

// Dirty returns, in the order given, those paths (slash-separated,
// relative to Root) that have uncommitted changes: the working tree file
// differs from the index (content, or executable bit when core.fileMode is
// on), the index differs from HEAD (a staged change), or the path is
// missing, untracked, conflicted or not a regular file. Contents are hashed
// rather than trusting cached stat data. Only the given paths are examined.
func (r *Repo) Dirty(paths []string) ([]string, error) {
	idx, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	tree, err := r.headTree()
	if err != nil && !errors.Is(err, ErrUnbornBranch) {
		return nil, err
	}
	wc, err := r.loadWorktreeConfig(false)
	if err != nil {
		return nil, err
	}
	var dirty []string
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		clean, err := cleanPath(p)
		if err != nil {
			return nil, err
		}
		d, err := r.pathDirty(idx, tree, clean, wc.fileMode)
		if err != nil {
			return nil, err
		}
		if d {
			dirty = append(dirty, p)
		}
	}
	return dirty, nil
}

func (r *Repo) pathDirty(idx *indexFile, tree *treeObj, p string, fileMode bool) (bool, error) {
	i, unmerged := idx.find(p)
	if i < 0 || unmerged {
		return true, nil
	}
	e := &idx.entries[i]
	if !e.isRegularFile() || e.intentToAdd() || e.skipWorktree() {
		return true, nil
	}
	// Staged change: index entry against HEAD's tree.
	if tree == nil {
		return true, nil
	}
	te, err := r.findEntry(tree, p)
	if errors.Is(err, errEntryNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s in HEAD: %w", p, err)
	}
	if te.Hash != e.hash || uint32(te.Mode) != canonicalMode(e.mode) {
		return true, nil
	}
	// Unstaged change: working tree against the index.
	f, err := os.Open(filepath.Join(r.Root, filepath.FromSlash(p)))
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := os.Lstat(f.Name())
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return true, nil
	}
	if fileMode && (fi.Mode()&0o100 != 0) != (e.mode&0o111 != 0) {
		return true, nil
	}
	h := r.format.hasher("blob", fi.Size())
	buf := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(buf)
	// The struct hides *os.File's WriteTo, which would allocate a buffer
	// of its own for every file.
	n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, *buf)
	if err != nil {
		return false, fmt.Errorf("%s: %w", p, err)
	}
	if n != fi.Size() {
		return true, nil // changing while we read it
	}
	return r.format.oidOf(h) != e.hash, nil
}

// hashBuffers are the read buffers of pathDirty: a check over 200,000
// files would otherwise allocate 32 KB for each.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// canonicalMode maps an index mode to the mode a tree records.
func canonicalMode(m uint32) uint32 {
	switch m & modeTypeMask {
	case modeRegular:
		if m&0o111 != 0 {
			return uint32(filemode.Executable)
		}
		return uint32(filemode.Regular)
	case modeSymlink:
		return uint32(filemode.Symlink)
	case modeGitlink:
		return uint32(filemode.Submodule)
	}
	return m
}

// SparseFiles lists the regular files of the index that are outside a
// sparse checkout (skip-worktree), with the blob each records: files a
// commit of the working tree cannot change, which TrackedFiles leaves out.
func (r *Repo) SparseFiles() ([]TreeFile, error) {
	idx, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	var out []TreeFile
	for i := range idx.entries {
		e := &idx.entries[i]
		if e.mode&modeTypeMask == modeDirectory && e.skipWorktree() {
			// A sparse index holds a directory outside the cone as one
			// entry: its files are those of the tree it records.
			files, err := r.treeFilesUnder(e.hash, strings.TrimSuffix(e.name, "/"))
			if err != nil {
				return nil, err
			}
			out = append(out, files...)
			continue
		}
		if !e.isRegularFile() || e.stage() != 0 || !e.skipWorktree() {
			continue
		}
		mode := "100644"
		if e.mode&0o111 != 0 {
			mode = "100755"
		}
		out = append(out, TreeFile{Path: e.name, Mode: mode, Hash: e.hash.String()})
	}
	return out, nil
}

// treeFilesUnder lists the regular files of tree h, named below dir.
func (r *Repo) treeFilesUnder(h oid, dir string) ([]TreeFile, error) {
	tree, err := r.getTree(h)
	if err != nil {
		return nil, fmt.Errorf("tree %s of %s: %w", h, dir, err)
	}
	var out []TreeFile
	err = r.walkFiles(tree, dir+"/", func(name string, e *treeItem) error {
		if e.Mode != filemode.Regular && e.Mode != filemode.Executable && e.Mode != filemode.Deprecated {
			return nil
		}
		mode := "100644"
		if e.Mode == filemode.Executable {
			mode = "100755"
		}
		out = append(out, TreeFile{Path: name, Mode: mode, Hash: e.Hash.String()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", dir, err)
	}
	return out, nil
}
