package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// CommitEmpty records a commit whose tree is HEAD's, like `git commit
// --allow-empty`: a message and nothing else, for a record that changes no
// file (a Laminar-Release trailer). The index and working tree are not
// touched. The branch (or detached HEAD) moves with the same check-and-set
// and reflog entries as Commit; with expectHead set, a HEAD that moved
// fails with ErrHeadMoved. Hooks are not run. It returns the new commit's
// hash.
func (r *Repo) CommitEmpty(ctx context.Context, message string, author, committer Signature, expectHead string) (string, error) {
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
	headHash, headRef, err := r.readHead()
	if err != nil {
		if errors.Is(err, ErrUnbornBranch) {
			return "", fmt.Errorf("commit: %w: make a first commit with git before using git-laminar", err)
		}
		return "", err
	}
	if op := r.operationInProgress(); op != "" {
		return "", fmt.Errorf("commit: a %s is in progress; finish or abort it first", op)
	}
	if expectHead != "" && expectHead != headHash {
		return "", movedError(headRef, expectHead, headHash)
	}
	cfg, err := r.config()
	if err != nil {
		return "", err
	}
	logAll, err := cfg.getBool("core.logallrefupdates", true)
	if err != nil {
		logAll = true
	}
	parent, err := object.GetCommit(r.repo.Storer, plumbing.NewHash(headHash))
	if err != nil {
		return "", fmt.Errorf("commit: read HEAD %s: %w", headHash, err)
	}
	c := &object.Commit{
		Author:       object.Signature{Name: author.Name, Email: author.Email, When: author.When},
		Committer:    object.Signature{Name: committer.Name, Email: committer.Email, When: committer.When},
		Message:      msg,
		TreeHash:     parent.TreeHash,
		ParentHashes: []plumbing.Hash{parent.Hash},
	}
	obj := r.repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return "", fmt.Errorf("commit: encode: %w", err)
	}
	commitHash, err := r.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return "", fmt.Errorf("commit: write commit object: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	target := headRef
	if target == "" {
		target = "HEAD"
	}
	rl, err := r.lockRef(target)
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
	newHash := commitHash.String()
	subject, _, _ := strings.Cut(msg, "\n")
	logMsg := "commit: " + subject
	if headRef != "" {
		if err := r.appendReflog(headRef, headHash, newHash, committer, logMsg, logAll); err != nil {
			return "", fmt.Errorf("commit: reflog: %w", err)
		}
	}
	if err := r.appendReflog("HEAD", headHash, newHash, committer, logMsg, logAll); err != nil {
		return "", fmt.Errorf("commit: reflog: %w", err)
	}
	if err := rl.commit([]byte(newHash + "\n")); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return newHash, nil
}
