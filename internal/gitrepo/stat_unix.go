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
