package gitrepo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	goindex "github.com/go-git/go-git/v5/plumbing/format/index"
)

func indexVersion(t *testing.T, root string) uint32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	return binary.BigEndian.Uint32(b[4:8])
}

func indexExtensions(t *testing.T, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := parseIndex(b, testFormat())
	if err != nil {
		t.Fatal(err)
	}
	var sigs []string
	for _, x := range idx.exts {
		sigs = append(sigs, x.sig)
	}
	return sigs
}

// manyFiles is a tree with long shared prefixes (exercising v4 path
// compression), nested directories and an executable.
func manyFiles() map[string]string {
	files := map[string]string{"run.sh*": "#!/bin/sh\n", "a": "a\n", "a-b/c": "c\n", "a.b": "ab\n", "a0/b": "b\n"}
	for i := 0; i < 40; i++ {
		files[fmt.Sprintf("clusters/prod/apps/app-%02d/deployment.yaml", i)] = fmt.Sprintf("image: app-%d:1.0\n", i)
	}
	files[strings.Repeat("long-directory-name/", 12)+"name.yaml"] = "long path\n"
	return files
}

func TestIndexVersions(t *testing.T) {
	for _, v := range []string{"2", "3", "4"} {
		t.Run("v"+v, func(t *testing.T) {
			root := newRepo(t, manyFiles())
			git(t, root, "update-index", "--index-version", v)
			if v == "3" {
				// Extended flags (skip-worktree) make a real v3 index.
				git(t, root, "update-index", "--skip-worktree", "a.b")
			}
			git(t, root, "update-index", "--assume-unchanged", "a")
			git(t, root, "config", "core.untrackedCache", "true")
			git(t, root, "status", "--porcelain") // writes TREE and UNTR
			r := open(t, root)

			checkAgainstGoGit(t, root)
			checkTrackedFiles(t, r, root)

			p := "clusters/prod/apps/app-07/deployment.yaml"
			writeFile(t, root, p, "image: app-7:2.0\n")
			if _, err := r.Commit(context.Background(), testRequest(p)); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(indexVersion(t, root)); got != v {
				t.Errorf("index version %s after Commit, want %s", got, v)
			}
			assertClean(t, root)
			git(t, root, "diff-files", "--quiet")
			lsv := git(t, root, "ls-files", "-v", "a", "a.b")
			if !strings.Contains(lsv, "h a\n") && !strings.HasPrefix(lsv, "h a") {
				t.Errorf("assume-unchanged bit lost:\n%s", lsv)
			}
			if v == "3" && !strings.Contains(lsv, "S a.b") {
				t.Errorf("skip-worktree bit lost:\n%s", lsv)
			}
			if exts := indexExtensions(t, root); !contains(exts, "UNTR") || contains(exts, "TREE") {
				t.Errorf("extensions after Commit = %v, want UNTR kept and TREE dropped", exts)
			}
			checkAgainstGoGit(t, root)
			// git can rewrite what we wrote, and still agrees.
			git(t, root, "update-index", "--refresh")
			git(t, root, "write-tree")
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkAgainstGoGit parses the index with go-git's decoder as well and
// compares entries: the two readers check each other.
func checkAgainstGoGit(t *testing.T, root string) {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var gi goindex.Index
	if err := goindex.NewDecoder(f).Decode(&gi); err != nil {
		t.Fatalf("go-git decode: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
	ours, err := parseIndex(b, formatSHA1)
	if err != nil {
		t.Fatal(err)
	}
	type ent struct {
		Name      string
		Mode      uint32
		Hash      string
		Stage     int
		Skip, ITA bool
	}
	var a, o []ent
	for _, e := range gi.Entries {
		a = append(a, ent{e.Name, uint32(e.Mode), e.Hash.String(), int(e.Stage), e.SkipWorktree, e.IntentToAdd})
	}
	for _, e := range ours.entries {
		o = append(o, ent{e.name, e.mode, e.hash.String(), e.stage(), e.skipWorktree(), e.intentToAdd()})
	}
	if diff := cmp.Diff(a, o); diff != "" {
		t.Errorf("index entries (-go-git +ours):\n%s", diff)
	}
}

func checkTrackedFiles(t *testing.T, r *Repo, root string) {
	t.Helper()
	got, err := r.TrackedFiles()
	if err != nil {
		t.Fatal(err)
	}
	var want []TrackedFile
	for _, line := range strings.Split(strings.TrimSuffix(gitRaw(t, root, "ls-files", "-z", "-s", "-t"), "\x00"), "\x00") {
		// "H 100644 <hash> 0\tpath"; S = skip-worktree
		meta, p, _ := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if f[0] != "H" || (f[1] != "100644" && f[1] != "100755") || f[3] != "0" {
			continue
		}
		want = append(want, TrackedFile{Path: p, Mode: f[1]})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TrackedFiles (-git ls-files +ours):\n%s", diff)
	}
}

func TestTrackedFiles(t *testing.T) {
	root := newRepo(t, map[string]string{
		"b.yaml": "b\n", "a/x.yaml": "x\n", "tool*": "#!/bin/sh\n", "é/ü.yaml": "u\n", "with space.yaml": "s\n",
	})
	os.Symlink("b.yaml", filepath.Join(root, "link"))
	git(t, root, "add", "link")
	// A submodule (gitlink) entry.
	head := git(t, root, "rev-parse", "HEAD")
	git(t, root, "update-index", "--add", "--cacheinfo", "160000,"+head+",vendor/sub")
	writeFile(t, root, "ita.yaml", "i\n")
	git(t, root, "add", "-N", "ita.yaml")
	git(t, root, "commit", "-q", "-m", "more")
	r := open(t, root)
	got, err := r.TrackedFiles()
	if err != nil {
		t.Fatal(err)
	}
	want := []TrackedFile{
		{"a/x.yaml", "100644"}, {"b.yaml", "100644"}, {"tool", "100755"},
		{"with space.yaml", "100644"}, {"é/ü.yaml", "100644"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TrackedFiles (-want +got):\n%s", diff)
	}
	git(t, root, "rm", "-q", "--cached", "ita.yaml")
	checkTrackedFiles(t, r, root)

	// Empty repository: no index yet.
	isolate(t)
	empty := t.TempDir()
	git(t, empty, "init", "-q")
	if files, err := open(t, empty).TrackedFiles(); err != nil || len(files) != 0 {
		t.Errorf("TrackedFiles on empty repo = %v, %v", files, err)
	}
}

func TestSplitIndexRefused(t *testing.T) {
	root := newRepo(t, manyFiles())
	git(t, root, "update-index", "--split-index")
	indexBefore, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
	r := open(t, root)
	if _, err := r.TrackedFiles(); !errors.Is(err, errSplitIndex) {
		t.Errorf("TrackedFiles with split index = %v", err)
	}
	writeFile(t, root, "a", "changed\n")
	_, err := r.Commit(context.Background(), testRequest("a"))
	if !errors.Is(err, errSplitIndex) || !strings.Contains(err.Error(), "--no-split-index") {
		t.Fatalf("Commit with split index = %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(root, ".git", "index")); !bytes.Equal(after, indexBefore) {
		t.Error("index changed")
	}
	if _, err := os.Stat(filepath.Join(root, ".git", "index.lock")); err == nil {
		t.Error("index.lock left behind")
	}
	// Following the advice makes it work.
	git(t, root, "update-index", "--no-split-index")
	if _, err := r.Commit(context.Background(), testRequest("a")); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root)
}

func TestSparseIndex(t *testing.T) {
	root := newRepo(t, map[string]string{"in/a.yaml": "a\n", "out/b.yaml": "b\n"})
	if _, err := gitErr(root, "sparse-checkout", "set", "--cone", "--sparse-index", "in"); err != nil {
		t.Skip("git without sparse index support")
	}
	r := open(t, root)
	files, err := r.TrackedFiles()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]TrackedFile{{"in/a.yaml", "100644"}}, files); diff != "" {
		t.Errorf("TrackedFiles with sparse index:\n%s", diff)
	}
	writeFile(t, root, "in/a.yaml", "a2\n")
	if _, err := r.Commit(context.Background(), testRequest("in/a.yaml")); err != nil {
		t.Fatal(err)
	}
	if exts := indexExtensions(t, root); !contains(exts, "sdir") {
		t.Errorf("sdir dropped: %v", exts)
	}
	assertClean(t, root)
}

func TestParseIndexSkipHash(t *testing.T) {
	root := newRepo(t, manyFiles())
	b, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
	copy(b[len(b)-20:], make([]byte, 20)) // index.skipHash writes a zero trailer
	if _, err := parseIndex(b, formatSHA1); err != nil {
		t.Errorf("zero trailer: %v", err)
	}
	b[len(b)-1] = 1
	if _, err := parseIndex(b, formatSHA1); err == nil {
		t.Error("bad checksum accepted")
	}
	for _, n := range []int{0, 11, 40, len(b) / 2} {
		if _, err := parseIndex(b[:n], formatSHA1); err == nil {
			t.Errorf("truncated index (%d bytes) accepted", n)
		}
	}
}

// TestIndexLongName covers entry names of 0xfff bytes and more, whose
// length no longer fits the flags field, in each index version.
func TestIndexLongName(t *testing.T) {
	for _, v := range []string{"2", "4"} {
		t.Run("v"+v, func(t *testing.T) {
			root := newRepo(t, manyFiles())
			blob := git(t, root, "rev-parse", "HEAD:a")
			for _, n := range []int{0xffe, 0xfff, 0x1000, 5000} {
				name := strings.Repeat("d/", (n-1)/2) + strings.Repeat("x", n-(n-1)/2*2)
				git(t, root, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+name)
			}
			git(t, root, "update-index", "--index-version", v)
			r := open(t, root)
			checkAgainstGoGit(t, root)
			checkTrackedFiles(t, r, root)
			b, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
			idx, err := parseIndex(b, formatSHA1)
			if err != nil {
				t.Fatal(err)
			}
			if got := idx.encode(nil); !bytes.Equal(got[:idx.entryEnd], b[:idx.entryEnd]) {
				t.Error("encode without updates changed the entries")
			}
		})
	}
}
