package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// DefaultMaxFileSize is the size above which Files skips a file.
const DefaultMaxFileSize = 1 << 20

// binarySniff is how many leading bytes are searched for a NUL byte, the
// sign of a binary file (as git does).
const binarySniff = 8000

// Options tune Files.
type Options struct {
	// MaxFileSize is the largest file scanned, in bytes; larger files are
	// skipped. Zero means DefaultMaxFileSize.
	MaxFileSize int64
	// Workers bounds how many files are read at once. Zero means
	// GOMAXPROCS (at least 4).
	Workers int
}

// Files reads the given repository-relative, slash-separated paths under
// root, concurrently and bounded, and returns their matches sorted by path,
// line and column. Binary files (a NUL byte in the first 8000 bytes) and
// files over MaxFileSize are skipped, as are paths that are not regular
// files (directories, symlinks, submodules). A file that cannot be read is
// an error naming it; the first such error (in path order) is returned and
// the others are dropped.
func Files(ctx context.Context, root string, paths []string, opt Options) ([]Match, error) {
	max := opt.MaxFileSize
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = max4(runtime.GOMAXPROCS(0))
	}
	if workers > len(paths) {
		workers = len(paths)
	}
	results := make([][]Match, len(paths))
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			// Each worker reads into one buffer, reused from file to file:
			// matches keep no reference to the content.
			var buf []byte
			for i := range next {
				results[i], errs[i] = scanPath(root, paths[i], max, &buf)
			}
		})
	}
feed:
	for i := range paths {
		if ctx.Err() != nil {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := 0
	for i, err := range errs {
		if err != nil {
			return nil, err
		}
		n += len(results[i])
	}
	// Each file's matches are in order already: order the files by path
	// and concatenate, rather than sort every match.
	order := make([]int, len(paths))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(paths[a], paths[b]) })
	out := make([]Match, 0, n)
	dup := false
	for k, i := range order {
		if k > 0 && paths[i] == paths[order[k-1]] {
			dup = true
		}
		out = append(out, results[i]...)
	}
	if dup {
		sortMatches(out) // a path listed twice: merge its matches by position
	}
	return out, nil
}

func max4(n int) int {
	if n < 4 {
		return 4
	}
	return n
}

// scanPath reads and scans one file, into *buf when it is large enough.
func scanPath(root, rel string, limit int64, buf *[]byte) ([]Match, error) {
	name := filepath.Join(root, filepath.FromSlash(rel))
	content, ok, err := readRegular(name, limit, buf)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", rel, err)
	}
	if !ok || isBinary(content) {
		return nil, nil
	}
	return File(rel, content), nil
}

// readPortable reads name into *buf (or a larger buffer it grows) when it is
// a regular file of at most limit bytes; ok is false for anything else (a
// directory, a symlink, a submodule, a file over the limit). It is the
// reference for readRegular, which may take a faster way to the same answer.
func readPortable(name string, limit int64, buf *[]byte) (content []byte, ok bool, err error) {
	li, err := os.Lstat(name)
	if err != nil {
		return nil, false, err
	}
	if !li.Mode().IsRegular() || li.Size() > limit {
		return nil, false, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	// Read one byte more than the size seen, to notice a file that grew
	// meanwhile; such a file is read to its end, up to the limit.
	want := int(li.Size()) + 1
	if cap(*buf) < want {
		*buf = make([]byte, max(want, 64<<10))
	}
	b := (*buf)[:want]
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	content = b[:n]
	if n == want {
		rest, err := io.ReadAll(io.LimitReader(f, limit+1-int64(n)))
		if err != nil {
			return nil, false, err
		}
		content = append(content, rest...)
	}
	if int64(len(content)) > limit {
		return nil, false, nil
	}
	return content, true, nil
}

func isBinary(b []byte) bool {
	if len(b) > binarySniff {
		b = b[:binarySniff]
	}
	return bytes.IndexByte(b, 0) >= 0
}
