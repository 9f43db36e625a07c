package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// HTTPS credentials come from git's credential helpers (credential.helper:
// store, cache, libsecret, osxkeychain, manager, or a script). go-git has
// no support for them, so this is the one place git-laminar runs the git
// program: `git credential fill`, and `approve` or `reject` after the
// server's answer, as git itself does around a fetch or push. Prompts are
// turned off (GIT_TERMINAL_PROMPT=0): an unattended run never waits for a
// terminal. Secrets are passed on the helper's pipes only, never logged.

type credential struct {
	protocol, host, path string
	username, password   string
}

func (c credential) auth() transport.AuthMethod {
	return &githttp.BasicAuth{Username: c.username, Password: c.password}
}

func (c credential) request(withSecret bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "protocol=%s\nhost=%s\n", c.protocol, c.host)
	if c.path != "" {
		fmt.Fprintf(&b, "path=%s\n", c.path)
	}
	if withSecret {
		fmt.Fprintf(&b, "username=%s\npassword=%s\n", c.username, c.password)
	} else if c.username != "" {
		fmt.Fprintf(&b, "username=%s\n", c.username)
	}
	b.WriteString("\n")
	return b.String()
}

// credentialFill asks git's credential helpers for the credentials of ep.
func (r *Repo) credentialFill(ctx context.Context, ep *transport.Endpoint) (credential, error) {
	c := credential{protocol: ep.Protocol, host: ep.Host, path: strings.TrimPrefix(ep.Path, "/"), username: ep.User}
	if ep.Port > 0 && !(ep.Protocol == "https" && ep.Port == 443) && !(ep.Protocol == "http" && ep.Port == 80) {
		c.host += ":" + strconv.Itoa(ep.Port)
	}
	for _, s := range []string{c.host, c.path, c.username} {
		if strings.ContainsAny(s, "\n\x00") {
			return c, errors.New("remote URL holds a newline or NUL")
		}
	}
	out, err := r.gitCredential(ctx, "fill", c.request(false))
	if err != nil {
		return c, err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "username":
			c.username = v
		case "password":
			c.password = v
		}
	}
	if c.username == "" && c.password == "" {
		return c, errors.New("no credentials for " + c.protocol + "://" + c.host)
	}
	return c, nil
}

// credentialReport tells the helpers whether the credentials worked.
func (r *Repo) credentialReport(ctx context.Context, verb string, c credential) {
	_, _ = r.gitCredential(ctx, verb, c.request(true))
}

func (r *Repo) gitCredential(ctx context.Context, verb, input string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", "credential", verb)
	cmd.Dir = r.Root
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// stderr carries git's own message ("terminal prompts disabled"),
		// never the secret, which only ever travels on stdout.
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return stdout.Bytes(), nil
}
