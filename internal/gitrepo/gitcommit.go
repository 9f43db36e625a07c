package gitrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// A commit is made as `git commit` makes it: git itself writes the commit
// object (`git commit-tree`), so that it is signed by git's own
// configuration (commit.gpgSign, gpg.format, user.signingKey,
// gpg.program, gpg.ssh.program, the agents), and the repository's commit
// hooks run through `git hook run`. The tree is still built in process
// from HEAD's (only the committed paths change, so the cost does not grow
// with the size of the repository), and the branch still moves under our
// own journaled ref lock (see Txn.takeLock), which a `git update-ref`
// could not record before taking it.

// SignMode says whether a commit is signed.
type SignMode int

const (
	// SignByConfig signs when commit.gpgSign is true, as `git commit` does.
	SignByConfig SignMode = iota
	// SignAlways signs (`git commit -S`), with SignKey or git's default key.
	SignAlways
	// SignNever does not sign (`git commit --no-gpg-sign`).
	SignNever
)

// CommitOptions are what `git commit`'s options say beyond the content.
// The zero value signs by git's configuration and runs every hook.
type CommitOptions struct {
	Sign    SignMode
	SignKey string // with SignAlways: the key; "" for user.signingKey or the committer's
	// NoVerify skips the pre-commit and commit-msg hooks (`--no-verify`);
	// prepare-commit-msg and post-commit run all the same, as in git.
	NoVerify bool
	// RefuseWorktreeHooks refuses to commit when a hook that would run is
	// a file inside the working tree (core.hooksPath pointing into it, or
	// a hook that is a symlink into it): its content is whoever pushed
	// last, not the machine's owner.
	RefuseWorktreeHooks bool
	// CheckMessage, when set, is given the message as the hooks left it
	// and may refuse it (e.g. when they broke its trailers).
	CheckMessage func(msg string) error
}

// Hooks a commit runs, in git's order.
const (
	hookPreCommit        = "pre-commit"
	hookPrepareCommitMsg = "prepare-commit-msg"
	hookCommitMsg        = "commit-msg"
	hookPostCommit       = "post-commit"
)

// HookError is a hook that refused the commit; Output is what it printed,
// escaped for a terminal.
type HookError struct {
	Hook   string
	Output string
	Err    error
}

func (e *HookError) Error() string {
	s := fmt.Sprintf("the %s hook refused the commit (%v)", e.Hook, e.Err)
	if e.Output != "" {
		s += ":\n" + e.Output
	}
	if e.Hook == hookPreCommit || e.Hook == hookCommitMsg {
		s += "\n(--no-verify skips the pre-commit and commit-msg hooks)"
	}
	return s
}

func (e *HookError) Unwrap() error { return e.Err }

// ErrSign is wrapped by the error of a commit that could not be signed.
var ErrSign = errors.New("signing the commit failed")

// hookSet is the hooks a commit runs: name → path.
type hookSet struct {
	dir   string
	paths map[string]string
}

// hooksDir is HooksDir with the configuration read.
func (r *Repo) hooksDir(cfg *gitConfig) (string, error) {
	p := cfg.get("core.hookspath")
	if p == "" {
		return filepath.Join(r.CommonDir, "hooks"), nil
	}
	p, err := expandPath(p)
	if err != nil {
		return "", fmt.Errorf("core.hooksPath: %w", err)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.Root, p)
	}
	return filepath.Clean(p), nil
}

// commitHooks finds the hooks a commit with opts runs: executable files in
// the hooks directory, as git runs them.
func (r *Repo) commitHooks(cfg *gitConfig, opts CommitOptions) (*hookSet, error) {
	dir, err := r.hooksDir(cfg)
	if err != nil {
		return nil, err
	}
	hs := &hookSet{dir: dir, paths: map[string]string{}}
	for _, h := range []string{hookPreCommit, hookPrepareCommitMsg, hookCommitMsg, hookPostCommit} {
		if opts.NoVerify && (h == hookPreCommit || h == hookCommitMsg) {
			continue
		}
		p := filepath.Join(dir, h)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			continue
		}
		if opts.RefuseWorktreeHooks {
			if err := r.checkHookOutsideTree(p); err != nil {
				return nil, err
			}
		}
		hs.paths[h] = p
	}
	return hs, nil
}

// checkHookOutsideTree refuses a hook whose file, symlinks resolved, is in
// the working tree.
func (r *Repo) checkHookOutsideTree(p string) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("hook %s: %w", printable.String(p), err)
	}
	root, err := filepath.EvalSymlinks(r.Root)
	if err != nil {
		return err
	}
	gitDir, _ := filepath.EvalSymlinks(r.CommonDir)
	if within(real, root) && (gitDir == "" || !within(real, gitDir)) {
		return fmt.Errorf("the %s hook %s is a file of the working tree, which whoever pushes to the branch controls: "+
			"refusing to run it unattended; point core.hooksPath outside the working tree (pre-commit and commit-msg are also skipped by [git] verify = false or --no-verify)",
			filepath.Base(p), printable.String(real))
	}
	return nil
}

func (hs *hookSet) has(h string) bool { return hs != nil && hs.paths[h] != "" }

// runHook runs hook h with args through `git hook run`, in the root of
// the working tree, with env added to the environment.
func (r *Repo) runHook(ctx context.Context, h string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", append([]string{"hook", "run", "--ignore-missing", h, "--"}, args...)...)
	cmd.Dir = r.Root
	cmd.Env = append(os.Environ(), append([]string{"GIT_EDITOR=:"}, env...)...)
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return nil
	}
	text := strings.TrimRight(out.String(), "\n")
	if strings.Contains(text, "'hook' is not a git command") {
		return fmt.Errorf("running the %s hook needs `git hook`, from git 2.36 or later (or skip it with --no-verify where it applies)", h)
	}
	return &HookError{Hook: h, Output: printable.Text(text), Err: err}
}

// limitedBuffer keeps the first 64 KiB written to it.
type limitedBuffer struct {
	b         bytes.Buffer
	truncated bool
}

const hookOutputMax = 64 << 10

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := hookOutputMax - l.b.Len(); room < len(p) {
		l.truncated = true
		if room > 0 {
			l.b.Write(p[:room])
		}
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *limitedBuffer) String() string {
	if l.truncated {
		return l.b.String() + "\n[output truncated]"
	}
	return l.b.String()
}

// prepareMessage runs the hooks that come before the commit object is
// written: pre-commit on an index holding exactly the tree to commit
// (GIT_INDEX_FILE, as `git commit --only` gives its hooks), then
// prepare-commit-msg and commit-msg on $GIT_DIR/COMMIT_EDITMSG. It returns
// the message as they left it, cleaned up as `git commit -m` does.
func (r *Repo) prepareMessage(ctx context.Context, c newCommit, hs *hookSet) (string, error) {
	if !hs.has(hookPreCommit) && !hs.has(hookPrepareCommitMsg) && !hs.has(hookCommitMsg) {
		return c.msg, nil
	}
	tmpIndex := filepath.Join(r.GitDir, fmt.Sprintf("laminar-index-%d", os.Getpid()))
	defer os.Remove(tmpIndex)
	env := []string{"GIT_INDEX_FILE=" + tmpIndex}
	if _, err := r.git(ctx, env, nil, "read-tree", c.tree.String()); err != nil {
		return "", fmt.Errorf("commit: preparing the index for the hooks: %w", err)
	}
	if hs.has(hookPreCommit) {
		before, err := fileSum(tmpIndex)
		if err != nil {
			return "", err
		}
		if err := r.runHook(ctx, hookPreCommit, env); err != nil {
			return "", fmt.Errorf("commit: %w", err)
		}
		if after, err := fileSum(tmpIndex); err != nil || after != before {
			tree, err := r.git(ctx, env, nil, "write-tree")
			if err != nil {
				return "", fmt.Errorf("commit: reading the index the pre-commit hook left: %w", err)
			}
			if strings.TrimSpace(tree) != c.tree.String() {
				return "", errors.New("commit: the pre-commit hook changed what is to be committed (it staged files); " +
					"git-laminar commits only the files it wrote: make the hook leave the index alone, or skip it with --no-verify")
			}
		}
	}
	msgFile := filepath.Join(r.GitDir, "COMMIT_EDITMSG")
	if err := os.WriteFile(msgFile, []byte(c.msg), 0o666); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if hs.has(hookPrepareCommitMsg) {
		if err := r.runHook(ctx, hookPrepareCommitMsg, env, msgFile, "message"); err != nil {
			return "", fmt.Errorf("commit: %w", err)
		}
	}
	if hs.has(hookCommitMsg) {
		if err := r.runHook(ctx, hookCommitMsg, env, msgFile); err != nil {
			return "", fmt.Errorf("commit: %w", err)
		}
	}
	b, err := os.ReadFile(msgFile)
	if err != nil {
		return "", fmt.Errorf("commit: reading the message the hooks left: %w", err)
	}
	msg := normalizeMessage(string(b))
	if msg == "" {
		return "", errors.New("commit: the hooks left an empty commit message; aborting")
	}
	return msg, nil
}

func fileSum(p string) ([32]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// commitTreeObject writes the commit object with `git commit-tree`, signed as
// opts and commit.gpgSign say.
func (r *Repo) commitTreeObject(ctx context.Context, c newCommit, msg string, cfg *gitConfig, opts CommitOptions) (string, error) {
	args := []string{"commit-tree", c.tree.String(), "-p", c.parent.Hash.String()}
	sign := false
	switch opts.Sign {
	case SignAlways:
		sign = true
	case SignByConfig:
		v, err := cfg.getBool("commit.gpgsign", false)
		if err != nil {
			return "", fmt.Errorf("commit: commit.gpgSign: %w", err)
		}
		sign = v
	}
	if sign {
		args = append(args, "-S"+opts.SignKey)
	} else {
		args = append(args, "--no-gpg-sign")
	}
	env := []string{
		"GIT_AUTHOR_NAME=" + c.author.Name, "GIT_AUTHOR_EMAIL=" + c.author.Email, "GIT_AUTHOR_DATE=" + gitDate(c.author),
		"GIT_COMMITTER_NAME=" + c.committer.Name, "GIT_COMMITTER_EMAIL=" + c.committer.Email, "GIT_COMMITTER_DATE=" + gitDate(c.committer),
	}
	out, err := r.git(ctx, env, strings.NewReader(msg), args...)
	if err != nil {
		if sign {
			return "", fmt.Errorf("commit: %w: %w", ErrSign, err)
		}
		return "", fmt.Errorf("commit: %w", err)
	}
	h := strings.TrimSpace(out)
	if !r.IsID(h) {
		return "", fmt.Errorf("commit: git commit-tree printed %q, not a commit hash", printable.String(h))
	}
	return h, nil
}

func gitDate(s Signature) string {
	return fmt.Sprintf("@%d %s", s.When.Unix(), s.When.Format("-0700"))
}

// git runs a git command in the root of the working tree and returns its
// standard output; a failure carries its standard error, escaped.
func (r *Repo) git(ctx context.Context, env []string, stdin *strings.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Root
	cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout bytes.Buffer
	var stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return "", fmt.Errorf("git %s: %w", args[0], err)
		}
		return "", fmt.Errorf("git %s: %w:\n%s", args[0], err, printable.Text(msg))
	}
	return stdout.String(), nil
}

// postCommit runs the post-commit hook; as in git, its failure changes
// nothing (the commit is made).
func (r *Repo) postCommit(ctx context.Context, hs *hookSet) {
	if hs.has(hookPostCommit) {
		_ = r.runHook(context.WithoutCancel(ctx), hookPostCommit, nil)
	}
}
