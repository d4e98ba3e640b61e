package cycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/redact"
	"github.com/kupdate/kupdate/updater"
	"github.com/kupdate/kupdate/workflow"
)

// Report is what one cycle did, or in a dry run would do.
type Report struct {
	Start, End time.Time
	DryRun     bool
	BaseBranch string // nixpkgs.base: the branch PRs target
	Base       string // the commit the branches start from
	Source     string // where the tree came from: "checkout DIR" or "managed clone of URL"
	Only       []string

	Changes  []*ChangeResult // every planned change, in plan order
	Branches []*BranchResult // the branches made of them, in order
	Held     []family.Note   // changes that wait (Err nil) or failed before planning
	Skipped  []family.Note   // releases and branches left alone on purpose

	Promotions []workflow.PromoteResult // promote.enabled only
	PromoteErr error

	offers   []family.Offer
	tree     *family.Tree
	families family.Registry
	owner    map[string]string // attribute -> its family
	merge    bool              // github.merge
}

// ChangeResult is one planned change.
type ChangeResult struct {
	Change family.Change
	// Err says why the change was left out of its branch: it did not apply,
	// parse or evaluate. Nothing was committed for it.
	Err error
	// Wait says why the change waits for a later cycle (it builds on another
	// change that is not merged yet). Nothing was committed for it.
	Wait   string
	Branch *BranchResult // nil when it is in no branch

	rechecked bool // its rc hash was computed again this cycle (recheckHash)
}

// BranchResult is one branch kupdate built, pushed and proposed.
type BranchResult struct {
	Name    string
	Changes []family.Change // its commits, in order
	Commits []string        // the commit ids kupdate built
	Diffs   []string        // dry run: each commit's unified diff
	Push    gitops.Outcome  // "" when it was never pushed (an error came first)
	Head    string          // the fork's branch head after the push (or, dry, after a push)
	// Build is the result of building the branch's candidates, empty when
	// they were not built (--no-build, a dry run without an earlier result
	// for each). Results are kept per attribute, by what its derivation
	// reads (builds.go): ReusedAttr says which came from an earlier cycle,
	// and Reused is set when all of them did.
	Build  build.Report
	Reused bool
	PR     *workflow.PRResult
	Err    error // why the branch did not reach an up-to-date PR
	// Kept lists the commits of the fork's branch that pushing it as built
	// would have withdrawn for a reason that is not theirs; when set, the
	// branch and its PR were left exactly as they are (nothing built,
	// pushed or written to GitHub for it).
	Kept []Withheld
	// Found is the branch's open PR as GitHub has it, looked up when the
	// cycle did not reach the PR step (kept, left alone, not pushed); nil
	// when there is none.
	Found *workflow.PullRequest

	draft    bool              // its PR opens as a draft (github.draft, or a failed build)
	previous []gitops.Proposed // kupdate's commits on the fork before the push
	reused   map[string]bool   // attributes whose results an earlier cycle built
}

// ReusedAttr reports whether attr's build result is an earlier cycle's
// (the same content built before), not a build of this cycle.
func (b *BranchResult) ReusedAttr(attr string) bool { return b.reused[attr] }

// KeptByOnly reports whether the branch was kept because --only would have
// dropped commits from it (rather than for a change that could not be
// verified).
func (b *BranchResult) KeptByOnly() bool {
	return slices.ContainsFunc(b.Kept, func(w Withheld) bool { return w.Only })
}

// pr is the branch's PR: the one the cycle synced, else the one found.
func (b *BranchResult) pr() (number int, url, state string) {
	switch {
	case b.PR != nil && b.PR.Number != 0:
		return b.PR.Number, b.PR.URL, ""
	case b.Found != nil:
		state := b.Found.State
		switch {
		case b.Found.Merged:
			state = "merged"
		case state == "open" && b.Found.Draft:
			state = "draft"
		}
		return b.Found.Number, b.Found.URL, state
	}
	return 0, "", ""
}

// Failed reports whether the branch ended in a failure (the push was
// refused or lost its lease, the PR could not be synced).
func (b *BranchResult) Failed() bool {
	return b.Err != nil && b.Push != gitops.SkippedForeign
}

// Outcome sums up what became of c: "failed", "waiting", "skipped"
// (someone else's commits are on its branch), "kept" (its branch stays as
// proposed: another change of it could not be verified again, or --only
// left it out), "push-failed", "pr-failed", or the PR's
// outcome ("opened", "updated", "unchanged", "declined", "already-merged").
// In a PR that got new commits, each change says what they did to it:
// "added" (new to the PR), "updated" (the PR had another version of it),
// "unchanged" (the PR had this very commit); a dry run says "would-add" and
// "would-update".
func (c *ChangeResult) Outcome() string {
	switch {
	case c.Err != nil:
		return "failed"
	case c.Wait != "":
		return "waiting"
	case c.Branch == nil:
		return "failed"
	case c.Branch.Push == gitops.SkippedForeign:
		return "skipped"
	case len(c.Branch.Kept) > 0:
		return "kept"
	case c.Branch.PR == nil && c.Branch.Err != nil:
		return "push-failed"
	case c.Branch.PR == nil:
		return "stopped"
	case c.Branch.PR.Err != nil:
		return "pr-failed"
	}
	b := c.Branch
	if o := b.PR.Outcome; o != workflow.Updated && o != workflow.WouldUpdate || b.previous == nil ||
		b.Push != gitops.Pushed && b.Push != gitops.WouldPush {
		return string(o)
	}
	// A PR that gets new commits: say what they do to this change, from what
	// the fork's branch held before.
	dry := b.Push == gitops.WouldPush
	had := func(k family.Key) bool {
		return slices.ContainsFunc(b.previous, func(p gitops.Proposed) bool { return p.Key == k })
	}
	switch {
	case had(c.Change.Key):
		if !slices.ContainsFunc(b.Changes, func(o family.Change) bool { return !had(o.Key) }) {
			// The same changes on a new base: the PR as a whole was updated.
			return string(b.PR.Outcome)
		}
		return "unchanged"
	case slices.ContainsFunc(b.previous, func(p gitops.Proposed) bool { return p.Key.Attr == c.Change.Attr }):
		if dry {
			return "would-update"
		}
		return "updated"
	case dry:
		return "would-add"
	}
	return "added"
}

// BuildStatus is the build result of c's attributes: "passed", e.g.
// "configfile failed", or "" when they were not built (or it has none).
func (c *ChangeResult) BuildStatus() string {
	if c.Branch == nil {
		return ""
	}
	return attrsStatus(c.Branch.Build, c.Change.Build)
}

// reusedBuild reports whether every attribute of c has the result an
// earlier cycle built.
func (c *ChangeResult) reusedBuild() bool {
	if c.Branch == nil || len(c.Change.Build) == 0 {
		return false
	}
	for _, a := range c.Change.Build {
		if !c.Branch.reused[a] {
			return false
		}
	}
	return true
}

// attrsStatus is the first attribute's status that did not pass ("configfile
// failed"), "passed", or "" when an attribute has no result.
func attrsStatus(r build.Report, attrs []string) string {
	if len(attrs) == 0 {
		return ""
	}
	for _, a := range attrs {
		rs := r.For(a)
		if len(rs) == 0 {
			return ""
		}
		for _, res := range rs {
			if res.Status != build.Passed {
				return res.Tier + " " + string(res.Status)
			}
		}
	}
	return "passed"
}

// Err joins every failure of the cycle: changes that failed, branches that
// were not pushed or whose PR was not synced, failed builds, changes held
// back by a failure, the promotion. nil when everything went through (also
// when there was nothing to do, or changes only wait for kernel.org).
func (r *Report) Err() error {
	var errs []error
	for _, c := range r.Changes {
		if c.Err != nil {
			errs = append(errs, c.Err)
		}
	}
	for _, b := range r.Branches {
		switch {
		case b.Failed():
			errs = append(errs, b.Err)
		case b.PR != nil && b.PR.Err != nil:
			errs = append(errs, b.PR.Err)
		}
		if !b.Build.OK() {
			errs = append(errs, fmt.Errorf("%s: build failed: %s", b.Name, b.Build.Summary()))
		}
	}
	for _, n := range r.Held {
		if n.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Label(), n.Err))
		}
	}
	if r.PromoteErr != nil {
		errs = append(errs, r.PromoteErr)
	}
	return errors.Join(errs...)
}

// Run runs one cycle and reports it. The error is what stopped the cycle as
// a whole (kernel.org or the nixpkgs remote unreachable, ctx cancelled);
// failures of single changes and branches are in the Report (Report.Err).
func (c *Cycle) Run(ctx context.Context) (*Report, error) {
	rep := &Report{Start: c.now(), DryRun: c.o.DryRun, BaseBranch: c.cfg.Nixpkgs.Base, Only: c.o.Only, merge: c.cfg.GitHub.Merge}
	start := time.Now()
	c.log.Info("cycle: starting", "dry_run", c.o.DryRun, "no_build", c.o.NoBuild, "only", c.o.Only)

	t0 := time.Now()
	repo, err := c.repo(ctx)
	if err != nil {
		return rep, err
	}
	defer repo.Close()
	base := repo.Base()
	rep.Base = base.String()
	if c.local != "" {
		rep.Source = "checkout " + c.local
	} else {
		rep.Source = "managed clone of " + redact.URL(c.cfg.Nixpkgs.Remote)
	}
	tree, err := loadTree(ctx, c.families, repo, base)
	if err != nil {
		return rep, err
	}
	tree.Now = c.now
	rep.tree = tree
	c.log.Info("cycle: tree read", "source", rep.Source, "base", c.cfg.Nixpkgs.Base, "commit", base.String()[:12], "took", since(t0))

	t0 = time.Now()
	pl, err := plan(ctx, c.families, c.log, tree)
	if err != nil {
		return rep, err
	}
	rep.offers, rep.families, rep.owner = pl.Offers, c.families, owners(c.families, tree, pl)
	if err := checkOnly(c.o.Only, c.families, tree, pl); err != nil {
		return rep, err
	}
	rep.Held, rep.Skipped = selected(c.o.Only, rep.owner, pl.Held), pl.Skipped
	for _, ch := range pl.Changes {
		if len(c.o.Only) > 0 && !slices.Contains(c.o.Only, ch.Attr) {
			continue
		}
		rep.Changes = append(rep.Changes, &ChangeResult{Change: ch})
	}
	c.log.Info("cycle: planned", "changes", len(rep.Changes), "held", len(pl.Held), "took", since(t0))
	for _, n := range pl.Held {
		c.log.Info("cycle: held", "branch", n.Branch, "reason", n.Reason)
	}
	if err := c.after(ctx, StepPlanned, ""); err != nil {
		return rep, err
	}

	builds, err := c.loadBuilds()
	if err != nil {
		c.log.Warn("cycle: earlier build results unreadable; building again", "err", err)
	}
	for _, b := range c.branches(ctx, tree, rep.Changes) {
		if err := c.runBranch(ctx, repo, base, tree, b, rep, builds); err != nil {
			return rep, err
		}
	}

	if c.cfg.Promote.Enabled {
		t0 = time.Now()
		rep.Promotions, rep.PromoteErr = c.wf.Promote(ctx)
		c.log.Info("cycle: promotion done", withErr(rep.PromoteErr, "took", since(t0))...)
		if err := c.after(ctx, StepPromoted, ""); err != nil {
			return rep, err
		}
	}
	rep.End = c.now()
	c.observe(rep)
	if !c.o.DryRun {
		// With --only, --no-build, or a branch kept as proposed, the cycle
		// did not look at every result: they are still wanted.
		if len(c.o.Only) == 0 && !c.o.NoBuild && !slices.ContainsFunc(rep.Branches, func(b *BranchResult) bool { return len(b.Kept) > 0 }) {
			builds.prune()
		}
		if err := c.saveBuilds(builds); err != nil {
			c.log.Warn("cycle: saving build results", "err", err)
		}
		st := stateOf(rep)
		c.mu.Lock()
		carry(c.last, st, rep)
		c.mu.Unlock()
		if err := writeState(c.cacheDir, st); err != nil {
			return rep, err
		}
		c.mu.Lock()
		c.last = st
		c.mu.Unlock()
	}
	c.log.Info("cycle: done", "changes", len(rep.Changes), "branches", len(rep.Branches), "took", since(start), "ok", rep.Err() == nil)
	return rep, nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// planned is a branch before its commits are written: its name and the
// changes it should carry.
type planned struct {
	name    string
	rolling bool
	changes []*ChangeResult
}

// branches groups the changes as gitops.PlanBranches does: the point
// releases into the rolling branch, every other change into its own.
func (c *Cycle) branches(ctx context.Context, tree *family.Tree, changes []*ChangeResult) []*planned {
	base := c.cfg.Nixpkgs.Base
	var out []*planned
	var roll *planned
	for _, ch := range changes {
		if ch.Change.Rolling() {
			if roll == nil {
				roll = &planned{name: gitops.RollingBranch(base), rolling: true}
				out = append([]*planned{roll}, out...)
			}
			roll.changes = append(roll.changes, ch)
			continue
		}
		out = append(out, &planned{name: gitops.ChangeBranch(base, ch.Change), changes: []*ChangeResult{ch}})
	}
	return out
}

// commits applies the changes that have not failed yet, in order, to a copy
// of the base tree, and checks the files each produces. A change that does
// not apply or check is marked and left out; the next builds on the tree
// without it.
func (c *Cycle) commits(ctx context.Context, tree *family.Tree, p *planned) []gitops.Commit {
	t := tree
	var out []gitops.Commit
	for _, ch := range p.changes {
		if ch.Err != nil || ch.Wait != "" {
			continue
		}
		files, next, err := updater.Apply(c.families, t, ch.Change)
		if err != nil {
			if !p.rolling {
				// The planner applied it after the changes before it in the
				// plan: on the base alone it needs one of them merged first.
				ch.Wait = fmt.Sprintf("it builds on a change of another branch that is not merged yet (%v)", err)
				c.log.Info("cycle: change waits", "title", ch.Change.Title, "reason", ch.Wait)
				continue
			}
			ch.Err = err
			c.log.Error("cycle: change does not apply", "title", ch.Change.Title, "err", err)
			continue
		}
		if err := updater.CheckFiles(ctx, c.families, files); err != nil {
			ch.Err = fmt.Errorf("%s: %w", ch.Change.Title, err)
			c.log.Error("cycle: change does not check", "title", ch.Change.Title, "err", err)
			continue
		}
		t = next
		out = append(out, gitops.Commit{Change: ch.Change, Files: files})
	}
	return out
}

// runBranch takes one branch through commit, validation, build, push and
// PR. Failures are recorded in rep; the error is ctx's when the cycle must
// stop.
func (c *Cycle) runBranch(ctx context.Context, repo *gitops.Repo, base plumbing.Hash, tree *family.Tree, p *planned, rep *Report, builds *buildCache) error {
	log := c.log.With("branch", p.name)
	br := &BranchResult{Name: p.name, draft: c.cfg.GitHub.Draft}
	building := !c.o.DryRun && !c.o.NoBuild
	var built gitops.BuiltBranch
	var commits []gitops.Commit
	var dir string             // where the tree is exported: c.exportPath(), or a fallback while a survivor holds that
	var exported plumbing.Hash // the commit dir holds
	for {
		commits = c.commits(ctx, tree, p)
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(commits) == 0 {
			log.Info("cycle: nothing left to commit on the branch")
			return nil
		}
		t0 := time.Now()
		var err error
		built, err = repo.Build(ctx, base, gitops.Branch{Name: p.name, Base: c.cfg.Nixpkgs.Base, Commits: commits})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			br.Err = err
			c.attach(rep, p, br, commits)
			log.Error("cycle: writing the commits failed", "err", err)
			return nil
		}
		log.Info("cycle: commits written", "commits", len(commits), "head", built.Head().String()[:12], "took", since(t0))
		if !building {
			break
		}
		// A change that evaluated before, with what it reads the same, is
		// not evaluated again.
		files := branchFiles(commits)
		var pending []gitops.Commit
		for _, cm := range commits {
			if !builds.validated(changeKey(c.families, files, cm.Change)) {
				pending = append(pending, cm)
			}
		}
		if len(pending) == 0 {
			break
		}
		t0 = time.Now()
		if dir, err = repo.ExportFree(ctx, built.Head(), c.exportPath()); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			br.Err = fmt.Errorf("%s: %w", p.name, err)
			c.attach(rep, p, br, commits)
			return nil
		}
		exported = built.Head()
		log.Info("cycle: tree exported for Nix", "dir", dir, "took", since(t0))
		t0 = time.Now()
		dropped := false
		for _, cm := range pending {
			err := updater.Validate(ctx, c.families, dir, cm.Change, updater.ValidateOptions{Env: c.o.BuildEnv, Secrets: c.cfg.SecretEnvNames()})
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				if c.recheckHash(ctx, log, p, cm.Change) {
					dropped = true // written and validated again, with the right hash
					continue
				}
				for _, ch := range p.changes {
					if ch.Change.Key == cm.Change.Key {
						ch.Err = err
					}
				}
				log.Error("cycle: change does not evaluate; left out", "title", cm.Change.Title, "err", err)
				dropped = true
				continue
			}
			builds.putValidated(changeKey(c.families, files, cm.Change))
		}
		log.Info("cycle: validated", "changes", len(pending), "took", since(t0))
		if !dropped {
			break
		}
	}
	c.attach(rep, p, br, nil)

	if p.rolling {
		kept, err := c.withheld(ctx, repo, tree, p, br, rep)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			br.Err = err
			log.Error("cycle: cannot tell what the fork's branch holds; not pushed", "err", err)
			c.findPR(ctx, br)
			return c.after(ctx, StepPushed, p.name)
		}
		if len(kept) > 0 {
			// Rebuilt, the branch would withdraw commits already proposed
			// for a reason that is not theirs: it stays as it is, PR and
			// all, until every change it holds can be verified again.
			br.Kept = kept
			for _, k := range kept {
				lvl := slog.LevelWarn
				if k.Only {
					lvl = slog.LevelInfo // what --only asks for
				}
				log.Log(ctx, lvl, "cycle: branch kept as proposed", "withheld", k.Title, "reason", k.Reason)
			}
			c.findPR(ctx, br)
			return c.after(ctx, StepPushed, p.name)
		}
	}

	for _, h := range built.Hashes {
		br.Commits = append(br.Commits, h.String())
		if c.o.DryRun {
			d, err := repo.Diff(ctx, h)
			if err != nil {
				d = "(no diff: " + err.Error() + ")\n"
			}
			br.Diffs = append(br.Diffs, d)
		}
	}

	// Build results per attribute: what an earlier cycle built from the same
	// content is reused, the rest is built now.
	files := branchFiles(commits)
	attrs := buildAttrs(br.Changes)
	keys := map[string]string{}
	for _, ch := range br.Changes {
		for _, a := range ch.Build {
			if _, ok := keys[a]; !ok {
				keys[a] = attrKey(c.cfg.Build, c.families, files, a, ch)
			}
		}
	}
	results := map[string][]build.Result{}
	br.reused = map[string]bool{}
	var missing []string
	for _, a := range attrs {
		if rs, ok := builds.attr(keys[a]); ok {
			results[a], br.reused[a] = rs, true
		} else {
			missing = append(missing, a)
		}
	}
	switch {
	case len(missing) == 0:
		br.Reused = len(attrs) > 0
		if br.Reused {
			log.Info("cycle: build results reused: same content built before", "attrs", attrs)
		}
	case !building:
		// Nothing is built: show earlier results only for the whole branch.
		results, br.reused = nil, nil
	default:
		// Hours of building are wasted on a branch that cannot be pushed:
		// look first (one listing of the fork's refs).
		pr := repo.PushDryRun(ctx, c.fork(), []gitops.BuiltBranch{built})[0]
		if pr.Outcome == gitops.SkippedForeign {
			br.Push, br.Err = pr.Outcome, pr.Err
			if !pr.Head.IsZero() {
				br.Head = pr.Head.String()
			}
			log.Info("cycle: branch left alone: not built", "err", pr.Err)
			c.findPR(ctx, br)
			return c.after(ctx, StepPushed, p.name)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		target := built.Head()
		if pr.Outcome == gitops.Unchanged && pr.Head != built.Head() {
			// The fork keeps the branch as it is (maybe on an older base):
			// build what its pull request holds.
			target = pr.Head
			log.Info("cycle: building the fork's head", "head", pr.Head.String()[:12])
		}
		if exported != target {
			var err error
			if dir, err = repo.ExportFree(ctx, target, c.exportPath()); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				br.Err = fmt.Errorf("%s: %w", p.name, err)
				return nil
			}
		}
		t0 := time.Now()
		log.Info("cycle: building", "attrs", missing, "reused", len(attrs)-len(missing))
		got := c.runner.Run(ctx, dir, missing)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, res := range got.Results {
			c.o.Metrics.ObserveBuild(res.Tier, string(res.Status))
		}
		for _, a := range missing {
			results[a] = got.For(a)
			builds.putAttr(keys[a], a, results[a])
		}
		if err := c.saveBuilds(builds); err != nil {
			log.Warn("cycle: saving build results", "err", err)
		}
		log.Info("cycle: built", "ok", got.OK(), "result", got.Summary(), "took", since(t0))
	}
	for _, a := range attrs {
		br.Build.Results = append(br.Build.Results, results[a]...)
	}
	if err := c.after(ctx, StepBuilt, p.name); err != nil {
		return err
	}

	t0 := time.Now()
	var pr gitops.PushResult
	if c.o.DryRun {
		pr = repo.PushDryRun(ctx, c.fork(), []gitops.BuiltBranch{built})[0]
	} else {
		pr = repo.Push(ctx, c.fork(), []gitops.BuiltBranch{built})[0]
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	br.Push, br.previous = pr.Outcome, pr.Previous
	head := pr.Head
	if pr.Outcome == gitops.WouldPush {
		head = pr.Built
	}
	if !head.IsZero() {
		br.Head = head.String()
	}
	log.Info("cycle: push", withErr(pr.Err, "outcome", pr.Outcome, "head", short(br.Head), "took", since(t0))...)
	if err := c.after(ctx, StepPushed, p.name); err != nil {
		return err
	}
	switch pr.Outcome {
	case gitops.Pushed, gitops.Unchanged, gitops.WouldPush:
	default:
		br.Err = pr.Err
		c.findPR(ctx, br)
		return nil
	}

	t0 = time.Now()
	// A failed build is proposed, never ready for review: a draft whatever
	// github.draft says.
	failed := !br.Build.OK()
	br.draft = br.draft || failed
	res, err := c.wf.Sync(ctx, []workflow.BranchUpdate{{
		Branch: p.name, Head: br.Head, Base: c.cfg.Nixpkgs.Base, Changes: br.Changes, Build: br.Build,
		Pushed: pr.Outcome == gitops.Pushed, Draft: failed,
	}})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(res) > 0 {
		br.PR = &res[0]
	} else if err != nil {
		br.Err = err
	}
	if br.PR != nil {
		log.Info("cycle: PR synced", withErr(br.PR.Err, "pr", br.PR.Number, "outcome", br.PR.Outcome, "merge", br.PR.Merge, "took", since(t0))...)
	}
	return c.after(ctx, StepSynced, p.name)
}

// withErr is a log record's attributes, with "err" only when there is one.
func withErr(err error, args ...any) []any {
	if err != nil {
		args = append(args, "err", err)
	}
	return args
}

// findPR looks up the branch's open PR when the cycle does not reach the PR
// step (the branch was kept, left alone, or not pushed), so that the summary
// and the state still name it. A failure to look is only logged.
func (c *Cycle) findPR(ctx context.Context, br *BranchResult) {
	pr, err := c.wf.OpenPR(ctx, br.Name, c.cfg.Nixpkgs.Base)
	if err != nil {
		c.log.Warn("cycle: looking up the branch's PR", "branch", br.Name, "err", err)
		return
	}
	br.Found = pr
}

// attach adds the branch to the report and links its changes to it: the
// changes that made it into commits (all that did not fail when commits is
// nil).
func (c *Cycle) attach(rep *Report, p *planned, br *BranchResult, commits []gitops.Commit) {
	if !slices.Contains(rep.Branches, br) {
		rep.Branches = append(rep.Branches, br)
	}
	br.Changes = nil
	for _, ch := range p.changes {
		if ch.Err != nil || ch.Wait != "" {
			continue
		}
		if commits != nil && !slices.ContainsFunc(commits, func(cm gitops.Commit) bool { return cm.Change.Key == ch.Change.Key }) {
			continue
		}
		ch.Branch = br
		br.Changes = append(br.Changes, ch.Change)
	}
}

func (c *Cycle) exportPath() string { return c.cacheDir + "/" + exportDir }

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

// observe records the cycle's changes in the metrics.
func (c *Cycle) observe(rep *Report) {
	if c.o.Metrics == nil || rep.DryRun {
		return
	}
	for _, ch := range rep.Changes {
		c.o.Metrics.ObserveChange(string(ch.Change.Kind), ch.Outcome())
	}
}
