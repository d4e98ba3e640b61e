package childproc

import (
	"errors"
	"os/exec"
	"runtime"
)

// Start starts cmd as kupdate starts every child. cmd.Env must be set (to
// what Env returns): a nil Env would hand the child kupdate's whole
// environment, so Start refuses it. On Linux the child gets SIGTERM when
// kupdate dies (SIGTERM, not SIGKILL: Nix then stops the builders it runs
// in sessions of their own, and git removes its lock files; a SIGKILL
// would leave the builders running). When cmd.Dir is a directory kupdate
// exported (see Hold), the child holds its lock.
//
// Linux sends that signal when the thread that started the child exits,
// not the process, and the Go runtime ends a thread whose goroutine exits
// while locked to it, whichever goroutine that is. So the caller must be
// locked to its thread (runtime.LockOSThread) from before Start until it
// has waited for cmd: the thread is then its own, and ends only with
// kupdate. Run does all of that.
func Start(cmd *exec.Cmd) error {
	if cmd.Env == nil {
		return errors.New("childproc: refusing to start " + cmd.Path + " with kupdate's whole environment (cmd.Env is nil)")
	}
	setDeathSignal(cmd)
	hold, err := Hold(cmd.Dir)
	if err != nil {
		return err
	}
	if hold != nil {
		// The child has its own descriptor of the lock once started.
		defer hold.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, hold)
	}
	return cmd.Start()
}

// Run starts cmd with Start and waits for it, on a goroutine locked to its
// thread for the whole time.
func Run(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := Start(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}
