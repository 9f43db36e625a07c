package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
)

// failCode is the exit status of a failed change: ExitUnfinished when an
// interrupted promotion is left in the journal, else ExitError.
func failCode(err error) int {
	var ue *gitrepo.UnsettledError
	if errors.As(err, &ue) {
		return ExitUnfinished
	}
	return ExitError
}

// lockCode is the exit status of a failure to lock (and recover).
func lockCode(err error) int {
	if errors.Is(err, gitrepo.ErrLocked) {
		return ExitLocked
	}
	return failCode(err)
}

// printRecovered says on w what was settled of an interrupted run.
func printRecovered(w io.Writer, s *gitrepo.Settled) {
	if s == nil {
		return
	}
	fmt.Fprintln(w, recoveredText(s))
}

func recoveredText(s *gitrepo.Settled) string {
	var b strings.Builder
	if s.Committed {
		fmt.Fprintf(&b, "Finished an interrupted %s (pid %d) whose commit was made", s.Op, s.PID)
	} else {
		fmt.Fprintf(&b, "Undid an interrupted %s (pid %d)", s.Op, s.PID)
	}
	var did []string
	if n := len(s.Restored); n > 0 {
		did = append(did, fmt.Sprintf("put back %d file(s)", n))
	}
	if n := len(s.Completed); n > 0 {
		did = append(did, fmt.Sprintf("brought %d file(s) to HEAD", n))
	}
	if n := len(s.Locks) + len(s.Temps); n > 0 {
		did = append(did, fmt.Sprintf("removed %d lock or temporary file(s) it left", n))
	}
	if len(did) > 0 {
		b.WriteString(": " + strings.Join(did, ", "))
	}
	b.WriteString(".")
	return b.String()
}
