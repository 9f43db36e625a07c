package initconfig

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// FuzzPropose: whatever the file names and references, the proposal loads
// as laminar.toml, and a reference given a rule is managed by a rule.
func FuzzPropose(f *testing.F) {
	f.Add("k8s/app.yaml", "registry.example.com/acme/app:1.4.0")
	f.Add(`odd/a"b[c]*.yaml`, "registry.example.com/acme/web:develop-3f2a9c1")
	f.Add(" lead/trail .yaml", "ghcr.io/acme/x:0.3.1-alpine")
	f.Add("a\\b\x7f\u0085.yaml", "localhost:5000/a/b:v2")
	f.Add("**/x", "r.example.com/a:42")
	f.Fuzz(func(t *testing.T, path, ref string) {
		r, ok := imageref.TryParse(ref)
		if !ok || path == "" {
			return
		}
		ms := []scan.Match{{Path: path, Line: 1, Column: 1, Ref: r}, {Path: "other.yaml", Line: 2, Column: 1, Ref: r}}
		text := Propose(ms, Options{})
		if err := Check(text); err != nil {
			if checkPathErr(path) {
				return
			}
			t.Fatalf("proposal does not load: %v\n%s", err, text)
		}
		if _, ok := classify(r.Tag); ok && r.Tag != "latest" && !Public(r) && !checkPathErr(path) {
			if got := assigned(t, text, ms); got[ms[0]] == "" {
				t.Fatalf("%q in %q is not managed by the proposal:\n%s", ref, path, text)
			}
		}
	})
}

// checkPathErr reports whether path could not be a tracked file's name as
// a scan gives it: git refuses it, or the scan skips it for a control
// character.
func checkPathErr(path string) bool {
	if !utf8.ValidString(path) || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") || strings.Contains(path, "//") {
		return true
	}
	for _, c := range path {
		if c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 {
			return true
		}
	}
	return slices.ContainsFunc(strings.Split(path, "/"), func(s string) bool { return s == "." || s == ".." || s == ".git" })
}
