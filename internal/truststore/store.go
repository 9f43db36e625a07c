// Package truststore keeps, in a clone's git directory, what the local
// user trusts of laminar.toml's exec actions: the configuration's hash (a
// git config key) and every file the commands run (a JSON record). No
// push reaches either. Package trust compares; this package reads, writes
// and revokes the record.
package truststore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/trust"
)

// Store is the trust record of one clone, for one configuration.
type Store struct {
	Repo   *gitrepo.Repo
	Config *config.Config
}

// Exec actions run code from the repository: the commands in laminar.toml
// and the scripts they run, all versioned, so whoever can push could
// change them. They run only when the local user has trusted what they
// run as it is now (see internal/trust): the configuration and every
// covered file. The trusted state lives in the repository's common git
// dir, which no push reaches: the configuration's hash under Key in its
// config file, and the covered files in File.

// Key is the local git configuration key that records the hash of the
// laminar.toml whose exec actions the user trusts.
const Key = "laminar.trusted"

// File is the trust record in the common git dir: the configuration's
// hash and each covered file's path, mode and content hash (JSON).
const File = "laminar-trust.json"

// UntrustedError refuses to run exec actions whose configuration or
// covered files are not as the local user trusted them.
type UntrustedError struct {
	Config   string     // the file
	Hash     string     // its hash, as `git laminar trust` would record it
	Commands []string   // "rule: command", the actions that would run
	Diff     trust.Diff // what changed since the trusted state
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("%s has exec actions, and what they run is not trusted here (%s); nothing was changed. "+
		"Review the commands and the files they run with `git laminar trust --show`, then run `git laminar trust` "+
		"(laminar.toml and those files are versioned: whoever can push could change them)", e.Config, e.Diff)
}

// Status is what trust covers now and how it compares with the trusted
// state.
type Status struct {
	Config     string // the configuration file, relative to the root when inside
	ConfigHash string
	Covered    []trust.Covered
	Files      []trust.File // the covered files as they are, in the order of Covered
	// Record is the trusted state; nil when nothing is trusted. A record
	// that cannot be read counts as none, and RecordErr says why.
	Record    *trust.Record
	RecordErr error
	Diff      trust.Diff
}

// Trusted reports whether the configuration and every covered file are as
// trusted.
func (s *Status) Trusted() bool { return s.Diff.Trusted() }

// Status reads the covered files and the trusted state.
func (w Store) Status() (*Status, error) {
	entries, err := w.trustEntries()
	if err != nil {
		return nil, err
	}
	st := &Status{Config: w.configName(), ConfigHash: w.Config.Hash}
	st.Covered = trust.Cover(w.Config, entries, w.Repo.Root)
	byPath := make(map[string]trust.Entry, len(entries))
	for _, e := range entries {
		byPath[e.Path] = e
	}
	for _, c := range st.Covered {
		f, err := w.coveredFile(byPath[c.Path])
		if err != nil {
			return nil, err
		}
		st.Files = append(st.Files, f)
	}
	st.Record, st.RecordErr, err = w.readTrust()
	if err != nil {
		return nil, err
	}
	st.Diff = trust.Compare(st.Record, st.ConfigHash, st.Files)
	return st, nil
}

// Trusted reports whether the configuration and what its exec actions run
// are as the local user trusted them.
func (w Store) Trusted() (bool, error) {
	st, err := w.Status()
	if err != nil {
		return false, err
	}
	return st.Trusted(), nil
}

// Check returns an *UntrustedError when cmds, the exec actions a commit
// would run ("rule: command"), are not trusted in st, and nil otherwise.
func (w Store) Check(cmds []string, st *Status) error {
	if len(cmds) == 0 || st.Trusted() {
		return nil
	}
	return &UntrustedError{Config: w.Config.Path, Hash: w.Config.Hash, Commands: cmds, Diff: st.Diff}
}

// Trust records the configuration and its covered files as they are now.
// It reports whether anything was recorded (false: already trusted).
func (w Store) Trust() (bool, error) {
	st, err := w.Status()
	if err != nil {
		return false, err
	}
	return w.TrustAs(st)
}

// TrustAs records st, the state the user was shown, as trusted; false when
// it was trusted already.
func (w Store) TrustAs(st *Status) (bool, error) {
	if st.Trusted() {
		return false, nil
	}
	return true, w.writeTrust(trust.NewRecord(w.configName(), st.ConfigHash, st.Files))
}

// Revoke removes every trust recorded in this repository; it returns how
// many records it removed.
func (w Store) Revoke() (int, error) {
	err := os.Remove(w.trustPath())
	removed := 0
	if err == nil {
		removed = 1
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("removing the trust record: %w", err)
	}
	n, err := w.Repo.UnsetLocalConfig(Key, nil)
	return max(n, removed), err
}

// Advance keeps the trust across git-laminar's own commit: when the
// state before it was trusted, the covered files the commit wrote (edited
// tags, what the trusted exec actions rendered) are trusted as they are
// now too. before is nil when the configuration has no exec actions.
func (w Store) Advance(before *Status, committed []string) error {
	if before == nil || !before.Trusted() {
		return nil
	}
	touched := map[string]bool{}
	for _, p := range committed {
		touched[p] = true
	}
	after, err := w.Status()
	if err != nil {
		return err
	}
	covers := false
	for _, f := range append(slices.Clone(before.Files), after.Files...) {
		covers = covers || touched[f.Path]
	}
	if !covers && len(after.Files) == len(before.Files) {
		return nil
	}
	return w.writeTrust(before.Record.Advance(after.ConfigHash, before.Files, after.Files, touched))
}

func (w Store) trustPath() string { return filepath.Join(w.Repo.CommonDir, File) }

// configName is the configuration's path as the record names it: relative
// to the repository root when it lies inside.
func (w Store) configName() string {
	if rel, err := filepath.Rel(w.Repo.Root, w.Config.Path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return w.Config.Path
}

// readTrust reads the trusted state. The record holds the files; the key
// says which configuration is trusted. A record whose configuration the key
// does not name (the key was unset or changed by hand, or by a version of
// git-laminar that recorded only the configuration) covers no file.
func (w Store) readTrust() (*trust.Record, error, error) {
	vals, err := w.Repo.LocalConfig(Key)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", Key, err)
	}
	var rec *trust.Record
	var recErr error
	data, err := os.ReadFile(w.trustPath())
	switch {
	case err == nil:
		if rec, err = trust.ParseRecord(data); err != nil {
			rec, recErr = nil, fmt.Errorf("%s: %w", w.trustPath(), err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("reading the trust record: %w", err)
	}
	if rec != nil && slices.Contains(vals, rec.ConfigHash) {
		return rec, nil, nil
	}
	if len(vals) == 0 {
		return nil, recErr, nil
	}
	hash := vals[0]
	if slices.Contains(vals, w.Config.Hash) {
		hash = w.Config.Hash
	}
	return &trust.Record{Version: 0, Config: w.configName(), ConfigHash: hash}, recErr, nil
}

// writeTrust writes the record, then names its configuration under
// Key. Stopped between the two, the key names another configuration
// and nothing is trusted: never more than the user trusted.
func (w Store) writeTrust(rec *trust.Record) error {
	data, err := rec.Encode()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(w.Repo.CommonDir, File+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing the trust record: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), w.trustPath())
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing the trust record: %w", err)
	}
	vals, err := w.Repo.LocalConfig(Key)
	if err != nil {
		return err
	}
	if len(vals) == 1 && vals[0] == rec.ConfigHash {
		return nil
	}
	if _, err := w.Repo.UnsetLocalConfig(Key, nil); err != nil {
		return err
	}
	return w.Repo.AddLocalConfig(Key, rec.ConfigHash)
}

// trustEntries lists the tracked regular files and symlinks, with each
// symlink's target.
func (w Store) trustEntries() ([]trust.Entry, error) {
	files, err := w.Repo.TrackedFiles()
	if err != nil {
		return nil, fmt.Errorf("listing tracked files: %w", err)
	}
	links, err := w.Repo.TrackedSymlinks()
	if err != nil {
		return nil, fmt.Errorf("listing tracked files: %w", err)
	}
	out := make([]trust.Entry, 0, len(files)+len(links))
	for _, f := range files {
		out = append(out, trust.Entry{Path: f.Path, Mode: f.Mode})
	}
	for _, l := range links {
		target, err := os.Readlink(filepath.Join(w.Repo.Root, filepath.FromSlash(l)))
		if err != nil {
			target = "" // not a link in the working tree; coveredFile says what it is
		}
		out = append(out, trust.Entry{Path: l, Mode: trust.ModeSymlink, Target: target})
	}
	return out, nil
}

// coveredFile reads a covered file as it is in the working tree, which is
// what a command runs: a symlink by its target, a regular file by its
// contents, with the mode the index gives it. A file the working tree
// lacks has no mode and no hash.
func (w Store) coveredFile(e trust.Entry) (trust.File, error) {
	f := trust.File{Path: e.Path}
	full := filepath.Join(w.Repo.Root, filepath.FromSlash(e.Path))
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("reading %s: %w", e.Path, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(full)
		if err != nil {
			return f, fmt.Errorf("reading %s: %w", e.Path, err)
		}
		f.Mode, f.Hash = trust.ModeSymlink, hashOf([]byte(target))
		return f, nil
	case !fi.Mode().IsRegular():
		f.Mode = "not a file"
		return f, nil
	}
	in, err := os.Open(full)
	if err != nil {
		return f, fmt.Errorf("reading %s: %w", e.Path, err)
	}
	defer in.Close()
	h := sha256.New()
	if _, err := io.Copy(h, in); err != nil {
		return f, fmt.Errorf("reading %s: %w", e.Path, err)
	}
	f.Mode, f.Hash = e.Mode, "sha256:"+hex.EncodeToString(h.Sum(nil))
	return f, nil
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
