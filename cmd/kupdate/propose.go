package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/family"
)

const proposeUsage = "kupdate propose remove linux_X_Y --eol-within YY.MM | default linux_X_Y [flags]"

// runPropose is `kupdate propose remove linux_X_Y --eol-within YY.MM` and
// `kupdate propose default linux_X_Y`: a change a maintainer asks for,
// made like any other. In a checkout (--nixpkgs DIR, else nixpkgs.path)
// it is written, validated and committed as `kupdate update` commits
// (--no-commit, --build); with --pr it goes through the cycle to its own
// branch and PR (--dry-run shows it, --no-build skips Nix). A request that
// makes no sense exits 2 with the reason, and nothing is written.
func runPropose(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "propose")
	within := fs.String("eol-within", "", "remove: the NixOS release (YY.05 or YY.11) within whose support the branch reaches its end of life")
	nixpkgs := fs.String("nixpkgs", "", "the nixpkgs checkout to commit in (default nixpkgs.path); with --pr, the checkout to start from")
	noCommit := fs.Bool("no-commit", false, "write the change into the checkout without committing it")
	doBuild := fs.Bool("build", false, "build the changed kernels afterwards, in the tiers of [build]")
	pr := fs.Bool("pr", false, "propose it as a pull request of its own, through the cycle, instead of committing in a checkout")
	dryRun := fs.Bool("dry-run", false, "with --pr: show the branch, diff, PR title and body; write nothing")
	noBuild := fs.Bool("no-build", false, "with --pr: skip evaluation and builds with Nix")
	req, err := parseRequest(fs, args, within)
	if err != nil {
		return err
	}
	switch {
	case !*pr && (*dryRun || *noBuild):
		return usageErrorf("--dry-run and --no-build go with --pr; in a checkout, --no-commit writes without committing")
	case *pr && (*noCommit || *doBuild):
		return usageErrorf("--no-commit and --build go with a checkout, not with --pr")
	}
	if *pr {
		return proposePR(ctx, e, req, *nixpkgs, *dryRun, *noBuild)
	}
	return proposeLocal(ctx, e, req, *nixpkgs, *noCommit, *doBuild)
}

// parseRequest reads `remove|default ATTR` and the flags, before or after
// them.
func parseRequest(fs *flag.FlagSet, args []string, within *string) (family.Request, error) {
	var pos []string
	for {
		if err := parseFlagsLoose(fs, args); err != nil {
			return family.Request{}, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != 2 {
		return family.Request{}, usageErrorf("usage: %s (got %q)", proposeUsage, strings.Join(pos, " "))
	}
	r := family.Request{Kind: family.Kind(pos[0]), Attr: pos[1], EOLWithin: *within}
	switch r.Kind {
	case family.RequestRemove:
		if r.EOLWithin == "" {
			return r, usageErrorf("propose remove %s: --eol-within YY.MM is required (kupdate removes a branch kernel.org marks end of life by itself)", r.Attr)
		}
	case family.RequestDefault:
		if r.EOLWithin != "" {
			return r, usageErrorf("propose default %s: --eol-within goes with remove", r.Attr)
		}
	default:
		return r, usageErrorf("propose %q: want remove or default (usage: %s)", pos[0], proposeUsage)
	}
	return r, nil
}

// refused makes a refused request a usage error (exit 2).
func refused(err error) error {
	if re := (*family.RefusedError)(nil); errors.As(err, &re) {
		return &exitError{code: exitUsage, err: err}
	}
	return err
}

func proposeLocal(ctx context.Context, e *env, req family.Request, nixpkgs string, noCommit, doBuild bool) error {
	cfg, dir, ko, err := openCheckout(e, nixpkgs)
	if err != nil {
		return err
	}
	opts := e.updateOptions("propose", ko)
	opts.NoCommit, opts.Build, opts.Requests = noCommit, doBuild, []family.Request{req}
	rep, err := cycle.Update(ctx, cfg, dir, opts)
	if err != nil {
		return refused(err)
	}
	if err := rep.Write(e.stdout); err != nil {
		return err
	}
	return rep.Err()
}

func proposePR(ctx context.Context, e *env, req family.Request, nixpkgs string, dryRun, noBuild bool) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	cfg, stateDir, err := e.openState(cfg, !dryRun)
	if err != nil {
		return err
	}
	ko, err := newKernelOrg(e)
	if err != nil {
		return err
	}
	opts := e.cycleOptions("propose", ko)
	opts.DryRun, opts.NoBuild, opts.Nixpkgs, opts.Requests = dryRun, noBuild, nixpkgs, []family.Request{req}
	c, err := cycle.New(cfg, opts)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	l, err := takeLock(ctx, stateDir, false)
	if err != nil {
		return err
	}
	defer l.Unlock()
	rep, err := c.Run(ctx)
	if err != nil {
		if re := (*family.RefusedError)(nil); errors.As(err, &re) {
			return &exitError{code: exitUsage, err: err}
		}
		return fmt.Errorf("the proposal stopped: %w", err)
	}
	if dryRun {
		if err := rep.WriteDryRun(e.stdout); err != nil {
			return err
		}
	}
	if err := rep.WriteSummary(e.stdout); err != nil {
		return err
	}
	if err := rep.Err(); err != nil {
		return errors.New("the proposal had failures: see the summary above")
	}
	return nil
}
