package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// ErrWouldOverwrite is wrapped by MoveBranch when a file it has to change
// has uncommitted changes, or an untracked file is where a new file goes.
var ErrWouldOverwrite = errors.New("local changes would be overwritten")

// MoveRequest moves the current branch and the working tree to a commit.
type MoveRequest struct {
	To         string // the commit to move to (full hash)
	ExpectHead string // the commit the branch must still be at; required
	Reflog     string // the reflog message, e.g. "laminar run: fast-forward"
	Who        Signature
}

// MoveBranch moves the current branch (or a detached HEAD) from
// req.ExpectHead to req.To and brings the working tree and index along,
// like `git read-tree -m -u` followed by `git update-ref`, but narrowly:
//
//   - only the paths that differ between the two commits' trees are
//     touched; every other file, tracked, untracked or ignored, and every
//     other index entry stays exactly as it is;
//   - each of those paths must be unmodified (index and working tree equal
//     to the old commit), and a path that is new must not exist in the
//     working tree; otherwise nothing is done and the error wraps
//     ErrWouldOverwrite and names the paths;
//   - files are written atomically (temporary file, then rename); if
//     writing fails part way, the files already written are put back;
//   - the branch moves with a check-and-set under git's ref lock, with
//     reflog entries, and the index is rewritten under index.lock, keeping
//     the resolve-undo extension and dropping caches git rebuilds.
//
// Submodule changes, paths that git would convert on checkout
// (eol, filters) and a sparse or split index are refused.
func (r *Repo) MoveBranch(ctx context.Context, req MoveRequest) error {
	if !r.IsID(req.To) || !r.IsID(req.ExpectHead) {
		return errors.New("move: To and ExpectHead must be full commit hashes")
	}
	// Journaled from before the index is locked, so that a kill at any
	// point leaves nothing Recover cannot settle (see journal.go).
	t, err := r.Begin("branch move", nil)
	if err != nil {
		return fmt.Errorf("move: %w", err)
	}
	ended := false
	defer func() {
		if !ended {
			t.End()
		}
	}()
	ilock, idx, err := r.lockIndex()
	if err != nil {
		return err
	}
	defer ilock.rollback()
	for _, x := range idx.exts {
		if x.sig == "sdir" {
			return errors.New("move: a sparse index is not supported; run `git sparse-checkout disable` or `git config index.sparse false`")
		}
	}
	headHash, headRef, err := r.readHead()
	if err != nil {
		return err
	}
	if headHash != req.ExpectHead {
		return movedError(headRef, req.ExpectHead, headHash)
	}
	if op := r.operationInProgress(); op != "" {
		return fmt.Errorf("move: a %s is in progress; finish or abort it first", op)
	}
	oldC, err := r.commitByName(headHash)
	if err != nil {
		return fmt.Errorf("move: %w", err)
	}
	newC, err := r.commitByName(req.To)
	if err != nil {
		return fmt.Errorf("move: %w", err)
	}
	var changes []treeChange
	if err := r.diffTrees(oldC.TreeHash, newC.TreeHash, "", &changes); err != nil {
		return fmt.Errorf("move: %w", err)
	}
	wc, err := r.loadWorktreeConfig(true)
	if err != nil {
		return err
	}

	// Check every path before touching any.
	var blocked []string
	for i := range changes {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := &changes[i]
		if _, err := cleanPath(c.path); err != nil {
			return fmt.Errorf("move: the tree of %s holds a path that is not safe to write: %w", short(req.To), err)
		}
		for _, e := range []*treeEntry{c.old, c.new} {
			if e != nil && e.mode == filemode.Submodule {
				return fmt.Errorf("move: %s is a submodule; submodule changes are not supported", c.path)
			}
		}
		if c.new != nil {
			content, err := r.ReadBlob(c.new.hash.String())
			if err != nil {
				return fmt.Errorf("move: %s: %w", c.path, err)
			}
			if c.new.mode != filemode.Symlink {
				if err := wc.attrs.checkConversion(c.path, content); err != nil {
					return fmt.Errorf("move: %w", err)
				}
			}
			c.content = content
		}
		ok, err := r.pathAt(idx, c.path, c.old, wc.fileMode)
		if err != nil {
			return fmt.Errorf("move: %w", err)
		}
		if !ok {
			blocked = append(blocked, c.path)
		}
	}
	if len(blocked) > 0 {
		return fmt.Errorf("move to %s: %w: %s", short(req.To), ErrWouldOverwrite, strings.Join(blocked, ", "))
	}

	files := make([]JournalFile, 0, len(changes))
	for _, c := range changes {
		f := JournalFile{Path: c.path}
		if c.old != nil {
			f.Old = c.old.hash.String()
		}
		if c.new != nil {
			f.New = c.new.hash.String()
		}
		files = append(files, f)
	}
	if err := t.Add(files); err != nil {
		return fmt.Errorf("move: %w", err)
	}

	rl, target, err := r.lockHead(headRef)
	if err != nil {
		return fmt.Errorf("move: %w", err)
	}
	defer rl.rollback()
	if cur, curRef, err := r.readHead(); err != nil || cur != headHash || curRef != headRef {
		if err != nil {
			return err
		}
		return movedError(headRef, headHash, cur)
	}

	// Removals first (a file may give way to a directory), then writes.
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].new == nil && changes[j].new != nil })
	var done []*treeChange
	undo := func(cause error) error {
		var errs []error
		var pending []string
		for i := len(done) - 1; i >= 0; i-- {
			if err := r.putBack(done[i]); err != nil {
				errs = append(errs, err)
				pending = append(pending, done[i].path)
			}
		}
		if len(errs) > 0 {
			// The journal stays: the next Recover puts back the rest.
			ended, r.txn = true, nil
			sort.Strings(pending)
			return fmt.Errorf("move: %w\n%w", cause, &UnsettledError{Journal: r.JournalPath(), Op: t.j.Op, PID: t.j.PID, Started: t.j.Started,
				Pending: pending, Cause: errors.Join(errs...)})
		}
		return fmt.Errorf("move: %w (working tree restored)", cause)
	}
	for i := range changes {
		c := &changes[i]
		full := filepath.Join(r.Root, filepath.FromSlash(c.path))
		if c.new == nil {
			if err := os.Remove(full); err != nil && !errors.Is(err, os.ErrNotExist) {
				return undo(err)
			}
			removeEmptyParents(r.Root, filepath.Dir(full))
		} else {
			st, err := r.writeEntry(full, c.new.mode, c.content)
			if err != nil {
				return undo(err)
			}
			c.stat = st
		}
		done = append(done, c)
	}

	subject := req.Reflog
	if subject == "" {
		subject = "laminar: move to " + short(req.To)
	}
	if err := r.updateHead(rl, headRef, headHash, req.To, req.Who, subject, wc.logAll); err != nil {
		return undo(err)
	}
	if err := ilock.commit(idx.rewrite(changes)); err != nil {
		// The journal stays: the next Recover brings the index to HEAD.
		ended, r.txn = true, nil
		return fmt.Errorf("moved %s to %s but the index was not updated: %w", target, short(req.To), &UnsettledError{Journal: r.JournalPath(), Op: t.j.Op, PID: t.j.PID, Started: t.j.Started, Cause: err})
	}
	return nil
}

type treeEntry struct {
	mode filemode.FileMode
	hash oid
}

type treeChange struct {
	path     string
	old, new *treeEntry // nil: absent on that side
	content  []byte     // new content
	stat     statData   // of the file written
}

// diffTrees appends the paths (files, symlinks, submodules) that differ
// between two trees, skipping identical subtrees.
func (r *Repo) diffTrees(oldHash, newHash oid, prefix string, out *[]treeChange) error {
	if oldHash == newHash {
		return nil
	}
	entries := func(h oid) (map[string]treeItem, error) {
		m := map[string]treeItem{}
		if h.isZero() {
			return m, nil
		}
		t, err := r.getTree(h)
		if err != nil {
			return nil, fmt.Errorf("tree %s: %w", h, err)
		}
		for _, e := range t.Entries {
			if e.Name == "" || strings.ContainsAny(e.Name, "/\x00") {
				return nil, fmt.Errorf("tree %s holds an invalid name %q", h, e.Name)
			}
			m[e.Name] = e
		}
		return m, nil
	}
	om, err := entries(oldHash)
	if err != nil {
		return err
	}
	nm, err := entries(newHash)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for n := range om {
		names[n] = true
	}
	for n := range nm {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		o, inOld := om[n]
		nw, inNew := nm[n]
		p := prefix + n
		oDir, nDir := inOld && o.Mode == filemode.Dir, inNew && nw.Mode == filemode.Dir
		var oSub, nSub oid
		if oDir {
			oSub = o.Hash
		}
		if nDir {
			nSub = nw.Hash
		}
		if oDir || nDir {
			if err := r.diffTrees(oSub, nSub, p+"/", out); err != nil {
				return err
			}
		}
		var oe, ne *treeEntry
		if inOld && !oDir {
			oe = &treeEntry{mode: fileModeOf(o.Mode), hash: o.Hash}
		}
		if inNew && !nDir {
			ne = &treeEntry{mode: fileModeOf(nw.Mode), hash: nw.Hash}
		}
		if oe == nil && ne == nil || oe != nil && ne != nil && *oe == *ne {
			continue
		}
		*out = append(*out, treeChange{path: p, old: oe, new: ne})
	}
	return nil
}

func fileModeOf(m filemode.FileMode) filemode.FileMode {
	if m == filemode.Deprecated {
		return filemode.Regular
	}
	return m
}

// pathAt reports whether path is exactly as the old tree has it (absent
// when e is nil) in both the index and the working tree.
func (r *Repo) pathAt(idx *indexFile, p string, e *treeEntry, fileMode bool) (bool, error) {
	full := filepath.Join(r.Root, filepath.FromSlash(p))
	i, unmerged := idx.find(p)
	if unmerged {
		return false, nil
	}
	if e == nil {
		if i >= 0 {
			return false, nil
		}
		_, err := os.Lstat(full)
		return err != nil && (errors.Is(err, os.ErrNotExist) || isNotDir(err)), nil
	}
	if i < 0 {
		return false, nil
	}
	ie := &idx.entries[i]
	if ie.intentToAdd() || ie.skipWorktree() || ie.hash != e.hash || canonicalMode(ie.mode) != uint32(e.mode) {
		return false, nil
	}
	fi, err := os.Lstat(full)
	if err != nil {
		return false, nil
	}
	switch e.mode {
	case filemode.Symlink:
		if fi.Mode()&os.ModeSymlink == 0 {
			return false, nil
		}
		target, err := os.Readlink(full)
		if err != nil {
			return false, nil
		}
		return r.format.sum("blob", []byte(target)) == e.hash, nil
	default:
		if !fi.Mode().IsRegular() {
			return false, nil
		}
		if fileMode && (fi.Mode()&0o100 != 0) != (e.mode == filemode.Executable) {
			return false, nil
		}
		f, err := os.Open(full)
		if err != nil {
			return false, err
		}
		defer f.Close()
		h := r.format.hasher("blob", fi.Size())
		n, err := io.Copy(h, f)
		if err != nil {
			return false, err
		}
		return n == fi.Size() && r.format.oidOf(h) == e.hash, nil
	}
}

func isNotDir(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not a directory")
}

// writeEntry writes a file (atomically) or a symlink and returns the stat
// data git caches for it. Parent directories are created; a parent that is
// not a directory (a symlink, a file) is refused rather than followed.
func (r *Repo) writeEntry(full string, mode filemode.FileMode, content []byte) (statData, error) {
	dir := filepath.Dir(full)
	if err := r.checkParents(dir); err != nil {
		return statData{}, err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return statData{}, err
	}
	if mode == filemode.Symlink {
		tmp := fmt.Sprintf("%s.laminar-%d", full, os.Getpid())
		os.Remove(tmp)
		if err := os.Symlink(string(content), tmp); err != nil {
			return statData{}, err
		}
		if err := os.Rename(tmp, full); err != nil {
			os.Remove(tmp)
			return statData{}, err
		}
	} else {
		perm := os.FileMode(0o666)
		if mode == filemode.Executable {
			perm = 0o777
		}
		// Created with git's modes, under the process's umask.
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.laminar-%d", filepath.Base(full), os.Getpid()))
		os.Remove(tmp)
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err != nil {
			return statData{}, err
		}
		_, werr := f.Write(content)
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			os.Remove(tmp)
			return statData{}, err
		}
		if err := os.Rename(tmp, full); err != nil {
			os.Remove(tmp)
			return statData{}, err
		}
	}
	fi, err := os.Lstat(full)
	if err != nil {
		return statData{}, err
	}
	return statFromFileInfo(fi), nil
}

// checkParents refuses to write below a path component that is a symlink
// or a file: git never writes through a symlink in the working tree.
func (r *Repo) checkParents(dir string) error {
	rel, err := filepath.Rel(r.Root, dir)
	if err != nil || rel == "." {
		return err
	}
	cur := r.Root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s: %w: not a directory", cur, ErrWouldOverwrite)
		}
	}
	return nil
}

// putBack undoes one applied change.
func (r *Repo) putBack(c *treeChange) error {
	full := filepath.Join(r.Root, filepath.FromSlash(c.path))
	if c.old == nil {
		err := os.Remove(full)
		removeEmptyParents(r.Root, filepath.Dir(full))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	content, err := r.ReadBlob(c.old.hash.String())
	if err != nil {
		return err
	}
	_, err = r.writeEntry(full, c.old.mode, content)
	return err
}

func removeEmptyParents(root, dir string) {
	for dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// rewrite returns the index with the changes applied: entries of removed
// paths dropped, entries of new and changed paths written with their new
// object, mode and stat data, every other entry kept as splice keeps it.
// MoveBranch has refused unmerged paths and a sparse index, so only
// stage-0 entries go and there is no "sdir" marker to keep.
func (idx *indexFile) rewrite(changes []treeChange) []byte {
	remove := make(map[string]bool, len(changes))
	var add []newIndexEntry
	for _, c := range changes {
		remove[c.path] = true
		if c.new != nil {
			add = append(add, newIndexEntry{name: c.path, entryData: entryData{mode: uint32(c.new.mode), hash: c.new.hash, stat: c.stat}})
		}
	}
	return idx.splice(add, remove)
}

// UpdateRef points name (a full ref such as "refs/laminar/backup/...") at
// hash, under git's ref lock. When expect is not empty, the ref must still
// point there ("0000…" or "new": must not exist yet).
func (r *Repo) UpdateRef(name, hash, expect, msg string, who Signature) error {
	if !strings.HasPrefix(name, "refs/") || strings.Contains(name, "..") || path.Clean(name) != name || strings.ContainsAny(name, " \t\n~^:?*[\\") {
		return fmt.Errorf("update-ref: %q is not a ref name", name)
	}
	if !r.IsID(hash) {
		return fmt.Errorf("update-ref: %q is not a full hash", hash)
	}
	l, err := r.lockRef(name)
	if err != nil {
		return err
	}
	defer l.rollback()
	cur, ok, err := r.readRef(name)
	if err != nil {
		return err
	}
	switch {
	case expect == "new" && ok:
		return fmt.Errorf("update-ref: %s already exists", name)
	case expect != "" && expect != "new" && cur != expect:
		return fmt.Errorf("update-ref: %s is at %s, expected %s", name, short(cur), short(expect))
	}
	old := cur
	if !ok {
		old = r.format.zeroID()
	}
	if err := r.appendReflog(name, old, hash, who, msg, true); err != nil {
		return err
	}
	return l.commit([]byte(hash + "\n"))
}

// ReadRef returns the commit a full ref name points at; ok is false when
// the ref does not exist.
func (r *Repo) ReadRef(name string) (hash string, ok bool, err error) {
	return r.readRef(name)
}
