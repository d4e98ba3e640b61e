package cycle

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/gitops"
)

// buildPlan is, per attribute the branch builds, whether an earlier cycle
// built the same content (its results are reused) or it must be built now.
type buildPlan struct {
	attrs   []string                  // every attribute, in change order
	keys    map[string]string         // attribute -> its key in the build cache
	reused  map[string][]build.Result // attributes an earlier cycle built
	missing []string                  // attributes to build now
}

// planBuilds looks up each attribute of the branch in the build cache, by
// what its derivation reads of the files the branch writes.
func (c *Cycle) planBuilds(ps *pass, prep prepared) buildPlan {
	files := branchFiles(prep.commits)
	changes := prep.changes()
	bp := buildPlan{attrs: buildAttrs(changes), keys: map[string]string{}, reused: map[string][]build.Result{}}
	for _, ch := range changes {
		for _, a := range ch.Build {
			if _, ok := bp.keys[a]; !ok {
				bp.keys[a] = attrKey(c.cfg.Build, c.families, files, a, ch)
			}
		}
	}
	for _, a := range bp.attrs {
		if rs, ok := ps.builds.attr(bp.keys[a]); ok {
			bp.reused[a] = rs
		} else {
			bp.missing = append(bp.missing, a)
		}
	}
	return bp
}

// builds is the third step's value: the build results the branch shows.
type builds struct {
	report build.Report
	reused map[string]bool // attributes whose results an earlier cycle built
	all    bool            // every attribute's result is an earlier cycle's
}

// build builds the attributes of bp that no earlier cycle built, in the
// tree the fork's pull request will hold (the fork's head, when the fork
// keeps the branch on an older base), and keeps their results. Nothing is
// built in a dry run or with --no-build: earlier results are then shown
// only when there is one for every attribute. The error is the branch's
// failure (its tree could not be exported), or ctx's.
func (c *Cycle) build(ctx context.Context, ps *pass, prep prepared, bp buildPlan, d decision) (builds, error) {
	log := c.log.With("branch", prep.built.Name)
	out := builds{reused: map[string]bool{}}
	results := map[string][]build.Result{}
	for a, rs := range bp.reused {
		results[a], out.reused[a] = rs, true
	}
	switch {
	case len(bp.missing) == 0:
		out.all = len(bp.attrs) > 0
		if out.all {
			log.Info("cycle: build results reused: same content built before", "attrs", bp.attrs)
		}
	case !c.building():
		return builds{}, nil
	default:
		dir, err := c.exportFor(ctx, ps, log, prep, d)
		if err != nil {
			return out, err
		}
		t0 := time.Now()
		log.Info("cycle: building", "attrs", bp.missing, "reused", len(bp.attrs)-len(bp.missing))
		got := c.runner.Run(ctx, dir, bp.missing)
		if err := ctx.Err(); err != nil {
			return out, err
		}
		for _, res := range got.Results {
			if c.o.Metrics != nil {
				c.o.Metrics.ObserveBuild(res.Tier, string(res.Status))
			}
		}
		for _, a := range bp.missing {
			results[a] = got.For(a)
			ps.builds.putAttr(bp.keys[a], a, results[a])
		}
		if err := c.saveBuilds(ps.builds); err != nil {
			log.Warn("cycle: saving build results", "error", err)
		}
		log.Info("cycle: built", "ok", got.OK(), "result", got.Summary(), "took", since(t0))
	}
	for _, a := range bp.attrs {
		out.report.Results = append(out.report.Results, results[a]...)
	}
	return out, nil
}

// exportFor exports the tree the branch's pull request will hold, unless
// the export directory holds it already.
func (c *Cycle) exportFor(ctx context.Context, ps *pass, log *slog.Logger, prep prepared, d decision) (string, error) {
	target := buildTarget(prep.built, d.fork)
	if target != prep.built.Head() {
		log.Info("cycle: building the fork's head", "head", target.String()[:12])
	}
	if prep.dir != "" && prep.tree == target {
		return prep.dir, nil
	}
	dir, err := ps.repo.ExportFree(ctx, target, c.exportPath())
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%s: %w", prep.built.Name, err)
	}
	return dir, nil
}

// buildTarget is the commit to build: the fork's head when the fork keeps
// the branch as it is (maybe on an older base), else what kupdate built.
func buildTarget(built gitops.BuiltBranch, fork gitops.PushResult) plumbing.Hash {
	if fork.Outcome == gitops.Unchanged && fork.Head != built.Head() {
		return fork.Head
	}
	return built.Head()
}
