//go:build linux || darwin

package gitrepo

import (
	"os"
	"syscall"
)

// statFromFileInfo extracts git's cached stat data from fi, as git's
// fill_stat_data does.
func statFromFileInfo(fi os.FileInfo) statData {
	s := statData{size: uint32(fi.Size())}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		mt := fi.ModTime()
		s.mtimeSec, s.mtimeNsec = uint32(mt.Unix()), uint32(mt.Nanosecond())
		return s
	}
	ct, mt := ctim(st), mtim(st)
	csec, cnsec := ct.Unix()
	msec, mnsec := mt.Unix()
	s.ctimeSec, s.ctimeNsec = uint32(csec), uint32(cnsec)
	s.mtimeSec, s.mtimeNsec = uint32(msec), uint32(mnsec)
	s.dev, s.ino = uint32(st.Dev), uint32(st.Ino)
	s.uid, s.gid = st.Uid, st.Gid
	return s
}

// fileID is the device and inode of fi: what identifies a lock file of
// ours in the journal.
func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

// allocated is how many bytes of storage the file has: what it can hold
// without a new block.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > fi.Size() {
		return st.Blocks * 512
	}
	return fi.Size()
}
