//go:build !linux

package childproc

import "os/exec"

// setDeathSignal does nothing where the kernel has no parent-death signal:
// there only the export directory's lock (Hold) protects a later run.
func setDeathSignal(*exec.Cmd) {}
