package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/kupdate/kupdate/workflow"
)

// newWorkflow connects to GitHub as [github] says, with the ETag cache kept
// in the cache directory so one-shot runs revalidate too. A credential or
// key that is missing or unreadable is a configuration error (exit 2).
func newWorkflow(e *env, dryRun bool) (*workflow.Workflow, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	opts := workflow.Options{Getenv: e.getenv, Log: e.log, DryRun: dryRun, Clock: e.now}
	if dir, err := cfg.CacheDir(); err == nil {
		opts.CacheDir = filepath.Join(dir, "github-etags")
	}
	w, err := workflow.New(cfg, opts)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return w, nil
}

// runPromote is `kupdate promote [--dry-run] [--wait]`: the staging -> target
// step alone, for every [promote] pair. It runs whether or not
// promote.enabled puts the step in the cycle (asking for it is enabling it);
// it merges only with promote.merge. Like `run` (dry or not) it holds the
// cache-directory lock: a cycle or the service's webhook promotion may be
// promoting the same pair, and two of them would open or merge twice.
func runPromote(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "promote")
	dryRun := fs.Bool("dry-run", false, "read GitHub and print what would be done; write nothing")
	wait := fs.Bool("wait", false, waitUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	w, err := newWorkflow(e, *dryRun)
	if err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	stateDir, err := cfg.StateDir()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	l, err := takeLock(ctx, stateDir, *wait)
	if err != nil {
		return err
	}
	defer l.Unlock()

	results, err := w.Promote(ctx)
	for _, r := range results {
		fmt.Fprintf(e.stdout, "%s -> %s: ", r.From, r.To)
		switch {
		case r.Err != nil:
			fmt.Fprintf(e.stdout, "failed: %v\n", r.Err)
		case r.Outcome == workflow.UpToDate:
			fmt.Fprintf(e.stdout, "up to date\n")
		default:
			pr := "no PR yet"
			if r.Number != 0 {
				pr = fmt.Sprintf("#%d %s", r.Number, r.URL)
			}
			commits := "commits"
			if r.Ahead == 1 {
				commits = "commit"
			}
			fmt.Fprintf(e.stdout, "%d %s ahead, %s: %s", r.Ahead, commits, pr, r.Outcome)
			if r.Reason != "" {
				fmt.Fprintf(e.stdout, " (%s)", r.Reason)
			}
			fmt.Fprintln(e.stdout)
		}
		verb := "did"
		if *dryRun {
			verb = "would"
		}
		for _, a := range r.Actions {
			fmt.Fprintf(e.stdout, "  %s: %s\n", verb, a)
		}
	}
	return err
}
