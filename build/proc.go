package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"github.com/kupdate/kupdate/childproc"
)

// outcome is how one command ended.
type outcome struct {
	err     error // nil when it exited 0
	stopped bool  // we terminated it because ctx ended
	log     *nixLog
}

// runGroup runs argv in dir as the leader of a new process group, with its
// output (stdout and stderr, interleaved as Nix prints them) read into a
// nixLog. When ctx ends first, the whole group gets SIGTERM, and SIGKILL
// after grace. Nix needs the SIGTERM: it then kills its builders, which run
// in sessions of their own, out of reach of a signal to our group; a SIGKILL
// first would orphan them. started, when not nil, learns the group's id.
//
// The command is started with childproc.Start: should kupdate die without
// running this code (SIGKILL, a crash), the kernel sends it SIGTERM, and a
// later run does not export into dir while anything it left holds dir's
// lock. The goroutine stays locked to its thread until the command is
// reaped, as that signal requires.
func runGroup(ctx context.Context, dir string, argv, env []string, keep int, grace time.Duration, started func(pgid int)) outcome {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	out := outcome{log: newNixLog(keep)}
	// A pipe of our own rather than an io.Writer in cmd.Stdout: exec would
	// then copy in a goroutine that Wait waits for, and a grandchild still
	// holding the pipe would keep Wait from returning.
	pr, pw, err := os.Pipe()
	if err != nil {
		out.err = fmt.Errorf("output pipe: %w", err)
		return out
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = pw
	cmd.Stderr = pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = childproc.Start(cmd)
	pw.Close()
	if err != nil {
		pr.Close()
		out.err = err
		return out
	}
	pgid := cmd.Process.Pid
	if started != nil {
		started(pgid)
	}

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		out.log.readFrom(pr)
	}()
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	select {
	case out.err = <-waitDone:
	case <-ctx.Done():
		out.stopped = true
		killGroup(pgid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case out.err = <-waitDone:
			t.Stop()
		case <-t.C:
			killGroup(pgid, syscall.SIGKILL)
			out.err = <-waitDone
		}
	}
	// The leader is gone. Whatever it left in its group (a backgrounded
	// child, a hook) goes with it: no process of a tier outlives the tier.
	// The group id cannot have been reused while any member remains.
	killGroup(pgid, syscall.SIGKILL)

	// Everything in the group is dead, so the pipe closes; a process that
	// left the group (setsid) and kept the pipe must not hang the run.
	t := time.NewTimer(grace)
	select {
	case <-readDone:
		t.Stop()
	case <-t.C:
		pr.Close()
		<-readDone
	}
	pr.Close()
	return out
}

func killGroup(pgid int, sig syscall.Signal) {
	// ESRCH means the group is gone already, which is what we want.
	_ = syscall.Kill(-pgid, sig)
}
