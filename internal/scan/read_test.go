//go:build unix

package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// readRegular must decide as readPortable does: same content, same skips,
// an error exactly when readPortable has one.
func TestReadRegularMatchesPortable(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const limit = 100
	write("small", "image: nginx:1.25\n")
	write("empty", "")
	write("limit", strings.Repeat("x", limit))
	write("over", strings.Repeat("x", limit+1))
	write("big", strings.Repeat("y", 3*limit))
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("small", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	names := []string{"small", "empty", "limit", "over", "big", "dir", "link", "missing", "small/below"}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err == nil {
		names = append(names, "fifo")
	}
	for _, name := range names {
		for _, l := range []int64{limit, 1 << 20} {
			p := filepath.Join(dir, name)
			var b1, b2 []byte
			want, wantOK, wantErr := readPortable(p, l, &b1)
			got, gotOK, gotErr := readRegular(p, l, &b2)
			if !bytes.Equal(got, want) || gotOK != wantOK || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("%s (limit %d): got %q %v %v, want %q %v %v", name, l, got, gotOK, gotErr, want, wantOK, wantErr)
			}
		}
	}
	// A small buffer grows; a large one is reused.
	buf := make([]byte, 4)
	if got, ok, err := readRegular(filepath.Join(dir, "big"), 1<<20, &buf); err != nil || !ok || len(got) != 3*limit {
		t.Errorf("big with a small buffer: %d bytes, %v, %v", len(got), ok, err)
	}
}
