package gitrepo

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// gogitStore serves the objects of a SHA-1 repository from go-git's
// storage: in process, with go-git's pack index and object cache, which
// is faster than asking a git process for each tree.
type gogitStore struct {
	st storer.EncodedObjectStorer
}

func toPlumbing(id oid) plumbing.Hash {
	var h plumbing.Hash
	copy(h[:], id.b[:id.n])
	return h
}

func (s gogitStore) read(id oid) (string, []byte, error) {
	o, err := s.st.EncodedObject(plumbing.AnyObject, toPlumbing(id))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return "", nil, fmt.Errorf("%s: %w", id, errMissingObject)
	}
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", id, err)
	}
	content, err := readAll(o)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", id, err)
	}
	return o.Type().String(), content, nil
}

func (s gogitStore) size(id oid) (int64, error) {
	n, err := s.st.EncodedObjectSize(toPlumbing(id))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return 0, fmt.Errorf("%s: %w", id, errMissingObject)
	}
	return n, err
}

func (s gogitStore) write(typ string, content []byte) (oid, error) {
	t, err := plumbing.ParseObjectType(typ)
	if err != nil {
		return oid{}, err
	}
	h := plumbing.ComputeHash(t, content)
	want := oidFromBytes(h[:])
	if err := s.st.HasEncodedObject(h); err == nil {
		return want, nil
	}
	obj := s.st.NewEncodedObject()
	obj.SetType(t)
	obj.SetSize(int64(len(content)))
	w, err := obj.Writer()
	if err != nil {
		return oid{}, err
	}
	if _, err := w.Write(content); err != nil {
		return oid{}, err
	}
	if err := w.Close(); err != nil {
		return oid{}, err
	}
	got, err := s.st.SetEncodedObject(obj)
	if err != nil {
		return oid{}, fmt.Errorf("write %s object: %w", typ, err)
	}
	if got != h {
		return oid{}, fmt.Errorf("write %s object: hash %s, expected %s", typ, got, h)
	}
	return want, nil
}
