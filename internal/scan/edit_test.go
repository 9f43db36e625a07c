package scan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// newTags are the tags written over every tag span: a longer and a
// shorter one, so that spans after the edit move both ways.
var newTags = []string{"9.9.9-laminar.1", "v1"}

const otherDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// summary is what must survive an edit of another match: everything but
// the columns and spans, which may move on the edited line.
type summary struct {
	line                    int
	kind                    Kind
	name, tag, digest, path string
}

func summarise(ms []Match) []summary {
	out := make([]summary, len(ms))
	for i, m := range ms {
		out[i] = summary{m.Line, m.Kind, m.Ref.Name, m.Ref.Tag, m.Ref.Digest, m.Path}
	}
	return out
}

// checkEdit replaces the bytes at sp with repl in content, re-scans, and
// checks that only those bytes changed and that the scan is the same but
// for match i, which now holds repl as its tag (or digest).
func checkEdit(t *testing.T, path string, content []byte, ms []Match, i int, sp Span, repl string, digest bool) {
	t.Helper()
	edited := slices.Concat(content[:sp.Start], []byte(repl), content[sp.End:])
	if !bytes.Equal(edited[:sp.Start], content[:sp.Start]) || !bytes.Equal(edited[sp.Start+len(repl):], content[sp.End:]) {
		t.Fatalf("%s: bytes outside the span changed", path)
	}
	want := summarise(ms)
	if digest {
		want[i].digest = repl
	} else {
		want[i].tag = repl
	}
	got := File(path, edited)
	gs := summarise(got)
	if !slices.Equal(want, gs) {
		t.Errorf("%s:%d: %s %s: writing %q at %v changed the scan:\nwant %v\ngot  %v",
			path, ms[i].Line, ms[i].Kind, ms[i].Ref.Original, repl, sp, diffSummaries(want, gs), diffSummaries(gs, want))
		return
	}
	m := got[i]
	at := m.Tag
	if digest {
		at = m.Digest
	}
	if at.Start != sp.Start || string(edited[at.Start:at.End]) != repl {
		t.Errorf("%s:%d: the new %q is not at the span %v but at %v", path, ms[i].Line, repl, sp, at)
	}
	if err := validMatch(edited, m); err != nil {
		t.Errorf("%s:%d: after the edit: %v", path, m.Line, err)
	}
}

func diffSummaries(a, b []summary) []summary {
	var out []summary
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestCorpusEdits rewrites every tag and digest of every match of every
// corpus folder, one at a time, and re-scans: the spans point at exactly
// the bytes to rewrite, for every Kind.
func TestCorpusEdits(t *testing.T) {
	for _, folder := range corpusFolders(t) {
		t.Run(folder, func(t *testing.T) {
			root := filepath.Join(corpusRoot, folder)
			ms := scanCorpus(t, folder)
			kinds := map[Kind]int{}
			for p, fms := range groupByPath(ms) {
				content, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
				if err != nil {
					t.Fatal(err)
				}
				for i, m := range fms {
					kinds[m.Kind]++
					if m.Tag != none {
						for _, nt := range newTags {
							if nt != m.Ref.Tag {
								checkEdit(t, p, content, fms, i, m.Tag, nt, false)
							}
						}
					}
					if m.Digest != none && m.Ref.Digest != otherDigest {
						checkEdit(t, p, content, fms, i, m.Digest, otherDigest, true)
					}
				}
			}
			t.Logf("%d matches: %v", len(ms), kinds)
		})
	}
}

// TestEditsEveryKind does the same on a file of every syntax and Kind, so
// that the property holds without the corpus too.
func TestEditsEveryKind(t *testing.T) {
	files := map[string]string{
		"a.yaml": "image: nginx:1.25\nimages:\n- redis:7\n" +
			"x:\n  image:\n    registry: docker.io\n    repository: bitnami/redis\n    tag: \"8.2\"\n    digest: " + dg + "\n" +
			"y: {image: debian, tag: '9.1'}\n" +
			"z:\n  image: >-\n    busybox:1.36\n" +
			"version: 1.4.2 # laminar: registry.example.com/app\n" +
			"- uri: oci://ghcr.io/org/mcp:1.0@" + dg + "\n",
		"kustomization.yaml": "images:\n- name: app\n  newName: ghcr.io/org/app\n  newTag: v1.0\n  digest: " + dg + "\n- {name: nginx, newTag: '1.25'}\n",
		"Dockerfile":         "FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nFROM \\\n  nginx:1.25@" + dg + "\nCOPY --from=ghcr.io/a/t:2 / /\n",
		".env":               "APP_IMAGE=ghcr.io/org/app:1.2\nAPP_TAG=1.2 # laminar: ghcr.io/org/app\n",
		"a.json":             "{\"image\": \"mongo:7\", \"images\": [\n  \"redis:7\"\n]}\n",
		"main.tf":            "image = \"nginx:1.25\"\n",
		"run.sh":             "docker run \\\n  --rm nginx:1.25\n",
		"README.md":          "Run `docker run nginx:1.25`.\n",
	}
	for p, c := range files {
		content := []byte(c)
		ms := File(p, content)
		if len(ms) == 0 {
			t.Errorf("%s: no matches", p)
		}
		for i, m := range ms {
			if m.Tag != none {
				checkEdit(t, p, content, ms, i, m.Tag, newTags[0], false)
			}
			if m.Digest != none {
				checkEdit(t, p, content, ms, i, m.Digest, otherDigest, true)
			}
		}
	}
}

func groupByPath(ms []Match) map[string][]Match {
	out := map[string][]Match{}
	for _, m := range ms {
		out[m.Path] = append(out[m.Path], m)
	}
	return out
}

var _ = fmt.Sprint
