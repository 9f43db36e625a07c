//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package scan

import (
	"os"
	"slices"
	"syscall"
)

// readRegular is readPortable with one open, one fstat and reads on the
// bare descriptor: no lstat of the path, no *os.File. Reading every tracked
// file makes these a large share of a scan. The open refuses a symlink
// (O_NOFOLLOW) and does not wait on a FIFO (O_NONBLOCK); when it fails for
// any reason, readPortable decides, so that skips and errors are its own.
func readRegular(name string, limit int64, buf *[]byte) (content []byte, ok bool, err error) {
	var fd int
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return readPortable(name, limit, buf)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, false, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG || st.Size > limit {
		return nil, false, nil
	}
	// Read one byte more than the size seen, to notice a file that grew
	// meanwhile; such a file is read to its end, up to the limit.
	want := int(st.Size) + 1
	if cap(*buf) < want {
		*buf = make([]byte, max(want, 64<<10))
	}
	b := (*buf)[:cap(*buf)]
	n := 0
	for {
		if n == len(b) {
			if int64(n) > limit {
				break
			}
			b = slices.Grow(b, 64<<10)
			b = b[:cap(b)]
			*buf = b
		}
		m, err := syscall.Read(fd, b[n:min(len(b), int(limit)+1)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, false, &os.PathError{Op: "read", Path: name, Err: err}
		}
		if m <= 0 {
			break
		}
		n += m
		if int64(n) > limit {
			break
		}
	}
	if int64(n) > limit {
		return nil, false, nil
	}
	return b[:n], true, nil
}
