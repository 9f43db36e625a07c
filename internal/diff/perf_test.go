package diff

import (
	"bytes"
	"fmt"
	"math/rand"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bigManifest is n lines of YAML-like text with image references, mostly
// distinct like real manifests.
func bigManifest(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "- name: svc-%d\n", i)
		case 1:
			fmt.Fprintf(&b, "  image: registry.example.com/team/svc-%d:1.%d.0\n", i, i%17)
		case 2:
			b.WriteString("  ports:\n")
		case 3:
			fmt.Fprintf(&b, "    - containerPort: %d\n", 8000+i%1000)
		default:
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

// bumpTags changes the tag on every k-th image line, as a bump does.
func bumpTags(old []byte, every int) []byte {
	ls := strings.SplitAfter(string(old), "\n")
	n := 0
	for i, l := range ls {
		if strings.HasPrefix(l, "  image: ") {
			if n%every == 0 {
				ls[i] = strings.Replace(l, ":1.", ":2.", 1)
			}
			n++
		}
	}
	return []byte(strings.Join(ls, ""))
}

// TestLargeFile diffs a 50,000-line manifest after a bump of a few and of
// very many tags: the result must be git's, byte for byte, and come
// quickly. The time limits are loose because test machines are shared; on
// an idle machine both cases take well under half a second.
func TestLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	old := bigManifest(50_000)
	for _, tc := range []struct {
		name  string
		every int
		limit time.Duration
	}{
		{"few changes", 2000, 10 * time.Second},
		{"many changes", 10, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			new := bumpTags(old, tc.every)
			for _, timeout := range []time.Duration{-1, 0} {
				start := time.Now()
				var buf bytes.Buffer
				if err := Unified(&buf, File{Path: "big.yaml", Old: old, New: new}, Options{Timeout: timeout}); err != nil {
					t.Fatal(err)
				}
				took := time.Since(start)
				t.Logf("timeout %v: %d bytes of diff in %v", timeout, buf.Len(), took)
				if took > tc.limit {
					t.Errorf("took %v, want under %v", took, tc.limit)
				}
				got, err := applyPatch(old, buf.Bytes())
				if err != nil || !bytes.Equal(got, new) {
					t.Fatalf("patch does not reproduce the new file: %v", err)
				}
				if _, err := exec.LookPath("git"); err == nil {
					want := newGitRepo(t, "big.yaml", old).diff(new, 3, false)
					want = want[bytes.Index(want, []byte("\n---")):]
					if d := cmp.Diff(string(want), string(buf.Bytes()[bytes.Index(buf.Bytes(), []byte("\n---")):])); d != "" {
						t.Errorf("differs from git diff (-git +ours):\n%s", d)
					}
				}
			}
		})
	}
}

func BenchmarkUnified50kFewChanges(b *testing.B) {
	old := bigManifest(50_000)
	new := bumpTags(old, 2000)
	b.SetBytes(int64(len(old)))
	for b.Loop() {
		if err := Unified(&bytes.Buffer{}, File{Path: "big.yaml", Old: old, New: new}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnified50kUnrelated(b *testing.B) {
	old := bigManifest(50_000)
	r := rand.New(rand.NewSource(1))
	lines := strings.SplitAfter(string(old), "\n")
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	new := []byte(strings.Join(lines, ""))
	for b.Loop() {
		if err := Unified(&bytes.Buffer{}, File{Path: "big.yaml", Old: old, New: new}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
