package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/git-laminar/git-laminar/internal/fleet"
	"github.com/git-laminar/git-laminar/internal/printable"
)

// cloneDir is where the clone of a repository lives. Names are checked
// by the fleet file; this checks again, since a name that escaped the
// state directory would let the service write anywhere.
func cloneDir(state, name string) (string, error) {
	if err := fleet.CheckName(name); err != nil {
		return "", err
	}
	dir := filepath.Join(state, "repositories", name)
	if filepath.Dir(dir) != filepath.Join(state, "repositories") {
		return "", fmt.Errorf("repository name %q leaves the state directory", printable.String(name))
	}
	return dir, nil
}

// sshCommand is ssh with the fleet's key alone (IdentitiesOnly: no agent
// key or default key is offered instead), host keys checked, no prompt.
func sshCommand(r fleet.Repository) string {
	args := []string{"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"}
	if r.SSHKey != "" {
		args = append(args, "-i", r.SSHKey, "-o", "IdentitiesOnly=yes")
	}
	if len(r.KnownHosts) > 0 {
		args = append(args, "-o", "UserKnownHostsFile="+strings.Join(r.KnownHosts, " "))
	}
	for i, a := range args {
		args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(args, " ")
}

// redact drops user information from a URL for logs and the status page.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.User != nil {
		u.User = nil
		return u.String()
	}
	return raw
}

// git runs git for a repository of the fleet: its ssh key, prompts off,
// the ext and fd transports refused whatever git's configuration says.
func gitCmd(ctx context.Context, r fleet.Repository, dir string, args ...string) error {
	args = append([]string{"-c", "protocol.ext.allow=never", "-c", "protocol.fd.allow=never"}, args...)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=",
		"GIT_SSH_COMMAND="+sshCommand(r))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return errors.New(printable.String(msg))
	}
	return nil
}

// ensureClone makes the clone of r under state when there is none yet,
// and points its origin at r's URL when the fleet file changed it. A
// clone is made in a temporary directory and renamed, so a half-made
// clone is never taken for one.
func ensureClone(ctx context.Context, state string, r fleet.Repository) (string, error) {
	dir, err := cloneDir(state, r.Name)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		if err := gitCmd(ctx, r, dir, "remote", "set-url", "origin", "--", r.URL); err != nil {
			return "", fmt.Errorf("%s: setting origin: %w", r.Name, err)
		}
		return dir, nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, ".clone-"+r.Name+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	args := []string{"clone", "--quiet", "--no-recurse-submodules"}
	if r.Branch != "" {
		args = append(args, "--branch", r.Branch)
	}
	args = append(args, "--", r.URL, filepath.Join(tmp, "w"))
	if err := gitCmd(ctx, r, parent, args...); err != nil {
		return "", fmt.Errorf("%s: cloning %s: %w", r.Name, printable.String(redact(r.URL)), err)
	}
	if err := os.Rename(filepath.Join(tmp, "w"), dir); err != nil {
		return "", err
	}
	return dir, nil
}
