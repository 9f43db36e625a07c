package gitrepo

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseTree feeds tree objects of both formats to parseTree: it must
// not panic, and what it reads must encode to a tree that reads back the
// same (in git's order).
func FuzzParseTree(f *testing.F) {
	f.Add([]byte("100644 a\x00"+string(bytes.Repeat([]byte{1}, 20))+"40000 d\x00"+string(bytes.Repeat([]byte{2}, 20))), false)
	f.Add([]byte("100755 run.sh\x00"+string(bytes.Repeat([]byte{3}, 32))), true)
	f.Add([]byte("120000 link"), false)
	f.Fuzz(func(t *testing.T, data []byte, sha256 bool) {
		format := formatSHA1
		if sha256 {
			format = formatSHA256
		}
		tree, err := parseTree(oid{}, data, format.size)
		if err != nil {
			return
		}
		for _, e := range tree.Entries {
			if int(e.Hash.n) != format.size {
				t.Fatalf("%q: object name of %d bytes", e.Name, e.Hash.n)
			}
		}
		again, err := parseTree(oid{}, encodeTree(tree.Entries), format.size)
		if err != nil {
			t.Fatalf("the encoded tree does not parse: %v", err)
		}
		if d := cmp.Diff(tree.Entries, again.Entries, cmp.AllowUnexported(oid{})); d != "" {
			t.Fatalf("round trip (-first +again):\n%s", d)
		}
	})
}

// FuzzParseCommit feeds commit objects to parseCommit: it must not panic,
// and a commit it accepts has a tree of the format's size.
func FuzzParseCommit(f *testing.F) {
	f.Add([]byte("tree "+string(bytes.Repeat([]byte("ab"), 20))+"\nauthor A <a@x> 1700000000 +0100\ncommitter C <c@x> 1700000000 -0230\n\nmsg\n"), false)
	f.Add([]byte("tree "+string(bytes.Repeat([]byte("cd"), 32))+"\nparent "+string(bytes.Repeat([]byte("ef"), 32))+
		"\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 2 +0000\ngpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n x\n -----END PGP SIGNATURE-----\n\nmsg\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, sha256 bool) {
		format := formatSHA1
		if sha256 {
			format = formatSHA256
		}
		c, err := parseCommit(oid{}, data, format)
		if err != nil {
			return
		}
		if int(c.TreeHash.n) != format.size {
			t.Fatalf("tree of %d bytes", c.TreeHash.n)
		}
		_ = c.public()
	})
}

// FuzzParseIndex feeds index files to parseIndex in both formats: it must
// not panic, and an index it accepts must encode (without updates) to
// one it accepts again with the same entries.
func FuzzParseIndex(f *testing.F) {
	for _, format := range []*hashFormat{formatSHA1, formatSHA256} {
		idx := &indexFile{format: format, version: 2, data: []byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x00")}
		empty := idx.appendChecksum(bytes.Clone(idx.data))
		f.Add(empty, format == formatSHA256)
		one := idx.splice([]newIndexEntry{{name: "a.yaml", entryData: entryData{mode: modeRegular | 0o644, hash: format.sum("blob", []byte("a\n"))}}}, nil)
		f.Add(one, format == formatSHA256)
	}
	f.Fuzz(func(t *testing.T, data []byte, sha256 bool) {
		format := formatSHA1
		if sha256 {
			format = formatSHA256
		}
		idx, err := parseIndex(data, format)
		if err != nil {
			return
		}
		idx.entryEnd = min(idx.entryEnd, len(idx.data))
		again, err := parseIndex(idx.encode(nil), format)
		if err != nil {
			t.Fatalf("the encoded index does not parse: %v", err)
		}
		if len(again.entries) != len(idx.entries) {
			t.Fatalf("%d entries, then %d", len(idx.entries), len(again.entries))
		}
		for i := range idx.entries {
			if again.entries[i].name != idx.entries[i].name || again.entries[i].hash != idx.entries[i].hash {
				t.Fatalf("entry %d: %q %s, then %q %s", i, idx.entries[i].name, idx.entries[i].hash, again.entries[i].name, again.entries[i].hash)
			}
		}
	})
}
