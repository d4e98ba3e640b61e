package main

import (
	"fmt"
	"time"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/kernelorg"
)

// progressEvery is how often a command that builds says what is still
// running.
const progressEvery = 30 * time.Second

// cycleOptions are what every command running a cycle passes alike: the
// environment, kernel.org's client, the mirrors for Nix, and build
// progress on stderr, prefixed with the command's name.
func (e *env) cycleOptions(command string, ko *kernelorg.Client) cycle.Options {
	return cycle.Options{
		Log: e.log, Getenv: e.getenv, Now: e.now, UserAgent: userAgent(), KernelOrg: ko,
		BuildEnv:      mirrorEnv(e.getenv),
		Progress:      e.progress(command),
		ProgressEvery: progressEvery,
	}
}

// updateOptions are cycleOptions for a change in a maintainer's checkout.
func (e *env) updateOptions(command string, ko *kernelorg.Client) cycle.UpdateOptions {
	return cycle.UpdateOptions{
		Log: e.log, Getenv: e.getenv, Now: e.now, UserAgent: userAgent(), KernelOrg: ko,
		BuildEnv:      mirrorEnv(e.getenv),
		Progress:      e.progress(command),
		ProgressEvery: progressEvery,
	}
}

func (e *env) progress(command string) func(build.Progress) {
	return func(p build.Progress) { fmt.Fprintf(e.stderr, "kupdate %s: %s\n", command, p) }
}
