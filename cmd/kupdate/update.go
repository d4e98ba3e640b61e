package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/updater"
)

// runUpdate is `kupdate update --nixpkgs DIR [--no-commit] [--build]`: the
// plan applied to a maintainer's checkout, change by change, each validated
// and (unless --no-commit) committed on the current branch with nixpkgs'
// title, like update.sh with COMMIT=1; with --build the candidates are then
// built in the checkout.
func runUpdate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "update")
	nixpkgs := fs.String("nixpkgs", "", "the nixpkgs checkout to edit (default nixpkgs.path)")
	noCommit := fs.Bool("no-commit", false, "write the changes into the checkout without committing them")
	doBuild := fs.Bool("build", false, "build the changed kernels afterwards, in the tiers of [build]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	dir, err := nixpkgsDir(cfg, *nixpkgs)
	if err != nil {
		return err
	}
	var repo *gitops.Repo
	if !*noCommit {
		repo, err = gitops.OpenLocal(ctx, dir, gitops.Options{
			Identity: gitops.Identity{Name: cfg.Git.AuthorName, Email: cfg.Git.AuthorEmail},
			Logger:   e.log,
		})
		if err != nil {
			return fmt.Errorf("%w (pass --no-commit to edit a tree without committing)", err)
		}
		defer repo.Close()
	}
	tree, plan, err := makePlan(ctx, e, cfg, dir)
	if err != nil {
		return err
	}
	if len(plan.Changes) == 0 {
		fmt.Fprintln(e.stdout, "nothing to do")
	}
	opts := updater.ApplyOptions{Validate: updater.ValidateOptions{Env: mirrorEnv(e.getenv)}}
	if repo != nil {
		if err := checkClean(ctx, repo, dir, plan.Changes); err != nil {
			return err
		}
		opts.After = func(ctx context.Context, c updater.Change, files map[string][]byte) error {
			return commitChange(ctx, repo, dir, c, files)
		}
	}
	failed := 0
	var applied []updater.Change
	for _, o := range updater.ApplyToDir(ctx, dir, tree, plan.Changes, opts) {
		if o.Err != nil {
			failed++
			fmt.Fprintf(e.stdout, "failed: %s: %v\n", o.Change.Title, o.Err)
			continue
		}
		applied = append(applied, o.Change)
		if repo != nil {
			fmt.Fprintf(e.stdout, "committed %s: %s\n", repo.Base().String()[:12], o.Change.Title)
		} else {
			fmt.Fprintf(e.stdout, "applied: %s\n", o.Change.Title)
		}
	}
	for _, n := range plan.Held {
		fmt.Fprintf(e.stdout, "held: %s\n", n)
	}
	buildFailed := false
	if *doBuild && len(applied) > 0 {
		buildFailed = !buildChanges(ctx, e, cfg, dir, applied)
	}
	switch {
	case failed > 0 && repo != nil:
		return fmt.Errorf("%d change(s) failed and were neither committed nor left in the checkout", failed)
	case failed > 0:
		return fmt.Errorf("%d change(s) failed and were rolled back", failed)
	case buildFailed:
		return errors.New("a build failed (see above); the commits stay: fix them up or drop them with git")
	}
	return planFailures(plan)
}

// checkClean refuses, before anything is written, a checkout whose files
// the changes touch differ from HEAD: kupdate would overwrite the
// maintainer's work, and could not commit its own.
func checkClean(ctx context.Context, repo *gitops.Repo, dir string, changes []updater.Change) error {
	var paths []string
	for _, c := range changes {
		for _, p := range c.Files {
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	slices.Sort(paths)
	var dirty []string
	for _, p := range paths {
		head, herr := repo.ReadFile(ctx, repo.Base(), p)
		wt, werr := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		switch {
		case herr != nil && !errors.Is(herr, object.ErrFileNotFound):
			return herr
		case werr != nil && !errors.Is(werr, fs.ErrNotExist):
			return werr
		case (herr == nil) != (werr == nil) || !bytes.Equal(head, wt):
			dirty = append(dirty, p)
		}
	}
	if len(dirty) > 0 {
		return fmt.Errorf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s; commit or stash them (or pass --no-commit), then run kupdate again", dir, strings.Join(dirty, ", "))
	}
	return nil
}

// commitChange commits a change ApplyToDir has written and validated:
// gitops.CommitLocal writes the files itself once it has checked that they
// match HEAD, so HEAD's content goes back first.
func commitChange(ctx context.Context, repo *gitops.Repo, dir string, c updater.Change, files map[string][]byte) error {
	restore := map[string][]byte{}
	for p := range files {
		b, err := repo.ReadFile(ctx, repo.Base(), p)
		switch {
		case errors.Is(err, object.ErrFileNotFound):
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		case err != nil:
			return err
		default:
			restore[p] = b
		}
	}
	if err := updater.WriteFiles(dir, restore); err != nil {
		return err
	}
	_, err := repo.CommitLocal(ctx, []gitops.Commit{{Change: c, Files: files}})
	return err
}

// buildChanges builds the changes' kernels in the checkout and prints a
// line per change; it reports whether everything passed.
func buildChanges(ctx context.Context, e *env, cfg *config.Config, dir string, changes []updater.Change) bool {
	r := build.New(cfg.Build, build.WithLogger(e.log), build.WithEnv(mirrorEnv(e.getenv)...),
		build.WithProgress(func(p build.Progress) { fmt.Fprintf(e.stderr, "kupdate update: %s\n", p) }, 30*time.Second))
	ok := true
	for _, res := range r.RunChanges(ctx, dir, changes) {
		status := "passed"
		if !res.OK() {
			ok = false
			for _, x := range res.Report.Results {
				if x.Status != build.Passed {
					status = fmt.Sprintf("%s %s %s", x.Attr, x.Tier, x.Status)
					if x.Error != "" {
						status += ": " + x.Error
					}
					break
				}
			}
		} else if len(res.Report.Results) == 0 {
			status = "nothing to build"
		}
		fmt.Fprintf(e.stdout, "build %s: %s\n", res.Change.Title, status)
		for _, x := range res.Report.Results {
			if x.Status == build.Failed && x.LogTail != "" {
				fmt.Fprintf(e.stdout, "    %s\n", strings.ReplaceAll(strings.TrimRight(x.LogTail, "\n"), "\n", "\n    "))
			}
		}
	}
	return ok
}
