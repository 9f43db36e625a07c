package gitrepo

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrHeadMoved is returned by Commit when the branch (or detached HEAD) no
// longer points at the commit the caller expected.
var ErrHeadMoved = errors.New("HEAD moved")

// refPath returns the file of a loose ref. HEAD and other pseudo refs and
// per-worktree refs (refs/worktree/, refs/bisect/, refs/rewritten/) live in
// the worktree's git dir; everything else is shared.
func (r *Repo) refPath(name string) string {
	dir := r.CommonDir
	if !strings.HasPrefix(name, "refs/") || strings.HasPrefix(name, "refs/worktree/") ||
		strings.HasPrefix(name, "refs/bisect/") || strings.HasPrefix(name, "refs/rewritten/") {
		dir = r.GitDir
	}
	return filepath.Join(dir, filepath.FromSlash(name))
}

// readRef resolves a ref to a commit hash: the loose file first, then
// packed-refs. ok is false when the ref does not exist.
func (r *Repo) readRef(name string) (hash string, ok bool, err error) {
	for depth := 0; depth < 5; depth++ {
		b, err := os.ReadFile(r.refPath(name))
		switch {
		case err == nil:
			content := strings.TrimSpace(string(b))
			if target, sym := strings.CutPrefix(content, "ref: "); sym {
				name = strings.TrimSpace(target)
				continue
			}
			if !r.IsID(content) {
				return "", false, fmt.Errorf("%s: invalid ref content %q", name, content)
			}
			return content, true, nil
		case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
			h, ok, err := r.readPackedRef(name)
			return h, ok, err
		default:
			return "", false, fmt.Errorf("read ref %s: %w", name, err)
		}
	}
	return "", false, fmt.Errorf("%s: too many levels of symbolic refs", name)
}

func (r *Repo) readPackedRef(name string) (string, bool, error) {
	f, err := os.Open(filepath.Join(r.CommonDir, "packed-refs"))
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || line[0] == '^' {
			continue
		}
		h, n, ok := strings.Cut(line, " ")
		if ok && n == name {
			if !r.IsID(h) {
				return "", false, fmt.Errorf("packed-refs: invalid line %q", line)
			}
			return h, true, nil
		}
	}
	return "", false, sc.Err()
}

// lockRef takes git's lock for updating one ref, "<ref file>.lock".
func (r *Repo) lockRef(name string) (*fileLock, error) {
	p := r.refPath(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	l, err := r.lockFile(p)
	if err != nil {
		return nil, fmt.Errorf("cannot lock ref %s: %w", name, err)
	}
	return l, nil
}

// appendReflog adds one line to the reflog of ref (a full ref name or
// "HEAD"), creating it for HEAD and branches as git does by default in a
// repository with a working tree (core.logAllRefUpdates).
func (r *Repo) appendReflog(ref, oldHash, newHash string, who Signature, msg string, create bool) error {
	dir := r.CommonDir
	if ref == "HEAD" {
		dir = r.GitDir
	}
	p := filepath.Join(dir, "logs", filepath.FromSlash(ref))
	if !create {
		if _, err := os.Stat(p); err != nil {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s %s %s <%s> %d %s\t%s\n", oldHash, newHash, who.Name, who.Email,
		who.When.Unix(), who.When.Format("-0700"), msg)
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
