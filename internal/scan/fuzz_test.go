package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzPaths decide the syntax the fuzzed content is read as.
var fuzzPaths = []string{"a.yaml", "Dockerfile", ".env", "a.json", "a.jsonnet", "a.tf", "kustomization.yaml", "a.sh", "Makefile", "README.md", ".gitlab-ci.yml"}

func FuzzFile(f *testing.F) {
	for _, s := range []string{
		"image: nginx:1.25\n",
		"images:\n- name: ghcr.io/a/b\n  newTag: v1\n  digest: " + dg + "\n",
		"image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: \"8.2\"\n",
		"FROM --platform=x golang:1.22 AS b\nFROM b\nCOPY --from=nginx:1 / /\n",
		"X_IMAGE=registry/app:1.2 # laminar: ghcr.io/a\n",
		`{"image":"mongo:latest","tag":"1"}`,
		"tag: 1.0 # laminar: ghcr.io/x\r\n- {image: 'debian', tag: '9.1'}\n",
		"docker run --rm -v a:b debian:latest\n",
		"x:\n  image:\n    nginx:1.25\n  other: >-\n    a\n",
		"images: [\"nginx:1.25\", redis]\nextraImages:\n- alpine:3\n",
		"FROM \\\n  nginx:1.25\nRUN docker run \\\n  --rm b:1\n",
		"- uri: oci://ghcr.io/a/b:1@" + dg + "\n# x\n```\n",
	} {
		for i := range fuzzPaths {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, content []byte) {
		p := fuzzPaths[int(which)%len(fuzzPaths)]
		ms := File(p, content)
		for _, m := range ms {
			if err := validMatch(content, m); err != nil {
				t.Fatalf("%s: %+v: %v", p, m, err)
			}
		}
		if !slices.IsSortedFunc(ms, func(a, b Match) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		}) {
			t.Fatalf("matches not sorted: %+v", ms)
		}
		// Re-applying every tag and digest with the same bytes changes
		// nothing: the scan of the result is the same.
		re := slices.Clone(content)
		for _, m := range ms {
			for _, sp := range []Span{m.Tag, m.Digest} {
				if sp != none {
					re = slices.Concat(re[:sp.Start], content[sp.Start:sp.End], re[sp.End:])
				}
			}
		}
		if !bytes.Equal(re, content) {
			t.Fatal("re-applying the same tags changed the content")
		}
		if again := File(p, re); len(again) != len(ms) {
			t.Fatalf("re-scan found %d matches, first scan %d", len(again), len(ms))
		}
		// Writing a different tag (or digest) at a span changes that
		// reference only: the re-scan finds it at the same place.
		for i, m := range ms {
			if m.Tag != none && m.Ref.Tag != newTags[0] {
				checkEdit(t, p, content, ms, i, m.Tag, newTags[0], false)
			}
			if m.Digest != none && m.Ref.Digest != otherDigest {
				checkEdit(t, p, content, ms, i, m.Digest, otherDigest, true)
			}
		}
	})
}

// TestFuzzSeedsPresent keeps the checked-in seed corpus from going missing.
func TestFuzzSeedsPresent(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzFile"))
	if err != nil || len(ents) == 0 {
		t.Fatalf("no seeds in testdata/fuzz/FuzzFile: %v", err)
	}
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzFile", e.Name()))
		if !strings.HasPrefix(string(b), "go test fuzz v1\n") {
			t.Errorf("%s is not a fuzz seed", e.Name())
		}
	}
}
