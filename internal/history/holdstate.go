package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
)

// StateFile is the name, in the git dir (per worktree, as HEAD is), of the
// file that keeps the holds at one commit between runs.
const StateFile = "laminar-holds"

const (
	stateMagic = "git-laminar holds 1"
	// stateMax bounds what is read of the file: one line per image ever
	// held or released.
	stateMax = 16 << 20
)

// headHolds returns the holds at HEAD without reading all of history on
// every run. The state file says what they were at some commit; when that
// commit is HEAD the file is the answer, and when HEAD descends from it by
// commits of one parent each, only those commits are read: walking newest
// first by committer time, git visits them first and then exactly the
// history the file was computed from, so folding them over the file gives
// what a walk of all of history would. Otherwise (a merge since, a rewritten
// or force-pushed history, a file that is missing, corrupt, or whose
// entries do not match their commits) all of history is read again. Either
// way the file is then rewritten for HEAD; failing to write it costs only
// time on the next run.
//
// It says how it got the answer: stateReused, stateExtended or stateRebuilt.
func headHolds(ctx context.Context, repo *gitrepo.Repo) (*holdState, string, error) {
	head, _, err := repo.Head()
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(repo.GitDir, StateFile)
	var s *holdState
	how := stateRebuilt
	if st, err := readState(path); err == nil && st.verify(ctx, repo) == nil {
		if st.commit == head {
			return &st.holdState, stateReused, nil
		}
		if s = st.extend(ctx, repo, head); s != nil {
			how = stateExtended
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if s == nil {
		if s, err = walkHolds(ctx, repo, ""); err != nil {
			return nil, "", err
		}
	}
	_ = writeState(path, &savedState{commit: head, holdState: *s})
	return s, how, nil
}

const (
	stateReused   = "reused"
	stateExtended = "extended"
	stateRebuilt  = "rebuilt"
)

// savedState is the content of the state file: the holds at commit.
type savedState struct {
	commit string
	holdState
}

// extend folds the commits from st.commit to head over st, or returns nil
// when head is not st.commit followed by commits of one parent each.
func (st *savedState) extend(ctx context.Context, repo *gitrepo.Repo, head string) *holdState {
	fresh := &holdState{}
	next := head // the commit the walk must meet next
	linear := true
	err := repo.LogWith(ctx, gitrepo.LogOptions{Rev: head, Exclude: st.commit}, func(c gitrepo.Commit) error {
		if len(c.Parents) != 1 || c.Hash != next {
			linear = false
			return gitrepo.ErrStop
		}
		next = c.Parents[0]
		fresh.add(c)
		return nil
	})
	if err != nil || !linear || next != st.commit {
		return nil
	}
	if fresh.decided == nil {
		fresh.decided = map[string]decision{}
	}
	for image, d := range st.decided {
		if _, ok := fresh.decided[image]; !ok {
			fresh.decided[image] = d
		}
	}
	return fresh
}

// verify checks the file against the repository: its commit exists, and
// each entry is what its commit says of the image. A file copied from
// another repository, left from a history since rewritten and collected,
// or edited by hand fails. (Whoever can write the git dir can change the
// hooks too; this is about mistakes, not about them.)
func (st *savedState) verify(ctx context.Context, repo *gitrepo.Repo) error {
	byCommit := map[string][]decision{st.commit: nil}
	ids := []string{st.commit}
	for _, d := range st.decided {
		if _, ok := byCommit[d.Commit]; !ok {
			ids = append(ids, d.Commit)
		}
		byCommit[d.Commit] = append(byCommit[d.Commit], d)
	}
	seen := 0
	err := repo.Commits(ctx, ids, func(c gitrepo.Commit) error {
		want, ok := byCommit[c.Hash]
		if !ok {
			return fmt.Errorf("git printed commit %s, not asked for", c.Hash)
		}
		seen++
		got := map[string]decision{}
		for _, d := range decisions(c) {
			got[d.Image] = d
		}
		for _, w := range want {
			g, ok := got[w.Image]
			if !ok || g.Released != w.Released || g.Author != w.Author || g.Rollback != w.Rollback ||
				!g.Date.Equal(w.Date) || g.Date.Format(time.RFC3339) != w.Date.Format(time.RFC3339) {
				return fmt.Errorf("commit %s does not say what the state file says of %s", c.Hash, w.Image)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if seen != len(ids) {
		return fmt.Errorf("git printed %d of %d commits", seen, len(ids))
	}
	return nil
}

// encode writes the file: a header, the commit, one line per image sorted
// by image, and a SHA-256 of all of that, so that a torn or damaged file is
// told from a good one.
func (st *savedState) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\ncommit %s\n", stateMagic, st.commit)
	images := make([]string, 0, len(st.decided))
	for image := range st.decided {
		images = append(images, image)
	}
	slices.Sort(images)
	for _, image := range images {
		d := st.decided[image]
		if d.Released {
			fmt.Fprintf(&b, "release %s %s\n", d.Commit, strconv.Quote(image))
			continue
		}
		rb := 0
		if d.Rollback {
			rb = 1
		}
		fmt.Fprintf(&b, "hold %s %s %d %s %s\n", d.Commit, d.Date.Format(time.RFC3339), rb, strconv.Quote(image), strconv.Quote(d.Author))
	}
	return seal(b.Bytes())
}

// seal appends the checksum line to body.
func seal(body []byte) []byte {
	sum := sha256.Sum256(body)
	return fmt.Appendf(body, "sha256 %s\n", hex.EncodeToString(sum[:]))
}

// decodeState parses what encode wrote; anything else is an error.
func decodeState(data []byte) (*savedState, error) {
	i := bytes.LastIndex(data[:max(len(data)-1, 0)], []byte("\nsha256 "))
	if i < 0 || !bytes.HasSuffix(data, []byte("\n")) {
		return nil, errors.New("no checksum")
	}
	body, sumLine := data[:i+1], string(data[i+1:len(data)-1])
	sum := sha256.Sum256(body)
	if sumLine != "sha256 "+hex.EncodeToString(sum[:]) {
		return nil, errors.New("checksum mismatch")
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) < 2 || lines[0] != stateMagic {
		return nil, errors.New("not a holds state file of this version")
	}
	commit, ok := strings.CutPrefix(lines[1], "commit ")
	if !ok || !objectID(commit) {
		return nil, errors.New("no commit")
	}
	st := &savedState{commit: commit, holdState: holdState{decided: map[string]decision{}}}
	for n, line := range lines[2:] {
		d, err := decodeLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+3, err)
		}
		if _, dup := st.decided[d.Image]; dup {
			return nil, fmt.Errorf("line %d: %s twice", n+3, d.Image)
		}
		st.decided[d.Image] = d
	}
	return st, nil
}

func decodeLine(line string) (decision, error) {
	kind, rest, _ := strings.Cut(line, " ")
	commit, rest, _ := strings.Cut(rest, " ")
	if !objectID(commit) {
		return decision{}, errors.New("no commit")
	}
	var d decision
	d.Commit = commit
	switch kind {
	case "release":
		d.Released = true
	case "hold":
		date, rest2, _ := strings.Cut(rest, " ")
		rb, rest3, _ := strings.Cut(rest2, " ")
		t, err := time.Parse(time.RFC3339, date)
		if err != nil || (rb != "0" && rb != "1") {
			return decision{}, errors.New("bad date or rollback flag")
		}
		d.Date, d.Rollback, rest = t, rb == "1", rest3
	default:
		return decision{}, fmt.Errorf("unknown entry %q", kind)
	}
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return decision{}, errors.New("bad image")
	}
	d.Image, _ = strconv.Unquote(q)
	rest = rest[len(q):]
	if d.Released {
		if rest != "" {
			return decision{}, errors.New("trailing text")
		}
		return d, nil
	}
	rest, ok := strings.CutPrefix(rest, " ")
	if q, err = strconv.QuotedPrefix(rest); !ok || err != nil || len(q) != len(rest) {
		return decision{}, errors.New("bad author")
	}
	d.Author, _ = strconv.Unquote(q)
	return d, nil
}

func readState(path string) (*savedState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, stateMax+1))
	if err != nil {
		return nil, err
	}
	if len(data) > stateMax {
		return nil, errors.New("state file too large")
	}
	return decodeState(data)
}

// writeState replaces the file whole: written beside it, then renamed over
// it, so that a reader sees the old file or the new one, and of two runs
// writing at once the last rename wins with a file that is whole.
func writeState(path string, st *savedState) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), StateFile+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(st.encode())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// objectID reports whether s is a full object id in lower-case hex, of
// SHA-1 (40 digits) or SHA-256 (64).
func objectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
