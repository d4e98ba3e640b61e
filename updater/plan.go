// Package updater plans and makes the changes a nixpkgs tree needs, over the
// registered kernel families (package family): each family proposes its
// changes, the planner applies them one by one to a copy of the tree (a
// change that does not apply is held with the editor's error), and Validate
// proves an applied change with Nix.
//
// The planner's rules are the families' own, in their packages'
// documentation: family/vanilla (kernel.org's kernels: one change per
// commit in a fixed order, never backwards, inits, removals, lts, testing)
// and family/hardened (linux-hardened's bumps and inits, and how a patch is
// verified). The families are planned in the registry's order, so the
// commit order is: removals, bumps (branch ascending), testing, new
// branches, hardened bumps, a hardened init.
//
// kupdate has no Nix parser: the families edit .nix files by anchored text
// operations, and Validate proves the result (every touched .nix file
// parses, every touched file a family writes reads back, and the kernels a
// change builds and the aliases it adds or moves evaluate). docs/design.md
// describes the planner in the whole of a cycle.
package updater

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/kupdate/kupdate/family"
)

// Planner turns what upstream released into the changes a tree needs.
type Planner struct {
	Families family.Registry
	Log      *slog.Logger // nil: no logging
}

// Plan asks every family t carries, in registry order, for its changes and
// applies each to a copy of t as it goes, so every change's Files are exact,
// a later change (of the same family or the next) builds on the earlier
// ones, and a change that cannot be applied is held with the editor's error
// instead of failing later. t itself is not modified. One failing change
// never blocks the others; a family whose source cannot be read at all
// stops the plan.
func (p *Planner) Plan(ctx context.Context, t *family.Tree) (*family.Plan, error) {
	plan := &family.Plan{}
	work := t
	for _, f := range p.Families.Present(t) {
		fp, err := f.Plan(ctx, work)
		if err != nil {
			return nil, err
		}
		plan.Held = append(plan.Held, fp.Held...)
		plan.Skipped = append(plan.Skipped, fp.Skipped...)
		plan.Offers = append(plan.Offers, fp.Offers...)
		for _, c := range fp.Changes {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			files, next, err := Apply(p.Families, work, c)
			if err != nil {
				n := family.Note{Family: c.Family(), Branch: c.Branch, Attr: c.Attr, Reason: "cannot apply: " + err.Error(), Err: err}
				plan.Held = append(plan.Held, n)
				continue
			}
			c.Files = ChangedFiles(files)
			plan.Changes = append(plan.Changes, c)
			work = next
			if p.Log != nil {
				p.Log.Debug("planned", "title", c.Title, "files", c.Files)
			}
		}
	}
	return plan, nil
}

// Apply makes change c to t with the family that made it, all or nothing:
// it returns the new content of every file c touches (the paths of c.Files,
// or of the files it changed when c.Files is empty) and the tree with them.
// On error t is as it was and the error names the change, the file, the line
// of the section searched and the anchor that was missing.
func Apply(reg family.Registry, t *family.Tree, c family.Change) (map[string][]byte, *family.Tree, error) {
	f := reg.Get(c.Family())
	if f == nil {
		return nil, nil, fmt.Errorf("%s: no kernel family %q", c.Title, c.Family())
	}
	edited, err := f.Apply(t, c)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.Title, err)
	}
	next := t.With(edited)
	for _, g := range reg.Present(next) {
		if err := g.Load(next); err != nil {
			return nil, nil, fmt.Errorf("%s: the edited tree does not read back: %w", c.Title, err)
		}
	}
	out := map[string][]byte{}
	for p, b := range edited {
		if !bytes.Equal(b, t.File(p)) || b == nil && t.Has(p) {
			out[p] = b
		}
	}
	for _, p := range c.Files {
		if !next.Has(p) {
			return nil, nil, fmt.Errorf("%s: lists %s, which the tree does not have", c.Title, p)
		}
		if _, ok := out[p]; !ok {
			out[p] = next.File(p)
		}
	}
	if len(c.Files) > 0 {
		for p := range out {
			if !slices.Contains(c.Files, p) {
				return nil, nil, fmt.Errorf("%s: changes %s, which the change does not list in Files %v", c.Title, p, c.Files)
			}
		}
	}
	return out, next, nil
}

// ChangedFiles lists the paths of files, sorted: the Files of a change.
func ChangedFiles(files map[string][]byte) []string {
	return slices.Sorted(maps.Keys(files))
}

// Propose turns the requests maintainers made (kupdate propose) into a plan
// of their changes, each made by the family that keeps its attribute
// (family.Proposer) and applied to a copy of t as Plan applies its
// changes. A request no family keeps the attribute of, or that its family
// refuses, or whose change does not apply, is an error (a
// *family.RefusedError for the first two): nothing of the plan is to be
// written.
func (p *Planner) Propose(ctx context.Context, t *family.Tree, reqs []family.Request) (*family.Plan, error) {
	plan := &family.Plan{}
	work := t
	for _, r := range reqs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := p.propose(work, r)
		if err != nil {
			return nil, err
		}
		files, next, err := Apply(p.Families, work, c)
		if err != nil {
			return nil, fmt.Errorf("propose %s: %w", r, err)
		}
		c.Files = ChangedFiles(files)
		plan.Changes = append(plan.Changes, c)
		work = next
	}
	return plan, nil
}

// propose asks the families t carries, in registry order, for r's change.
func (p *Planner) propose(t *family.Tree, r family.Request) (family.Change, error) {
	if !family.ValidAttr(r.Attr) {
		return family.Change{}, family.Refuse(r, "%q is not a kernel attribute (want e.g. linux_6_12)", r.Attr)
	}
	for _, f := range p.Families.Present(t) {
		pr, ok := f.(family.Proposer)
		if !ok {
			continue
		}
		c, ok, err := pr.Propose(t, r)
		if err != nil || ok {
			return c, err
		}
	}
	return family.Change{}, family.Refuse(r, "%s is not a kernel this tree keeps (kupdate status lists them)", r.Attr)
}
