package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Peak RSS needs a process of its own between the bench and the program
// measured. Go starts children with vfork, and on exec Linux records the
// high-water RSS of the memory being left, the bench's own (the in-memory
// registry, hundreds of MB), as the child's ru_maxrss. So the bench starts
// itself as a small wrapper (rusageFlag), whose child's ru_maxrss is that
// child's own (at least the wrapper's few MB), and which times the child
// and reports both on fd 3.
const rusageFlag = "-rusage-exec"

type usage struct {
	Wall   time.Duration `json:"wall"`
	CPU    time.Duration `json:"cpu"`
	MaxRSS int64         `json:"max_rss"` // bytes
	Exit   int           `json:"exit"`
	Err    string        `json:"err,omitempty"` // the program could not be run
}

// rusageMain is the wrapper: run args, report on fd 3.
func rusageMain(args []string) {
	report := os.NewFile(3, "report")
	var u usage
	defer func() {
		json.NewEncoder(report).Encode(u)
		os.Exit(0)
	}()
	if len(args) == 0 {
		u.Err = "no program"
		return
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	u.Wall = time.Since(start)
	if cmd.ProcessState == nil {
		u.Err = err.Error()
		return
	}
	u.Exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
}

// measure runs name args in dir with env through the wrapper, stdout to
// /dev/null (or stdout), and returns what the wrapper saw.
func measure(ctx context.Context, dir string, env []string, stdout, stderr io.Writer, name string, args ...string) (usage, error) {
	self, err := os.Executable()
	if err != nil {
		return usage{}, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return usage{}, err
	}
	defer pr.Close()
	cmd := exec.CommandContext(ctx, self, append([]string{rusageFlag, name}, args...)...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.ExtraFiles = []*os.File{pw}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return usage{}, err
	}
	pw.Close()
	var u usage
	decErr := json.NewDecoder(pr).Decode(&u)
	if err := cmd.Wait(); err != nil {
		return u, fmt.Errorf("%s: %w", name, err)
	}
	if decErr != nil {
		return u, fmt.Errorf("%s: no report from the wrapper: %w", name, decErr)
	}
	if u.Err != "" {
		return u, fmt.Errorf("%s: %s", name, u.Err)
	}
	return u, nil
}
