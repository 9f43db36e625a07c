package gitrepo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The index ("dircache") is read and patched here rather than through
// go-git's index package, because a decode/encode round trip through
// go-git (v5.19) is lossy:
//
//   - its encoder writes no extensions at all, dropping REUC (resolve-undo),
//     UNTR (untracked cache), FSMN (fsmonitor) and the mandatory "sdir"
//     marker of a sparse index;
//   - it does not keep the assume-unchanged bit (CE_VALID, 0x8000);
//   - its decoder rejects a split index ("link") and a sparse index
//     ("sdir") as unknown mandatory extensions, and an index written with
//     index.skipHash (all-zero trailer) as a checksum error.
//
// Commit only ever changes the stat data, mode and object name of existing
// entries. Those are fixed-size fields, so we patch them in place in the
// bytes git wrote, keep every entry, flag and extension we understand,
// drop the optional caches that the change could make stale (TREE, FSMN,
// EOIE, IEOT: git rebuilds them), and refuse a split index, whose entries
// live partly in a shared file.

const (
	flagAssumeValid = 0x8000
	flagExtended    = 0x4000
	flagStageMask   = 0x3000
	extIntentToAdd  = 1 << 13
	extSkipWorktree = 1 << 14

	modeTypeMask  = 0o170000
	modeRegular   = 0o100000
	modeSymlink   = 0o120000
	modeGitlink   = 0o160000
	modeDirectory = 0o040000 // sparse-index directory entries
)

type indexEntry struct {
	name  string
	off   int // offset of the entry in the index file
	mode  uint32
	hash  oid
	flags uint16
	ext   uint16
}

func (e *indexEntry) stage() int          { return int(e.flags&flagStageMask) >> 12 }
func (e *indexEntry) intentToAdd() bool   { return e.ext&extIntentToAdd != 0 }
func (e *indexEntry) skipWorktree() bool  { return e.ext&extSkipWorktree != 0 }
func (e *indexEntry) isRegularFile() bool { return e.mode&modeTypeMask == modeRegular }

type indexExtension struct {
	sig  string
	data []byte // the whole extension: signature, size and payload
}

type indexFile struct {
	format   *hashFormat // object names and the trailing checksum
	data     []byte
	version  uint32
	entries  []indexEntry // in file order: sorted by name, then stage
	entryEnd int          // offset of the first extension
	exts     []indexExtension
}

func (r *Repo) indexPath() string { return filepath.Join(r.GitDir, "index") }

// readIndex reads and parses the worktree's index. A missing index is an
// empty one (a fresh repository).
func (r *Repo) readIndex() (*indexFile, error) {
	p := r.indexPath()
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return &indexFile{version: 2, format: r.format}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	idx, err := parseIndex(data, r.format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return idx, nil
}

var errSplitIndex = errors.New("split index (core.splitIndex) is not supported; run `git update-index --no-split-index` to turn it off")

// parseIndex reads an index of a repository of object format f: object
// names of f.size bytes in each entry, and f's hash as the trailing
// checksum.
func parseIndex(data []byte, f *hashFormat) (*indexFile, error) {
	hs := f.size
	fixed := entryFixedSize(hs)
	if len(data) < 12+hs || string(data[:4]) != "DIRC" {
		return nil, errors.New("not an index file (bad signature)")
	}
	sum := data[len(data)-hs:]
	body := data[:len(data)-hs]
	if !bytes.Equal(sum, make([]byte, hs)) { // all zero: index.skipHash
		h := f.new()
		h.Write(body)
		if !bytes.Equal(h.Sum(nil), sum) {
			return nil, fmt.Errorf("index checksum mismatch (is it a %s index?)", f.name)
		}
	}
	idx := &indexFile{format: f, data: data, version: binary.BigEndian.Uint32(data[4:8])}
	if idx.version < 2 || idx.version > 4 {
		return nil, fmt.Errorf("index version %d is not supported", idx.version)
	}
	n := binary.BigEndian.Uint32(data[8:12])
	if uint64(n) > uint64(len(body))/uint64(fixed) {
		return nil, errors.New("index entry count larger than the file")
	}
	idx.entries = make([]indexEntry, 0, n)
	off := 12
	prev := ""
	for i := uint32(0); i < n; i++ {
		if off+fixed > len(body) {
			return nil, errors.New("index truncated")
		}
		e := indexEntry{off: off}
		e.mode = binary.BigEndian.Uint32(body[off+24:])
		e.hash = oidFromBytes(body[off+40 : off+40+hs])
		e.flags = binary.BigEndian.Uint16(body[off+40+hs:])
		p := off + fixed
		if e.flags&flagExtended != 0 {
			if idx.version < 3 {
				return nil, errors.New("extended entry flags in a version 2 index")
			}
			if p+2 > len(body) {
				return nil, errors.New("index truncated")
			}
			e.ext = binary.BigEndian.Uint16(body[p:])
			p += 2
		}
		if idx.version == 4 {
			strip, w := readV4Varint(body[p:])
			if w == 0 || strip > uint64(len(prev)) {
				return nil, fmt.Errorf("invalid path compression at entry %d", i)
			}
			p += w
			end := bytes.IndexByte(body[p:], 0)
			if end < 0 {
				return nil, errors.New("index truncated")
			}
			e.name = prev[:len(prev)-int(strip)] + string(body[p:p+end])
			off = p + end + 1
		} else {
			end := bytes.IndexByte(body[p:], 0)
			if end < 0 {
				return nil, errors.New("index truncated")
			}
			e.name = string(body[p : p+end])
			// Entries are padded with 1-8 NULs to a multiple of 8 bytes.
			off += (p - off + end + 8) &^ 7
		}
		prev = e.name
		idx.entries = append(idx.entries, e)
	}
	if off > len(body) {
		return nil, errors.New("index truncated")
	}
	idx.entryEnd = off
	for off < len(body) {
		if off+8 > len(body) {
			return nil, errors.New("index extension truncated")
		}
		sig := string(body[off : off+4])
		size := int(binary.BigEndian.Uint32(body[off+4:]))
		if size < 0 || off+8+size > len(body) {
			return nil, fmt.Errorf("index extension %q truncated", sig)
		}
		if sig == "link" {
			return nil, errSplitIndex
		}
		if (sig[0] < 'A' || sig[0] > 'Z') && sig != "sdir" {
			return nil, fmt.Errorf("index extension %q is not supported", sig)
		}
		idx.exts = append(idx.exts, indexExtension{sig: sig, data: body[off : off+8+size]})
		off += 8 + size
	}
	return idx, nil
}

// readV4Varint decodes git's offset varint (varint.c); w is 0 on error.
func readV4Varint(b []byte) (v uint64, w int) {
	if len(b) == 0 {
		return 0, 0
	}
	c := b[0]
	v = uint64(c & 0x7f)
	w = 1
	for c&0x80 != 0 {
		if w >= len(b) || w > 9 {
			return 0, 0
		}
		v++
		c = b[w]
		w++
		v = v<<7 | uint64(c&0x7f)
	}
	return v, w
}

// find returns the index of the stage-0 entry for name, or -1. The second
// result reports whether the path has unmerged (stage 1-3) entries.
func (idx *indexFile) find(name string) (int, bool) {
	i := sort.Search(len(idx.entries), func(i int) bool { return idx.entries[i].name >= name })
	found, unmerged := -1, false
	for ; i < len(idx.entries) && idx.entries[i].name == name; i++ {
		if idx.entries[i].stage() == 0 {
			found = i
		} else {
			unmerged = true
		}
	}
	return found, unmerged
}

// lockIndex takes index.lock and reads the index under it, git's protocol
// for replacing the index: nothing else changes it until the lock is
// committed or rolled back, which the caller must do.
func (r *Repo) lockIndex() (*fileLock, *indexFile, error) {
	l, err := r.lockFile(r.indexPath())
	if err != nil {
		return nil, nil, err
	}
	idx, err := r.readIndex()
	if err != nil {
		l.rollback()
		return nil, nil, err
	}
	return l, idx, nil
}

// statData is what git caches about a file to notice changes without
// reading it (struct stat_data, truncated to 32 bits as git does).
type statData struct {
	ctimeSec, ctimeNsec uint32
	mtimeSec, mtimeNsec uint32
	dev, ino            uint32
	uid, gid            uint32
	size                uint32
}

// entryData is what an index entry records about its file, apart from the
// name and flags: mode, object name and stat data.
type entryData struct {
	mode uint32
	hash oid
	stat statData
}

// entryFixedSize is the size of an on-disk entry before its extended
// flags and name: stat data and mode (40 bytes), the object name (20 or
// 32 bytes), the flags (2).
func entryFixedSize(hashSize int) int { return 40 + hashSize + 2 }

// put writes d into the fixed-size fields at the start of an on-disk entry
// b: ctime through size (mode among them), then the object name.
func (d *entryData) put(b []byte) {
	s := d.stat
	for j, v := range []uint32{s.ctimeSec, s.ctimeNsec, s.mtimeSec, s.mtimeNsec, s.dev, s.ino, d.mode, s.uid, s.gid, s.size} {
		binary.BigEndian.PutUint32(b[4*j:], v)
	}
	copy(b[40:40+int(d.hash.n)], d.hash.b[:d.hash.n])
}

// entryUpdate is new content for the existing entry idx.entries[i].
type entryUpdate struct {
	i int
	entryData
}

// newIndexEntry is a stage-0 entry to add.
type newIndexEntry struct {
	name string
	entryData
}

// The index is written in one of two ways. encode patches entries in place
// (Commit: same entries, same positions), so everything that depends only
// on the set and order of entries stays valid and is kept byte for byte.
// splice adds and removes entries (AddNew, MoveBranch), so every entry
// moves and only what does not depend on positions is kept.

// encode returns the index bytes with the updates applied.
func (idx *indexFile) encode(updates []entryUpdate) []byte {
	out := make([]byte, 0, len(idx.data))
	out = append(out, idx.data[:idx.entryEnd]...)
	for _, u := range updates {
		u.put(out[idx.entries[u.i].off:])
	}
	for _, x := range idx.exts {
		switch x.sig {
		case "TREE", "FSMN", "EOIE", "IEOT":
			// Caches keyed on entry contents or positions in the file:
			// possibly stale now; git recomputes them.
			continue
		}
		if strings.ToUpper(x.sig) == x.sig && !knownSafeExtension[x.sig] {
			continue // optional and unknown to us: dropping is always safe
		}
		out = append(out, x.data...)
	}
	return idx.appendChecksum(out)
}

// knownSafeExtension lists optional extensions that stay valid when only
// the content of existing entries changes: resolve-undo records and the
// untracked cache (which keys on directory stat data, not tracked files).
var knownSafeExtension = map[string]bool{"REUC": true, "UNTR": true}

// splice returns the index with entries added and the stage-0 entries of
// the paths in remove dropped; every other entry is kept byte for byte
// (its name re-encoded in a version 4 index, where names are compressed
// against the previous entry). Of the extensions the resolve-undo records
// and the sparse-index marker are kept; the caches (TREE, UNTR, FSMN, ...)
// are dropped for git to rebuild.
func (idx *indexFile) splice(add []newIndexEntry, remove map[string]bool) []byte {
	type entry struct {
		name  string
		fixed []byte // stat data through flags, and extended flags when present
	}
	hs := idx.format.size
	fixed := entryFixedSize(hs)
	entries := make([]entry, 0, len(idx.entries)+len(add))
	for i := range idx.entries {
		e := &idx.entries[i]
		if remove[e.name] && e.stage() == 0 {
			continue
		}
		n := fixed
		if e.flags&flagExtended != 0 {
			n += 2
		}
		entries = append(entries, entry{name: e.name, fixed: idx.data[e.off : e.off+n]})
	}
	for _, a := range add {
		b := make([]byte, fixed)
		a.put(b)
		binary.BigEndian.PutUint16(b[40+hs:], uint16(min(len(a.name), 0xfff)))
		entries = append(entries, entry{name: a.name, fixed: b})
	}
	stage := func(e entry) uint16 { return binary.BigEndian.Uint16(e.fixed[40+hs:]) & flagStageMask }
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].name != entries[j].name {
			return entries[i].name < entries[j].name
		}
		return stage(entries[i]) < stage(entries[j])
	})

	out := make([]byte, 0, len(idx.data)+len(add)*80)
	out = append(out, "DIRC"...)
	out = binary.BigEndian.AppendUint32(out, idx.version)
	out = binary.BigEndian.AppendUint32(out, uint32(len(entries)))
	prev := ""
	for _, e := range entries {
		start := len(out)
		out = append(out, e.fixed...)
		if idx.version == 4 {
			common := 0
			for common < len(prev) && common < len(e.name) && prev[common] == e.name[common] {
				common++
			}
			out = appendV4Varint(out, uint64(len(prev)-common))
			out = append(out, e.name[common:]...)
			out = append(out, 0)
		} else {
			out = append(out, e.name...)
			out = append(out, make([]byte, 8-(len(out)-start)%8)...) // 1 to 8 NULs
		}
		prev = e.name
	}
	for _, x := range idx.exts {
		if x.sig == "REUC" || x.sig == "sdir" {
			out = append(out, x.data...)
		}
	}
	return idx.appendChecksum(out)
}

// appendChecksum appends the trailer of an index file: the hash of body,
// SHA-1 or SHA-256 as the repository's object format.
func (idx *indexFile) appendChecksum(body []byte) []byte {
	h := idx.format.new()
	h.Write(body)
	return h.Sum(body)
}

// appendV4Varint appends git's offset varint (varint.c encode_varint).
func appendV4Varint(dst []byte, v uint64) []byte {
	var buf [16]byte
	pos := len(buf) - 1
	buf[pos] = byte(v & 0x7f)
	for v >>= 7; v != 0; v >>= 7 {
		v--
		pos--
		buf[pos] = 0x80 | byte(v&0x7f)
	}
	return append(dst, buf[pos:]...)
}
