package gitrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// An operation that rewrites files of the working tree and then moves HEAD
// (a promotion commit, a branch move) is not atomic: a kill, a crash or a
// full disk can stop it with some files rewritten and HEAD not moved, or
// HEAD moved and the index not updated, with git's lock files left behind.
// Such an operation therefore records itself, before it writes the first
// file, in a journal in the worktree's git dir: HEAD at the start, and for
// each path the blob it held (HEAD's: the files must be clean) and the
// blob it is to hold. While the journal exists, each lock file the
// operation takes is recorded too, by inode, before it is taken.
//
// Whoever finds the journal later settles it (Recover): every journaled
// path is brought to what HEAD now holds, which finishes the operation if
// HEAD moved (the commit was made) and undoes it if not. A path is only
// ever written when each of its working tree file and index entry holds
// either the old or the new content of the journal, so nothing anyone
// changed since is overwritten: such a path is refused by name and the
// journal kept.

// JournalName is the journal's file name in the worktree's git dir.
const JournalName = "laminar-journal"

const journalMagic = "laminar-journal 1\n"

// JournalFile is one path an operation changes.
type JournalFile struct {
	Path string `json:"path"`          // slash-separated, relative to Root
	Old  string `json:"old,omitempty"` // blob before; "" when the path did not exist
	New  string `json:"new,omitempty"` // blob the operation writes; "" when it removes the path
}

// journalLock is a lock file the operation took: removed by Recover only
// when the file there is still this inode.
type journalLock struct {
	Path string `json:"path"` // absolute
	Tmp  string `json:"tmp"`  // the private name it is made under, then linked to Path
	Dev  uint64 `json:"dev"`
	Ino  uint64 `json:"ino"`
}

type journal struct {
	Op      string        `json:"op"`
	PID     int           `json:"pid"`
	Host    string        `json:"host,omitempty"`
	Started time.Time     `json:"started"`
	Head    string        `json:"head"`
	Ref     string        `json:"ref,omitempty"`
	Files   []JournalFile `json:"files"`
	// Watching says a command (an exec action) is running that may
	// change files outside Files; Watch then holds the blob of every
	// file that was dirty or untracked before it started ("" for a
	// tracked file that was missing). Tracked files not in Watch were
	// clean.
	Watching bool              `json:"watching,omitempty"`
	Watch    map[string]string `json:"watch,omitempty"`
	Locks    []journalLock     `json:"locks,omitempty"`
}

// ErrJournal is wrapped by the errors about an unreadable journal.
var ErrJournal = errors.New("unreadable journal")

// parseJournal reads a journal file: the magic line, one line of JSON and
// the SHA-256 of that line. Anything else, or a digest that does not
// match (a torn or edited file), is refused.
func parseJournal(data []byte) (*journal, error) {
	rest, ok := bytes.CutPrefix(data, []byte(journalMagic))
	if !ok {
		return nil, fmt.Errorf("%w: no %q header", ErrJournal, strings.TrimSpace(journalMagic))
	}
	body, sumLine, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return nil, fmt.Errorf("%w: truncated", ErrJournal)
	}
	want, ok := bytes.CutPrefix(sumLine, []byte("sha256 "))
	if !ok || !bytes.HasSuffix(want, []byte("\n")) || bytes.Count(want, []byte("\n")) != 1 {
		return nil, fmt.Errorf("%w: truncated", ErrJournal)
	}
	sum := sha256.Sum256(body)
	if string(bytes.TrimSuffix(want, []byte("\n"))) != hex.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrJournal)
	}
	var j journal
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	if err := j.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	return &j, nil
}

func (j *journal) validate() error {
	if !isHexHash(j.Head) {
		return fmt.Errorf("head %q is not a commit hash", j.Head)
	}
	if j.Ref != "" && !strings.HasPrefix(j.Ref, "refs/") {
		return fmt.Errorf("ref %q is not a ref", j.Ref)
	}
	seen := map[string]bool{}
	for _, f := range j.Files {
		c, err := cleanPath(f.Path)
		if err != nil || c != f.Path {
			return fmt.Errorf("path %q is not a clean relative path", f.Path)
		}
		if seen[f.Path] {
			return fmt.Errorf("path %q listed twice", f.Path)
		}
		seen[f.Path] = true
		for _, h := range []string{f.Old, f.New} {
			if h != "" && !isHexHash(h) {
				return fmt.Errorf("%s: %q is not an object hash", f.Path, h)
			}
		}
	}
	for p, h := range j.Watch {
		if c, err := cleanPath(p); err != nil || c != p {
			return fmt.Errorf("watched path %q is not a clean relative path", p)
		}
		if h != "" && !isHexHash(h) {
			return fmt.Errorf("%s: %q is not an object hash", p, h)
		}
	}
	for _, l := range j.Locks {
		if !filepath.IsAbs(l.Path) || filepath.Clean(l.Path) != l.Path || !strings.HasSuffix(l.Path, ".lock") {
			return fmt.Errorf("lock %q is not a lock file", l.Path)
		}
		if n, ok := strings.CutPrefix(l.Tmp, l.Path+".laminar-"); !ok || n == "" || strings.Trim(n, "0123456789") != "" {
			return fmt.Errorf("lock %q: temporary name %q is not ours", l.Path, l.Tmp)
		}
	}
	return nil
}

func (j *journal) encode() []byte {
	body, err := json.Marshal(j)
	if err != nil {
		panic(err) // plain strings, numbers and a time: cannot fail
	}
	sum := sha256.Sum256(body)
	var b bytes.Buffer
	b.WriteString(journalMagic)
	b.Write(body)
	b.WriteString("\nsha256 ")
	b.WriteString(hex.EncodeToString(sum[:]))
	b.WriteString("\n")
	return b.Bytes()
}

// JournalPath is where the journal of this worktree lives.
func (r *Repo) JournalPath() string { return filepath.Join(r.GitDir, JournalName) }

func (r *Repo) journalTmp() string { return r.JournalPath() + ".tmp" }

// saveJournal replaces the journal atomically and durably: a temporary
// file, fsync, rename, fsync of the directory.
func (r *Repo) saveJournal(j *journal) error {
	tmp := r.journalTmp()
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(j.encode())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, r.JournalPath()); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(r.GitDir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// Txn is a running journaled operation (see Begin).
type Txn struct {
	r     *Repo
	j     journal
	ended bool // the journal is removed: nothing may write it again
}

// Begin records, durably, that op is about to change files on top of the
// current HEAD, before the first of them is written. Until End (success)
// or Settle, every lock file the repository takes is journaled too. It
// fails when a journal is already there: Recover first.
func (r *Repo) Begin(op string, files []JournalFile) (*Txn, error) {
	if r.txn != nil {
		return nil, fmt.Errorf("journal: %s is already running", r.txn.j.Op)
	}
	if _, err := os.Lstat(r.JournalPath()); err == nil {
		return nil, fmt.Errorf("journal: %s exists: an interrupted operation must be recovered first", r.JournalPath())
	}
	head, ref, err := r.readHead()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	t := &Txn{r: r, j: journal{Op: op, PID: os.Getpid(), Host: host, Started: time.Now().UTC(), Head: head, Ref: ref}}
	for _, f := range files {
		t.j.put(f)
	}
	if err := r.saveJournal(&t.j); err != nil {
		return nil, fmt.Errorf("recording the %s in %s: %w", op, r.JournalPath(), err)
	}
	r.txn = t
	return t, nil
}

// put adds f, or updates the new content of a path already listed (the
// old content stays what the path held before the operation).
func (j *journal) put(f JournalFile) {
	for i := range j.Files {
		if j.Files[i].Path == f.Path {
			j.Files[i].New = f.New
			return
		}
	}
	j.Files = append(j.Files, f)
}

// Add records more paths the operation changes, before it writes them.
func (t *Txn) Add(files []JournalFile) error {
	for _, f := range files {
		t.j.put(f)
	}
	return t.save()
}

// Forget drops paths the operation turned out not to touch, so that
// settling leaves them alone.
func (t *Txn) Forget(paths []string) {
	drop := make(map[string]bool, len(paths))
	for _, p := range paths {
		drop[p] = true
	}
	kept := t.j.Files[:0]
	for _, f := range t.j.Files {
		if !drop[f.Path] {
			kept = append(kept, f)
		}
	}
	t.j.Files = kept
	// Best effort: on disk, a path still listed holds its old content
	// and is settled as untouched.
	_ = t.save()
}

// Watch records that a command that may change any file is about to run;
// before holds the blob of each dirty or untracked file (see journal).
func (t *Txn) Watch(before map[string]string) error {
	t.j.Watching, t.j.Watch = true, before
	return t.save()
}

// Watched records that the command has finished and that files are what
// it changed or created, and stops watching.
func (t *Txn) Watched(files []JournalFile) error {
	for _, f := range files {
		t.j.put(f)
	}
	t.j.Watching, t.j.Watch = false, nil
	return t.save()
}

func (t *Txn) save() error {
	if t.ended {
		return nil
	}
	if err := t.r.saveJournal(&t.j); err != nil {
		return fmt.Errorf("updating %s: %w", t.r.JournalPath(), err)
	}
	return nil
}

// End removes the journal of an operation that finished: HEAD, index and
// working tree agree.
func (t *Txn) End() error {
	t.r.txn, t.ended = nil, true
	os.Remove(t.r.journalTmp())
	if err := os.Remove(t.r.JournalPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", t.r.JournalPath(), err)
	}
	return syncDir(t.r.GitDir)
}

// takeLock creates lockPath (git's "<file>.lock") as an operation in a
// journal does: the file is made under a private name, its inode recorded
// in the journal, and only then linked to the lock's name, which fails if
// the lock exists. So a lock left by a kill is always known to be ours,
// and one taken by anyone else never is.
func (t *Txn) takeLock(lockPath string) (*os.File, error) {
	tmp := fmt.Sprintf("%s.laminar-%d", lockPath, os.Getpid())
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	dev, ino := fileID(fi)
	t.j.Locks = append(t.j.Locks, journalLock{Path: lockPath, Tmp: tmp, Dev: dev, Ino: ino})
	if err := t.save(); err != nil {
		t.j.Locks = t.j.Locks[:len(t.j.Locks)-1]
		return fail(err)
	}
	if err := os.Link(tmp, lockPath); err != nil {
		t.dropLock(lockPath)
		return fail(err)
	}
	os.Remove(tmp)
	return f, nil
}

// dropLock forgets a lock that was released.
func (t *Txn) dropLock(lockPath string) {
	for i, l := range t.j.Locks {
		if l.Path == lockPath {
			t.j.Locks = append(t.j.Locks[:i], t.j.Locks[i+1:]...)
			// If this save fails, the journal names a lock that is gone:
			// Recover checks the inode before it removes anything.
			_ = t.save()
			return
		}
	}
}

// removeOurLocks removes the lock files the journal proves were ours and
// returns them.
func (r *Repo) removeOurLocks(j *journal) []string {
	var out []string
	for _, l := range j.Locks {
		if d := filepath.Dir(l.Path); !within(d, r.GitDir) && !within(d, r.CommonDir) {
			continue // not a lock of this repository's: never ours to remove
		}
		for _, p := range []string{l.Tmp, l.Path} {
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if dev, ino := fileID(fi); dev == l.Dev && ino == l.Ino && os.Remove(p) == nil && p == l.Path {
				out = append(out, p)
			}
		}
	}
	return out
}

func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}
