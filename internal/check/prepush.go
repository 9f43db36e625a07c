package check

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/registry"
)

// ZeroID is the object id git gives for "no object" in a SHA-1
// repository: the local side of a deletion, the remote side of a new ref.
// A SHA-256 repository's is 64 zeros; isZeroID takes both.
const ZeroID = "0000000000000000000000000000000000000000"

// isZeroID reports whether id is the all-zero object id of either format.
func isZeroID(id string) bool { return strings.Trim(id, "0") == "" }

// Update is one line of a pre-push hook's standard input.
type Update struct {
	LocalRef, LocalID, RemoteRef, RemoteID string
}

// Deletion reports whether the push deletes the remote ref.
func (u Update) Deletion() bool { return isZeroID(u.LocalID) }

// ParsePrePush reads what git writes to a pre-push hook:
// "<local ref> <local id> <remote ref> <remote id>" per line, the ids of
// 40 hex digits in a SHA-1 repository and 64 in a SHA-256 one.
func ParsePrePush(r io.Reader) ([]Update, error) {
	var out []Update
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 || !isObjectID(f[1]) || len(f[3]) != len(f[1]) || !isObjectID(f[3]) {
			return nil, fmt.Errorf("pre-push input line %d: want \"<local ref> <local id> <remote ref> <remote id>\", got %q", n, line)
		}
		out = append(out, Update{LocalRef: f[0], LocalID: f[1], RemoteRef: f[2], RemoteID: f[3]})
	}
	return out, sc.Err()
}

// isObjectID reports whether s is a full object id: 40 lowercase hex
// digits (SHA-1) or 64 (SHA-256).
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Report is the outcome of a check.
type Report struct {
	Problems   []Problem
	References int // managed references checked
	Commits    int // commits whose trailers were checked
}

// Push checks what a push sends: for each ref pushed (deletions skipped),
// the managed references of its tip's tree under that tree's rules (see
// TreeReferences) and the trailers of each commit the remote does not have
// yet. Those are the commits reachable from the pushed tips but not from
// the remote's old value of any pushed ref (when this repository has that
// commit) nor from any remote-tracking ref (refs/remotes/*), which is what
// `git rev-list <new> --not <old> --remotes` lists. A tip that is not a
// commit (a tag of a tree or blob) has nothing to check.
func Push(ctx context.Context, repo *gitrepo.Repo, reg *registry.Client, updates []Update, opt TreeOptions) (Report, error) {
	var rep Report
	var tips []string
	seen := map[string]bool{}
	var exclude []string
	for _, u := range updates {
		if !isZeroID(u.RemoteID) {
			exclude = append(exclude, u.RemoteID)
		}
		if u.Deletion() {
			continue
		}
		h, err := repo.ResolveCommit(u.LocalID)
		if errors.Is(err, gitrepo.ErrNotCommit) {
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("%s: %w", u.LocalRef, err)
		}
		if !seen[h] {
			seen[h] = true
			tips = append(tips, h)
		}
	}
	if len(tips) == 0 {
		return rep, nil
	}
	remotes, err := repo.RefTips("refs/remotes/")
	if err != nil {
		return rep, err
	}
	for _, h := range remotes {
		exclude = append(exclude, h)
	}
	commits, err := repo.RevList(ctx, tips, exclude)
	if err != nil {
		return rep, err
	}
	rep.Commits = len(commits)

	var refs []Reference
	var problems []Problem
	for _, tip := range tips {
		r, ps, err := TreeReferences(ctx, repo, tip, opt)
		if err != nil {
			return rep, err
		}
		refs = append(refs, r...)
		problems = append(problems, ps...)
	}
	rep.References = len(refs)
	problems = append(problems, Registry(ctx, reg, refs)...)
	problems = append(problems, Trailers(commits)...)
	rep.Problems = Sort(problems)
	return rep, nil
}

// Unpushed returns the commits of HEAD that no remote-tracking ref
// (refs/remotes/*) reaches: what a push of the current branch would send
// as far as this repository knows. On an unborn branch there are none.
func Unpushed(ctx context.Context, repo *gitrepo.Repo) ([]gitrepo.Commit, error) {
	head, _, err := repo.Head()
	if errors.Is(err, gitrepo.ErrUnbornBranch) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	remotes, err := repo.RefTips("refs/remotes/")
	if err != nil {
		return nil, err
	}
	var exclude []string
	for _, h := range remotes {
		exclude = append(exclude, h)
	}
	return repo.RevList(ctx, []string{head}, exclude)
}
