package edit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/scan"
)

func span(content, old string) scan.Span {
	i := strings.Index(content, old)
	return scan.Span{Start: i, End: i + len(old)}
}

func TestApplyKeepsEveryOtherByte(t *testing.T) {
	content := "\ufeff# comment: app:1.0\r\nimage: \"r.example.com/app:1.0\"   \r\nother: r.example.com/app:1.0\r\n"
	target := strings.Index(content, "image:") + len(`image: "r.example.com/app:`)
	edits := []plan.Edit{{Line: 2, Span: scan.Span{Start: target, End: target + 3}, Old: "1.0", New: "1.10"}}
	got, err := Apply([]byte(content), edits)
	if err != nil {
		t.Fatal(err)
	}
	want := "\ufeff# comment: app:1.0\r\nimage: \"r.example.com/app:1.10\"   \r\nother: r.example.com/app:1.0\r\n"
	if string(got) != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestApplyRefusesChangedBytes(t *testing.T) {
	_, err := Apply([]byte("image: app:2.0\n"), []plan.Edit{{Line: 1, Span: scan.Span{Start: 11, End: 14}, Old: "1.0", New: "1.1"}})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	_, err = Apply([]byte("x"), []plan.Edit{{Span: scan.Span{Start: 0, End: 5}, Old: "xxxxx"}})
	if err == nil {
		t.Fatal("span past the end accepted")
	}
	_, err = Apply([]byte("abcdef"), []plan.Edit{{Span: scan.Span{Start: 0, End: 3}, Old: "abc"}, {Span: scan.Span{Start: 2, End: 4}, Old: "cd"}})
	if err == nil {
		t.Fatal("overlapping edits accepted")
	}
}

func writeFile(t *testing.T, root, name, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRenderAndWrite(t *testing.T) {
	root := t.TempDir()
	a := "image: r.example.com/app:1.0\n"
	b := "#!/bin/sh\nexec run r.example.com/app:1.0\n"
	writeFile(t, root, "a.yaml", a, 0o644)
	writeFile(t, root, "bin/b.sh", b, 0o755)
	p := plan.Plan{Edits: []plan.Edit{
		{Path: "a.yaml", Line: 1, Span: span(a, "1.0"), Old: "1.0", New: "1.1"},
		{Path: "bin/b.sh", Line: 2, Span: span(b, "1.0"), Old: "1.0", New: "1.1"},
	}}
	changes, err := Render(root, p)
	if err != nil {
		t.Fatal(err)
	}
	if readFile(t, root, "a.yaml") != a {
		t.Fatal("Render wrote to disk")
	}
	applied, err := Write(root, changes)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, root, "a.yaml"); got != "image: r.example.com/app:1.1\n" {
		t.Errorf("a.yaml = %q", got)
	}
	info, _ := os.Stat(filepath.Join(root, "bin/b.sh"))
	if info.Mode().Perm() != 0o755 {
		t.Errorf("mode of b.sh = %v, want 0755", info.Mode().Perm())
	}
	if strings.Join(applied.Paths(), ",") != "a.yaml,bin/b.sh" {
		t.Errorf("paths = %v", applied.Paths())
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, "*", ".*laminar*"))
	top, _ := filepath.Glob(filepath.Join(root, ".*laminar*"))
	if len(leftovers)+len(top) > 0 {
		t.Errorf("temporary files left: %v %v", leftovers, top)
	}
	if err := applied.Restore(); err != nil {
		t.Fatal(err)
	}
	if readFile(t, root, "a.yaml") != a || readFile(t, root, "bin/b.sh") != b {
		t.Error("Restore did not bring back the old contents")
	}
}

func TestWriteRestoresWhenALaterFileChanged(t *testing.T) {
	root := t.TempDir()
	a := "image: r.example.com/app:1.0\n"
	b := "image: r.example.com/app:1.0\n"
	writeFile(t, root, "a.yaml", a, 0o644)
	writeFile(t, root, "b.yaml", b, 0o644)
	p := plan.Plan{Edits: []plan.Edit{
		{Path: "a.yaml", Line: 1, Span: span(a, "1.0"), Old: "1.0", New: "1.1"},
		{Path: "b.yaml", Line: 1, Span: span(b, "1.0"), Old: "1.0", New: "1.1"},
	}}
	changes, err := Render(root, p)
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits b.yaml between the diff being shown and the write.
	writeFile(t, root, "b.yaml", "image: r.example.com/app:9.9\n", 0o644)
	_, err = Write(root, changes)
	if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "b.yaml") {
		t.Fatalf("err = %v, want ErrChanged naming b.yaml", err)
	}
	if readFile(t, root, "a.yaml") != a {
		t.Error("a.yaml was not restored")
	}
	if readFile(t, root, "b.yaml") != "image: r.example.com/app:9.9\n" {
		t.Error("b.yaml, changed by someone else, was overwritten")
	}
}

func TestRenderRefusesSymlinkAndMissing(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "real.yaml", "image: a:1\n", 0o644)
	if err := os.Symlink("real.yaml", filepath.Join(root, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"link.yaml", "missing.yaml"} {
		_, err := Render(root, plan.Plan{Edits: []plan.Edit{{Path: path, Span: scan.Span{Start: 9, End: 10}, Old: "1", New: "2"}}})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Render(%s) err = %v, want an error naming it", path, err)
		}
	}
}

// A slim change has no Old bytes: Write checks the file against their hash,
// refuses one that changed, and Restore still puts back what was there.
func TestSlimChangeWritesChecksAndRestores(t *testing.T) {
	root := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "image: app:1.0\n")
	write("b.yaml", "image: app:1.0\n")
	p := plan.Plan{Edits: []plan.Edit{
		{Path: "a.yaml", Line: 1, Span: scan.Span{Start: 11, End: 14}, Old: "1.0", New: "1.1"},
		{Path: "b.yaml", Line: 1, Span: scan.Span{Start: 11, End: 14}, Old: "1.0", New: "1.1"},
	}}
	var slim []Change
	if err := RenderEach(root, p, func(c Change) error {
		if string(c.Old) != "image: app:1.0\n" || string(c.New) != "image: app:1.1\n" {
			t.Errorf("%s: old %q new %q", c.Path, c.Old, c.New)
		}
		slim = append(slim, c.Slim())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(slim) != 2 || slim[0].Old != nil {
		t.Fatalf("slim = %+v", slim)
	}
	write("b.yaml", "image: app:2.0\n")
	if _, err := Write(root, slim); !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "a.yaml")); string(got) != "image: app:1.0\n" {
		t.Errorf("a.yaml not restored: %q", got)
	}
	write("b.yaml", "image: app:1.0\n")
	a, err := Write(root, slim)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "b.yaml")); string(got) != "image: app:1.1\n" {
		t.Errorf("b.yaml = %q", got)
	}
	if err := a.Restore(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "b.yaml")); string(got) != "image: app:1.0\n" {
		t.Errorf("b.yaml not restored: %q", got)
	}
}
