package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// A branch of laminar's own (a pull request's) is replaced on each run:
// that needs a push with force, and only a lease makes one safe. go-git's
// lease looks for a remote-tracking ref named after the local one, which
// a commit pushed from no local branch does not have, so these two run
// the installed git, as credential.go does, with the same transport
// settings (ssh key, known_hosts) and no prompts.

// RemoteBranch returns the commit branch points at on the remote, or ""
// when the remote has no such branch.
func (r *Repo) RemoteBranch(ctx context.Context, rm Remote, branch string, t Transport) (string, error) {
	if err := checkBranchName(branch); err != nil {
		return "", err
	}
	out, err := r.runGit(ctx, t, rm.PushURL, "ls-remote", "--", rm.PushURL, "refs/heads/"+branch)
	if err != nil {
		return "", fmt.Errorf("ls-remote %s: %w", printable.String(Redact(rm.PushURL)), err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		hash, ref, ok := strings.Cut(sc.Text(), "\t")
		if ok && ref == "refs/heads/"+branch && r.IsID(hash) {
			return hash, nil
		}
	}
	return "", nil
}

// ErrLeaseBroken is wrapped when PushLease was refused because the
// remote branch is no longer the commit expected.
var ErrLeaseBroken = errors.New("the remote branch moved since it was read")

// PushLease sets branch on the remote to commit with
// --force-with-lease=refs/heads/<branch>:<expect>: only if the branch
// still is expect, or does not exist when expect is "". It forces only
// that one ref, and never runs local hooks (as Push does not).
func (r *Repo) PushLease(ctx context.Context, rm Remote, commit, branch, expect string, t Transport) error {
	if err := checkBranchName(branch); err != nil {
		return err
	}
	if !r.IsID(commit) || (expect != "" && !r.IsID(expect)) {
		return errors.New("push: commit and lease must be full commit hashes")
	}
	ref := "refs/heads/" + branch
	_, err := r.runGit(ctx, t, rm.PushURL, "push", "--porcelain", "--no-verify",
		"--force-with-lease="+ref+":"+expect, "--", rm.PushURL, commit+":"+ref)
	if err != nil {
		if strings.Contains(err.Error(), "stale info") {
			return fmt.Errorf("push to %s: %s: %w", printable.String(Redact(rm.PushURL)), branch, ErrLeaseBroken)
		}
		return fmt.Errorf("push to %s: %w", printable.String(Redact(rm.PushURL)), err)
	}
	return nil
}

// runGit runs git with args at the repository root, for a remote at rawURL,
// and returns its output; its error holds git's own words, escaped.
func (r *Repo) runGit(ctx context.Context, t Transport, rawURL string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Root
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
	if ep, err := transport.NewEndpoint(rawURL); err == nil && ep.Protocol == "ssh" {
		cmd.Env = append(cmd.Env, "GIT_SSH_COMMAND="+sshCommand(t))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String() + "\n" + porcelainErrors(stdout.String()))
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(printable.String(msg))
	}
	return stdout.Bytes(), nil
}

// porcelainErrors keeps the refused lines of git push --porcelain.
func porcelainErrors(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "!") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// sshCommand is ssh as Transport says: the key, the known_hosts files,
// an unknown host refused, never a prompt.
func sshCommand(t Transport) string {
	args := []string{"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"}
	if t.SSHKey != "" {
		args = append(args, "-i", t.SSHKey, "-o", "IdentitiesOnly=yes")
	}
	if len(t.KnownHosts) > 0 {
		args = append(args, "-o", "UserKnownHostsFile="+strings.Join(t.KnownHosts, " "))
	}
	for i, a := range args {
		args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(args, " ")
}

// APIToken asks git's credential helpers for the password (a token) they
// hold for the host of apiURL, as `git credential fill` with prompts off.
// It returns "" without error when they hold none.
func (r *Repo) APIToken(ctx context.Context, apiURL string) (string, error) {
	ep, err := transport.NewEndpoint(apiURL)
	if err != nil || (ep.Protocol != "https" && ep.Protocol != "http") {
		return "", fmt.Errorf("API URL %q is not http(s)", printable.String(apiURL))
	}
	ep.Path = ""
	c, err := r.credentialFill(ctx, ep)
	if err != nil {
		return "", nil
	}
	return c.password, nil
}
