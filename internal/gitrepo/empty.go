package gitrepo

import (
	"context"
	"fmt"
)

// CommitEmpty records a commit whose tree is HEAD's, like `git commit
// --allow-empty`: a message and nothing else, for a record that changes no
// file (a Laminar-Release trailer). The index and working tree are not
// touched. The branch (or detached HEAD) moves with the same check-and-set
// and reflog entries as Commit; with expectHead set, a HEAD that moved
// fails with ErrHeadMoved. Signing and hooks are as for Commit, by opts.
// It returns the new commit's hash.
func (r *Repo) CommitEmpty(ctx context.Context, message string, author, committer Signature, expectHead string, opts CommitOptions) (string, error) {
	msg, err := checkCommitMessage(message, author, committer)
	if err != nil {
		return "", err
	}
	headHash, headRef, err := r.commitHead(expectHead)
	if err != nil {
		return "", err
	}
	cfg, err := r.config()
	if err != nil {
		return "", err
	}
	parent, err := r.commitByName(headHash)
	if err != nil {
		return "", fmt.Errorf("commit: read HEAD: %w", err)
	}
	hooks, err := r.commitHooks(cfg, opts)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	hash, err := r.writeCommit(ctx, newCommit{
		headHash: headHash, headRef: headRef, parent: parent, tree: parent.TreeHash, msg: msg,
		author: author, committer: committer, logAll: cfg.logAllRefUpdates(),
		cfg: cfg, opts: opts, hooks: hooks,
	})
	if err != nil {
		return "", err
	}
	r.postCommit(ctx, hooks)
	return hash, nil
}
