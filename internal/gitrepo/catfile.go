package gitrepo

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// catFileStore serves the objects of a SHA-256 repository. go-git v5
// reads SHA-1 objects only (SHA-256 needs a build tag that switches the
// whole program over), so reads go to one long-lived `git cat-file
// --batch-command` of the installed git, which knows every pack and
// alternate; writes are loose objects, written here as git writes them
// (zlib-deflated "<type> <size>\0<content>", named by its hash, made
// read-only, renamed into place).
type catFileStore struct {
	gitDir, objDir string
	format         *hashFormat

	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	dead error // the process failed; the next request starts another
}

func newCatFileStore(gitDir, commonDir string, f *hashFormat) *catFileStore {
	return &catFileStore{gitDir: gitDir, objDir: filepath.Join(commonDir, "objects"), format: f}
}

func (s *catFileStore) start() error {
	if s.cmd != nil && s.dead == nil {
		return nil
	}
	s.stop()
	cmd := exec.Command("git", "--git-dir="+s.gitDir, "cat-file", "--batch-command")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	s.cmd, s.in, s.out, s.dead = cmd, in, bufio.NewReaderSize(out, 64<<10), nil
	return nil
}

// stop ends the cat-file process, if one runs.
func (s *catFileStore) stop() {
	if s.cmd == nil {
		return
	}
	s.in.Close()
	s.cmd.Wait()
	s.cmd = nil
}

func (s *catFileStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop()
}

// request sends one command and reads the header line of the answer:
// "<oid> <type> <size>", or errMissingObject.
func (s *catFileStore) request(cmd string, id oid) (typ string, size int64, err error) {
	if err := s.start(); err != nil {
		return "", 0, err
	}
	fail := func(err error) (string, int64, error) {
		s.dead = err
		return "", 0, fmt.Errorf("git cat-file: %w", err)
	}
	if _, err := io.WriteString(s.in, cmd+" "+id.String()+"\n"); err != nil {
		return fail(err)
	}
	line, err := s.out.ReadString('\n')
	if err != nil {
		return fail(err)
	}
	f := strings.Fields(line)
	if len(f) == 2 && f[1] == "missing" {
		return "", 0, fmt.Errorf("%s: %w", id, errMissingObject)
	}
	if len(f) != 3 || f[0] != id.String() {
		return fail(fmt.Errorf("unexpected answer %q", line))
	}
	size, err = strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return fail(fmt.Errorf("unexpected answer %q", line))
	}
	return f[1], size, nil
}

func (s *catFileStore) read(id oid) (string, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	typ, size, err := s.request("contents", id)
	if err != nil {
		return "", nil, err
	}
	content := make([]byte, size+1) // and the newline after it
	if _, err := io.ReadFull(s.out, content); err != nil {
		s.dead = err
		return "", nil, fmt.Errorf("git cat-file: %s: %w", id, err)
	}
	return typ, content[:size], nil
}

func (s *catFileStore) size(id oid) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, size, err := s.request("info", id)
	return size, err
}

func (s *catFileStore) has(id oid) (bool, error) {
	if _, err := os.Stat(s.loosePath(id)); err == nil {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, err := s.request("info", id)
	if errors.Is(err, errMissingObject) {
		return false, nil
	}
	return err == nil, err
}

func (s *catFileStore) loosePath(id oid) string {
	h := id.String()
	return filepath.Join(s.objDir, h[:2], h[2:])
}

func (s *catFileStore) write(typ string, content []byte) (oid, error) {
	id := s.format.sum(typ, content)
	if ok, err := s.has(id); err != nil || ok {
		return id, err
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write([]byte(typ + " " + strconv.Itoa(len(content)) + "\x00"))
	zw.Write(content)
	if err := zw.Close(); err != nil {
		return oid{}, err
	}
	final := s.loosePath(id)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return oid{}, fmt.Errorf("write %s object: %w", typ, err)
	}
	tmp, err := os.CreateTemp(dir, "tmp_obj_")
	if err != nil {
		return oid{}, fmt.Errorf("write %s object: %w", typ, err)
	}
	_, werr := tmp.Write(buf.Bytes())
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr, os.Chmod(tmp.Name(), 0o444)); err != nil {
		os.Remove(tmp.Name())
		return oid{}, fmt.Errorf("write %s object: %w", typ, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		os.Remove(tmp.Name())
		return oid{}, fmt.Errorf("write %s object: %w", typ, err)
	}
	return id, nil
}
