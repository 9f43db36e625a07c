package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// interrupted is a repository where an operation began on a.yaml and
// b.yaml (old → new content) and its process died: the journal is on
// disk and nobody ended it.
type interrupted struct {
	root string
	txn  *Txn
	old  map[string]string
	new  map[string]string
}

func beginInterrupted(t *testing.T) *interrupted {
	t.Helper()
	old := map[string]string{"a.yaml": "image: app:1\n", "dir/b.yaml": "image: app:1 # b\n", "c.yaml": "untouched\n"}
	root := newRepo(t, old)
	x := &interrupted{root: root, old: old, new: map[string]string{"a.yaml": "image: app:2\n", "dir/b.yaml": "image: app:2 # b\n"}}
	r := open(t, root)
	var files []JournalFile
	for _, p := range []string{"a.yaml", "dir/b.yaml"} {
		files = append(files, JournalFile{Path: p, Old: r.BlobHash([]byte(old[p])), New: r.BlobHash([]byte(x.new[p]))})
	}
	txn, err := r.Begin("promotion", files)
	if err != nil {
		t.Fatal(err)
	}
	x.txn = txn
	return x
}

// die forgets the running operation as a killed process would: nothing
// is ended, released or cleaned up.
func (x *interrupted) die() { x.txn.r.txn = nil }

func (x *interrupted) recover(t *testing.T) (*Settled, error) {
	t.Helper()
	return open(t, x.root).Recover(context.Background())
}

func (x *interrupted) read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(x.root, filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func journalExists(root string) bool {
	_, err := os.Stat(filepath.Join(root, ".git", JournalName))
	return err == nil
}

func TestRecoverUndoesFilesWrittenBeforeTheCommit(t *testing.T) {
	x := beginInterrupted(t)
	writeFile(t, x.root, "a.yaml", x.new["a.yaml"]) // b.yaml not reached
	// A temporary file of ours, as a kill during an atomic write leaves.
	writeFile(t, x.root, "dir/.b.yaml.laminar-123456", "half")
	writeFile(t, x.root, "dir/.other.laminar-1", "not next to a journaled file")
	// A lock's private name, left by a kill before the journal recorded it.
	writeFile(t, x.root, ".git/index.lock.laminar-999999", "")
	// The index a kill during the commit hooks leaves.
	writeFile(t, x.root, ".git/laminar-index-999999", "")
	x.die()

	s, err := x.recover(t)
	if err != nil {
		t.Fatal(err)
	}
	if s.Committed || len(s.Restored) != 1 || s.Restored[0] != "a.yaml" {
		t.Errorf("settled %+v, want a.yaml restored", s)
	}
	for p, c := range x.old {
		if got := x.read(t, p); got != c {
			t.Errorf("%s = %q, want %q", p, got, c)
		}
	}
	if _, err := os.Stat(filepath.Join(x.root, "dir/.b.yaml.laminar-123456")); err == nil {
		t.Error("our temporary file was left")
	}
	if _, err := os.Stat(filepath.Join(x.root, ".git/index.lock.laminar-999999")); err == nil {
		t.Error("a lock's private name was left")
	}
	if _, err := os.Stat(filepath.Join(x.root, ".git/laminar-index-999999")); err == nil {
		t.Error("the hooks' index was left")
	}
	if _, err := os.Stat(filepath.Join(x.root, "dir/.other.laminar-1")); err != nil {
		t.Error("a file that is not next to a journaled path was removed")
	}
	os.Remove(filepath.Join(x.root, "dir/.other.laminar-1"))
	assertClean(t, x.root)
	if journalExists(x.root) {
		t.Error("journal left")
	}
	// Settled: nothing more to do.
	if s, err := x.recover(t); s != nil || err != nil {
		t.Errorf("second Recover = %+v, %v", s, err)
	}
}

func TestRecoverFinishesWhenTheCommitWasMade(t *testing.T) {
	x := beginInterrupted(t)
	r := x.txn.r
	for p, c := range x.new {
		writeFile(t, x.root, p, c)
	}
	// The commit is made; the process dies after moving the branch and
	// before the new index is in place, holding index.lock.
	oldIndex, err := os.ReadFile(r.indexPath())
	if err != nil {
		t.Fatal(err)
	}
	hash, err := r.Commit(context.Background(), testRequest("a.yaml", "dir/b.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.indexPath(), oldIndex, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := x.txn.takeLock(r.indexPath() + ".lock"); err != nil {
		t.Fatal(err)
	}
	x.die()
	// A change of mode must be written, so git needs index.lock for it; a
	// refresh with nothing to write would succeed without the lock.
	if _, err := gitErr(x.root, "update-index", "--chmod=+x", "c.yaml"); err == nil {
		t.Fatal("git works despite the index.lock left behind")
	}

	s, err := x.recover(t)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Committed || len(s.Locks) != 1 || len(s.Index) != 2 || len(s.Restored)+len(s.Completed) != 0 {
		t.Errorf("settled %+v, want the commit finished: the lock removed, two index entries reset", s)
	}
	if got := git(t, x.root, "rev-parse", "HEAD"); got != hash {
		t.Errorf("HEAD = %s, want the commit %s", got, hash)
	}
	for p, c := range x.new {
		if got := x.read(t, p); got != c {
			t.Errorf("%s = %q, want the new %q", p, got, c)
		}
	}
	assertClean(t, x.root)
	if journalExists(x.root) {
		t.Error("journal left")
	}
}

func TestRecoverRemovesAJournalWithNothingLeftToDo(t *testing.T) {
	// Killed after the commit, the index and the locks, just before the
	// journal was removed.
	x := beginInterrupted(t)
	r := x.txn.r
	for p, c := range x.new {
		writeFile(t, x.root, p, c)
	}
	if _, err := r.Commit(context.Background(), testRequest("a.yaml", "dir/b.yaml")); err != nil {
		t.Fatal(err)
	}
	x.die()
	if !journalExists(x.root) {
		t.Fatal("no journal to recover")
	}
	s, err := x.recover(t)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Committed || len(s.Index)+len(s.Restored)+len(s.Completed)+len(s.Locks) != 0 {
		t.Errorf("settled %+v, want nothing done but the journal removed", s)
	}
	if journalExists(x.root) {
		t.Error("journal left")
	}
	assertClean(t, x.root)
}

func TestRecoverLeavesAnIndexLockThatIsNotOurs(t *testing.T) {
	x := beginInterrupted(t)
	writeFile(t, x.root, "a.yaml", x.new["a.yaml"])
	x.die()
	// Another git process (or one of ours that was never journaled).
	lock := filepath.Join(x.root, ".git", "index.lock")
	writeFile(t, x.root, ".git/index.lock", "")

	_, err := x.recover(t)
	var ue *UnsettledError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "index.lock") {
		t.Fatalf("err = %v, want an unsettled journal naming index.lock", err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Error("a lock that is not ours was removed")
	}
	if x.read(t, "a.yaml") != x.new["a.yaml"] || !journalExists(x.root) {
		t.Error("something was changed although the index was locked")
	}
	os.Remove(lock)
	if _, err := x.recover(t); err != nil {
		t.Fatalf("once the lock is gone: %v", err)
	}
	assertClean(t, x.root)
}

func TestRecoverRefusesAFileEditedSince(t *testing.T) {
	x := beginInterrupted(t)
	writeFile(t, x.root, "a.yaml", x.new["a.yaml"])
	writeFile(t, x.root, "dir/b.yaml", x.new["dir/b.yaml"])
	x.die()
	edited := "image: app:2 # and the user's edit\n"
	writeFile(t, x.root, "dir/b.yaml", edited)

	_, err := x.recover(t)
	var ue *UnsettledError
	if !errors.As(err, &ue) || len(ue.Problems) != 1 || ue.Problems[0].Path != "dir/b.yaml" {
		t.Fatalf("err = %v, want dir/b.yaml refused by name", err)
	}
	if !strings.Contains(err.Error(), "dir/b.yaml: holds neither") {
		t.Errorf("message: %v", err)
	}
	if x.read(t, "dir/b.yaml") != edited {
		t.Error("the user's edit was overwritten")
	}
	if x.read(t, "a.yaml") != x.new["a.yaml"] || !journalExists(x.root) {
		t.Error("a.yaml was settled, or the journal dropped, while a path was refused")
	}
	// The user puts their file back: the next attempt settles the rest.
	git(t, x.root, "checkout", "--", "dir/b.yaml")
	if _, err := x.recover(t); err != nil {
		t.Fatal(err)
	}
	assertClean(t, x.root)
}

func TestRecoverAfterSomeoneElseMovedHead(t *testing.T) {
	t.Run("another file", func(t *testing.T) {
		x := beginInterrupted(t)
		writeFile(t, x.root, "a.yaml", x.new["a.yaml"])
		x.die()
		writeFile(t, x.root, "c.yaml", "changed by a colleague\n")
		git(t, x.root, "commit", "-q", "-m", "colleague", "c.yaml")
		head := git(t, x.root, "rev-parse", "HEAD")

		s, err := x.recover(t)
		if err != nil {
			t.Fatal(err)
		}
		if s.Committed || len(s.Restored) != 1 {
			t.Errorf("settled %+v, want a.yaml restored", s)
		}
		if got := git(t, x.root, "rev-parse", "HEAD"); got != head {
			t.Errorf("HEAD moved from %s to %s", head, got)
		}
		assertClean(t, x.root)
	})
	t.Run("the same file", func(t *testing.T) {
		x := beginInterrupted(t)
		writeFile(t, x.root, "a.yaml", x.new["a.yaml"])
		x.die()
		// HEAD now holds a third content for a.yaml; the working tree
		// still has ours. Writing HEAD's would be a guess: refused.
		idx := filepath.Join(x.root, ".git", "index")
		saved, _ := os.ReadFile(idx)
		other := t.TempDir()
		writeFile(t, other, "a", "image: app:3\n")
		blob := git(t, x.root, "hash-object", "-w", filepath.Join(other, "a"))
		git(t, x.root, "update-index", "--cacheinfo", "100644,"+blob+",a.yaml")
		tree := git(t, x.root, "write-tree")
		commit := git(t, x.root, "commit-tree", tree, "-p", "HEAD", "-m", "colleague")
		git(t, x.root, "update-ref", "HEAD", commit)
		if err := os.WriteFile(idx, saved, 0o644); err != nil {
			t.Fatal(err)
		}

		_, err := x.recover(t)
		var ue *UnsettledError
		if !errors.As(err, &ue) || len(ue.Problems) != 1 || ue.Problems[0].Path != "a.yaml" || !strings.Contains(err.Error(), "changed by a commit made since") {
			t.Fatalf("err = %v, want a.yaml refused", err)
		}
		if x.read(t, "a.yaml") != x.new["a.yaml"] {
			t.Error("a.yaml was overwritten")
		}
	})
}

func TestRecoverRefusesAnUnreadableJournal(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"corrupt":   func(b []byte) []byte { c := append([]byte(nil), b...); c[len(journalMagic)+10] ^= 1; return c },
		"empty":     func([]byte) []byte { return nil },
		"no digest": func(b []byte) []byte { return b[:strings.LastIndex(string(b), "sha256 ")] },
	} {
		t.Run(name, func(t *testing.T) {
			x := beginInterrupted(t)
			writeFile(t, x.root, "a.yaml", x.new["a.yaml"])
			x.die()
			path := filepath.Join(x.root, ".git", JournalName)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, damage(data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = x.recover(t)
			var ue *UnsettledError
			if !errors.As(err, &ue) || !errors.Is(err, ErrJournal) {
				t.Fatalf("err = %v, want an unreadable journal", err)
			}
			if x.read(t, "a.yaml") != x.new["a.yaml"] || !journalExists(x.root) {
				t.Error("acted on an unreadable journal")
			}
			// Begin refuses to start over it.
			if _, err := open(t, x.root).Begin("promotion", nil); err == nil {
				t.Error("Begin started over an unsettled journal")
			}
		})
	}
}

func TestRecoverRefusesWhatAnInterruptedCommandMayHaveChanged(t *testing.T) {
	x := beginInterrupted(t)
	writeFile(t, x.root, "a.yaml", x.new["a.yaml"])
	writeFile(t, x.root, "notes.txt", "the user's untracked notes\n")
	if err := x.txn.Watch(map[string]string{"notes.txt": x.txn.r.BlobHash([]byte("the user's untracked notes\n"))}); err != nil {
		t.Fatal(err)
	}
	// The command writes a file and changes a clean one, and is killed.
	writeFile(t, x.root, "rendered/out.yaml", "generated\n")
	writeFile(t, x.root, "c.yaml", "regenerated\n")
	x.die()

	_, err := x.recover(t)
	var ue *UnsettledError
	if !errors.As(err, &ue) || len(ue.Problems) != 2 {
		t.Fatalf("err = %v, want c.yaml and rendered/out.yaml refused", err)
	}
	for _, p := range []string{"c.yaml", "rendered/out.yaml"} {
		if !strings.Contains(err.Error(), p+":") {
			t.Errorf("%s not named: %v", p, err)
		}
	}
	os.RemoveAll(filepath.Join(x.root, "rendered"))
	git(t, x.root, "checkout", "--", "c.yaml")
	if _, err := x.recover(t); err != nil {
		t.Fatal(err)
	}
	if x.read(t, "notes.txt") != "the user's untracked notes\n" || x.read(t, "a.yaml") != x.old["a.yaml"] {
		t.Error("not settled as expected")
	}
}

func TestOverwriteInPlace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, tc := range []struct{ cur, want string }{
		{"image: app:2\n", "image: app:1\n"},
		{"image: app:10\n", "image: app:9\n"},
		{"image: app:9\n", "image: app:10\n"}, // within the block the file has
	} {
		if err := os.WriteFile(p, []byte(tc.cur), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := overwriteInPlace(p, []byte(tc.want)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(p); string(got) != tc.want {
			t.Errorf("%q -> %q, want %q", tc.cur, got, tc.want)
		}
	}
}

func FuzzParseJournal(f *testing.F) {
	j := journal{Op: "promotion", PID: 42, Head: strings.Repeat("a", 40), Ref: "refs/heads/main",
		Files: []JournalFile{{Path: "a.yaml", Old: strings.Repeat("b", 40), New: strings.Repeat("c", 40)}, {Path: "new.txt", New: strings.Repeat("d", 40)}},
		Locks: []journalLock{{Path: "/repo/.git/index.lock", Tmp: "/repo/.git/index.lock.laminar-42", Dev: 1, Ino: 2}}}
	f.Add(j.encode())
	f.Add([]byte(journalMagic + "{}\nsha256 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n"))
	f.Add([]byte(journalMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := parseJournal(data)
		if err != nil {
			if !errors.Is(err, ErrJournal) {
				t.Fatalf("error %v does not wrap ErrJournal", err)
			}
			return
		}
		// What parses is safe to act on, and survives a round trip.
		for _, f := range j.Files {
			if c, err := cleanPath(f.Path); err != nil || c != f.Path {
				t.Fatalf("unclean path %q accepted", f.Path)
			}
		}
		if _, err := parseJournal(j.encode()); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}
