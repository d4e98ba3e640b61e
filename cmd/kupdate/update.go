package main

import (
	"context"

	"github.com/kupdate/kupdate/cycle"
)

// runUpdate is `kupdate update --nixpkgs DIR [--no-commit] [--build]`: the
// plan applied to a maintainer's checkout, change by change, each validated
// and (unless --no-commit) committed on the current branch with nixpkgs'
// title, like update.sh with COMMIT=1; with --build the candidates are then
// built in the checkout (cycle.Update).
func runUpdate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "update")
	nixpkgs := fs.String("nixpkgs", "", "the nixpkgs checkout to edit (default nixpkgs.path)")
	noCommit := fs.Bool("no-commit", false, "write the changes into the checkout without committing them")
	doBuild := fs.Bool("build", false, "build the changed kernels afterwards, in the tiers of [build]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, dir, ko, err := openCheckout(e, *nixpkgs)
	if err != nil {
		return err
	}
	opts := e.updateOptions("update", ko)
	opts.NoCommit, opts.Build = *noCommit, *doBuild
	rep, err := cycle.Update(ctx, cfg, dir, opts)
	if err != nil {
		return err
	}
	if err := rep.Write(e.stdout); err != nil {
		return err
	}
	return rep.Err()
}
