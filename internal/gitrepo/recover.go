package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Settled says what settling a journal did.
type Settled struct {
	Op      string    // the operation that was interrupted ("bump", ...)
	PID     int       // its process
	Started time.Time // when it began
	// Committed: HEAD had moved past the operation's start with every
	// path at its new content, so it was finished rather than undone.
	Committed bool
	Restored  []string // paths put back to their old content
	Completed []string // paths brought forward to their new content
	Index     []string // paths whose index entry was reset to HEAD
	Locks     []string // lock files of the operation's removed
	Temps     []string // temporary files of the operation's removed
}

// PathProblem is a journaled path that cannot be settled safely.
type PathProblem struct {
	Path    string
	Problem string
}

// UnsettledError is an operation recorded in the journal that could not be
// finished nor undone. The journal stays; nothing anyone changed was
// overwritten.
type UnsettledError struct {
	Journal string
	Op      string
	PID     int
	Started time.Time
	// Problems are paths that hold something the operation did not
	// write: the user's to sort out.
	Problems []PathProblem
	// Pending are paths that still hold the operation's new content,
	// not committed, because writing them back failed (Cause: a full
	// disk, say); Behind are paths that still hold their old content
	// although HEAD has the new (the commit was made).
	Pending []string
	Behind  []string
	Cause   error
}

func (e *UnsettledError) Error() string {
	var b strings.Builder
	what := "the " + e.Op
	if e.PID != os.Getpid() {
		what = "an interrupted " + e.Op
		if e.PID != 0 {
			what += fmt.Sprintf(" (pid %d, started %s)", e.PID, e.Started.Local().Format(time.RFC3339))
		}
	}
	if len(e.Problems) > 0 {
		fmt.Fprintf(&b, "%s is recorded in %s and cannot be undone without overwriting changes made since:", what, e.Journal)
		for _, p := range e.Problems {
			fmt.Fprintf(&b, "\n  %s: %s", p.Path, p.Problem)
		}
		b.WriteString("\nPut these files back (git restore, or remove what you did not create) or commit them; the next run then undoes the rest.")
		return b.String()
	}
	if len(e.Pending)+len(e.Behind) > 0 {
		list := func(n int, paths []string, state string) {
			fmt.Fprintf(&b, "%d file(s) %s:", n, state)
			for _, p := range paths {
				b.WriteString("\n  " + p)
			}
			b.WriteString("\n")
		}
		if e.Cause != nil {
			fmt.Fprintf(&b, "putting back the files of %s failed: %v\n", what, e.Cause)
		}
		if len(e.Pending) > 0 {
			list(len(e.Pending), e.Pending, "still hold the new content, which is not committed")
		}
		if len(e.Behind) > 0 {
			list(len(e.Behind), e.Behind, "still hold the old content, although HEAD has the new")
		}
		fmt.Fprintf(&b, "They are recorded in %s: once the cause is fixed (space freed), the next bump or run settles them first, then promotes again.", e.Journal)
		return b.String()
	}
	fmt.Fprintf(&b, "%s is recorded in %s and could not be settled", what, e.Journal)
	if e.Cause != nil {
		fmt.Fprintf(&b, ": %v", e.Cause)
	}
	return b.String()
}

func (e *UnsettledError) Unwrap() error { return e.Cause }

// Recover settles the journal an interrupted operation left in this
// worktree, if any (see journal.go); it returns nil, nil when there is
// none. The caller must hold the repository's laminar lock, so that the
// operation's process is known to be gone. On an *UnsettledError the
// journal stays for the next attempt.
func (r *Repo) Recover(ctx context.Context) (*Settled, error) {
	data, err := os.ReadFile(r.JournalPath())
	if errors.Is(err, fs.ErrNotExist) {
		os.Remove(r.journalTmp()) // a journal that was never put in place
		return nil, nil
	}
	if err != nil {
		return nil, &UnsettledError{Journal: r.JournalPath(), Op: "operation", Cause: err}
	}
	j, err := parseJournal(data)
	if err != nil {
		return nil, &UnsettledError{Journal: r.JournalPath(), Op: "operation",
			Cause: fmt.Errorf("%w; check git status, put back what you do not want, then remove the file", err)}
	}
	t := &Txn{r: r, j: *j}
	r.txn = t
	return t.Settle(ctx)
}

// Settle brings every journaled path to what HEAD holds now, resets their
// index entries to HEAD, removes the operation's lock and temporary files
// and then the journal. It is what an operation that failed part way calls
// to undo itself, and what Recover does for one that was killed.
func (t *Txn) Settle(ctx context.Context) (*Settled, error) {
	r, j := t.r, &t.j
	unsettled := func(e *UnsettledError) (*Settled, error) {
		r.txn = nil
		e.Journal, e.Op, e.PID, e.Started = r.JournalPath(), j.Op, j.PID, j.Started
		return nil, e
	}
	s := &Settled{Op: j.Op, PID: j.PID, Started: j.Started}
	s.Locks = r.removeOurLocks(j)
	if len(s.Locks) > 0 {
		// Best effort: a record of a lock that is gone is harmless, the
		// inode is checked before anything is removed.
		t.j.Locks = nil
		_ = t.save()
	}

	ilock, idx, err := r.lockIndex()
	if err != nil && noSpace(err) {
		// The journal cannot grow on a full disk; putting files back
		// must not depend on it.
		r.txn = nil
		ilock, idx, err = r.lockIndex()
		r.txn = t
	}
	if err != nil {
		return unsettled(&UnsettledError{Cause: err})
	}
	defer ilock.rollback()
	headHash, _, err := r.readHead()
	if err != nil {
		return unsettled(&UnsettledError{Cause: err})
	}
	tree, err := r.commitTree(headHash)
	if err != nil {
		return unsettled(&UnsettledError{Cause: err})
	}
	wc, err := r.loadWorktreeConfig(false)
	if err != nil {
		return unsettled(&UnsettledError{Cause: err})
	}

	type state struct {
		f       JournalFile
		head    *treeItem // nil: HEAD has no such file
		h, i, w string
	}
	var states []state
	var problems []PathProblem
	allNew := headHash != j.Head
	for _, f := range j.Files {
		if err := ctx.Err(); err != nil {
			return unsettled(&UnsettledError{Cause: err})
		}
		st := state{f: f}
		te, err := r.findEntry(tree, f.Path)
		switch {
		case err == nil && (te.Mode == filemode.Regular || te.Mode == filemode.Executable || te.Mode == filemode.Deprecated):
			st.head, st.h = te, te.Hash.String()
		case err == nil:
			problems = append(problems, PathProblem{f.Path, "is not a regular file in HEAD"})
			continue
		case !errors.Is(err, errEntryNotFound):
			return unsettled(&UnsettledError{Cause: fmt.Errorf("%s in HEAD: %w", f.Path, err)})
		}
		if st.h != f.New {
			allNew = false
		}
		i, unmerged := idx.find(f.Path)
		if unmerged {
			problems = append(problems, PathProblem{f.Path, "has merge conflicts"})
			continue
		}
		if i >= 0 {
			st.i = idx.entries[i].hash.String()
		}
		w, err := r.worktreeBlob(f.Path)
		if err != nil {
			problems = append(problems, PathProblem{f.Path, err.Error()})
			continue
		}
		st.w = w
		ours := func(x string) bool { return x == f.Old || x == f.New }
		switch {
		case st.w != st.h && !ours(st.w):
			problems = append(problems, PathProblem{f.Path, "holds neither its content before nor the content git laminar wrote: it was changed since"})
		case st.w != st.h && !ours(st.h):
			problems = append(problems, PathProblem{f.Path, "was changed by a commit made since (HEAD is now " + short(headHash) + ")"})
		case st.i != st.h && !ours(st.i):
			problems = append(problems, PathProblem{f.Path, "has staged changes made since"})
		default:
			states = append(states, st)
		}
	}
	if j.Watching {
		more, err := r.watchProblems(idx, tree, wc, j)
		if err != nil {
			return unsettled(&UnsettledError{Cause: err})
		}
		problems = append(problems, more...)
	}
	if len(problems) > 0 {
		return unsettled(&UnsettledError{Problems: problems})
	}
	s.Committed = allNew && len(j.Files) > 0

	// The working tree.
	var pending, behind []string
	var firstErr error
	remove := map[string]bool{}
	var add []newIndexEntry
	for _, st := range states {
		full := filepath.Join(r.Root, filepath.FromSlash(st.f.Path))
		if st.w != st.h {
			var err error
			if st.head == nil {
				if err = os.Remove(full); errors.Is(err, fs.ErrNotExist) {
					err = nil
				}
				removeEmptyParents(r.Root, filepath.Dir(full))
			} else {
				err = r.restoreFile(full, st.head)
			}
			if err != nil {
				if st.w == st.f.New {
					pending = append(pending, st.f.Path)
				} else {
					behind = append(behind, st.f.Path)
				}
				if firstErr == nil {
					firstErr = fmt.Errorf("writing %s: %w", st.f.Path, err)
				}
				continue
			}
			if st.h == st.f.Old {
				s.Restored = append(s.Restored, st.f.Path)
			} else {
				s.Completed = append(s.Completed, st.f.Path)
			}
		}
		if st.i == st.h && st.w == st.h {
			continue
		}
		if st.head != nil {
			fi, err := os.Lstat(full)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				behind = append(behind, st.f.Path)
				continue
			}
			mode := uint32(st.head.Mode)
			if wc.fileMode {
				mode = modeRegular | 0o644
				if fi.Mode()&0o100 != 0 {
					mode = modeRegular | 0o755
				}
			}
			add = append(add, newIndexEntry{name: st.f.Path, entryData: entryData{mode: mode, hash: st.head.Hash, stat: statFromFileInfo(fi)}})
		}
		remove[st.f.Path] = true
		s.Index = append(s.Index, st.f.Path)
	}
	if len(remove) > 0 {
		if err := ilock.commit(idx.splice(add, remove)); err != nil {
			return unsettled(&UnsettledError{Pending: pending, Behind: behind, Cause: errors.Join(firstErr, fmt.Errorf("writing the index: %w", err))})
		}
	}
	if len(pending)+len(behind) > 0 {
		return unsettled(&UnsettledError{Pending: pending, Behind: behind, Cause: firstErr})
	}
	ilock.rollback() // before End: releasing a journaled lock writes the journal
	s.Temps = r.removeTemps(j)
	if err := t.End(); err != nil {
		return unsettled(&UnsettledError{Cause: err})
	}
	sort.Strings(s.Restored)
	sort.Strings(s.Completed)
	return s, nil
}

// worktreeBlob is the blob name of the working tree file at p ("" when
// there is none).
func (r *Repo) worktreeBlob(p string) (string, error) {
	full := filepath.Join(r.Root, filepath.FromSlash(p))
	fi, err := os.Lstat(full)
	if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("is no longer a regular file")
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return "", err
	}
	return r.BlobHash(data), nil
}

// watchProblems lists the files an interrupted command may have changed:
// tracked files that were clean and are not, dirty or untracked files that
// changed, files that are new. Whether the command or someone since did
// it cannot be told, so none of them is touched.
func (r *Repo) watchProblems(idx *indexFile, tree *treeObj, wc *worktreeConfig, j *journal) ([]PathProblem, error) {
	mine := map[string]bool{}
	for _, f := range j.Files {
		mine[f.Path] = true
	}
	const why = "may have been changed by an exec action that was interrupted, or since"
	var out []PathProblem
	for i := range idx.entries {
		e := &idx.entries[i]
		if e.stage() != 0 || mine[e.name] {
			continue
		}
		before, watched := j.Watch[e.name]
		if !watched {
			dirty, err := r.pathDirty(idx, tree, e.name, wc.fileMode)
			if err != nil {
				return nil, err
			}
			if dirty {
				out = append(out, PathProblem{e.name, why})
			}
			continue
		}
		now, err := r.worktreeBlob(e.name)
		if err != nil || now != before {
			out = append(out, PathProblem{e.name, why})
		}
	}
	untracked, err := r.UntrackedFiles()
	if err != nil {
		return nil, err
	}
	for _, p := range untracked {
		if mine[p] {
			continue
		}
		before, watched := j.Watch[p]
		now, err := r.worktreeBlob(p)
		if !watched || err != nil || now != before {
			out = append(out, PathProblem{p, "is new or changed: " + why})
		}
	}
	return out, nil
}

// restoreFile writes HEAD's content for a journaled path. It writes a
// temporary file and renames it, like every write of ours; when that
// fails for want of space, it overwrites the file in place where that
// needs no new space (see overwriteInPlace), so that a full disk does not
// keep a file from going back.
func (r *Repo) restoreFile(full string, head *treeItem) error {
	content, err := r.ReadBlob(head.Hash.String())
	if err != nil {
		return err
	}
	mode := fileModeOf(head.Mode)
	_, err = r.writeEntry(full, mode, content)
	if err == nil || !noSpace(err) {
		return err
	}
	if ierr := overwriteInPlace(full, content); ierr != nil {
		return fmt.Errorf("%w; nor in place: %v", err, ierr)
	}
	return nil
}

func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// overwriteInPlace makes the file at full hold content by rewriting only
// the bytes that differ, in place, and truncating: no block is allocated
// when the content fits in the blocks the file already has (a tag put
// back, on a filesystem that does not copy on write). It refuses content
// that would need more.
func overwriteInPlace(full string, content []byte) error {
	f, err := os.OpenFile(full, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if int64(len(content)) > allocated(fi) {
		return fmt.Errorf("%d bytes do not fit in the %d the file has", len(content), allocated(fi))
	}
	cur := make([]byte, fi.Size())
	if _, err := f.ReadAt(cur, 0); err != nil {
		return err
	}
	start := 0
	for start < len(cur) && start < len(content) && cur[start] == content[start] {
		start++
	}
	if start < len(content) {
		if _, err := f.WriteAt(content[start:], int64(start)); err != nil {
			return err
		}
	}
	if int64(len(content)) < fi.Size() {
		if err := f.Truncate(int64(len(content))); err != nil {
			return err
		}
	}
	return f.Sync()
}

// removeTemps removes the temporary files our writers make beside a file
// (".<name>.laminar-*": edit and MoveBranch; "<name>.laminar-<pid>":
// MoveBranch's symlinks) next to each journaled path, and nowhere else.
func (r *Repo) removeTemps(j *journal) []string {
	var out []string
	for _, f := range j.Files {
		full := filepath.Join(r.Root, filepath.FromSlash(f.Path))
		dir, base := filepath.Split(full)
		for _, pat := range []string{"." + globEscape(base) + ".laminar-*", globEscape(base) + ".laminar-[0-9]*"} {
			matches, _ := filepath.Glob(filepath.Join(globEscape(filepath.Clean(dir)), pat))
			for _, m := range matches {
				if fi, err := os.Lstat(m); err == nil && !fi.IsDir() && os.Remove(m) == nil {
					out = append(out, m)
				}
			}
		}
	}
	// The private names locks are made under (Txn.takeLock): one left by
	// a kill before the journal recorded it has no other owner, since the
	// caller holds the laminar lock.
	locks := []string{filepath.Join(r.GitDir, "index.lock"), filepath.Join(r.GitDir, "HEAD.lock")}
	if j.Ref != "" {
		locks = append(locks, r.refPath(j.Ref)+".lock")
	}
	mine := fmt.Sprintf(".laminar-%d", os.Getpid())
	for _, l := range locks {
		matches, _ := filepath.Glob(globEscape(l) + ".laminar-[0-9]*")
		for _, m := range matches {
			if n := strings.TrimPrefix(m, l+".laminar-"); strings.Trim(n, "0123456789") != "" || strings.HasSuffix(m, mine) {
				continue
			}
			if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() && os.Remove(m) == nil {
				out = append(out, m)
			}
		}
	}
	// The index the commit hooks were given (prepareMessage).
	matches, _ := filepath.Glob(filepath.Join(globEscape(r.GitDir), "laminar-index-[0-9]*"))
	for _, m := range matches {
		if n := strings.TrimPrefix(filepath.Base(m), "laminar-index-"); strings.Trim(n, "0123456789") != "" || n == fmt.Sprint(os.Getpid()) {
			continue
		}
		if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() && os.Remove(m) == nil {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
