package gitrepo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// ErrStop, returned by a Log callback, ends the walk without an error.
var ErrStop = errors.New("stop")

// Commit is one commit of history.
type Commit struct {
	Hash      string
	Author    Signature
	Committer Signature
	Message   string
	Parents   []string
}

// LogOptions say which commits LogWith walks.
type LogOptions struct {
	// Rev is where the walk starts: a branch, tag, hash or any revision
	// git rev-parse resolves; HEAD when empty.
	Rev string
	// Exclude, when set, leaves out the commits reachable from it (the
	// walk is Exclude..Rev). It must name a commit by its full id.
	Exclude string
	// Grep keeps only the commits whose message contains one of these,
	// ASCII case ignored (git log -i -F --grep). The others are never read.
	Grep []string
}

// Log walks history from HEAD, or from rev when rev is not empty, newest
// first by committer time like `git log`, calling fn for each commit until
// fn returns an error. ErrStop ends the walk and Log returns nil; any other
// error is returned as is.
func (r *Repo) Log(ctx context.Context, rev string, fn func(Commit) error) error {
	return r.LogWith(ctx, LogOptions{Rev: rev}, fn)
}

// Fields of one commit as logFormat prints them, each ended by a NUL (git
// never prints one inside a field: it stops a message at its first NUL),
// the last by the NUL of -z.
const (
	logFormat = "%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
	logFields = 9
	// logFieldMax bounds the fields before the message: ids, names, dates.
	logFieldMax = 64 << 10
	// LogMessageMax bounds a message: of a longer one only the last
	// LogMessageMax bytes are kept, which still hold its trailers.
	LogMessageMax = 1 << 20
)

// LogWith is Log with options. It reads `git log` as it streams: a history
// of any length is walked in constant memory, and a walk that fn stops
// early stops git too.
func (r *Repo) LogWith(ctx context.Context, opt LogOptions, fn func(Commit) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var from string
	if opt.Rev == "" {
		h, _, err := r.readHead()
		if err != nil {
			return err
		}
		from = h
	} else {
		h, err := r.resolveCommit(ctx, opt.Rev)
		if err != nil {
			return fmt.Errorf("log: resolve %q: %w", opt.Rev, err)
		}
		from = h
	}
	// --no-show-signature: log.showSignature would print verification
	// output among the records.
	revs := []string{from}
	if opt.Exclude != "" {
		if !isObjectID(opt.Exclude) {
			return fmt.Errorf("log: %q is not a commit id", printable.String(opt.Exclude))
		}
		revs = append(revs, "^"+opt.Exclude)
	}
	var extra []string
	if len(opt.Grep) > 0 {
		extra = append(extra, "--regexp-ignore-case", "--fixed-strings")
		for _, g := range opt.Grep {
			extra = append(extra, "--grep="+g)
		}
	}
	return r.streamLog(ctx, extra, revs, "", fn)
}

// Commits calls fn for each of the commits ids names (full ids), in that
// order; an id the repository lacks is an error.
func (r *Repo) Commits(ctx context.Context, ids []string, fn func(Commit) error) error {
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if !isObjectID(id) {
			return fmt.Errorf("log: %q is not a commit id", printable.String(id))
		}
	}
	// On standard input: there is no bound on how many.
	return r.streamLog(ctx, []string{"--no-walk=unsorted", "--stdin"}, nil, strings.Join(ids, "\n")+"\n", fn)
}

// streamLog runs git log over revs (full ids, or ^id), and stdin when not
// empty, and hands each commit to fn as it is read.
func (r *Repo) streamLog(ctx context.Context, extra, revs []string, stdin string, fn func(Commit) error) error {
	// --no-show-signature: log.showSignature would print verification
	// output among the records.
	args := append([]string{"log", "-z", "--no-color", "--no-show-signature", "--format=" + logFormat}, extra...)
	args = append(append(args, revs...), "--")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Root
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("log: git log: %w", err)
	}
	walkErr := readLog(ctx, out, fn)
	if walkErr != nil {
		// Stopped early (or failed): git need not finish.
		cancel()
	}
	waitErr := cmd.Wait()
	switch {
	case errors.Is(walkErr, ErrStop):
		return nil
	case walkErr != nil:
		return walkErr
	case waitErr != nil:
		if err := ctx.Err(); err != nil {
			return err
		}
		msg := strings.TrimSpace(stderr.String())
		return fmt.Errorf("log: git log: %w: %s", waitErr, printable.Text(msg))
	}
	return nil
}

// readLog parses the output of git log -z --format=logFormat, calling fn
// for each commit.
func readLog(ctx context.Context, out io.Reader, fn func(Commit) error) error {
	br := bufio.NewReaderSize(out, 64<<10)
	var fields [logFields]string
	var msg []byte
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for i := range logFields - 1 {
			f, err := readField(br, logFieldMax)
			if err == io.EOF && i == 0 {
				return nil
			}
			if err != nil {
				return fmt.Errorf("log: reading git log: %w", err)
			}
			fields[i] = f
		}
		var err error
		msg, err = readTail(br, msg[:0], LogMessageMax)
		if err != nil {
			return fmt.Errorf("log: reading git log: %w", err)
		}
		c, err := parseLogCommit(fields, msg)
		if err != nil {
			return fmt.Errorf("log: reading git log: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
}

// readField reads up to the next NUL; a longer field than max is an error
// (git prints none: ids, names and dates are short).
func readField(br *bufio.Reader, max int) (string, error) {
	var long []byte
	for {
		b, err := br.ReadSlice(0)
		switch {
		case err == nil:
			if long == nil {
				return string(b[:len(b)-1]), nil
			}
			long = append(long, b[:len(b)-1]...)
			if len(long) > max {
				return "", fmt.Errorf("a field longer than %d bytes", max)
			}
			return string(long), nil
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, b...)
			if len(long) > max {
				return "", fmt.Errorf("a field longer than %d bytes", max)
			}
		case err == io.EOF && len(b) == 0 && long == nil:
			return "", io.EOF
		case err == io.EOF:
			return "", io.ErrUnexpectedEOF
		default:
			return "", err
		}
	}
}

// readTail reads up to the next NUL into buf, keeping the last max bytes.
func readTail(br *bufio.Reader, buf []byte, max int) ([]byte, error) {
	for {
		b, err := br.ReadSlice(0)
		switch {
		case err == nil:
			buf = append(buf, b[:len(b)-1]...)
			if len(buf) > max {
				buf = append(buf[:0], buf[len(buf)-max:]...)
			}
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			buf = append(buf, b...)
			if len(buf) > 2*max {
				buf = append(buf[:0], buf[len(buf)-max:]...)
			}
		case err == io.EOF:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

func parseLogCommit(f [logFields]string, msg []byte) (Commit, error) {
	hash := f[0]
	if !isObjectID(hash) {
		return Commit{}, fmt.Errorf("%q is not a commit id", printable.String(hash))
	}
	c := Commit{Hash: hash, Message: string(msg)}
	if f[1] != "" {
		c.Parents = strings.Split(f[1], " ")
		for _, p := range c.Parents {
			if !isObjectID(p) {
				return Commit{}, fmt.Errorf("commit %s: parent %q is not a commit id", hash, printable.String(p))
			}
		}
	}
	var err error
	c.Author = Signature{Name: f[2], Email: f[3]}
	if c.Author.When, err = time.Parse(time.RFC3339, f[4]); err != nil {
		return Commit{}, fmt.Errorf("commit %s: author date: %w", hash, err)
	}
	c.Committer = Signature{Name: f[5], Email: f[6]}
	if c.Committer.When, err = time.Parse(time.RFC3339, f[7]); err != nil {
		return Commit{}, fmt.Errorf("commit %s: committer date: %w", hash, err)
	}
	return c, nil
}

// resolveCommit returns the full id of the commit rev names.
func (r *Repo) resolveCommit(ctx context.Context, rev string) (string, error) {
	out, err := r.git(ctx, nil, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", errors.New("no such commit")
	}
	h := strings.TrimSpace(out)
	if !isObjectID(h) {
		return "", fmt.Errorf("git rev-parse printed %q, not a commit id", printable.String(h))
	}
	return h, nil
}

// isObjectID reports whether s is a full object id in lower-case hex, of
// SHA-1 (40 digits) or SHA-256 (64).
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
