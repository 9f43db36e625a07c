package edit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Backup holds what files held before a step that may change them (an
// exec action, say), so Restore can put them back: content and mode, or
// the fact that a file did not exist.
type Backup struct {
	root  string
	files map[string]backupFile
	dirs  map[string]bool // directories that existed (slash-separated)
}

type backupFile struct {
	data    []byte
	mode    fs.FileMode
	exists  bool
	symlink bool // data is the link target
}

// NewBackup starts an empty backup of files below root.
func NewBackup(root string) *Backup {
	return &Backup{root: root, files: map[string]backupFile{}, dirs: map[string]bool{}}
}

// Save records the current content of path (slash-separated, relative to
// the root). A missing file is recorded as missing: Restore removes it.
func (b *Backup) Save(path string) error {
	full := filepath.Join(b.root, filepath.FromSlash(path))
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b.files[path] = backupFile{}
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(full)
		if err != nil {
			return err
		}
		b.files[path] = backupFile{data: []byte(target), exists: true, symlink: true}
	case fi.Mode().IsRegular():
		data, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		b.files[path] = backupFile{data: data, mode: fi.Mode().Perm(), exists: true}
	default:
		return fmt.Errorf("%s: not a regular file", path)
	}
	return nil
}

// SaveContent records content the file at path is to be restored to
// (the committed version, say) without reading it.
func (b *Backup) SaveContent(path string, data []byte, mode fs.FileMode) {
	b.files[path] = backupFile{data: data, mode: mode, exists: true}
}

// SaveMissing records that path did not exist: Restore removes it, and
// the directories made for it that did not exist before (see KnowDir).
func (b *Backup) SaveMissing(path string) { b.files[path] = backupFile{} }

// KnowDir records that a directory (slash-separated, relative to the
// root) existed, so Restore never removes it.
func (b *Backup) KnowDir(dir string) {
	for dir != "" && dir != "." && !b.dirs[dir] {
		b.dirs[dir] = true
		i := strings.LastIndexByte(dir, '/')
		if i < 0 {
			return
		}
		dir = dir[:i]
	}
}

// Same reports whether the file at path still holds what was saved.
func (b *Backup) Same(path string) bool {
	f, ok := b.files[path]
	if !ok {
		return false
	}
	full := filepath.Join(b.root, filepath.FromSlash(path))
	fi, err := os.Lstat(full)
	if !f.exists {
		return errors.Is(err, fs.ErrNotExist)
	}
	if err != nil {
		return false
	}
	if f.symlink {
		t, err := os.Readlink(full)
		return err == nil && t == string(f.data)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != f.mode || fi.Size() != int64(len(f.data)) {
		return false
	}
	data, err := os.ReadFile(full)
	return err == nil && string(data) == string(f.data)
}

// Restore puts every saved file back and removes those that did not
// exist, with any directory made for them that did not exist either.
func (b *Backup) Restore() error {
	paths := make([]string, 0, len(b.files))
	for p := range b.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var errs []error
	for _, p := range paths {
		f := b.files[p]
		full := filepath.Join(b.root, filepath.FromSlash(p))
		var err error
		switch {
		case !f.exists:
			if err = os.Remove(full); errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			b.removeNewDirs(p)
		case f.symlink:
			os.Remove(full)
			err = os.Symlink(string(f.data), full)
		default:
			if err = os.MkdirAll(filepath.Dir(full), 0o755); err == nil {
				if fi, lerr := os.Lstat(full); lerr == nil && fi.IsDir() {
					err = fmt.Errorf("a directory is in the way")
				} else {
					err = writeAtomic(full, f.data, f.mode)
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restoring %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// removeNewDirs removes the empty parents of path that did not exist.
func (b *Backup) removeNewDirs(path string) {
	for dir := path; ; {
		i := strings.LastIndexByte(dir, '/')
		if i < 0 {
			return
		}
		dir = dir[:i]
		if b.dirs[dir] || os.Remove(filepath.Join(b.root, filepath.FromSlash(dir))) != nil {
			return
		}
	}
}

// CopyFrom records in b what src saved for path, if anything.
func (b *Backup) CopyFrom(src *Backup, path string) {
	if f, ok := src.files[path]; ok {
		b.files[path] = f
	}
}
