package gitrepo

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Objects are read and written through objectStore, in one of two object
// formats: SHA-1 (go-git's storage, see gogitstore.go) or SHA-256 (git's
// cat-file, see catfile.go), since go-git v5 serves only one of them in a
// given build. Trees, commits and tags are parsed here, for both.

// hashFormat is a repository's object format (extensions.objectFormat).
type hashFormat struct {
	name string // "sha1" or "sha256", as git's config spells it
	size int    // bytes of an object name
	new  func() hash.Hash
}

var (
	formatSHA1   = &hashFormat{name: "sha1", size: sha1.Size, new: sha1.New}
	formatSHA256 = &hashFormat{name: "sha256", size: sha256.Size, new: sha256.New}
)

// hexLen is the length of a full object name in hex.
func (f *hashFormat) hexLen() int { return 2 * f.size }

// zeroID is the all-zero object name git uses for "no object" (in reflogs
// and hook input).
func (f *hashFormat) zeroID() string { return strings.Repeat("0", f.hexLen()) }

// sum is the name git gives an object of type typ holding content.
func (f *hashFormat) sum(typ string, content []byte) oid {
	h := f.hasher(typ, int64(len(content)))
	h.Write(content)
	return f.oidOf(h)
}

// hasher returns a hash with the object header already written: write
// the size bytes of content to it and take oidOf.
func (f *hashFormat) hasher(typ string, size int64) hash.Hash {
	h := f.new()
	h.Write([]byte(typ + " " + strconv.FormatInt(size, 10) + "\x00"))
	return h
}

func (f *hashFormat) oidOf(h hash.Hash) oid {
	var o oid
	o.n = uint8(copy(o.b[:], h.Sum(nil)))
	return o
}

// parse reads a full object name of this format.
func (f *hashFormat) parse(s string) (oid, error) {
	if len(s) != f.hexLen() || !isLowerHex(s) {
		return oid{}, fmt.Errorf("%q is not a full %s object name", s, f.name)
	}
	var o oid
	hex.Decode(o.b[:], []byte(s))
	o.n = uint8(f.size)
	return o, nil
}

// oid is an object name: 20 bytes (SHA-1) or 32 (SHA-256). The zero value
// is no object at all.
type oid struct {
	b [32]byte
	n uint8
}

func oidFromBytes(b []byte) oid {
	var o oid
	o.n = uint8(copy(o.b[:], b))
	return o
}

func (o oid) String() string { return hex.EncodeToString(o.b[:o.n]) }
func (o oid) isZero() bool   { return o.n == 0 }

// errMissingObject is wrapped when the repository lacks an object.
var errMissingObject = errors.New("object not found")

// objectStore reads and writes the repository's objects.
type objectStore interface {
	// read returns an object's type ("blob", "tree", "commit", "tag")
	// and content; a missing object wraps errMissingObject.
	read(id oid) (typ string, content []byte, err error)
	// size returns the size of an object's content.
	size(id oid) (int64, error)
	// write stores an object, unless it is there already, and returns
	// its name.
	write(typ string, content []byte) (oid, error)
}

// readTyped reads an object that must be of type typ.
func (r *Repo) readTyped(id oid, typ string) ([]byte, error) {
	t, content, err := r.store.read(id)
	if err != nil {
		return nil, err
	}
	if t != typ {
		return nil, fmt.Errorf("%s is a %s, not a %s", id, t, typ)
	}
	return content, nil
}

// treeItem is one entry of a tree object.
type treeItem struct {
	Name string
	Mode filemode.FileMode
	Hash oid
}

type treeObj struct {
	Hash    oid
	Entries []treeItem
}

func (r *Repo) getTree(id oid) (*treeObj, error) {
	content, err := r.readTyped(id, "tree")
	if err != nil {
		return nil, err
	}
	return parseTree(id, content, r.format.size)
}

// parseTree reads a tree object: entries of "<octal mode> <name>\0<raw
// object name>".
func parseTree(id oid, b []byte, hashSize int) (*treeObj, error) {
	t := &treeObj{Hash: id}
	for len(b) > 0 {
		sp := bytes.IndexByte(b, ' ')
		if sp <= 0 {
			return nil, fmt.Errorf("tree %s: malformed entry", id)
		}
		m, err := strconv.ParseUint(string(b[:sp]), 8, 32)
		if err != nil {
			return nil, fmt.Errorf("tree %s: malformed mode %q", id, b[:sp])
		}
		b = b[sp+1:]
		nul := bytes.IndexByte(b, 0)
		if nul < 0 || len(b) < nul+1+hashSize {
			return nil, fmt.Errorf("tree %s: truncated entry", id)
		}
		t.Entries = append(t.Entries, treeItem{
			Name: string(b[:nul]), Mode: filemode.FileMode(m), Hash: oidFromBytes(b[nul+1 : nul+1+hashSize]),
		})
		b = b[nul+1+hashSize:]
	}
	return t, nil
}

// encodeTree writes entries in git's tree order: by name, a directory
// compared as if its name ended in "/".
func encodeTree(entries []treeItem) []byte {
	key := func(e treeItem) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.SliceStable(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	var buf bytes.Buffer
	for _, e := range entries {
		buf.WriteString(strconv.FormatUint(uint64(e.Mode), 8))
		buf.WriteByte(' ')
		buf.WriteString(e.Name)
		buf.WriteByte(0)
		buf.Write(e.Hash.b[:e.Hash.n])
	}
	return buf.Bytes()
}

// errEntryNotFound is wrapped by findEntry when the tree lacks the path,
// or a directory on the way to it.
var errEntryNotFound = errors.New("entry not found")

// findEntry finds the entry at p (slash-separated) below tree.
func (r *Repo) findEntry(tree *treeObj, p string) (*treeItem, error) {
	parts := strings.Split(p, "/")
	for i, name := range parts {
		var found *treeItem
		for j := range tree.Entries {
			if tree.Entries[j].Name == name {
				found = &tree.Entries[j]
				break
			}
		}
		switch {
		case found == nil, i < len(parts)-1 && found.Mode != filemode.Dir:
			return nil, errEntryNotFound
		case i == len(parts)-1:
			return found, nil
		}
		var err error
		if tree, err = r.getTree(found.Hash); err != nil {
			return nil, fmt.Errorf("tree of %s: %w", strings.Join(parts[:i+1], "/"), err)
		}
	}
	return nil, errEntryNotFound
}

// walkFiles calls fn for every entry below tree that is not a directory,
// with its path below prefix ("" or ending in "/").
func (r *Repo) walkFiles(tree *treeObj, prefix string, fn func(p string, e *treeItem) error) error {
	for i := range tree.Entries {
		e := &tree.Entries[i]
		if e.Mode == filemode.Dir {
			sub, err := r.getTree(e.Hash)
			if err != nil {
				return fmt.Errorf("tree of %s%s: %w", prefix, e.Name, err)
			}
			if err := r.walkFiles(sub, prefix+e.Name+"/", fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(prefix+e.Name, e); err != nil {
			return err
		}
	}
	return nil
}

// commitObj is a parsed commit object.
type commitObj struct {
	Hash              oid
	TreeHash          oid
	ParentHashes      []oid
	Author, Committer Signature
	Message           string
}

func (r *Repo) getCommit(id oid) (*commitObj, error) {
	content, err := r.readTyped(id, "commit")
	if err != nil {
		return nil, err
	}
	return parseCommit(id, content, r.format)
}

// parseCommit reads a commit object: header lines (a line starting with a
// space continues the one before, as in a signature), a blank line, the
// message.
func parseCommit(id oid, b []byte, f *hashFormat) (*commitObj, error) {
	c := &commitObj{Hash: id}
	head, msg, _ := bytes.Cut(b, []byte("\n\n"))
	c.Message = string(msg)
	for _, line := range strings.Split(string(head), "\n") {
		if strings.HasPrefix(line, " ") {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		var err error
		switch key {
		case "tree":
			c.TreeHash, err = f.parse(val)
		case "parent":
			var p oid
			p, err = f.parse(val)
			c.ParentHashes = append(c.ParentHashes, p)
		case "author":
			c.Author = parseSignature(val)
		case "committer":
			c.Committer = parseSignature(val)
		}
		if err != nil {
			return nil, fmt.Errorf("commit %s: %s: %w", id, key, err)
		}
	}
	if c.TreeHash.isZero() {
		return nil, fmt.Errorf("commit %s: no tree", id)
	}
	return c, nil
}

// parseSignature reads "Name <email> <unix seconds> <+hhmm>"; what does
// not parse is left empty, as git log shows it.
func parseSignature(s string) Signature {
	var sig Signature
	lt := strings.IndexByte(s, '<')
	gt := strings.LastIndexByte(s, '>')
	if lt < 0 || gt < lt {
		sig.Name = strings.TrimSpace(s)
		return sig
	}
	sig.Name = strings.TrimSpace(s[:lt])
	sig.Email = s[lt+1 : gt]
	f := strings.Fields(s[gt+1:])
	if len(f) >= 1 {
		if sec, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			loc := time.UTC
			if len(f) >= 2 && len(f[1]) == 5 && (f[1][0] == '+' || f[1][0] == '-') {
				loc = parseTZ(f[1])
			}
			sig.When = time.Unix(sec, 0).In(loc)
		}
	}
	return sig
}

// tagTarget returns the object an annotated tag points at.
func tagTarget(id oid, b []byte, f *hashFormat) (oid, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	v, ok := strings.CutPrefix(string(line), "object ")
	if !ok {
		return oid{}, fmt.Errorf("tag %s: no object line", id)
	}
	return f.parse(v)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// public is the Commit callers see.
func (c *commitObj) public() Commit {
	parents := make([]string, len(c.ParentHashes))
	for i, p := range c.ParentHashes {
		parents[i] = p.String()
	}
	return Commit{Hash: c.Hash.String(), Author: c.Author, Committer: c.Committer, Message: c.Message, Parents: parents}
}
