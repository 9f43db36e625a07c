package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// StatusCommand reads what the status page shows of a clone by running
// the git-laminar binary's `status --json` and `log --json` in it: the
// same words a person gets from those commands.
type StatusCommand struct {
	// Binary is the git-laminar executable; Argv0 the name it is run as.
	Binary, Argv0 string
	// Env is the environment of the commands (default os.Environ()).
	Env []string
}

func (e *StatusCommand) command(ctx context.Context, t Target, args ...string) *exec.Cmd {
	if t.Config != "" {
		args = append([]string{"--config", filepath.Join(t.Dir, t.Config)}, args...)
	}
	cmd := exec.CommandContext(ctx, e.Binary, args...)
	if e.Argv0 != "" {
		cmd.Args[0] = e.Argv0
	}
	cmd.Dir = t.Dir
	env := e.Env
	if env == nil {
		env = os.Environ()
	}
	// The fleet file decides the configuration, not the service's own
	// environment.
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "LAMINAR_CONFIG=") })
	cmd.Env = append(env, "GIT_TERMINAL_PROMPT=0")
	// SIGTERM first, as for a person's command; SIGKILL if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscallTERM) }
	cmd.WaitDelay = 30 * time.Second
	return cmd
}

func firstLine(s string, err error) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return err.Error()
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return printable.String(s)
}

// Status reads `status --json` and `log --json`.
func (e *StatusCommand) Status(ctx context.Context, t Target) (RepoStatus, error) {
	var st RepoStatus
	cmd := e.command(ctx, t, "status", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var s struct {
		Images []struct {
			Image, Rule, Current, Chosen, Held, Reason string
		}
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &s); jerr != nil {
		if err == nil {
			err = jerr
		}
		return st, fmt.Errorf("status: %s", firstLine(stderr.String(), err))
	}
	for _, i := range s.Images {
		st.Images = append(st.Images, ImageStatus{Image: i.Image, Rule: i.Rule, Current: i.Current, Newest: i.Chosen, Reason: i.Reason, Held: i.Held})
	}
	cmd = e.command(ctx, t, "log", "--json", "-n", "20")
	stdout.Reset()
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return st, fmt.Errorf("log: %s", firstLine(stderr.String(), err))
	}
	if err := json.Unmarshal(stdout.Bytes(), &st.History); err != nil {
		return st, fmt.Errorf("log: %w", err)
	}
	return st, nil
}
