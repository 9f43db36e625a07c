package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	return nil
}
