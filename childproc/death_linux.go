package childproc

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel send cmd SIGTERM when its parent thread
// ends; see Start.
func setDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
