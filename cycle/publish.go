package cycle

import (
	"context"
	"time"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/workflow"
)

// publish pushes the branch to the fork (with a lease, and only when the
// fork lacks its commits). A dry run pushes nothing: what the fork holds,
// read by decide, says what a push would do.
func (c *Cycle) publish(ctx context.Context, ps *pass, prep prepared, d decision) gitops.PushResult {
	t0 := time.Now()
	var pr gitops.PushResult
	switch {
	case c.o.DryRun && d.read():
		pr = d.fork
	case c.o.DryRun:
		pr = ps.repo.PushDryRun(ctx, c.fork(), []gitops.BuiltBranch{prep.built})[0]
	default:
		pr = ps.repo.Push(ctx, c.fork(), []gitops.BuiltBranch{prep.built})[0]
	}
	c.log.Info("cycle: push", withErr(pr.Err, "branch", prep.built.Name, "outcome", pr.Outcome, "head", short(pushedHead(pr)), "took", since(t0))...)
	return pr
}

// pushed reports whether the fork has the branch's commits after pr (or, in
// a dry run, would have).
func pushed(pr gitops.PushResult) bool {
	switch pr.Outcome {
	case gitops.Pushed, gitops.Unchanged, gitops.WouldPush:
		return true
	}
	return false
}

// pushedHead is the fork's branch head after pr (in a dry run, after the
// push it would make), "" when there is none.
func pushedHead(pr gitops.PushResult) string {
	head := pr.Head
	if pr.Outcome == gitops.WouldPush {
		head = pr.Built
	}
	if head.IsZero() {
		return ""
	}
	return head.String()
}

// propose brings the branch's pull request up to date. A failed build is
// proposed, never ready for review: a draft whatever github.draft says.
func (c *Cycle) propose(ctx context.Context, prep prepared, b builds, pr gitops.PushResult) (*workflow.PRResult, error) {
	t0 := time.Now()
	res, err := c.wf.Sync(ctx, []workflow.BranchUpdate{{
		Branch: prep.built.Name, Head: pushedHead(pr), Base: prep.built.Base, Changes: prep.changes(), Build: b.report,
		Pushed: pr.Outcome == gitops.Pushed, Draft: !b.report.OK(),
	}})
	if len(res) == 0 {
		return nil, err
	}
	r := &res[0]
	c.log.Info("cycle: PR synced", withErr(r.Err, "branch", prep.built.Name, "pr", r.Number, "outcome", r.Outcome, "merge", r.Merge, "took", since(t0))...)
	return r, nil
}

// findPR looks up the branch's open PR when the cycle does not reach the PR
// step (the branch was kept, left alone, or not pushed), so that the summary
// and the state still name it. A failure to look is only logged.
func (c *Cycle) findPR(ctx context.Context, branch, base string) *workflow.PullRequest {
	pr, err := c.wf.OpenPR(ctx, branch, base)
	if err != nil {
		c.log.Warn("cycle: looking up the branch's PR", "branch", branch, "error", err)
		return nil
	}
	return pr
}

// draft reports whether the branch's PR is a draft as the cycle leaves it:
// kupdate opens drafts (github.draft), and a PR whose build failed is one.
func (c *Cycle) draft(r build.Report) bool { return c.cfg.GitHub.Draft || !r.OK() }
