//go:build !linux && !darwin

package gitrepo

import "os"

// statFromFileInfo extracts the stat data available on this platform; git
// compares fewer fields here and re-reads files whose data it cannot trust.
func statFromFileInfo(fi os.FileInfo) statData {
	mt := fi.ModTime()
	return statData{
		mtimeSec: uint32(mt.Unix()), mtimeNsec: uint32(mt.Nanosecond()),
		ctimeSec: uint32(mt.Unix()), ctimeNsec: uint32(mt.Nanosecond()),
		size: uint32(fi.Size()),
	}
}

// fileID is unknown here: a lock file left by a kill is then never
// removed by Recover, only reported.
func fileID(os.FileInfo) (dev, ino uint64) { return 0, 0 }

func allocated(fi os.FileInfo) int64 { return fi.Size() }
