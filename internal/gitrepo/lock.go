package gitrepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked is wrapped by the error Lock returns when another live process
// holds the lock; errors.As with *LockedError gives the holder.
var ErrLocked = errors.New("locked")

// LockHolder describes the process that took a lock.
type LockHolder struct {
	PID     int
	Host    string
	Started time.Time
}

// LockedError is returned when a lock is held by another process.
type LockedError struct {
	Path   string
	Holder LockHolder
}

func (e *LockedError) Error() string {
	h := e.Holder
	s := fmt.Sprintf("%s: %s by pid %d", e.Path, ErrLocked, h.PID)
	if h.Host != "" {
		s += " on " + h.Host
	}
	if !h.Started.IsZero() {
		s += " since " + h.Started.Format(time.RFC3339)
	}
	return s + "; if no such process is running, remove the file"
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock takes the exclusive lock file name (a plain file name such as
// "laminar.lock") in CommonDir, so runs in different worktrees of one
// repository exclude each other too. A lock left by a dead process on this
// host is removed and taken over. It returns ErrLocked (as *LockedError)
// when a live process, or one on another host, holds it.
func (r *Repo) Lock(name string) (unlock func() error, err error) {
	unlock, _, err = r.TryLock(name)
	return unlock, err
}

// TryLock is Lock that also reports a stale lock it took over (nil when
// there was none), so the caller can say so.
func (r *Repo) TryLock(name string) (unlock func() error, stale *LockHolder, err error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return nil, nil, fmt.Errorf("lock: invalid name %q", name)
	}
	path := filepath.Join(r.CommonDir, name)
	host, _ := os.Hostname()
	me := LockHolder{PID: os.Getpid(), Host: host, Started: time.Now()}
	for attempt := 0; attempt < 3; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(formatHolder(me))
			cerr := f.Close()
			if err := errors.Join(werr, cerr); err != nil {
				os.Remove(path)
				return nil, nil, fmt.Errorf("lock: %w", err)
			}
			return releaser(path, me), stale, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, nil, fmt.Errorf("lock: %w", err)
		}
		content, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, nil, fmt.Errorf("lock: %w", err)
		}
		holder, ok := parseHolder(string(content))
		if !ok || holder.Host != host || processAlive(holder.PID) {
			// Unreadable (possibly being written), another host, or alive.
			return nil, nil, &LockedError{Path: path, Holder: holder}
		}
		// Stale: move it aside atomically, then make sure what we moved is
		// the stale lock we judged and not a fresh one taken meanwhile.
		aside := fmt.Sprintf("%s.stale.%d", path, os.Getpid())
		if err := os.Rename(path, aside); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, nil, fmt.Errorf("lock: %w", err)
		}
		moved, _ := os.ReadFile(aside)
		if string(moved) != string(content) {
			// Someone else's fresh lock: put it back unless yet another
			// process has taken the name, and report it as the holder.
			_ = os.Link(aside, path)
			os.Remove(aside)
			h, _ := parseHolder(string(moved))
			return nil, nil, &LockedError{Path: path, Holder: h}
		}
		os.Remove(aside)
		h := holder
		stale = &h
	}
	return nil, nil, &LockedError{Path: path}
}

func releaser(path string, me LockHolder) func() error {
	done := false
	return func() error {
		if done {
			return nil
		}
		done = true
		content, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		if h, ok := parseHolder(string(content)); !ok || h.PID != me.PID || !h.Started.Equal(me.Started) {
			return fmt.Errorf("unlock: %s is no longer ours", path)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		return nil
	}
}

func formatHolder(h LockHolder) string {
	return fmt.Sprintf("pid %d\nhost %s\nstarted %s\n", h.PID, h.Host, h.Started.Format(time.RFC3339Nano))
}

func parseHolder(s string) (LockHolder, bool) {
	var h LockHolder
	var havePID bool
	for _, line := range strings.Split(s, "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "pid":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return h, false
			}
			h.PID, havePID = n, true
		case "host":
			h.Host = v
		case "started":
			h.Started, _ = time.Parse(time.RFC3339Nano, v)
		}
	}
	return h, havePID
}

// processAlive reports whether pid is a running process on this host. A
// process we may not signal (EPERM) is alive.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	if err == nil {
		return true
	}
	return errors.Is(err, syscall.EPERM)
}
