package gitrepo

import (
	"context"
	"fmt"
	"testing"
)

// bigRepo makes a repository of n files spread over directories, the
// size of a large manifests repository.
func bigRepo(b *testing.B, n int) (string, []string) {
	b.Helper()
	root := newRepo(b, nil)
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("clusters/c%02d/apps/app%03d/deploy-%d.yaml", i%20, (i/20)%100, i)
		writeFile(b, root, paths[i], fmt.Sprintf("image: registry.example.com/app%d:1.0.%d\n", i%100, i))
	}
	git(b, root, "add", "-A")
	git(b, root, "commit", "-q", "-m", "big")
	return root, paths
}

func BenchmarkTrackedFiles20k(b *testing.B) {
	root, _ := bigRepo(b, 20000)
	r := open(b, root)
	for b.Loop() {
		files, err := r.TrackedFiles()
		if err != nil || len(files) != 20001 {
			b.Fatalf("%d files, %v", len(files), err)
		}
	}
}

func BenchmarkDirty50of20k(b *testing.B) {
	root, paths := bigRepo(b, 20000)
	r := open(b, root)
	var sample []string
	for i := 0; i < 50; i++ {
		sample = append(sample, paths[i*397])
	}
	writeFile(b, root, sample[7], "changed\n")
	for b.Loop() {
		d, err := r.Dirty(sample)
		if err != nil || len(d) != 1 {
			b.Fatalf("Dirty = %v, %v", d, err)
		}
	}
}

func BenchmarkCommit5of20k(b *testing.B) {
	root, paths := bigRepo(b, 20000)
	r := open(b, root)
	sample := []string{paths[1], paths[5000], paths[9999], paths[15000], paths[19999]}
	i := 0
	for b.Loop() {
		i++
		for _, p := range sample {
			writeFile(b, root, p, fmt.Sprintf("image: x:%d\n", i))
		}
		if _, err := r.Commit(context.Background(), testRequest(sample...)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommit5of100k commits a change of five files in a repository of
// 100,000: the cost of one promotion commit in a large repository, which
// the commit path (objects, tree, commit, ref, index) must keep low.
func BenchmarkCommit5of100k(b *testing.B) {
	root, paths := bigRepo(b, 100000)
	r := open(b, root)
	sample := []string{paths[1], paths[25000], paths[49999], paths[75000], paths[99999]}
	i := 0
	for b.Loop() {
		i++
		for _, p := range sample {
			writeFile(b, root, p, fmt.Sprintf("image: x:%d\n", i))
		}
		if _, err := r.Commit(context.Background(), testRequest(sample...)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGitCommitOnly5of100k is the same commit made by `git commit
// --only`, the alternative to driving git's plumbing, for comparison: it
// builds a temporary index of every file from HEAD and refreshes the real
// one, which at this size costs about ten times what Commit does.
func BenchmarkGitCommitOnly5of100k(b *testing.B) {
	root, paths := bigRepo(b, 100000)
	sample := []string{paths[1], paths[25000], paths[49999], paths[75000], paths[99999]}
	i := 0
	for b.Loop() {
		i++
		for _, p := range sample {
			writeFile(b, root, p, fmt.Sprintf("image: x:%d\n", i))
		}
		git(b, root, append([]string{"commit", "-q", "--only", "-m", "Bump images", "--"}, sample...)...)
	}
}

// BenchmarkTreeFiles20k lists the files of HEAD's tree in a repository of
// 20,000 files: the read path of check and verify.
func BenchmarkTreeFiles20k(b *testing.B) {
	root, _ := bigRepo(b, 20000)
	r := open(b, root)
	for b.Loop() {
		files, err := r.TreeFiles("HEAD")
		if err != nil || len(files) != 20001 {
			b.Fatalf("%d files, %v", len(files), err)
		}
	}
}

// BenchmarkLog300 walks a history of 300 commits: what log and the hold
// lookups of bump read.
func BenchmarkLog300(b *testing.B) {
	root := newRepo(b, nil)
	for i := 0; i < 300; i++ {
		git(b, root, "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("c%d\n\nLaminar-Promote: a 1 -> %d", i, i))
	}
	r := open(b, root)
	for b.Loop() {
		n := 0
		if err := r.Log(context.Background(), "", func(Commit) error { n++; return nil }); err != nil || n != 301 {
			b.Fatalf("%d commits, %v", n, err)
		}
	}
}
