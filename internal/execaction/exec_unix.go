//go:build unix

package execaction

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the command in a process group of its own, and
// makes cancelling it kill the whole group: a render script's children
// (helm, make's jobs) must not outlive a timeout.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
