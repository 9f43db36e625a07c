package gitrepo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// AddNew puts untracked files into the index, as `git add -- <paths>`
// would, so that Commit can record them: files that a step of the run
// created (the output of an exec action). Each path must be a regular file
// in the working tree that the index does not hold. Its blob is written
// and its index entry added with fresh stat data; every other entry and
// the resolve-undo records are kept, the caches git rebuilds (cache tree,
// untracked cache, fsmonitor) are dropped.
//
// The returned undo removes those entries again, unless something else
// changed them meanwhile; call it when the commit that was to record the
// files fails, to leave the index as it was.
func (r *Repo) AddNew(paths []string) (undo func() error, err error) {
	noop := func() error { return nil }
	if len(paths) == 0 {
		return noop, nil
	}
	clean := make([]string, 0, len(paths))
	seen := map[string]bool{}
	for _, p := range paths {
		c, err := cleanPath(p)
		if err != nil {
			return nil, fmt.Errorf("add: %w", err)
		}
		if !seen[c] {
			seen[c] = true
			clean = append(clean, c)
		}
	}
	sort.Strings(clean)

	ilock, err := lockFile(r.indexPath())
	if err != nil {
		return nil, err
	}
	defer ilock.rollback()
	idx, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	cfg, err := r.config()
	if err != nil {
		return nil, err
	}
	fileMode, err := cfg.getBool("core.filemode", true)
	if err != nil {
		return nil, err
	}
	attrs, err := r.newAttrChecker(cfg)
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(idx.entries))
	for _, e := range idx.entries {
		names[e.name] = true
	}
	var added []newIndexEntry
	for _, p := range clean {
		if names[p] {
			return nil, fmt.Errorf("add: %s is already in the index", p)
		}
		// A file where the index has a directory, or under a path the
		// index has as a file (or a sparse directory), cannot be added.
		if i := sort.Search(len(idx.entries), func(i int) bool { return idx.entries[i].name >= p+"/" }); i < len(idx.entries) && strings.HasPrefix(idx.entries[i].name, p+"/") {
			return nil, fmt.Errorf("add: %s is a directory in the index", p)
		}
		for d := p; strings.Contains(d, "/"); {
			d = d[:strings.LastIndexByte(d, '/')]
			if names[d] || names[d+"/"] {
				return nil, fmt.Errorf("add: %s: %s is a file or sparse directory in the index", p, d)
			}
		}
		content, st, exec, err := r.readWorktreeFile(p)
		if err != nil {
			return nil, fmt.Errorf("add: %w", err)
		}
		if err := attrs.checkConversion(p, content); err != nil {
			return nil, fmt.Errorf("add: %w", err)
		}
		h, err := r.writeObject(plumbing.BlobObject, content)
		if err != nil {
			return nil, err
		}
		mode := uint32(modeRegular | 0o644)
		if fileMode && exec {
			mode = modeRegular | 0o755
		}
		added = append(added, newIndexEntry{name: p, mode: mode, hash: h, stat: st})
	}
	if err := ilock.commit(idx.splice(added, nil)); err != nil {
		return nil, fmt.Errorf("add: writing the index: %w", err)
	}
	return func() error { return r.removeAdded(added) }, nil
}

// removeAdded drops the stage-0 entries AddNew made, where they still hold
// the object it wrote.
func (r *Repo) removeAdded(added []newIndexEntry) error {
	ilock, err := lockFile(r.indexPath())
	if err != nil {
		return err
	}
	defer ilock.rollback()
	idx, err := r.readIndex()
	if err != nil {
		return err
	}
	remove := map[string]bool{}
	for _, a := range added {
		if i, _ := idx.find(a.name); i >= 0 && idx.entries[i].hash == a.hash {
			remove[a.name] = true
		}
	}
	if len(remove) == 0 {
		return nil
	}
	if err := ilock.commit(idx.splice(nil, remove)); err != nil {
		return fmt.Errorf("restoring the index: %w", err)
	}
	return nil
}

type newIndexEntry struct {
	name string
	mode uint32
	hash plumbing.Hash
	stat statData
}

// splice returns the index with entries added and the stage-0 entries of
// the paths in remove dropped; every other entry is kept byte for byte
// (its name re-encoded in a version 4 index, where names are compressed
// against the previous entry). Of the extensions the resolve-undo records
// and the sparse-index marker are kept; the caches are dropped for git to
// rebuild.
func (idx *indexFile) splice(add []newIndexEntry, remove map[string]bool) []byte {
	type entry struct {
		name  string
		fixed []byte // stat data through flags, and extended flags when present
	}
	var entries []entry
	for i := range idx.entries {
		e := &idx.entries[i]
		if remove[e.name] && e.stage() == 0 {
			continue
		}
		n := 62
		if e.flags&flagExtended != 0 {
			n += 2
		}
		entries = append(entries, entry{name: e.name, fixed: idx.data[e.off : e.off+n]})
	}
	for _, a := range add {
		b := make([]byte, 62)
		s := a.stat
		for j, v := range []uint32{s.ctimeSec, s.ctimeNsec, s.mtimeSec, s.mtimeNsec, s.dev, s.ino, a.mode, s.uid, s.gid, s.size} {
			binary.BigEndian.PutUint32(b[4*j:], v)
		}
		copy(b[40:60], a.hash[:])
		binary.BigEndian.PutUint16(b[60:], uint16(min(len(a.name), 0xfff)))
		entries = append(entries, entry{name: a.name, fixed: b})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].name != entries[j].name {
			return entries[i].name < entries[j].name
		}
		return binary.BigEndian.Uint16(entries[i].fixed[60:])&flagStageMask < binary.BigEndian.Uint16(entries[j].fixed[60:])&flagStageMask
	})

	var out bytes.Buffer
	out.WriteString("DIRC")
	binary.Write(&out, binary.BigEndian, idx.version)
	binary.Write(&out, binary.BigEndian, uint32(len(entries)))
	prev := ""
	for _, e := range entries {
		start := out.Len()
		out.Write(e.fixed)
		if idx.version == 4 {
			common := 0
			for common < len(prev) && common < len(e.name) && prev[common] == e.name[common] {
				common++
			}
			out.Write(appendV4Varint(nil, uint64(len(prev)-common)))
			out.WriteString(e.name[common:])
			out.WriteByte(0)
		} else {
			out.WriteString(e.name)
			out.Write(make([]byte, 8-(out.Len()-start)%8)) // 1 to 8 NULs
		}
		prev = e.name
	}
	for _, x := range idx.exts {
		if x.sig == "REUC" || x.sig == "sdir" {
			out.Write(x.data)
		}
	}
	sum := sha1.Sum(out.Bytes())
	out.Write(sum[:])
	return out.Bytes()
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
