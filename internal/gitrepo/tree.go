package gitrepo

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrNotCommit is wrapped by ResolveCommit when a revision names an object
// that is not (and does not peel to) a commit: a tree or a blob.
var ErrNotCommit = errors.New("not a commit")

// ErrNoObject is wrapped by ResolveCommit when the object is not in the
// repository.
var ErrNoObject = errors.New("no such object")

// HooksDir returns the directory git runs this worktree's hooks from, as
// `git rev-parse --git-path hooks` names it: core.hooksPath when set (a
// leading "~/" expanded, a relative path taken from the top of the working
// tree, where git runs hooks), else the hooks directory of the common git
// dir, which all linked worktrees share. The directory may not exist yet.
func (r *Repo) HooksDir() (string, error) {
	cfg, err := r.config()
	if err != nil {
		return "", err
	}
	return r.hooksDir(cfg)
}

// ResolveCommit returns the full hash of the commit rev names: a full or
// abbreviated hash, a branch, tag or other name git resolves. Annotated
// tags are peeled. An object that is not a commit gives ErrNotCommit; a
// full hash of an object the repository lacks gives ErrNoObject.
func (r *Repo) ResolveCommit(rev string) (string, error) {
	id, err := r.resolve(rev)
	if err != nil {
		return "", err
	}
	for depth := 0; depth < 10; depth++ {
		typ, content, err := r.store.read(id)
		if errors.Is(err, errMissingObject) {
			return "", fmt.Errorf("%s: %w", rev, ErrNoObject)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", rev, err)
		}
		switch typ {
		case "commit":
			return id.String(), nil
		case "tag":
			if id, err = tagTarget(id, content, r.format); err != nil {
				return "", fmt.Errorf("%s: %w", rev, err)
			}
		default:
			return "", fmt.Errorf("%s is a %s: %w", rev, typ, ErrNotCommit)
		}
	}
	return "", fmt.Errorf("%s: tags nested too deep", rev)
}

// resolve returns the object rev names, unpeeled. A full object name is
// taken as it is; other names are resolved by go-git in a SHA-1
// repository and by `git rev-parse` in a SHA-256 one.
func (r *Repo) resolve(rev string) (oid, error) {
	if r.IsID(rev) {
		return r.format.parse(rev)
	}
	if r.repo != nil {
		p, err := r.repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return oid{}, fmt.Errorf("resolve %q: %w", rev, err)
		}
		return oidFromBytes(p[:]), nil
	}
	if rev == "" || strings.HasPrefix(rev, "-") {
		return oid{}, fmt.Errorf("resolve %q: not a revision", rev)
	}
	out, err := r.git(context.Background(), nil, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev)
	if err != nil {
		return oid{}, fmt.Errorf("resolve %q: reference not found", rev)
	}
	return r.format.parse(strings.TrimSpace(out))
}

// TreeFile is a regular file in a commit's tree.
type TreeFile struct {
	Path string // slash-separated, relative to the top of the tree
	Mode string // "100644" or "100755"
	Hash string // blob id
	Size int64
}

// TreeFiles lists the regular files of the tree of the commit rev names
// (see ResolveCommit), sorted by path. Symlinks and submodules are left
// out, as TrackedFiles leaves them out of the index.
func (r *Repo) TreeFiles(rev string) ([]TreeFile, error) {
	tree, err := r.revTree(rev)
	if err != nil {
		return nil, err
	}
	var out []TreeFile
	// Files are read by their blob ids, never written out under their
	// names: a name git accepts but a checkout would refuse (one with a
	// newline or an escape in it) is listed like any other, for the
	// caller to judge.
	err = r.walkFiles(tree, "", func(name string, e *treeItem) error {
		if e.Mode != filemode.Regular && e.Mode != filemode.Executable && e.Mode != filemode.Deprecated {
			return nil
		}
		size, err := r.store.size(e.Hash)
		if err != nil {
			return fmt.Errorf("%s in %s: %w", name, rev, err)
		}
		mode := "100644"
		if e.Mode == filemode.Executable {
			mode = "100755"
		}
		out = append(out, TreeFile{Path: name, Mode: mode, Hash: e.Hash.String(), Size: size})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", rev, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// ReadFile returns the content of path (slash-separated, relative to the
// top of the tree) in the tree of the commit rev names. A path the tree
// does not hold gives an error wrapping os.ErrNotExist.
func (r *Repo) ReadFile(rev, p string) ([]byte, error) {
	clean, err := cleanPath(p)
	if err != nil {
		return nil, err
	}
	tree, err := r.revTree(rev)
	if err != nil {
		return nil, err
	}
	f, err := r.findEntry(tree, clean)
	if errors.Is(err, errEntryNotFound) || err == nil && f.Mode == filemode.Dir {
		return nil, fmt.Errorf("%s in %s: %w", clean, rev, os.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", clean, rev, err)
	}
	return r.ReadBlob(f.Hash.String())
}

// ReadBlob returns the content of the blob with the given full hash.
func (r *Repo) ReadBlob(hash string) ([]byte, error) {
	id, err := r.format.parse(hash)
	if err != nil {
		return nil, fmt.Errorf("blob %q: not a full object name", hash)
	}
	content, err := r.readTyped(id, "blob")
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	return content, nil
}

func (r *Repo) revTree(rev string) (*treeObj, error) {
	h, err := r.ResolveCommit(rev)
	if err != nil {
		return nil, err
	}
	return r.commitTree(h)
}

// RefTips returns the commits the refs under prefix ("refs/remotes/")
// point at, keyed by full ref name. Symbolic refs (refs/remotes/origin/HEAD)
// are left out, since they name a ref that is listed itself; refs that do
// not peel to a commit are left out too.
func (r *Repo) RefTips(prefix string) (map[string]string, error) {
	out := map[string]string{}
	add := func(name, hash string) {
		if h, err := r.ResolveCommit(hash); err == nil {
			out[name] = h
		}
	}
	if r.repo == nil {
		// %(symref) is empty for a ref that holds an object name.
		text, err := r.git(context.Background(), nil, nil, "for-each-ref", "--format=%(objectname) %(symref) %(refname)", "--", prefix)
		if err != nil {
			return nil, fmt.Errorf("listing refs: %w", err)
		}
		for _, line := range strings.Split(text, "\n") {
			hash, rest, ok := strings.Cut(line, " ")
			name, isName := strings.CutPrefix(rest, " ")
			if ok && isName && strings.HasPrefix(name, prefix) {
				add(name, hash)
			}
		}
		return out, nil
	}
	iter, err := r.repo.Storer.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("listing refs: %w", err)
	}
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		name := ref.Name().String()
		if ref.Type() == plumbing.HashReference && strings.HasPrefix(name, prefix) {
			add(name, ref.Hash().String())
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return nil, fmt.Errorf("listing refs: %w", err)
	}
	return out, nil
}

// RevList returns the commits reachable from include but from none of
// exclude, as `git rev-list <include>... --not <exclude>...` does, newest
// first by committer time. Hashes in exclude that the repository lacks are
// ignored (a remote may hold commits never fetched here); every hash in
// include must exist.
//
// It walks by committer time from all tips at once and stops when only
// excluded history is left to walk (with git's allowance for a few commits
// of clock skew), so a push of two commits on a long history reads a few
// commits, not all of them.
func (r *Repo) RevList(ctx context.Context, include, exclude []string) ([]Commit, error) {
	w := &revWalk{r: r, state: map[oid]*revNode{}}
	for _, h := range exclude {
		id, err := r.format.parse(h)
		if err != nil {
			return nil, fmt.Errorf("rev-list: %w", err)
		}
		if err := w.add(id, true, false); err != nil {
			return nil, err
		}
	}
	for _, h := range include {
		id, err := r.format.parse(h)
		if err != nil {
			return nil, fmt.Errorf("rev-list: %w", err)
		}
		if err := w.add(id, false, true); err != nil {
			return nil, err
		}
	}
	var picked []*revNode
	const slop = 5
	left := slop
	for w.queue.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if w.interesting == 0 {
			if left--; left <= 0 {
				break
			}
		} else {
			left = slop
		}
		n := heap.Pop(&w.queue).(*revNode)
		n.queued = false
		if !n.excluded {
			w.interesting--
		}
		for _, p := range n.commit.ParentHashes {
			if err := w.add(p, n.excluded, true); err != nil {
				return nil, err
			}
		}
		if !n.excluded {
			picked = append(picked, n)
		}
	}
	var out []Commit
	for _, n := range picked {
		if n.excluded {
			continue
		}
		out = append(out, n.commit.public())
	}
	return out, nil
}

type revNode struct {
	commit   *commitObj
	excluded bool
	queued   bool
}

type revWalk struct {
	r           *Repo
	state       map[oid]*revNode
	queue       revQueue
	interesting int // queued nodes not excluded
}

// add queues commit h (once), or marks it and its walked ancestors
// excluded when it was seen before and exclude is set. A missing commit is
// an error when must is set and ignored otherwise.
func (w *revWalk) add(h oid, exclude, must bool) error {
	if n, ok := w.state[h]; ok {
		if exclude {
			w.markExcluded(n)
		}
		return nil
	}
	c, err := w.r.getCommit(h)
	if err != nil {
		if !must && errors.Is(err, errMissingObject) {
			return nil
		}
		return fmt.Errorf("commit %s: %w", h, err)
	}
	n := &revNode{commit: c, excluded: exclude, queued: true}
	w.state[h] = n
	heap.Push(&w.queue, n)
	if !exclude {
		w.interesting++
	}
	return nil
}

// markExcluded marks n and every ancestor already walked as excluded.
func (w *revWalk) markExcluded(n *revNode) {
	stack := []*revNode{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.excluded {
			continue
		}
		n.excluded = true
		if n.queued {
			w.interesting--
			continue // its parents are marked when it is walked
		}
		for _, p := range n.commit.ParentHashes {
			if pn, ok := w.state[p]; ok {
				stack = append(stack, pn)
			}
		}
	}
}

// revQueue orders commits newest first by committer time.
type revQueue []*revNode

func (q revQueue) Len() int { return len(q) }
func (q revQueue) Less(i, j int) bool {
	return q[i].commit.Committer.When.After(q[j].commit.Committer.When)
}
func (q revQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *revQueue) Push(x any)   { *q = append(*q, x.(*revNode)) }
func (q *revQueue) Pop() any {
	old := *q
	n := old[len(old)-1]
	*q = old[:len(old)-1]
	return n
}
