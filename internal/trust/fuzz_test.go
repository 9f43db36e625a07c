package trust

import (
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzCommandFiles: any command text is read without panicking; every path
// it names is a clean path inside the repository; and a tracked path
// written as a plain token of the command is always covered, however the
// shell grammar around it reads.
func FuzzCommandFiles(f *testing.F) {
	for _, s := range []string{
		"./render.sh", "make -C charts -f render.mk", "cd scripts && sh gen.sh", `echo "$(./render.sh)"`,
		`bash -c 'cd .. && ./x'`, "make -sfC", "a\\\nb", `"unterminated`, "'", "make -C", "cd", "$(", "x=`y",
		"${LAMINAR_REPO_ROOT}/scripts/gen.sh", "/srv/deploy/../etc/passwd", "make -f - -C ../../",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		for _, c := range candidates(cmd, root) {
			p := c.path
			if p == "" || path.Clean(p) != p || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
				t.Fatalf("candidate %q of %q is not a clean repository path", p, cmd)
			}
		}
		covered := map[string]bool{}
		for _, c := range Cover(execConfigText(cmd), tracked, root) {
			covered[c.Path] = true
		}
		for _, tok := range rawTokens(cmd) {
			p := path.Clean(strings.TrimPrefix(tok, "./"))
			for _, e := range tracked {
				if e.Path == p && !covered[p] {
					t.Fatalf("%q names %s, which is not covered", cmd, p)
				}
			}
		}
	})
}

// FuzzParseRecord: any text is refused or read; what is read encodes to a
// record that reads back the same.
func FuzzParseRecord(f *testing.F) {
	rec, _ := NewRecord("laminar.toml", "sha256:c", []File{{Path: "render.sh", Mode: "100755", Hash: "sha256:1"}}).Encode()
	f.Add(string(rec))
	f.Add(`{"version":1,"config_hash":"sha256:","files":null}`)
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseRecord([]byte(text))
		if err != nil {
			return
		}
		data, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseRecord(data)
		if err != nil {
			t.Fatalf("re-reading %q: %v", data, err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
