//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package scan

func readRegular(name string, limit int64, buf *[]byte) ([]byte, bool, error) {
	return readPortable(name, limit, buf)
}
