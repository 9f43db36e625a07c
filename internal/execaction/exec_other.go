//go:build !unix

package execaction

import "os/exec"

func setProcessGroup(*exec.Cmd) {}
