package cycle

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/workflow"
)

// A branch goes through five steps, each a method that takes values and
// returns values: prepare (its commits written and validated, the changes
// left out and why), decide (proceed, keep as proposed or leave alone,
// from one read of the fork), build, publish (the push) and propose (the
// PR). Its BranchResult is assembled once, from what the steps returned
// (branchRun), and the changes' results from it (settle).

// planned is a branch before its commits are written: its name and the
// changes it should carry.
type planned struct {
	name    string
	base    string // the branch it starts from and its PR targets
	rolling bool
	changes []*ChangeResult
}

// pass is what a cycle's branches share, read once.
type pass struct {
	repo   repository
	base   plumbing.Hash
	tree   *family.Tree
	held   []family.Note // the plan's held changes (of the --only attributes)
	builds *buildCache
	reach  int // the most commits one of kupdate's branches can hold
	// others are the passes of the other bases (nixpkgs.bases) read so
	// far: the same but for base and tree.
	others map[string]*pass
}

// branchRun is what the steps returned for one branch, as far as it went.
type branchRun struct {
	prep   prepared
	d      decision
	diffs  []string
	builds builds
	push   gitops.PushResult
	pr     *workflow.PRResult
	found  *workflow.PullRequest // the PR, looked up when the PR step was not reached
	err    error                 // why the branch did not reach an up-to-date PR
}

// branches groups the changes: the point releases into the rolling branch
// (first), every other change into a branch of its own.
// A change of its own branch starts from the base nixpkgs.bases names for
// its kind, else nixpkgs.base.
func (c *Cycle) branches(changes []*ChangeResult) []*planned {
	base := c.cfg.Nixpkgs.Base
	var out []*planned
	var roll *planned
	for _, ch := range changes {
		if ch.Change.Rolling() {
			if roll == nil {
				roll = &planned{name: gitops.RollingBranch(base), base: base, rolling: true}
				out = append([]*planned{roll}, out...)
			}
			roll.changes = append(roll.changes, ch)
			continue
		}
		own := c.cfg.Nixpkgs.BaseFor(string(ch.Change.Kind))
		out = append(out, &planned{name: gitops.ChangeBranch(own, ch.Change), base: own, changes: []*ChangeResult{ch}})
	}
	return out
}

// onBase is ps for a branch that starts from another base than
// nixpkgs.base: that base's tip (fetched now in the managed clone) and its
// tree, read once per cycle.
func (c *Cycle) onBase(ctx context.Context, ps *pass, base string) (*pass, error) {
	if base == c.cfg.Nixpkgs.Base {
		return ps, nil
	}
	if q, ok := ps.others[base]; ok {
		return q, nil
	}
	tip, err := ps.repo.BranchTip(ctx, base)
	if err != nil {
		return nil, err
	}
	tree, err := loadTree(ctx, c.families, ps.repo, tip)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base, err)
	}
	tree.Now = c.now
	q := *ps
	q.base, q.tree, q.others = tip, tree, nil
	if ps.others == nil {
		ps.others = map[string]*pass{}
	}
	ps.others[base] = &q
	c.log.Info("cycle: other base read", "base", base, "commit", tip.String()[:12])
	return &q, nil
}

// runBranch takes p through the steps and returns its result (nil when
// nothing was left to commit). The error is ctx's when the cycle must
// stop.
func (c *Cycle) runBranch(ctx context.Context, ps *pass, p *planned) (*BranchResult, error) {
	var r branchRun
	ps, err := c.onBase(ctx, ps, p.base)
	if err != nil {
		return nil, fmt.Errorf("branch %s: %w", p.name, err)
	}
	if r.prep, err = c.prepare(ctx, ps, p); err != nil || len(r.prep.commits) == 0 {
		settle(p, r.prep, nil)
		return nil, err
	}
	if r.prep.err == nil {
		err = c.afterPrepare(ctx, ps, p, &r)
	} else {
		r.err = r.prep.err
	}
	br := c.assemble(p.name, r)
	settle(p, r.prep, br)
	return br, err
}

// afterPrepare runs the steps after prepare, filling r.
func (c *Cycle) afterPrepare(ctx context.Context, ps *pass, p *planned, r *branchRun) error {
	bp := c.planBuilds(ps, r.prep)
	var err error
	if r.d, err = c.decide(ctx, ps, p, r.prep, bp); err != nil {
		return err
	}
	if r.d.verdict != proceed {
		logDecision(ctx, c.log.With("branch", p.name), r.d)
		r.err = r.d.err
		if r.d.verdict == keep || r.d.verdict == unreadable {
			r.found = c.findPR(ctx, p.name, p.base)
			return c.after(ctx, StepPushed, p.name)
		}
	}
	if c.o.DryRun {
		r.diffs = c.diffs(ctx, ps, r.prep.built.Hashes)
	}
	if r.d.verdict == leaveAlone {
		r.found = c.findPR(ctx, p.name, p.base)
		return c.after(ctx, StepPushed, p.name)
	}
	if r.builds, err = c.build(ctx, ps, r.prep, bp, r.d); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.err = err
		return nil
	}
	if err := c.after(ctx, StepBuilt, p.name); err != nil {
		return err
	}
	return c.publishAndPropose(ctx, ps, p, r)
}

// publishAndPropose are the last two steps.
func (c *Cycle) publishAndPropose(ctx context.Context, ps *pass, p *planned, r *branchRun) error {
	r.push = c.publish(ctx, ps, r.prep, r.d)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.after(ctx, StepPushed, p.name); err != nil {
		return err
	}
	if !pushed(r.push) {
		r.err = r.push.Err
		r.found = c.findPR(ctx, p.name, p.base)
		return nil
	}
	var err error
	r.pr, err = c.propose(ctx, r.prep, r.builds, r.push)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if r.pr == nil {
		r.err = err
	}
	return c.after(ctx, StepSynced, p.name)
}

// diffs are the unified diffs of the commits, for a dry run.
func (c *Cycle) diffs(ctx context.Context, ps *pass, hashes []plumbing.Hash) []string {
	var out []string
	for _, h := range hashes {
		d, err := ps.repo.Diff(ctx, h)
		if err != nil {
			d = "(no diff: " + err.Error() + ")\n"
		}
		out = append(out, d)
	}
	return out
}

// assemble is the branch's result, from what its steps returned.
func (c *Cycle) assemble(name string, r branchRun) *BranchResult {
	br := &BranchResult{Name: name, Changes: r.prep.changes(), Diffs: r.diffs, Build: r.builds.report, Reused: r.builds.all,
		reused: r.builds.reused, PR: r.pr, Found: r.found, Err: r.err, draft: c.draft(r.builds.report)}
	if r.prep.err != nil {
		return br
	}
	for _, h := range r.prep.built.Hashes {
		br.Commits = append(br.Commits, h.String())
	}
	switch r.d.verdict {
	case keep:
		br.Kept, br.Commits, br.Diffs = r.d.kept, nil, nil
		if !r.d.fork.Head.IsZero() {
			br.Head = r.d.fork.Head.String()
		}
		return br
	case unreadable:
		br.Commits = nil
		return br
	case leaveAlone:
		br.Push = r.d.fork.Outcome
		if !r.d.fork.Head.IsZero() {
			br.Head = r.d.fork.Head.String()
		}
		return br
	}
	if r.push.Outcome != "" {
		br.Push, br.previous, br.Head = r.push.Outcome, r.push.Previous, pushedHead(r.push)
	}
	return br
}

// settle records in the planned changes what became of them: left out (and
// why), or in br.
func settle(p *planned, prep prepared, br *BranchResult) {
	in := map[family.Key]family.Change{}
	for _, cm := range prep.commits {
		in[cm.Change.Key] = cm.Change
	}
	for _, ch := range p.changes {
		if l, ok := prep.left[ch.Change.Key]; ok {
			ch.Err, ch.Wait = l.err, l.wait
			continue
		}
		if c, ok := in[ch.Change.Key]; ok && br != nil {
			ch.Change, ch.Branch = c, br
		}
	}
}
