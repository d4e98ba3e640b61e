package cycle

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/updater"
)

// prepared is a branch whose commits are written (and, when the cycle
// builds, validated): the value the first step hands to the others.
type prepared struct {
	commits []gitops.Commit    // the branch's commits, in order (a change's hash as healed)
	built   gitops.BuiltBranch // the commits as objects on the base
	dir     string             // where the tree is exported, "" when it is not
	tree    plumbing.Hash      // the commit dir holds
	// left are the changes left out of the branch, by Key, and why.
	left map[family.Key]leftOut
	// err is why the branch stops here: its commits could not be written or
	// exported. commits then holds what was written.
	err error
}

// leftOut is why a change is not in its branch: it failed (did not apply,
// check or evaluate), or it waits for another branch's change.
type leftOut struct {
	err  error
	wait string
}

// changes are the changes of the branch's commits, in order.
func (p prepared) changes() []family.Change {
	out := make([]family.Change, len(p.commits))
	for i, cm := range p.commits {
		out[i] = cm.Change
	}
	return out
}

// prepare writes the branch's commits on the base: each change applied in
// order to a copy of the base tree, checked, written as objects and, when
// the cycle builds, evaluated by Nix. A change that does not apply, check
// or evaluate is left out and the branch is written again without it; a
// change whose cached rc hash Nix refused is written again with the hash
// computed afresh (once). The error is ctx's, when the cycle must stop.
func (c *Cycle) prepare(ctx context.Context, ps *pass, p *planned) (prepared, error) {
	log := c.log.With("branch", p.name)
	out := prepared{left: map[family.Key]leftOut{}}
	todo := p.want()
	rechecked := map[family.Key]bool{}
	for {
		out.commits = c.commits(ctx, ps.tree, p.rolling, todo, out.left)
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if len(out.commits) == 0 {
			log.Info("cycle: nothing left to commit on the branch")
			return out, nil
		}
		t0 := time.Now()
		built, err := ps.repo.Build(ctx, ps.base, gitops.Branch{Name: p.name, Base: p.base, Commits: out.commits, Reach: ps.reach})
		if err != nil {
			out.err = err
			log.Error("cycle: writing the commits failed", "error", err)
			return out, ctx.Err()
		}
		out.built = built
		log.Info("cycle: commits written", "commits", len(out.commits), "head", built.Head().String()[:12], "took", since(t0))
		if !c.building() {
			return out, nil
		}
		again, err := c.validate(ctx, ps, log, &out, todo, rechecked)
		if err != nil || !again {
			return out, err
		}
	}
}

// want are the changes the branch is planned to carry.
func (p *planned) want() []family.Change {
	out := make([]family.Change, len(p.changes))
	for i, ch := range p.changes {
		out[i] = ch.Change
	}
	return out
}

// commits applies the changes of todo that are not left out, in order, to
// a copy of the base tree, and checks the files each produces. A change
// that does not apply or check is marked in left; the next builds on the
// tree without it.
func (c *Cycle) commits(ctx context.Context, tree *family.Tree, rolling bool, todo []family.Change, left map[family.Key]leftOut) []gitops.Commit {
	t := tree
	var out []gitops.Commit
	for _, ch := range todo {
		if _, ok := left[ch.Key]; ok {
			continue
		}
		files, next, err := updater.Apply(c.families, t, ch)
		if err != nil {
			if !rolling {
				// The planner applied it after the changes before it in the
				// plan: on the base alone it needs one of them merged first.
				w := fmt.Sprintf("it builds on a change of another branch that is not merged yet (%v)", err)
				left[ch.Key] = leftOut{wait: w}
				c.log.Info("cycle: change waits", "title", ch.Title, "reason", w)
				continue
			}
			left[ch.Key] = leftOut{err: err}
			c.log.Error("cycle: change does not apply", "title", ch.Title, "error", err)
			continue
		}
		if err := updater.CheckFiles(ctx, c.families, files); err != nil {
			left[ch.Key] = leftOut{err: fmt.Errorf("%s: %w", ch.Title, err)}
			c.log.Error("cycle: change does not check", "title", ch.Title, "error", err)
			continue
		}
		t = next
		out = append(out, gitops.Commit{Change: ch, Files: files})
	}
	return out
}

// validate evaluates with Nix the commits of out that did not evaluate
// before with what they read the same, in the exported tree. It reports
// whether the branch must be written again: a change was left out, or its
// rc hash healed in todo.
func (c *Cycle) validate(ctx context.Context, ps *pass, log *slog.Logger, out *prepared, todo []family.Change, rechecked map[family.Key]bool) (bool, error) {
	files := branchFiles(out.commits)
	var pending []gitops.Commit
	for _, cm := range out.commits {
		if !ps.builds.validated(changeKey(c.families, files, cm.Change)) {
			pending = append(pending, cm)
		}
	}
	if len(pending) == 0 {
		return false, nil
	}
	t0 := time.Now()
	dir, err := ps.repo.ExportFree(ctx, out.built.Head(), c.exportPath())
	if err != nil {
		out.err = fmt.Errorf("%s: %w", out.built.Name, err)
		return false, ctx.Err()
	}
	out.dir, out.tree = dir, out.built.Head()
	log.Info("cycle: tree exported for Nix", "dir", dir, "took", since(t0))
	t0 = time.Now()
	again := false
	for _, cm := range pending {
		err := updater.Validate(ctx, c.families, dir, cm.Change, updater.ValidateOptions{Env: c.o.BuildEnv, Secrets: c.cfg.SecretEnvNames()})
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if err == nil {
			ps.builds.putValidated(changeKey(c.families, files, cm.Change))
			continue
		}
		again = true
		if !rechecked[cm.Change.Key] && c.recheckHash(ctx, log, todo, cm.Change) {
			rechecked[cm.Change.Key] = true // written and validated again, with the right hash
			continue
		}
		rechecked[cm.Change.Key] = true
		out.left[cm.Change.Key] = leftOut{err: err}
		log.Error("cycle: change does not evaluate; left out", "title", cm.Change.Title, "error", err)
	}
	log.Info("cycle: validated", "changes", len(pending), "took", since(t0))
	return again, nil
}

// building reports whether the cycle validates and builds what it writes.
func (c *Cycle) building() bool { return !c.o.DryRun && !c.o.NoBuild }

func (c *Cycle) exportPath() string { return c.cacheDir + "/" + exportDir }
