package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/kupdate/kupdate/cycle"
)

// attrList is a repeatable flag.
type attrList []string

func (a *attrList) String() string     { return strings.Join(*a, ",") }
func (a *attrList) Set(v string) error { *a = append(*a, v); return nil }

// mirrorEnv forwards the sample tree's mirror variables to Nix (package
// build and validation), read through getenv so that tests and `kupdate demo`
// need not set the process environment.
func mirrorEnv(getenv func(string) string) []string {
	var env []string
	for _, k := range []string{"KUPDATE_KERNEL_MIRROR", "KUPDATE_GITHUB_MIRROR"} {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// lockedWriter serialises writes: the logger, build progress and commands
// write to stderr from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func userAgent() string {
	return "kupdate/" + buildVersion() + " (+https://github.com/kupdate/kupdate)"
}

// runRun is `kupdate run`: one whole cycle now, under the state-directory
// lock. Progress goes to stderr (the log, and a line per build tier), the
// summary to stdout; --dry-run prints every branch's diff, PR title, body,
// labels and GitHub writes first.
func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "run")
	dryRun := fs.Bool("dry-run", false, "show exactly what the cycle would do (branches, diffs, PR titles, bodies, labels, merges); write nothing")
	noBuild := fs.Bool("no-build", false, "skip evaluation and builds with Nix")
	nixpkgs := fs.String("nixpkgs", "", "start from this checkout's HEAD (default nixpkgs.path; empty = the managed clone); its worktree, index and refs are never touched")
	var only attrList
	fs.Var(&only, "only", "limit the cycle to the changes of `ATTR` (e.g. linux_6_12); repeatable")
	wait := fs.Bool("wait", false, waitUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	// A dry run writes no state, so it does not move an earlier kupdate's
	// either: it reads it where it is.
	cfg, stateDir, err := e.openState(cfg, !*dryRun)
	if err != nil {
		return err
	}
	ko, err := newKernelOrg(e)
	if err != nil {
		return err
	}
	opts := e.cycleOptions("run", ko)
	opts.DryRun, opts.NoBuild, opts.Only, opts.Nixpkgs = *dryRun, *noBuild, only, *nixpkgs
	c, err := cycle.New(cfg, opts)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}

	l, err := takeLock(ctx, stateDir, *wait)
	if err != nil {
		return err
	}
	defer l.Unlock()

	rep, err := c.Run(ctx)
	if oe := (*cycle.OnlyError)(nil); errors.As(err, &oe) {
		return &exitError{code: exitUsage, err: err}
	}
	if err != nil {
		return fmt.Errorf("the cycle stopped: %w", err)
	}
	if *dryRun {
		if err := rep.WriteDryRun(e.stdout); err != nil {
			return err
		}
	}
	if err := rep.WriteSummary(e.stdout); err != nil {
		return err
	}
	if err := rep.Err(); err != nil {
		return errors.New("the cycle had failures: see the summary above (the next cycle retries them)")
	}
	return nil
}
