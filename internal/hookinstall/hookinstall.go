// Package hookinstall writes git-laminar's hook shims (package hooks) into
// the directory git runs hooks from, upgrades our older shims, and removes
// them again, without ever clobbering a hook that is not ours.
//
// A file is ours when it carries the marker line of package hooks. Install
// then acts by what it finds at the hook's path:
//
//   - nothing: the shim is written (the directory is created);
//   - our current shim, byte for byte: left alone (made executable if it
//     lost the bit);
//   - our shim of an older version: replaced by the current one;
//   - our shim of a newer version (written by a newer git-laminar): left
//     alone unless forced;
//   - anything else (another tool's hook, a symlink, our current marker on
//     edited text): refused with a *ConflictError unless forced; when forced
//     it is first renamed to "<hook>.laminar-backup", and if that backup
//     already exists the install is refused, forced or not, so no backup is
//     ever overwritten.
//
// Uninstall removes our shims (any version, unless our current marker sits
// on edited text) and puts a backup made by a forced install back in place.
// Other hooks are left untouched. Files are written atomically (a temporary
// file renamed over the hook), with mode 0755.
package hookinstall

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/git-laminar/git-laminar/hooks"
)

// BackupSuffix is appended to a hook's file name to make the name a forced
// install moves a foreign hook to.
const BackupSuffix = ".laminar-backup"

// Options tune Install.
type Options struct {
	// Force replaces hooks that are not ours (after backing them up) and
	// our shims of a newer version.
	Force bool
}

// Action says what happened to one hook.
type Action string

// The actions of Install and Uninstall.
const (
	Installed Action = "installed" // written where there was no hook (or a forced one was backed up)
	Upgraded  Action = "upgraded"  // our older shim replaced by the current one
	Unchanged Action = "unchanged" // our current shim was already there
	Newer     Action = "newer"     // our shim of a newer version left in place
	Removed   Action = "removed"   // our shim deleted (and a backup restored, if Backup is set)
	Absent    Action = "absent"    // uninstall: no hook there
	Kept      Action = "kept"      // uninstall: a hook that is not ours, or our marker on edited text, left alone
)

// Result is what happened to one hook.
type Result struct {
	Hook    string // hook name, "pre-push"
	Path    string // the hook's file
	Action  Action
	Version int    // the version of our shim found there before (Upgraded, Newer, Removed)
	Backup  string // Install: where a foreign hook was moved; Uninstall: the backup put back
	Reason  string // Kept: why the hook was not ours to remove
}

// ConflictError is returned by Install when a hook that is not ours is in
// the way.
type ConflictError struct {
	Hook   string
	Path   string
	Reason string // what the file is: "not a git-laminar hook", ...
	Backup string // where --force would move it
	// BackupExists is set when Backup is already taken; then even a forced
	// install refuses.
	BackupExists bool
}

func (e *ConflictError) Error() string {
	if e.BackupExists {
		return fmt.Sprintf("refusing to replace %s (%s): its backup %s already exists; move one of them away and retry", e.Path, e.Reason, e.Backup)
	}
	return fmt.Sprintf("refusing to replace %s (%s); rerun with --force to move it to %s and install ours, or chain it yourself", e.Path, e.Reason, e.Backup)
}

// Install writes every shim of package hooks into dir (the hooks directory
// git uses; see gitrepo.Repo.HooksDir). It stops at the first hook it
// cannot install and returns the results so far with the error.
func Install(dir string, opt Options) ([]Result, error) {
	var out []Result
	for _, name := range hooks.Names() {
		r, err := install(dir, name, opt)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// state is what lies at a hook's path.
type state struct {
	exists  bool
	regular bool
	content []byte
	mode    fs.FileMode
	ours    bool
	version int
}

func inspect(path string) (state, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return state{}, nil
	}
	if err != nil {
		return state{}, err
	}
	s := state{exists: true, mode: fi.Mode()}
	if !fi.Mode().IsRegular() {
		return s, nil
	}
	s.regular = true
	if s.content, err = os.ReadFile(path); err != nil {
		return s, err
	}
	s.version, s.ours = hooks.ParseVersion(s.content)
	return s, nil
}

// current returns the shim we install for a hook and its version. Tests
// replace it to play a newer git-laminar.
var current = func(name string) ([]byte, int, error) {
	b, err := hooks.Shim(name)
	return b, hooks.Version, err
}

func (s state) describe(shim []byte, version int) string {
	switch {
	case s.mode&fs.ModeSymlink != 0:
		return "a symbolic link, not a git-laminar hook"
	case !s.regular:
		return "not a regular file"
	case s.ours && s.version == version && !bytes.Equal(s.content, shim):
		return "a git-laminar shim that was edited"
	}
	return "not a git-laminar hook"
}

func install(dir, name string, opt Options) (Result, error) {
	shim, version, err := current(name)
	if err != nil {
		return Result{}, err
	}
	path := filepath.Join(dir, name)
	res := Result{Hook: name, Path: path}
	s, err := inspect(path)
	if err != nil {
		return res, err
	}
	switch {
	case !s.exists:
		res.Action = Installed
	case s.ours && bytes.Equal(s.content, shim):
		res.Action, res.Version = Unchanged, s.version
		if s.mode.Perm()&0o111 != 0o111 {
			if err := os.Chmod(path, s.mode.Perm()|0o755); err != nil {
				return res, err
			}
		}
		return res, nil
	case s.ours && s.version < version:
		res.Action, res.Version = Upgraded, s.version
	case s.ours && s.version > version && !opt.Force:
		res.Action, res.Version = Newer, s.version
		return res, nil
	case s.ours && s.version > version:
		res.Action, res.Version = Installed, s.version
	default:
		backup := path + BackupSuffix
		conflict := &ConflictError{Hook: name, Path: path, Reason: s.describe(shim, version), Backup: backup}
		if _, err := os.Lstat(backup); err == nil {
			conflict.BackupExists = true
			return res, conflict
		} else if !errors.Is(err, fs.ErrNotExist) {
			return res, err
		}
		if !opt.Force {
			return res, conflict
		}
		if err := os.Rename(path, backup); err != nil {
			return res, fmt.Errorf("backing up %s: %w", path, err)
		}
		res.Action, res.Backup = Installed, backup
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	if err := writeAtomic(path, shim); err != nil {
		if res.Backup != "" {
			// Put the user's hook back rather than leave no hook at all.
			if rerr := os.Rename(res.Backup, path); rerr != nil {
				err = fmt.Errorf("%w (and restoring %s from %s failed: %v)", err, path, res.Backup, rerr)
			}
		}
		return res, err
	}
	return res, nil
}

func writeAtomic(path string, content []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".laminar-tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Uninstall removes our shims from dir and restores the backups a forced
// Install made. Hooks that are not ours are reported as Kept and left
// alone; only I/O failures are errors.
func Uninstall(dir string) ([]Result, error) {
	var out []Result
	for _, name := range hooks.Names() {
		r, err := uninstall(dir, name)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func uninstall(dir, name string) (Result, error) {
	shim, version, err := current(name)
	if err != nil {
		return Result{}, err
	}
	path := filepath.Join(dir, name)
	res := Result{Hook: name, Path: path}
	s, err := inspect(path)
	if err != nil {
		return res, err
	}
	switch {
	case !s.exists:
		res.Action = Absent
		return res, nil
	case !s.ours || (s.version == version && !bytes.Equal(s.content, shim)):
		res.Action, res.Reason = Kept, s.describe(shim, version)
		return res, nil
	}
	if err := os.Remove(path); err != nil {
		return res, err
	}
	res.Action, res.Version = Removed, s.version
	backup := path + BackupSuffix
	if _, err := os.Lstat(backup); err == nil {
		if err := os.Rename(backup, path); err != nil {
			return res, fmt.Errorf("restoring %s from %s: %w", path, backup, err)
		}
		res.Backup = backup
	}
	return res, nil
}
