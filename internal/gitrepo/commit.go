package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// ErrNothingToCommit is returned by Commit when the paths are unchanged
// relative to HEAD.
var ErrNothingToCommit = errors.New("nothing to commit")

// CommitRequest describes one commit of files from the working tree.
type CommitRequest struct {
	Paths     []string // slash-separated, relative to Root; must be tracked
	Message   string
	Author    Signature
	Committer Signature
	// ExpectHead, when not empty, is the commit the current branch (or
	// detached HEAD) must still point at; otherwise Commit fails with
	// ErrHeadMoved. Empty means "whatever HEAD is when Commit starts".
	ExpectHead string
	Options    CommitOptions // signing and hooks
}

// Commit records exactly req.Paths as they are in the working tree on top
// of HEAD, like `git commit --only -- <paths>`:
//
//   - it writes the files' bytes as blobs (no clean/smudge conversion; a
//     path git would convert is refused, see checkConversion) with the
//     executable bit of the working tree file (when core.fileMode is on);
//   - it builds the new tree from HEAD's tree with only those paths
//     replaced, so other staged changes are not committed;
//   - it runs the pre-commit, prepare-commit-msg and commit-msg hooks
//     (see CommitOptions), has git write the commit (parent HEAD), signed
//     as git's configuration says, and moves the current branch, or HEAD
//     itself when detached, with a check-and-set under git's "<ref>.lock"
//     protocol, and appends to the reflogs;
//   - it updates the index entries of those paths (object, mode and fresh
//     stat data) and nothing else, holding index.lock throughout, so other
//     staged and unstaged changes stay exactly as they were.
//
// The post-commit hook runs last. It returns the new commit's hash.
func (r *Repo) Commit(ctx context.Context, req CommitRequest) (hash string, err error) {
	if len(req.Paths) == 0 {
		return "", errors.New("commit: no paths")
	}
	msg, err := checkCommitMessage(req.Message, req.Author, req.Committer)
	if err != nil {
		return "", err
	}
	paths, err := cleanPaths("commit", req.Paths)
	if err != nil {
		return "", err
	}

	// Hold index.lock from reading the index until it is replaced, so no
	// git command changes it in between (git's own protocol).
	ilock, idx, err := r.lockIndex()
	if err != nil {
		return "", err
	}
	defer ilock.rollback()
	headHash, headRef, err := r.commitHead(req.ExpectHead)
	if err != nil {
		return "", err
	}
	wc, err := r.loadWorktreeConfig(true)
	if err != nil {
		return "", err
	}
	hooks, err := r.commitHooks(wc.cfg, req.Options)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}

	// Blobs and index updates.
	changes := map[string]treeItem{}
	var updates []entryUpdate
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		i, unmerged := idx.find(p)
		switch {
		case unmerged:
			return "", fmt.Errorf("commit: %s has unresolved merge conflicts", p)
		case i < 0:
			return "", fmt.Errorf("commit: %s is not tracked by git", p)
		}
		e := &idx.entries[i]
		switch {
		case !e.isRegularFile():
			return "", fmt.Errorf("commit: %s is not a regular file in the index", p)
		case e.intentToAdd():
			return "", fmt.Errorf("commit: %s is only intended to be added (git add -N)", p)
		case e.skipWorktree():
			return "", fmt.Errorf("commit: %s is outside the sparse checkout (skip-worktree)", p)
		}
		d, err := r.stageFile("commit", p, wc, e.mode)
		if err != nil {
			return "", err
		}
		changes[p] = treeItem{Name: p, Mode: filemode.FileMode(canonicalMode(d.mode)), Hash: d.hash}
		updates = append(updates, entryUpdate{i: i, entryData: d})
	}

	// Tree and commit.
	parent, err := r.commitByName(headHash)
	if err != nil {
		return "", fmt.Errorf("commit: read HEAD: %w", err)
	}
	newTree, err := r.replaceInTree(parent.TreeHash, "", changes)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if newTree == parent.TreeHash {
		return "", fmt.Errorf("commit: %w: %s unchanged since HEAD", ErrNothingToCommit, strings.Join(paths, ", "))
	}
	newHash, err := r.writeCommit(ctx, newCommit{
		headHash: headHash, headRef: headRef, parent: parent, tree: newTree, msg: msg,
		author: req.Author, committer: req.Committer, logAll: wc.logAll,
		cfg: wc.cfg, opts: req.Options, hooks: hooks,
	})
	if err != nil {
		return "", err
	}

	// The commit is in; now the index entries of our paths.
	if err := ilock.commit(idx.encode(updates)); err != nil {
		return newHash, fmt.Errorf("commit %s was made but the index was not updated (run `git reset -q -- %s`): %w",
			newHash, strings.Join(paths, " "), err)
	}
	r.postCommit(ctx, hooks)
	return newHash, nil
}

// checkCommitMessage validates what Commit and CommitEmpty are given to
// record, before anything else, and returns the message normalized.
func checkCommitMessage(message string, author, committer Signature) (string, error) {
	msg := normalizeMessage(message)
	if msg == "" {
		return "", errors.New("commit: empty message")
	}
	if err := author.validate(); err != nil {
		return "", fmt.Errorf("commit: author: %w", err)
	}
	if err := committer.validate(); err != nil {
		return "", fmt.Errorf("commit: committer: %w", err)
	}
	return msg, nil
}

// cleanPaths cleans each path (see cleanPath), drops repeats and sorts
// them. op prefixes the error.
func cleanPaths(op string, paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	seen := map[string]bool{}
	for _, p := range paths {
		c, err := cleanPath(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out, nil
}

// commitHead returns the commit a new commit goes on top of and the branch
// HEAD is on ("" when detached), checking that there is one, that no merge
// or rebase has stopped in this worktree and, when expectHead is set, that
// HEAD is still there.
func (r *Repo) commitHead(expectHead string) (headHash, headRef string, err error) {
	headHash, headRef, err = r.readHead()
	if err != nil {
		if errors.Is(err, ErrUnbornBranch) {
			return "", "", fmt.Errorf("commit: %w: make a first commit with git before using git-laminar", err)
		}
		return "", "", err
	}
	if op := r.operationInProgress(); op != "" {
		return "", "", fmt.Errorf("commit: a %s is in progress; finish or abort it first", op)
	}
	if expectHead != "" && expectHead != headHash {
		return "", "", movedError(headRef, expectHead, headHash)
	}
	return headHash, headRef, nil
}

// newCommit is a commit to make on top of HEAD.
type newCommit struct {
	headHash, headRef string     // HEAD when the commit was prepared; headRef "" when detached
	parent            *commitObj // the commit headHash names
	tree              oid
	msg               string // normalized
	author, committer Signature
	logAll            bool // core.logAllRefUpdates
	cfg               *gitConfig
	opts              CommitOptions
	hooks             *hookSet
}

// writeCommit writes the commit object and moves the branch (or detached
// HEAD) to it: a check-and-set under git's "<ref>.lock" that HEAD is still
// on c.headRef at c.headHash, then reflog entries for the branch and HEAD.
// It returns the new commit's hash.
func (r *Repo) writeCommit(ctx context.Context, c newCommit) (string, error) {
	headHash, headRef := c.headHash, c.headRef
	msg, err := r.prepareMessage(ctx, c, c.hooks)
	if err != nil {
		return "", err
	}
	if c.opts.CheckMessage != nil && msg != c.msg {
		if err := c.opts.CheckMessage(msg); err != nil {
			return "", fmt.Errorf("commit: the message the hooks left: %w", err)
		}
	}
	newHash, err := r.commitTreeObject(ctx, c, msg, c.cfg, c.opts)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	rl, _, err := r.lockHead(headRef)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	defer rl.rollback()
	cur, curRef, err := r.readHead()
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if curRef != headRef {
		return "", fmt.Errorf("commit: %w: HEAD switched from %q to %q", ErrHeadMoved, headRef, curRef)
	}
	if cur != headHash {
		return "", movedError(headRef, headHash, cur)
	}
	subject, _, _ := strings.Cut(msg, "\n")
	if err := r.updateHead(rl, headRef, headHash, newHash, c.committer, "commit: "+subject, c.logAll); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return newHash, nil
}

// lockHead takes the ref lock for moving HEAD: that of the branch HEAD is
// on (headRef), or of HEAD itself when it is detached (headRef "").
func (r *Repo) lockHead(headRef string) (rl *fileLock, target string, err error) {
	target = headRef
	if target == "" {
		target = "HEAD"
	}
	rl, err = r.lockRef(target)
	return rl, target, err
}

// updateHead moves HEAD's branch (headRef), or HEAD itself when detached,
// from oldHash to newHash under its lock rl, taken with lockHead: the
// reflog entries of the branch and of HEAD first, then the ref.
func (r *Repo) updateHead(rl *fileLock, headRef, oldHash, newHash string, who Signature, msg string, logAll bool) error {
	if headRef != "" {
		if err := r.appendReflog(headRef, oldHash, newHash, who, msg, logAll); err != nil {
			return fmt.Errorf("reflog: %w", err)
		}
	}
	if err := r.appendReflog("HEAD", oldHash, newHash, who, msg, logAll); err != nil {
		return fmt.Errorf("reflog: %w", err)
	}
	return rl.commit([]byte(newHash + "\n"))
}

// worktreeConfig is the configuration that taking files from the working
// tree into the index and the branch (and back) depends on.
type worktreeConfig struct {
	fileMode bool         // core.fileMode: the executable bit of files counts
	logAll   bool         // core.logAllRefUpdates: missing reflogs are created
	attrs    *attrChecker // nil unless asked for
	cfg      *gitConfig
}

func (r *Repo) loadWorktreeConfig(withAttrs bool) (*worktreeConfig, error) {
	cfg, err := r.config()
	if err != nil {
		return nil, err
	}
	wc := &worktreeConfig{cfg: cfg}
	if wc.fileMode, err = cfg.getBool("core.filemode", true); err != nil {
		return nil, err
	}
	wc.logAll = cfg.logAllRefUpdates()
	if withAttrs {
		if wc.attrs, err = r.newAttrChecker(cfg); err != nil {
			return nil, err
		}
	}
	return wc, nil
}

// logAllRefUpdates is core.logAllRefUpdates (default true with a working
// tree): whether missing reflogs are created; existing ones are always
// appended to.
func (c *gitConfig) logAllRefUpdates() bool {
	v, err := c.getBool("core.logallrefupdates", true)
	return v || err != nil // "always" and other non-boolean values
}

// stageFile writes the blob of the working tree file p and returns what
// its index entry is to record: the object, the stat data of the bytes
// read and the mode, by the file's executable bit when core.fileMode is on
// and otherwise mode as given. op prefixes the errors about the file.
func (r *Repo) stageFile(op, p string, wc *worktreeConfig, mode uint32) (entryData, error) {
	content, st, exec, err := r.readWorktreeFile(p)
	if err != nil {
		return entryData{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := wc.attrs.checkConversion(p, content); err != nil {
		return entryData{}, fmt.Errorf("%s: %w", op, err)
	}
	if wc.fileMode {
		mode = modeRegular | 0o644
		if exec {
			mode = modeRegular | 0o755
		}
	}
	h, err := r.store.write("blob", content)
	if err != nil {
		return entryData{}, err
	}
	return entryData{mode: mode, hash: h, stat: st}, nil
}

// operationInProgress names a merge, cherry-pick, revert or rebase that
// has stopped in this worktree ("" when none): a commit of ours would
// not be what the user's next `git commit` expects.
func (r *Repo) operationInProgress() string {
	for _, f := range []struct{ file, op string }{
		{"MERGE_HEAD", "merge"}, {"CHERRY_PICK_HEAD", "cherry-pick"}, {"REVERT_HEAD", "revert"},
		{"rebase-merge", "rebase"}, {"rebase-apply", "rebase or am"}, {"sequencer", "cherry-pick or revert sequence"},
	} {
		if _, err := os.Stat(filepath.Join(r.GitDir, f.file)); err == nil {
			return f.op
		}
	}
	return ""
}

func movedError(ref, expected, actual string) error {
	what := "HEAD"
	if ref != "" {
		what = "branch " + strings.TrimPrefix(ref, "refs/heads/")
	}
	return fmt.Errorf("commit: %w: %s is at %s, expected %s; another commit was made meanwhile", ErrHeadMoved, what, short(actual), short(expected))
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// normalizeMessage trims trailing whitespace from each line and the end,
// drops leading blank lines and ends the message with one newline, like
// git's default cleanup (without comment stripping).
func normalizeMessage(m string) string {
	lines := strings.Split(strings.ReplaceAll(m, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	out := strings.Trim(strings.Join(lines, "\n"), "\n")
	if out == "" {
		return ""
	}
	return out + "\n"
}

// readWorktreeFile reads a regular file and the stat data that matches the
// bytes read (checked before and after reading).
func (r *Repo) readWorktreeFile(p string) ([]byte, statData, bool, error) {
	full := filepath.Join(r.Root, filepath.FromSlash(p))
	fi, err := os.Lstat(full)
	if err != nil {
		return nil, statData{}, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, statData{}, false, fmt.Errorf("%s is not a regular file", p)
	}
	f, err := os.Open(full)
	if err != nil {
		return nil, statData{}, false, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return nil, statData{}, false, err
	}
	content, err := io.ReadAll(f)
	if err != nil {
		return nil, statData{}, false, fmt.Errorf("%s: %w", p, err)
	}
	after, err := f.Stat()
	if err != nil {
		return nil, statData{}, false, err
	}
	sb, sa := statFromFileInfo(before), statFromFileInfo(after)
	if sb != sa || int64(len(content)) != after.Size() || !os.SameFile(fi, before) {
		return nil, statData{}, false, fmt.Errorf("%s changed while it was being read", p)
	}
	return content, sa, after.Mode()&0o100 != 0, nil
}

// replaceInTree returns the hash of the tree treeHash (at dir, "" for the
// top) with the blobs in changes (keyed by full path) put in place. A zero
// treeHash is an empty tree (a new directory).
func (r *Repo) replaceInTree(treeHash oid, dir string, changes map[string]treeItem) (oid, error) {
	var entries []treeItem
	if !treeHash.isZero() {
		t, err := r.getTree(treeHash)
		if err != nil {
			return oid{}, fmt.Errorf("read tree %s: %w", treeHash, err)
		}
		entries = append(entries, t.Entries...)
	}
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	// Group changes by the first path component below dir.
	files := map[string]treeItem{}
	subdirs := map[string]map[string]treeItem{}
	for p, e := range changes {
		rest := strings.TrimPrefix(p, prefix)
		if name, _, ok := strings.Cut(rest, "/"); ok {
			if subdirs[name] == nil {
				subdirs[name] = map[string]treeItem{}
			}
			subdirs[name][p] = e
		} else {
			files[rest] = e
		}
	}
	find := func(name string) int {
		for i := range entries {
			if entries[i].Name == name {
				return i
			}
		}
		return -1
	}
	for name, e := range files {
		i := find(name)
		ne := treeItem{Name: name, Mode: e.Mode, Hash: e.Hash}
		switch {
		case i < 0:
			entries = append(entries, ne)
		case entries[i].Mode == filemode.Regular || entries[i].Mode == filemode.Executable || entries[i].Mode == filemode.Deprecated:
			entries[i] = ne
		default:
			return oid{}, fmt.Errorf("%s%s is a %s in HEAD, not a file", prefix, name, modeName(entries[i].Mode))
		}
	}
	for name, sub := range subdirs {
		i := find(name)
		var old oid
		if i >= 0 {
			if entries[i].Mode != filemode.Dir {
				return oid{}, fmt.Errorf("%s%s is a %s in HEAD, not a directory", prefix, name, modeName(entries[i].Mode))
			}
			old = entries[i].Hash
		}
		h, err := r.replaceInTree(old, prefix+name, sub)
		if err != nil {
			return oid{}, err
		}
		if i < 0 {
			entries = append(entries, treeItem{Name: name, Mode: filemode.Dir, Hash: h})
		} else {
			entries[i].Hash = h
		}
	}
	return r.store.write("tree", encodeTree(entries))
}

func modeName(m filemode.FileMode) string {
	switch m {
	case filemode.Dir:
		return "directory"
	case filemode.Symlink:
		return "symlink"
	case filemode.Submodule:
		return "submodule"
	}
	return "file"
}

// fileLock is a held "<file>.lock", git's lock for replacing a file.
type fileLock struct {
	path, lockPath string
	f              *os.File
	txn            *Txn // journals the lock, when an operation runs
}

func lockFile(path string) (*fileLock, error) {
	return lockFileIn(nil, path)
}

// lockFile takes a lock for the repository's own files (index, refs):
// journaled while an operation runs (see Txn.takeLock).
func (r *Repo) lockFile(path string) (*fileLock, error) {
	return lockFileIn(r.txn, path)
}

func lockFileIn(t *Txn, path string) (*fileLock, error) {
	lp := path + ".lock"
	var f *os.File
	var err error
	if t != nil {
		f, err = t.takeLock(lp)
	} else {
		f, err = os.OpenFile(lp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	}
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("unable to create %s: file exists; another git process seems to be running in this repository (remove the file if that process died)", lp)
	}
	if err != nil {
		return nil, err
	}
	return &fileLock{path: path, lockPath: lp, f: f, txn: t}, nil
}

// commit writes data to the lock file and renames it over the file.
func (l *fileLock) commit(data []byte) error {
	if _, err := l.f.Write(data); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return err
	}
	if err := os.Rename(l.lockPath, l.path); err != nil {
		return err
	}
	l.release()
	return nil
}

// release forgets the lock once it is gone (renamed or removed).
func (l *fileLock) release() {
	if l.txn != nil {
		l.txn.dropLock(l.lockPath)
		l.txn = nil
	}
	l.lockPath = ""
}

func (l *fileLock) rollback() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	if l.lockPath != "" {
		os.Remove(l.lockPath)
		l.release()
	}
}
