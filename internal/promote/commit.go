package promote

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/commitmsg"
	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/edit"
	"github.com/git-laminar/git-laminar/internal/execaction"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/scan"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// LockName is the lock file, in the git directory, that keeps two runs on
// one repository from interleaving.
const LockName = "laminar.lock"

// Lock excludes other runs on this repository until unlock is called.
func (w *Workspace) Lock() (unlock func() error, err error) {
	unlock, err = w.Repo.Lock(LockName)
	if err != nil {
		if errors.Is(err, gitrepo.ErrLocked) {
			return nil, fmt.Errorf("another git laminar run holds %s: %w", LockName, err)
		}
		return nil, fmt.Errorf("taking %s: %w", LockName, err)
	}
	return unlock, nil
}

// LockAndRecover is Lock for the commands that change files: it then
// settles what an interrupted run left (see Recover), so that they start
// from a consistent state. An unsettled journal is an error wrapping
// *gitrepo.UnsettledError; the lock is then released.
func (w *Workspace) LockAndRecover(ctx context.Context) (unlock func() error, err error) {
	unlock, err = w.Lock()
	if err != nil {
		return nil, err
	}
	if _, err := w.Recover(ctx); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// Recover settles the journal of a promotion or branch move that was
// interrupted (killed, or failed on a full disk) in this worktree: if its
// commit was made, it is finished (index and files brought to HEAD);
// otherwise every file it wrote is put back to the committed content, so
// that the run that follows recomputes and commits every promotion. Its
// lock and temporary files are removed. The caller holds the lock.
// Workspace.Recovered then says what was done (nil when there was
// nothing).
func (w *Workspace) Recover(ctx context.Context) (*gitrepo.Settled, error) {
	s, err := w.Repo.Recover(ctx)
	if err != nil {
		return nil, err
	}
	w.Recovered = s
	return s, nil
}

// Message is the commit message of bump and run for p: laminar.toml's
// [commit] message template where it has one, else commitmsg.Bump.
// The template writes the subject (its first line) and the body; the
// Laminar-* trailers are always the ones commitmsg writes, appended after it.
func (w *Workspace) Message(p plan.Plan) (string, error) {
	c := w.Config.Commit
	if c.Message == "" {
		return commitmsg.Bump(p)
	}
	msg, err := commitmsg.Template(c.Message, p)
	if err != nil {
		return "", &config.Error{File: w.Config.Path, Line: c.MessageLine, Key: "commit.message", Msg: err.Error()}
	}
	return msg, nil
}

// CommitResult says what Commit did.
type CommitResult struct {
	Hash  string
	Paths []string
	// Exec lists the exec actions that ran; ExecPaths the files they
	// changed or created (also in Paths).
	Exec      []execaction.Run
	ExecPaths []string
	// TrustErr is set when the commit succeeded but the trust record could
	// not be brought along (see advanceTrust).
	TrustErr error
}

// Commit writes the proposal's changes, runs the exec actions of the rules
// that promoted (see package execaction), and records the edits and every file the
// actions changed or created in one commit on the current branch. If
// anything fails after the first file is written, every file is restored
// (files the actions created are removed) and HEAD and the index are left
// as they were.
//
// Before the first file is written the commit is recorded in the
// repository's journal (gitrepo.Begin): each file with its committed and
// its new content. A run that is killed part way is thus finished or
// undone by the next one (Workspace.Lock), and a failure whose undo fails
// too (a full disk) returns an error wrapping *gitrepo.UnsettledError that
// names the files still holding their new content.
func (w *Workspace) Commit(ctx context.Context, p *Proposal, expectHead string) (CommitResult, error) {
	return w.CommitMessage(ctx, p, "", expectHead)
}

// CommitMessage is Commit with a message of the caller's (commitmsg.Set,
// commitmsg.Rollback); an empty msg means the bump message (Workspace.Message).
// Exec actions, trust and restoring on failure work as in Commit.
func (w *Workspace) CommitMessage(ctx context.Context, p *Proposal, msg, expectHead string) (CommitResult, error) {
	if msg == "" {
		var err error
		if msg, err = w.Message(p.Plan); err != nil {
			return CommitResult{}, err
		}
	}
	if p.Plan.Empty() {
		return CommitResult{}, errors.New("nothing to commit")
	}
	author, committer, err := w.identity()
	if err != nil {
		return CommitResult{}, err
	}
	// The trusted state is read before anything is written: it decides
	// whether the exec actions may run, and whether this commit keeps the
	// trust (advanceTrust).
	var trusted *TrustStatus
	if w.Config.HasExec() {
		st, err := w.TrustStatus()
		switch {
		case err != nil && len(w.ExecCommands(p.Plan)) > 0:
			return CommitResult{}, err
		case err == nil:
			if err := w.checkTrust(p.Plan, st); err != nil {
				return CommitResult{}, err
			}
			trusted = st
		}
		// A commit that runs no exec action does not depend on the trust:
		// when it cannot be read, the commit goes on and keeps none.
	}
	if err := w.checkSparse(p.Plan); err != nil {
		return CommitResult{}, err
	}
	files, err := w.journalFiles(p.Changes, expectHead)
	if err != nil {
		return CommitResult{}, err
	}
	txn, err := w.Repo.Begin("promotion", files)
	if err != nil {
		return CommitResult{}, err
	}
	// undo puts every journaled file back to HEAD's content, or says
	// which still hold the new content and keeps the journal for the
	// next run.
	const everyFile = "\nEvery file was restored; nothing was committed."
	undo := func(cause error, restored string) error {
		if _, err := txn.Settle(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("%w\n%w", cause, err)
		}
		return fmt.Errorf("%w"+restored, cause)
	}
	if applied, err := edit.WriteOrStop(w.Repo.Root, p.Changes); err != nil {
		// The files after the one that failed were not touched: one the
		// user changed meanwhile is theirs, not ours to put back.
		written := map[string]bool{}
		for _, pth := range applied.Paths() {
			written[pth] = true
		}
		var untouched []string
		for _, c := range p.Changes {
			if !written[c.Path] {
				untouched = append(untouched, c.Path)
			}
		}
		txn.Forget(untouched)
		return CommitResult{}, undo(err, everyFile)
	}
	// The trust was checked above, before anything was written.
	ex, err := execaction.Execute(ctx, w.Repo, w.Config, w.execGroups(p.Plan), p.Changes, txn)
	if err != nil {
		return CommitResult{}, undo(err, everyFile)
	}
	paths := append(p.changedPaths(), ex.Committed()...)
	undoAdd, err := w.Repo.AddNew(ex.New())
	if err == nil {
		var hash string
		hash, err = w.Repo.Commit(ctx, gitrepo.CommitRequest{
			Paths: paths, Message: msg, Author: author, Committer: committer, ExpectHead: expectHead,
			Options: w.commitOptions(msg),
		})
		res := CommitResult{Hash: hash, Paths: paths, Exec: ex.Ran(), ExecPaths: ex.Paths()}
		if err == nil {
			if err := txn.End(); err != nil {
				return res, fmt.Errorf("commit %s was made: %w", hash, err)
			}
			if terr := w.advanceTrust(trusted, paths); terr != nil {
				res.TrustErr = fmt.Errorf("keeping the trust across commit %s: %w; the next exec action needs `git laminar trust`", shortHash(hash), terr)
			}
			return res, nil
		}
		if hash != "" {
			// The branch moved but the index was not updated: settling
			// brings the index to the new HEAD.
			if _, serr := txn.Settle(context.WithoutCancel(ctx)); serr == nil {
				if terr := w.advanceTrust(trusted, paths); terr != nil {
					res.TrustErr = fmt.Errorf("keeping the trust across commit %s: %w; the next exec action needs `git laminar trust`", shortHash(hash), terr)
				}
				return res, nil
			}
			return res, err
		}
		err = errors.Join(err, undoAdd())
	}
	if rerr := ex.Restore(); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return CommitResult{}, undo(fmt.Errorf("committing: %w", err), " (files restored)")
}

// execGroups are the exec actions a commit of p runs, by rule.
func (w *Workspace) execGroups(p plan.Plan) []execaction.Group {
	updates := make([]config.Update, len(w.rules.list))
	for i, r := range w.rules.list {
		updates[i] = r.update
	}
	return execaction.Groups(updates, p)
}

// ExecCommands returns the exec actions a commit of p would run, as
// "rule: command" lines; none when no rule with exec actions promotes.
func (w *Workspace) ExecCommands(p plan.Plan) []string {
	return execaction.Commands(w.execGroups(p))
}

// checkSparse refuses a plan that promotes an image a rule manages in a
// file outside the sparse checkout: the commit edits only the files of the
// working tree, and its trailer would claim the image promoted while that
// file still holds the old tag.
func (w *Workspace) checkSparse(p plan.Plan) error {
	sparse, err := w.Repo.SparseFiles()
	if err != nil || len(sparse) == 0 {
		return err
	}
	promoted := map[string]bool{}
	for _, pr := range p.Promotions {
		promoted[pr.Image] = true
	}
	for _, f := range sparse {
		if OddName(f.Path) != "" || !w.rules.Covers(f.Path) {
			continue
		}
		content, err := w.Repo.ReadBlob(f.Hash)
		if err != nil {
			return fmt.Errorf("reading %s (outside the sparse checkout): %w", f.Path, err)
		}
		for _, m := range scan.File(f.Path, content) {
			if r := w.rules.Assign(m); r.Managed() && promoted[m.Ref.Image()] {
				return fmt.Errorf("%s:%d references %s but is outside the sparse checkout, where git-laminar cannot edit it; "+
					"nothing was changed: add it to the checkout (git sparse-checkout add %s) and run again",
					printable.String(f.Path), m.Line, m.Ref.Image(), printable.String(path.Dir(f.Path)))
			}
		}
	}
	return nil
}

// commitOptions are w.CommitOptions for a commit of msg: the message the
// commit hooks leave (a Signed-off-by or Change-Id they add is kept) must
// still carry msg's Laminar-* trailers, each of them and no other, or the
// commit would not record what it changed.
func (w *Workspace) commitOptions(msg string) gitrepo.CommitOptions {
	o := w.CommitOptions
	want := laminarTrailers(msg)
	o.CheckMessage = func(got string) error {
		if have := laminarTrailers(got); !slices.Equal(have, want) {
			return fmt.Errorf("a commit hook changed or moved the Laminar-* trailers (they must stay in the last paragraph, as written): had %d, now %d readable", len(want), len(have))
		}
		return nil
	}
	return o
}

// laminarTrailers are the Laminar-* trailers git reads in msg, in order.
func laminarTrailers(msg string) []string {
	var out []string
	for _, t := range trailer.Parse(msg) {
		if strings.HasPrefix(strings.ToLower(t.Key), "laminar-") {
			out = append(out, t.String())
		}
	}
	return out
}

// journalFiles lists the files a commit of changes rewrites, with the blob
// each holds in HEAD (they are clean, see PrepareEach) and the blob of its
// new content.
func (w *Workspace) journalFiles(changes []edit.Change, expectHead string) ([]gitrepo.JournalFile, error) {
	rev := expectHead
	if rev == "" {
		rev = "HEAD"
	}
	tree, err := w.Repo.TreeFiles(rev)
	if err != nil {
		return nil, fmt.Errorf("reading HEAD: %w", err)
	}
	old := make(map[string]string, len(tree))
	for _, f := range tree {
		old[f.Path] = f.Hash
	}
	files := make([]gitrepo.JournalFile, 0, len(changes))
	for _, c := range changes {
		h, ok := old[c.Path]
		if !ok {
			return nil, fmt.Errorf("%s is not a file in HEAD", c.Path)
		}
		files = append(files, gitrepo.JournalFile{Path: c.Path, Old: h, New: w.Repo.BlobHash(c.New)})
	}
	return files, nil
}

func (p *Proposal) changedPaths() []string {
	out := make([]string, len(p.Changes))
	for i, c := range p.Changes {
		out[i] = c.Path
	}
	return out
}

// identity is git's author and committer, overridden by laminar.toml's
// [commit] table where it sets them.
func (w *Workspace) identity() (gitrepo.Signature, gitrepo.Signature, error) {
	c := w.Config.Commit
	author, committer, err := w.Repo.Identity()
	if err != nil && (c.AuthorName == "" || c.AuthorEmail == "") {
		return author, committer, err
	}
	override := func(s *gitrepo.Signature, name, email string) {
		if name != "" {
			s.Name = name
		}
		if email != "" {
			s.Email = email
		}
	}
	override(&author, c.AuthorName, c.AuthorEmail)
	if c.CommitterName == "" && c.CommitterEmail == "" && err != nil {
		committer.Name, committer.Email = author.Name, author.Email
	}
	override(&committer, c.CommitterName, c.CommitterEmail)
	now := time.Now()
	if author.When.IsZero() {
		author.When = now
	}
	if committer.When.IsZero() {
		committer.When = now
	}
	if committer.Name == "" || committer.Email == "" {
		return author, committer, errors.New("no committer identity: set user.name and user.email in git config, or [commit] in laminar.toml")
	}
	return author, committer, nil
}

// WriteOnly writes the proposal's changes without committing them.
func WriteOnly(w *Workspace, p *Proposal) ([]string, error) {
	applied, err := edit.Write(w.Repo.Root, p.Changes)
	if err != nil {
		return nil, err
	}
	return applied.Paths(), nil
}

func shortHash(h string) string {
	if len(h) > 7 {
		return h[:7]
	}
	return h
}
