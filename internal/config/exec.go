package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// DefaultExecTimeout bounds each exec action when exec_timeout is not set.
const DefaultExecTimeout = 10 * time.Minute

// HasExec reports whether any rule has exec actions: such a configuration
// runs only once the local user trusts it (see Hash).
func (c *Config) HasExec() bool {
	for _, u := range c.Updates {
		if len(u.Exec) > 0 {
			return true
		}
	}
	return false
}

// hashBytes is the Hash of configuration text.
func hashBytes(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// buildExec validates an [[update]] rule's exec and exec_timeout keys.
func buildExec(r rawUpdate, u *Update) error {
	for i, cmd := range r.Exec {
		if strings.TrimSpace(cmd) == "" {
			return &keyError{"exec", fmt.Sprintf("command %d is empty", i+1)}
		}
		if strings.ContainsRune(cmd, 0) {
			return &keyError{"exec", fmt.Sprintf("command %d contains a NUL byte", i+1)}
		}
	}
	u.Exec = r.Exec
	if r.ExecTimeout != "" {
		if len(r.Exec) == 0 {
			return &keyError{"exec_timeout", "set without exec commands to time"}
		}
		d, err := time.ParseDuration(r.ExecTimeout)
		if err != nil || d <= 0 {
			return &keyError{"exec_timeout", fmt.Sprintf("%q is not a duration like 90s or 10m", r.ExecTimeout)}
		}
		u.ExecTimeout = d
	} else if len(r.Exec) > 0 {
		u.ExecTimeout = DefaultExecTimeout
	}
	if len(r.ExecTrust) > 0 && len(r.Exec) == 0 {
		return &keyError{"exec_trust", "set without exec commands that run the files"}
	}
	for _, g := range r.ExecTrust {
		if err := checkTrustGlob(g); err != nil {
			return &keyError{"exec_trust", err.Error()}
		}
	}
	pats, err := compilePaths(r.ExecTrust)
	if err != nil {
		return &keyError{"exec_trust", err.Error()}
	}
	u.ExecTrust, u.execTrust = r.ExecTrust, pats
	return nil
}

// checkTrustGlob refuses an exec_trust entry that does not name tracked
// paths inside the repository: trust records files of the repository, and
// a glob reaching elsewhere would cover nothing while seeming to.
func checkTrustGlob(g string) error {
	t := strings.TrimSpace(g)
	switch {
	case t == "":
		return errors.New(`an entry is empty; write a glob such as "scripts/**"`)
	case strings.HasPrefix(t, "/") || strings.HasPrefix(t, `\`) || driveRE.MatchString(t):
		return fmt.Errorf("%q is an absolute path; write a glob relative to the repository root", g)
	case strings.HasPrefix(t, "~"):
		return fmt.Errorf("%q names a home directory; write a glob relative to the repository root", g)
	case strings.Contains(t, `\`):
		return fmt.Errorf("%q: use forward slashes", g)
	}
	for _, seg := range strings.Split(t, "/") {
		if seg == ".." {
			return fmt.Errorf("%q leaves the repository", g)
		}
	}
	return nil
}

var driveRE = regexp.MustCompile(`^[A-Za-z]:`)

// ExecTrustGlob returns the first exec_trust glob that covers the
// repository path p (the path itself or one of its folders), if any.
func (u Update) ExecTrustGlob(p string) (string, bool) {
	for i, pp := range u.execTrust {
		if pp.match(p) {
			return u.ExecTrust[i], true
		}
	}
	return "", false
}
