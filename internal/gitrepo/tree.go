package gitrepo

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
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
// abbreviated hash, a branch, tag or other name go-git resolves. Annotated
// tags are peeled. An object that is not a commit gives ErrNotCommit; a
// full hash of an object the repository lacks gives ErrNoObject.
func (r *Repo) ResolveCommit(rev string) (string, error) {
	var h plumbing.Hash
	if isHexHash(rev) {
		h = plumbing.NewHash(rev)
	} else {
		p, err := r.repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return "", fmt.Errorf("resolve %q: %w", rev, err)
		}
		h = *p
	}
	for depth := 0; depth < 10; depth++ {
		o, err := r.repo.Storer.EncodedObject(plumbing.AnyObject, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return "", fmt.Errorf("%s: %w", rev, ErrNoObject)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", rev, err)
		}
		switch o.Type() {
		case plumbing.CommitObject:
			return h.String(), nil
		case plumbing.TagObject:
			t, err := object.DecodeTag(r.repo.Storer, o)
			if err != nil {
				return "", fmt.Errorf("%s: %w", rev, err)
			}
			h = t.Target
		default:
			return "", fmt.Errorf("%s is a %s: %w", rev, o.Type(), ErrNotCommit)
		}
	}
	return "", fmt.Errorf("%s: tags nested too deep", rev)
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
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	// Files are read by their blob ids, never written out under their
	// names: a name git accepts but go-git would not check out (one with a
	// newline or an escape in it) is listed like any other, for the caller
	// to judge, rather than ending the walk.
	walker.SkipPathValidation()
	for {
		name, e, err := walker.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tree of %s: %w", rev, err)
		}
		if e.Mode != filemode.Regular && e.Mode != filemode.Executable && e.Mode != filemode.Deprecated {
			continue
		}
		size, err := r.repo.Storer.EncodedObjectSize(e.Hash)
		if err != nil {
			return nil, fmt.Errorf("%s in %s: %w", name, rev, err)
		}
		mode := "100644"
		if e.Mode == filemode.Executable {
			mode = "100755"
		}
		out = append(out, TreeFile{Path: name, Mode: mode, Hash: e.Hash.String(), Size: size})
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
	f, err := tree.File(clean)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil, fmt.Errorf("%s in %s: %w", clean, rev, os.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", clean, rev, err)
	}
	return r.ReadBlob(f.Hash.String())
}

// ReadBlob returns the content of the blob with the given full hash.
func (r *Repo) ReadBlob(hash string) ([]byte, error) {
	if !isHexHash(hash) {
		return nil, fmt.Errorf("blob %q: not a full object name", hash)
	}
	b, err := object.GetBlob(r.repo.Storer, plumbing.NewHash(hash))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	content, err := readAll(b)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	return content, nil
}

func (r *Repo) revTree(rev string) (*object.Tree, error) {
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
	iter, err := r.repo.Storer.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("listing refs: %w", err)
	}
	out := map[string]string{}
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		name := ref.Name().String()
		if ref.Type() != plumbing.HashReference || !strings.HasPrefix(name, prefix) {
			return nil
		}
		if h, err := r.ResolveCommit(ref.Hash().String()); err == nil {
			out[name] = h
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
	w := &revWalk{r: r, state: map[plumbing.Hash]*revNode{}}
	for _, h := range exclude {
		if !isHexHash(h) {
			return nil, fmt.Errorf("rev-list: %q is not a full object name", h)
		}
		if err := w.add(plumbing.NewHash(h), true, false); err != nil {
			return nil, err
		}
	}
	for _, h := range include {
		if !isHexHash(h) {
			return nil, fmt.Errorf("rev-list: %q is not a full object name", h)
		}
		if err := w.add(plumbing.NewHash(h), false, true); err != nil {
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
		c := n.commit
		parents := make([]string, len(c.ParentHashes))
		for i, p := range c.ParentHashes {
			parents[i] = p.String()
		}
		out = append(out, Commit{
			Hash:      c.Hash.String(),
			Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
			Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
			Message:   c.Message,
			Parents:   parents,
		})
	}
	return out, nil
}

type revNode struct {
	commit   *object.Commit
	excluded bool
	queued   bool
}

type revWalk struct {
	r           *Repo
	state       map[plumbing.Hash]*revNode
	queue       revQueue
	interesting int // queued nodes not excluded
}

// add queues commit h (once), or marks it and its walked ancestors
// excluded when it was seen before and exclude is set. A missing commit is
// an error when must is set and ignored otherwise.
func (w *revWalk) add(h plumbing.Hash, exclude, must bool) error {
	if n, ok := w.state[h]; ok {
		if exclude {
			w.markExcluded(n)
		}
		return nil
	}
	c, err := object.GetCommit(w.r.repo.Storer, h)
	if err != nil {
		if !must && errors.Is(err, plumbing.ErrObjectNotFound) {
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

// findEntry is tree.FindEntry for a path git accepts but go-git would not
// check out (a newline or an escape in a name): go-git refuses such a path
// before it looks, while here it is only compared by blob id and mode, never
// written out under its name. Such names are rare, so the slow walk by name
// runs only after FindEntry has refused.
func (r *Repo) findEntry(tree *object.Tree, p string) (*object.TreeEntry, error) {
	te, err := tree.FindEntry(p)
	if err == nil || errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return te, err
	}
	parts := strings.Split(p, "/")
	for i, name := range parts {
		var found *object.TreeEntry
		for j := range tree.Entries {
			if tree.Entries[j].Name == name {
				found = &tree.Entries[j]
				break
			}
		}
		switch {
		case found == nil && i == len(parts)-1:
			return nil, object.ErrEntryNotFound
		case found == nil || (i < len(parts)-1 && found.Mode != filemode.Dir):
			return nil, object.ErrDirectoryNotFound
		case i == len(parts)-1:
			return found, nil
		}
		if tree, err = object.GetTree(r.repo.Storer, found.Hash); err != nil {
			return nil, fmt.Errorf("tree of %s: %w", strings.Join(parts[:i+1], "/"), err)
		}
	}
	return nil, object.ErrEntryNotFound
}
