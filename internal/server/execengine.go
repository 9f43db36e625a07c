package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/metrics"
	"github.com/git-laminar/git-laminar/internal/printable"
)

// ExecEngine does the work by running the git-laminar binary in the
// clone: `run`, `set`, `scan` and `status`, each as a process of its own
// that takes the repository's lock as it always does.
type ExecEngine struct {
	// Binary is the git-laminar executable; Argv0 the name it is run as.
	Binary, Argv0 string
	// Env is the environment of the commands (default os.Environ()).
	Env []string
}

func (e *ExecEngine) command(ctx context.Context, t Target, args ...string) *exec.Cmd {
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
	// SIGTERM first: the command finishes its push and releases its lock.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscallTERM) }
	cmd.WaitDelay = 30 * time.Second
	return cmd
}

// logLine is the part of run's JSON log lines the service reads.
type logLine struct {
	Msg    string `json:"msg"`
	Image  string `json:"image"`
	From   string `json:"from"`
	To     string `json:"to"`
	Error  string `json:"error"`
	Commit string `json:"commit"`
	Status *int   `json:"status"`
}

// Run runs `git laminar run` in the clone.
func (e *ExecEngine) Run(ctx context.Context, t Target) (Outcome, error) {
	mf, err := os.CreateTemp("", "laminar-serve-*.prom")
	if err != nil {
		return Outcome{Result: "failed"}, err
	}
	mf.Close()
	defer os.Remove(mf.Name())
	args := []string{"run", "--log-format", "json", "--metrics-file", mf.Name()}
	if t.Branch != "" {
		args = append(args, "--branch", t.Branch)
	}
	if t.PullRequest {
		args = append(args, "--pull-request")
	}
	cmd := e.command(ctx, t, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	o := Outcome{}
	var lastErr string
	locked := false
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		switch l.Msg {
		case "promoted":
			o.Promotions = append(o.Promotions, Promotion{Image: l.Image, From: l.From, To: l.To})
		case "image failed":
			o.Failures = append(o.Failures, Failure{Image: l.Image, Error: l.Error})
		case "committed":
			o.Commit = l.Commit
		case "pushed":
			o.Pushed = true
		case "another run holds the lock":
			locked = true
		case "failed":
			lastErr = l.Error
		}
	}
	if fams, err := readMetrics(mf.Name()); err == nil {
		o.Requests = fams
	}
	switch {
	case locked:
		o.Result = "locked"
	case runErr != nil && exitCode(runErr) != 3:
		o.Result = "failed"
		o.Error = lastErr
		if o.Error == "" {
			o.Error = firstLine(stderr.String(), runErr)
		}
		return o, errors.New(o.Error)
	case len(o.Failures) > 0 || exitCode(runErr) == 3:
		o.Result = "partial"
	case o.Pushed:
		o.Result = "promoted"
	default:
		o.Result = "up-to-date"
	}
	if !o.Pushed {
		o.Promotions = nil
	}
	return o, nil
}

func readMetrics(path string) ([]RequestCount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fams, err := metrics.Parse(f)
	if err != nil {
		return nil, err
	}
	var out []RequestCount
	if mf := fams[metrics.NameRegistryRequests]; mf != nil {
		for _, m := range mf.GetMetric() {
			kind := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" {
					kind = l.GetValue()
				}
			}
			if v := m.GetGauge().GetValue(); v > 0 {
				out = append(out, RequestCount{Kind: kind, N: int64(v)})
			}
		}
	}
	return out, nil
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
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

// Promote brings the clone to the remote tip with a run, then sets the
// tag with `git laminar set --push` (or --pull-request).
func (e *ExecEngine) Promote(ctx context.Context, t Target, p PromoteRequest) (Outcome, error) {
	started := time.Now()
	if o, err := e.Run(ctx, t); err != nil {
		return o, fmt.Errorf("bringing the clone to the remote tip: %w", err)
	}
	args := []string{"set", "--yes", "--json"}
	if t.PullRequest {
		args = append(args, "--pull-request")
	} else {
		args = append(args, "--push")
	}
	if p.Commit != "" {
		args = append(args, "--from-commit", p.Commit, "--", p.Image)
	} else {
		args = append(args, "--", p.Image, p.Tag)
	}
	cmd := e.command(ctx, t, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var out struct {
		Commit     string `json:"commit"`
		Promotions []Promotion
		Failures   []Failure
	}
	_ = json.Unmarshal(stdout.Bytes(), &out)
	o := Outcome{Started: started, Commit: out.Commit, Promotions: out.Promotions, Failures: out.Failures}
	if err != nil {
		o.Result = "failed"
		o.Error = firstLine(stderr.String(), err)
		return o, errors.New(o.Error)
	}
	o.Pushed = out.Commit != ""
	o.Result = "up-to-date"
	if len(o.Promotions) > 0 {
		o.Result = "promoted"
	}
	return o, nil
}

// References lists the images the clone's rules manage, from `scan --json`.
func (e *ExecEngine) References(ctx context.Context, t Target) ([]string, error) {
	cmd := e.command(ctx, t, "scan", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scan: %s", firstLine(stderr.String(), err))
	}
	var refs []struct {
		Canonical string `json:"canonical"`
		Managed   bool   `json:"managed"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &refs); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	var out []string
	for _, r := range refs {
		if r.Managed && !slices.Contains(out, r.Canonical) {
			out = append(out, r.Canonical)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Status reads `status --json` and `log --json`.
func (e *ExecEngine) Status(ctx context.Context, t Target) (RepoStatus, error) {
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
