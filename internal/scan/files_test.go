package scan

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestFiles(t *testing.T) {
	root := writeTree(t, map[string]string{
		"b/deploy.yaml":  "image: nginx:1.25\n---\nimage: redis:7\n",
		"a/Dockerfile":   "FROM golang:1.22 AS build\nFROM build\n",
		"bin/tool":       "image: nginx:1.25\x00 binary",
		"big.yaml":       "image: nginx:1.25\n" + strings.Repeat("# padding\n", 200),
		"c/.env":         "APP_IMAGE=ghcr.io/org/app:1\n",
		"docs/notes.txt": "no references here\n",
	})
	if err := os.Symlink("b/deploy.yaml", filepath.Join(root, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	paths := []string{"b/deploy.yaml", "a/Dockerfile", "bin/tool", "big.yaml", "c/.env", "docs/notes.txt", "link.yaml"}
	ms, err := Files(context.Background(), root, paths, Options{MaxFileSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Path+":"+m.Ref.Original)
	}
	want := []string{"a/Dockerfile:golang:1.22", "b/deploy.yaml:nginx:1.25", "b/deploy.yaml:redis:7", "c/.env:ghcr.io/org/app:1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Files = %v, want %v", got, want)
	}

	// The default size limit admits big.yaml.
	ms, err = Files(context.Background(), root, []string{"big.yaml"}, Options{})
	if err != nil || len(ms) != 1 {
		t.Errorf("default MaxFileSize: %v, %v", ms, err)
	}
}

func TestFilesErrors(t *testing.T) {
	root := writeTree(t, map[string]string{"ok.yaml": "image: nginx:1\n"})
	_, err := Files(context.Background(), root, []string{"ok.yaml", "missing/app.yaml"}, Options{Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "missing/app.yaml") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not name the missing file", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Files(ctx, root, []string{"ok.yaml", "ok.yaml"}, Options{Workers: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if ms, err := Files(context.Background(), root, nil, Options{}); err != nil || ms != nil && len(ms) != 0 {
		t.Errorf("no paths: %v, %v", ms, err)
	}
}
