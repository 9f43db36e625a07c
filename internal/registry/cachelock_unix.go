//go:build unix

package registry

import (
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive advisory lock on dir's .lock file and returns
// what releases it. A lock file is opened for each call: flock belongs to
// an open file, so two saves sharing one descriptor would not exclude each
// other. Without a lock (a read-only directory, a file system without
// flock) the save goes on unlocked: the cache only saves requests.
func lockDir(dir string) (unlock func()) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return func() {}
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return func() {}
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return func() {}
	}
	return func() { f.Close() } // closing the last descriptor releases the lock
}
