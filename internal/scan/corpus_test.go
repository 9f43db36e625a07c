package scan

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/corpus")

// corpusRoot holds manifests from public repositories, one folder each. It
// lives outside the module and is read in place, never copied.
const corpusRoot = "../../../shared/corpus"

func corpusFolders(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(corpusRoot)
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		t.Skip("corpus is empty")
	}
	return dirs
}

// listFiles returns the folder's files as slash-separated relative paths,
// as git ls-files would.
func listFiles(t testing.TB, root string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func scanCorpus(t testing.TB, folder string) []Match {
	t.Helper()
	root := filepath.Join(corpusRoot, folder)
	ms, err := Files(context.Background(), root, listFiles(t, root), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// golden renders matches one per line: path:line kind image tag digest.
func golden(ms []Match) []byte {
	var b bytes.Buffer
	for _, m := range ms {
		tag, dig := m.Ref.Tag, m.Ref.Digest
		if tag == "" {
			tag = "-"
		}
		if dig == "" {
			dig = "-"
		}
		fmt.Fprintf(&b, "%s:%d %s %s %s %s\n", m.Path, m.Line, m.Kind, m.Ref.Image(), tag, dig)
	}
	return b.Bytes()
}

func TestCorpusGolden(t *testing.T) {
	for _, folder := range corpusFolders(t) {
		t.Run(folder, func(t *testing.T) {
			ms := scanCorpus(t, folder)
			checkSpans(t, filepath.Join(corpusRoot, folder), ms)
			got := golden(ms)
			file := filepath.Join("testdata", "corpus", folder+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/scan -update)", err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", file, diff)
			}
		})
	}
}

// checkSpans verifies every match against the bytes of its file.
func checkSpans(t *testing.T, root string, ms []Match) {
	t.Helper()
	cache := map[string][]byte{}
	for _, m := range ms {
		b, ok := cache[m.Path]
		if !ok {
			var err error
			b, err = os.ReadFile(filepath.Join(root, filepath.FromSlash(m.Path)))
			if err != nil {
				t.Fatal(err)
			}
			cache[m.Path] = b
		}
		if err := validMatch(b, m); err != nil {
			t.Errorf("%s:%d: %v", m.Path, m.Line, err)
		}
	}
}
