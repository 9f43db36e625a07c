package edit

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBackupRestore(t *testing.T) {
	root := t.TempDir()
	write := func(p, c string, mode os.FileMode) {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(full, mode)
	}
	write("keep/a.txt", "a\n", 0o644)
	write("run.sh", "#!/bin/sh\n", 0o755)
	b := NewBackup(root)
	for _, p := range []string{"keep/a.txt", "run.sh"} {
		if err := b.Save(p); err != nil {
			t.Fatal(err)
		}
	}
	b.KnowDir("keep")
	b.SaveMissing("new/deep/x.txt")
	b.SaveMissing("keep/y.txt")
	if !b.Same("keep/a.txt") || !b.Same("new/deep/x.txt") {
		t.Error("Same is false before any change")
	}

	write("keep/a.txt", "changed\n", 0o644)
	os.Remove(filepath.Join(root, "run.sh"))
	write("new/deep/x.txt", "made\n", 0o644)
	write("keep/y.txt", "made\n", 0o644)
	if b.Same("keep/a.txt") || b.Same("run.sh") || b.Same("new/deep/x.txt") {
		t.Error("Same is true after a change")
	}
	if err := b.Restore(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "keep/a.txt")); string(data) != "a\n" {
		t.Errorf("a.txt = %q", data)
	}
	if fi, err := os.Stat(filepath.Join(root, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(root, "new")); !os.IsNotExist(err) {
		t.Errorf("new/ left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "keep")); err != nil {
		t.Errorf("keep/ removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "keep/y.txt")); !os.IsNotExist(err) {
		t.Errorf("y.txt left behind: %v", err)
	}
}
