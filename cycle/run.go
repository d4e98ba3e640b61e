package cycle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/redact"
	"github.com/kupdate/kupdate/runlog"
	"github.com/kupdate/kupdate/state"
)

// Run runs one cycle and reports it. The error is what stopped the cycle as
// a whole (kernel.org or the nixpkgs remote unreachable, ctx cancelled);
// failures of single changes and branches are in the Report (Report.Err).
func (c *Cycle) Run(ctx context.Context) (*Report, error) {
	rep := &Report{Start: c.now(), DryRun: c.o.DryRun, BaseBranch: c.cfg.Nixpkgs.Base, Only: c.o.Only, merge: c.cfg.GitHub.Merge}
	start := time.Now()
	defer c.begin(ctx)()
	c.log.Info("cycle: starting", withErr(nil, "dry_run", c.o.DryRun, "no_build", c.o.NoBuild, "only", strings.Join(c.o.Only, ","))...)
	repo, err := c.repo(ctx)
	if err != nil {
		return rep, err
	}
	defer repo.Close()
	ps, err := c.start(ctx, repo, rep)
	if err != nil {
		return rep, err
	}
	for _, p := range c.branches(rep.Changes) {
		br, err := c.runBranch(ctx, ps, p)
		if br != nil {
			rep.Branches = append(rep.Branches, br)
		}
		if err != nil {
			return rep, err
		}
	}
	if c.cfg.Promote.Enabled && len(c.o.Requests) == 0 {
		t0 := time.Now()
		rep.Promotions, rep.PromoteErr = c.wf.Promote(ctx)
		c.logPromotions(rep.Promotions, rep.PromoteErr, t0)
		c.observePromotion(ctx, rep)
		if err := c.after(ctx, StepPromoted, ""); err != nil {
			return rep, err
		}
	}
	rep.End = c.now()
	c.observe(rep)
	if !c.o.DryRun {
		if err := c.save(rep, ps.builds); err != nil {
			return rep, err
		}
	}
	c.log.Info("cycle: done", "changes", len(rep.Changes), "branches", len(rep.Branches), "took", since(start), "ok", rep.Err() == nil)
	return rep, nil
}

// start reads the tree at the base and plans it: what the cycle's branches
// share, and the report's plan.
func (c *Cycle) start(ctx context.Context, repo repository, rep *Report) (*pass, error) {
	t0 := time.Now()
	base := repo.Base()
	rep.Base = base.String()
	rep.Source = "managed clone of " + redact.URL(c.cfg.Nixpkgs.Remote)
	if c.local != "" {
		rep.Source = "checkout " + c.local
	}
	tree, err := loadTree(ctx, c.families, repo, base)
	if err != nil {
		return nil, err
	}
	tree.Now = c.now
	rep.tree = tree
	c.log.Info("cycle: tree read", "source", rep.Source, "base", c.cfg.Nixpkgs.Base, "commit", base.String()[:12], "took", since(t0))

	t0 = time.Now()
	pl, err := plan(ctx, c.families, c.log, tree, c.o.Requests)
	if err != nil {
		return nil, err
	}
	rep.offers, rep.families, rep.owner = pl.Offers, c.families, owners(c.families, tree, pl)
	if err := checkOnly(c.o.Only, c.families, tree, pl); err != nil {
		return nil, err
	}
	rep.Held, rep.Skipped = selected(c.o.Only, rep.owner, pl.Held), pl.Skipped
	for _, ch := range pl.Changes {
		if len(c.o.Only) == 0 || slices.Contains(c.o.Only, ch.Attr) {
			rep.Changes = append(rep.Changes, &ChangeResult{Change: ch})
		}
	}
	c.log.Info("cycle: planned", "changes", len(rep.Changes), "held", len(pl.Held), "took", since(t0))
	for _, n := range pl.Held {
		c.log.Info("cycle: held", "branch", n.Branch, "reason", n.Reason)
	}
	if err := c.after(ctx, StepPlanned, ""); err != nil {
		return nil, err
	}
	builds, err := c.loadBuilds()
	if err != nil {
		c.log.Warn("cycle: earlier build results unreadable; building again", "error", err)
	}
	// At most one commit per attribute the tree keeps, and a new one.
	return &pass{repo: repo, base: base, tree: tree, held: rep.Held, builds: builds, reach: len(c.families.Attrs(tree)) + 2}, nil
}

// save keeps the build results and writes the cycle's state.
func (c *Cycle) save(rep *Report, builds *buildCache) error {
	// With --only, --no-build, requests, or a branch kept as proposed, the
	// cycle did not look at every result: they are still wanted.
	if len(c.o.Only) == 0 && len(c.o.Requests) == 0 && !c.o.NoBuild && !slices.ContainsFunc(rep.Branches, func(b *BranchResult) bool { return len(b.Kept) > 0 }) {
		builds.prune()
	}
	if err := c.saveBuilds(builds); err != nil {
		c.log.Warn("cycle: saving build results", "error", err)
	}
	if len(c.o.Requests) > 0 {
		// A proposal looked at its own changes only: the state of the
		// last whole cycle stays as it is (the next one records the
		// proposal's PR with the rest).
		return nil
	}
	cur := record(rep)
	why := notLooked(rep, cur)
	c.mu.Lock()
	st := state.Merge(c.last, cur, why)
	c.mu.Unlock()
	c.history(st, rep, rep.End)
	c.keepBuilds(st, rep, rep.End)
	c.promoted(st, rep.Promotions, rep.End)
	if err := state.Write(c.stateDir, st); err != nil {
		return err
	}
	c.mu.Lock()
	c.last = st
	c.mu.Unlock()
	return nil
}

func since(t time.Time) time.Duration { return runlog.Since(t) }

// withErr is a log record's attributes without those that say nothing (a
// value that prints empty), with "error" only when there is one.
func withErr(err error, kv ...any) []any {
	var args []any
	for i := 0; i+1 < len(kv); i += 2 {
		if fmt.Sprint(kv[i+1]) != "" {
			args = append(args, kv[i], kv[i+1])
		}
	}
	if err != nil {
		args = append(args, "error", err)
	}
	return args
}

func buildAttrs(cs []family.Change) []string {
	return each(cs, func(c family.Change) []string { return c.Build })
}

// each is every value of field over cs, once, in order.
func each(cs []family.Change, field func(family.Change) []string) []string {
	var out []string
	for _, c := range cs {
		for _, v := range field(c) {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// observePromotion counts the cycle's promotion step, as the service
// counts one a webhook triggered.
func (c *Cycle) observePromotion(ctx context.Context, rep *Report) {
	if c.o.Metrics == nil || rep.DryRun {
		return
	}
	switch {
	case rep.PromoteErr == nil:
		c.o.Metrics.ObservePromotion("success")
	case ctx.Err() != nil:
		c.o.Metrics.ObservePromotion("cancelled")
	default:
		c.o.Metrics.ObservePromotion("failure")
	}
}

// observe records the cycle's changes in the metrics.
func (c *Cycle) observe(rep *Report) {
	if c.o.Metrics == nil || rep.DryRun {
		return
	}
	for _, ch := range rep.Changes {
		c.o.Metrics.ObserveChange(string(ch.Change.Kind), string(ch.Outcome()))
	}
}
