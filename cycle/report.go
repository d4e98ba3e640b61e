package cycle

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
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

// Outcome is what became of c (see Outcome's constants).
func (c *ChangeResult) Outcome() Outcome { return outcomeOf(c) }

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
