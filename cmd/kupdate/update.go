package main

import (
	"context"
	"fmt"

	"github.com/kupdate/kupdate/updater"
)

func runUpdate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "update")
	nixpkgs := fs.String("nixpkgs", "", "the nixpkgs checkout to edit (default nixpkgs.path)")
	noCommit := fs.Bool("no-commit", false, "write the changes into the checkout without committing them")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*noCommit {
		return usageErrorf("committing is not available yet: pass --no-commit (kupdate writes and validates each change; commit them yourself)")
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	dir, err := nixpkgsDir(cfg, *nixpkgs)
	if err != nil {
		return err
	}
	tree, plan, err := makePlan(ctx, e, cfg, dir)
	if err != nil {
		return err
	}
	if len(plan.Changes) == 0 {
		fmt.Fprintln(e.stdout, "nothing to do")
	}
	failed := 0
	for _, o := range updater.ApplyToDir(ctx, dir, tree, plan.Changes, updater.ApplyOptions{}) {
		if o.Err != nil {
			failed++
			fmt.Fprintf(e.stdout, "failed: %s: %v\n", o.Change.Title, o.Err)
			continue
		}
		fmt.Fprintf(e.stdout, "applied: %s\n", o.Change.Title)
	}
	for _, n := range plan.Held {
		fmt.Fprintf(e.stdout, "held: %s\n", n)
	}
	if failed > 0 {
		return fmt.Errorf("%d change(s) failed and were rolled back", failed)
	}
	return planFailures(plan)
}
