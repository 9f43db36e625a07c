// Package gitrepo is git-laminar's window on a git repository: it finds the
// repository from any directory (linked worktrees included), lists tracked
// files, tells which paths have uncommitted changes, reads the author and
// committer identity like git does, and records one commit of exactly the
// paths git-laminar edited, leaving every other change of the user alone.
//
// It is the only package of the project that imports go-git. go-git is used
// for discovery and reading and writing the objects of a SHA-1 repository;
// a SHA-256 repository's objects are read through git's cat-file (see
// objects.go for why). Trees and commits are parsed here for both. The index is
// read and patched by this package itself (see index.go): go-git's index
// encoder writes no extensions and drops the assume-unchanged flag, so a
// round trip through it would lose state the user's git relies on. Branch
// updates follow git's own "<ref>.lock" protocol (see refs.go) for the same
// reason: go-git's reference check-and-set locks the ref file with flock,
// which git does not honour.
package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// ErrNotRepository is wrapped by Open when no git working tree contains dir.
var ErrNotRepository = errors.New("not a git repository")

// ErrUnbornBranch is returned when HEAD names a branch without commits.
var ErrUnbornBranch = errors.New("branch has no commits yet")

// Repo is an opened repository with a working tree.
type Repo struct {
	Root      string // top of the working tree (absolute)
	GitDir    string // this worktree's git dir (for a linked worktree: .git/worktrees/<name>)
	CommonDir string // the shared git dir (== GitDir for the main worktree)

	repo   *gogit.Repository // nil in a SHA-256 repository
	format *hashFormat
	store  objectStore
	cat    *catFileStore // the store of a SHA-256 repository
	txn    *Txn          // the journaled operation running, if any
}

// Open finds the repository containing dir, which may be any directory of
// the working tree, of a linked worktree (`git worktree add`), or of a
// working tree whose .git is a file ("gitdir: <path>"). Bare repositories
// are not supported: git-laminar edits a working tree.
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", dir, ErrNotRepository, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	} else {
		return nil, fmt.Errorf("%s: %w: %v", dir, ErrNotRepository, err)
	}
	root, gitDir, err := findGitDir(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	commonDir, err := readCommonDir(gitDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	r := &Repo{Root: root, GitDir: gitDir, CommonDir: commonDir}
	if r.format, err = r.checkFormat(); err != nil {
		return nil, err
	}
	if r.format == formatSHA256 {
		r.cat = newCatFileStore(gitDir, commonDir, r.format)
		r.store = r.cat
		// A Repo that is dropped without Close still ends its cat-file.
		runtime.AddCleanup(r, func(s *catFileStore) { s.close() }, r.cat)
		return r, nil
	}

	gr, err := gogit.PlainOpenWithOptions(abs, &gogit.PlainOpenOptions{
		DetectDotGit:          true,
		EnableDotGitCommonDir: true,
	})
	if errors.Is(err, gogit.ErrUnknownExtension) || errors.Is(err, gogit.ErrUnsupportedExtensionRepositoryFormatVersion) {
		gr, err = r.openWithWorktreeConfig(err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", dir, ErrNotRepository, err)
	}
	wt, err := gr.Worktree()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", dir, ErrNotRepository, err)
	}
	if got := wt.Filesystem.Root(); filepath.Clean(got) != root {
		// Both walks start from the same directory; disagreeing means
		// something unusual (GIT_DIR tricks, bind mounts). Do not guess.
		return nil, fmt.Errorf("%s: go-git found the working tree at %s, expected %s", dir, got, root)
	}
	r.repo = gr
	r.store = gogitStore{st: gr.Storer}
	return r, nil
}

// Close ends the git process that serves a SHA-256 repository's objects.
// The Repo may still be used: the next read starts another.
func (r *Repo) Close() error {
	if r.cat != nil {
		r.cat.close()
	}
	return nil
}

// ObjectFormat is the repository's object format: "sha1" or "sha256".
func (r *Repo) ObjectFormat() string { return r.format.name }

// ZeroID is the all-zero object name of the repository's format, which
// git uses for "no object" (a ref being created or deleted).
func (r *Repo) ZeroID() string { return r.format.zeroID() }

// IsID reports whether s is a full object name of the repository's
// format: 40 lowercase hex digits (SHA-1) or 64 (SHA-256).
func (r *Repo) IsID(s string) bool { return len(s) == r.format.hexLen() && isLowerHex(s) }

// BlobHash is the name the repository gives a blob of data.
func (r *Repo) BlobHash(data []byte) string { return r.format.sum("blob", data).String() }

// openWithWorktreeConfig opens a repository that go-git v5 refuses only
// because extensions.worktreeConfig is set (`git sparse-checkout` and
// per-worktree configuration set it). The extension just tells git to
// read config.worktree, which this package does itself (see config), so
// go-git is shown the configuration without it. Any other extension keeps
// go-git's refusal (orig).
func (r *Repo) openWithWorktreeConfig(orig error) (*gogit.Repository, error) {
	cfg, err := loadConfigFile(filepath.Join(r.CommonDir, "config"))
	if err != nil {
		return nil, err
	}
	for k := range cfg.vals {
		if rest, ok := strings.CutPrefix(k, "extensions."); ok && rest != "worktreeconfig" && rest != "noop" {
			return nil, orig
		}
	}
	fs := dotgit.NewRepositoryFilesystem(osfs.New(r.GitDir), osfs.New(r.CommonDir))
	st := filesystem.NewStorage(fs, cache.NewObjectLRUDefault())
	return gogit.Open(worktreeConfigStorage{st}, osfs.New(r.Root))
}

type worktreeConfigStorage struct{ *filesystem.Storage }

func (s worktreeConfigStorage) Config() (*config.Config, error) {
	cfg, err := s.Storage.Config()
	if err != nil || cfg.Raw == nil || !cfg.Raw.HasSection("extensions") {
		return cfg, err
	}
	ext := cfg.Raw.Section("extensions")
	ext.RemoveOption("worktreeconfig")
	ext.RemoveOption("worktreeConfig")
	if len(ext.Options) == 0 {
		cfg.Raw.RemoveSection("extensions")
	}
	return cfg, nil
}

// findGitDir walks up from dir to the first directory holding a .git
// directory or a .git file, as git does (without GIT_DIR/GIT_WORK_TREE).
func findGitDir(dir string) (root, gitDir string, err error) {
	for d := dir; ; {
		dotgit := filepath.Join(d, ".git")
		fi, err := os.Stat(dotgit)
		switch {
		case err == nil && fi.IsDir():
			if isGitDir(dotgit) {
				return d, dotgit, nil
			}
		case err == nil && fi.Mode().IsRegular():
			gd, err := readGitFile(dotgit)
			if err != nil {
				return "", "", err
			}
			return d, gd, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", ErrNotRepository
		}
		d = parent
	}
}

// readGitFile reads a ".git" file of the form "gitdir: <path>".
func readGitFile(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotRepository, err)
	}
	line := strings.TrimRight(string(b), "\r\n")
	p, ok := strings.CutPrefix(line, "gitdir: ")
	if !ok || p == "" {
		return "", fmt.Errorf("%w: %s: invalid gitfile format", ErrNotRepository, file)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(file), p)
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	if !isGitDir(p) {
		return "", fmt.Errorf("%w: %s: %s is not a git directory", ErrNotRepository, file, p)
	}
	return filepath.Clean(p), nil
}

// isGitDir is a light version of git's is_git_directory: a HEAD file and,
// here or in the common dir, an objects directory.
func isGitDir(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	common, err := readCommonDir(dir)
	if err != nil {
		return false
	}
	fi, err := os.Stat(filepath.Join(common, "objects"))
	return err == nil && fi.IsDir()
}

// readCommonDir returns the shared git dir named by gitDir/commondir, or
// gitDir itself.
func readCommonDir(gitDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if errors.Is(err, os.ErrNotExist) {
		return gitDir, nil
	}
	if err != nil {
		return "", err
	}
	p := strings.TrimRight(string(b), "\r\n")
	if !filepath.IsAbs(p) {
		p = filepath.Join(gitDir, p)
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return filepath.Clean(p), nil
}

// checkFormat returns the repository's object format (SHA-1 or SHA-256)
// and refuses storage we would not write correctly: another object
// format, reftable refs.
func (r *Repo) checkFormat() (*hashFormat, error) {
	cfg, err := loadConfigFile(filepath.Join(r.CommonDir, "config"))
	if err != nil {
		return nil, err
	}
	if v := cfg.get("extensions.refstorage"); v != "" && !strings.EqualFold(v, "files") {
		return nil, fmt.Errorf("%s: ref storage %q is not supported", r.CommonDir, v)
	}
	// Extensions count only from repositoryformatversion 1 on, as in git.
	if cfg.get("core.repositoryformatversion") != "1" {
		return formatSHA1, nil
	}
	switch v := strings.ToLower(cfg.get("extensions.objectformat")); v {
	case "", "sha1":
		return formatSHA1, nil
	case "sha256":
		return formatSHA256, nil
	default:
		return nil, fmt.Errorf("%s: object format %q is not supported", r.CommonDir, v)
	}
}

// Head returns the commit HEAD points at and the current branch's short
// name ("main"), or "" when HEAD is detached. On an unborn branch it
// returns an error wrapping ErrUnbornBranch.
func (r *Repo) Head() (hash string, branch string, err error) {
	h, ref, err := r.readHead()
	if err != nil {
		return "", "", err
	}
	return h, strings.TrimPrefix(ref, "refs/heads/"), nil
}

// readHead returns HEAD's commit and the full name of the ref it points to
// ("" when detached).
func (r *Repo) readHead() (hash, ref string, err error) {
	b, err := os.ReadFile(filepath.Join(r.GitDir, "HEAD"))
	if err != nil {
		return "", "", fmt.Errorf("read HEAD: %w", err)
	}
	content := strings.TrimSpace(string(b))
	target, symbolic := strings.CutPrefix(content, "ref: ")
	if !symbolic {
		if !r.IsID(content) {
			return "", "", fmt.Errorf("%s: HEAD is neither a ref nor a commit: %q", r.GitDir, content)
		}
		return content, "", nil
	}
	target = strings.TrimSpace(target)
	h, ok, err := r.readRef(target)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", target, fmt.Errorf("%s: %w", strings.TrimPrefix(target, "refs/heads/"), ErrUnbornBranch)
	}
	return h, target, nil
}

// readAll returns the content of a blob or other object.
func readAll(obj interface{ Reader() (io.ReadCloser, error) }) ([]byte, error) {
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rd); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (r *Repo) headTree() (*treeObj, error) {
	h, _, err := r.readHead()
	if err != nil {
		return nil, err
	}
	return r.commitTree(h)
}

// commitByName reads the commit with full name h.
func (r *Repo) commitByName(h string) (*commitObj, error) {
	id, err := r.format.parse(h)
	if err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	c, err := r.getCommit(id)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	return c, nil
}

func (r *Repo) commitTree(h string) (*treeObj, error) {
	c, err := r.commitByName(h)
	if err != nil {
		return nil, err
	}
	t, err := r.getTree(c.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("tree of commit %s: %w", h, err)
	}
	return t, nil
}

// cleanPath checks that p names a file inside the working tree in the
// form git uses: relative, slash-separated, no "." or ".." components, not
// inside .git.
func cleanPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%q: a path cannot hold a NUL byte", p)
	}
	// A backslash is an ordinary character of a file name where the
	// separator is a slash; only where it separates could "..\\" leave
	// the working tree.
	if filepath.Separator == '\\' && strings.Contains(p, "\\") {
		return "", fmt.Errorf("%q: path must be slash-separated", p)
	}
	if path.IsAbs(p) || filepath.IsAbs(p) {
		return "", fmt.Errorf("%q: path must be relative to the top of the working tree", p)
	}
	for _, part := range strings.Split(p, "/") {
		switch {
		case part == "" || part == "." || part == "..":
			return "", fmt.Errorf("%q: path must be clean and stay inside the working tree", p)
		case strings.EqualFold(part, ".git"):
			return "", fmt.Errorf("%q: path inside .git", p)
		}
	}
	return p, nil
}

// isHexHash reports whether s is a full object name of either format; a
// Repo checks its own with IsID.
func isHexHash(s string) bool {
	return (len(s) == 40 || len(s) == 64) && isLowerHex(s)
}
