package cycle

import (
	"fmt"
	"slices"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/workflow"
)

// Outcome is what became of a change in a cycle: the cycle's own word for
// a change that did not reach its pull request, else the PR's outcome
// (workflow.Outcome), or, in a PR that got new commits, what they did to
// this change. It is one vocabulary with one phrase table (phrases).
type Outcome string

const (
	Failed     Outcome = "failed"      // left out: it did not apply, parse or evaluate
	Waiting    Outcome = "waiting"     // it builds on another branch's change not merged yet
	Skipped    Outcome = "skipped"     // someone else's commits are on its branch
	Kept       Outcome = "kept"        // its branch stays as proposed
	PushFailed Outcome = "push-failed" // the push was refused or lost its lease
	Stopped    Outcome = "stopped"     // the cycle stopped before its PR
	PRFailed   Outcome = "pr-failed"   // the PR could not be brought up to date

	// What a PR's new commits did to a change.
	Added       Outcome = "added"                       // new to the PR
	WouldAdd    Outcome = "would-add"                   // dry run: would be new to the PR
	Updated             = Outcome(workflow.Updated)     // the PR had another version of it
	WouldUpdate         = Outcome(workflow.WouldUpdate) // dry run
	Unchanged           = Outcome(workflow.Unchanged)   // the PR had this very commit
)

// outcomeOf is what became of c, from what its branch did: the decision
// rule behind the summary's OUTCOME column and state.json.
func outcomeOf(c *ChangeResult) Outcome {
	b := c.Branch
	switch {
	case c.Err != nil:
		return Failed
	case c.Wait != "":
		return Waiting
	case b == nil:
		return Failed
	case b.Push == gitops.SkippedForeign:
		return Skipped
	case len(b.Kept) > 0:
		return Kept
	case b.PR == nil && b.Err != nil:
		return PushFailed
	case b.PR == nil:
		return Stopped
	case b.PR.Err != nil:
		return PRFailed
	}
	if o := b.PR.Outcome; o != workflow.Updated && o != workflow.WouldUpdate || b.previous == nil ||
		b.Push != gitops.Pushed && b.Push != gitops.WouldPush {
		return Outcome(b.PR.Outcome)
	}
	return newCommitOutcome(c.Change, b)
}

// newCommitOutcome says what a PR's new commits did to change c, from what
// the fork's branch held before (by Key, never by title).
func newCommitOutcome(c family.Change, b *BranchResult) Outcome {
	dry := b.Push == gitops.WouldPush
	had := func(k family.Key) bool {
		return slices.ContainsFunc(b.previous, func(p gitops.Proposed) bool { return p.Key == k })
	}
	switch {
	case had(c.Key):
		if !slices.ContainsFunc(b.Changes, func(o family.Change) bool { return !had(o.Key) }) {
			// The same changes on a new base: the PR as a whole was updated.
			return Outcome(b.PR.Outcome)
		}
		return Unchanged
	case slices.ContainsFunc(b.previous, func(p gitops.Proposed) bool { return p.Key.Attr == c.Attr }):
		if dry {
			return WouldUpdate
		}
		return Updated
	case dry:
		return WouldAdd
	}
	return Added
}

// column is how the summary's OUTCOME column says o: a dry run's
// intentions read as such.
func (o Outcome) column() string {
	switch o {
	case Outcome(workflow.WouldOpen):
		return "would be opened"
	case WouldUpdate:
		return "would be updated"
	case WouldAdd:
		return "would be added"
	}
	return string(o)
}

// phrases say, per outcome, what became of a change in words: its status
// row's last result. would is "would be " in a dry run.
var phrases = map[Outcome]func(ch *ChangeResult, would string) string{
	Failed: func(ch *ChangeResult, _ string) string {
		if ch.Err != nil {
			return "failed: " + ch.Err.Error()
		}
		return "failed"
	},
	Waiting:                     func(ch *ChangeResult, _ string) string { return "waits: " + ch.Wait },
	Skipped:                     func(ch *ChangeResult, _ string) string { return "left alone: " + ch.Branch.Err.Error() },
	PushFailed:                  func(ch *ChangeResult, _ string) string { return "not pushed: " + ch.Branch.Err.Error() },
	PRFailed:                    func(ch *ChangeResult, _ string) string { return "PR not synced: " + ch.Branch.PR.Err.Error() },
	Stopped:                     func(*ChangeResult, string) string { return "the cycle stopped before its PR" },
	Kept:                        func(ch *ChangeResult, _ string) string { return "kept as proposed: " + keptReason(ch.Branch) },
	Outcome(workflow.Opened):    opened,
	Outcome(workflow.WouldOpen): opened,
	Updated: func(ch *ChangeResult, would string) string {
		return fmt.Sprintf("PR #%d %supdated", ch.Branch.PR.Number, would)
	},
	WouldUpdate: func(ch *ChangeResult, would string) string {
		return fmt.Sprintf("PR #%d %supdated", ch.Branch.PR.Number, would)
	},
	Added: func(ch *ChangeResult, _ string) string { return fmt.Sprintf("added to PR #%d", ch.Branch.PR.Number) },
	WouldAdd: func(ch *ChangeResult, _ string) string {
		return fmt.Sprintf("would be added to PR #%d", ch.Branch.PR.Number)
	},
	Unchanged: func(ch *ChangeResult, _ string) string {
		if ch.Branch.PR.Merge == workflow.Merged {
			return fmt.Sprintf("merged in #%d", ch.Branch.PR.Number)
		}
		return fmt.Sprintf("PR #%d up to date", ch.Branch.PR.Number)
	},
	Outcome(workflow.Declined):      func(ch *ChangeResult, _ string) string { return ch.Branch.PR.Reason },
	Outcome(workflow.AlreadyMerged): func(ch *ChangeResult, _ string) string { return fmt.Sprintf("merged in #%d", ch.Branch.PR.Number) },
}

func opened(ch *ChangeResult, would string) string {
	if ch.Branch.PR.Number == 0 {
		return "PR " + would + "opened"
	}
	return fmt.Sprintf("PR #%d %sopened", ch.Branch.PR.Number, would)
}

// describe is what became of a change, in words.
func describe(ch *ChangeResult, dry bool) string {
	would := ""
	if dry {
		would = "would be "
	}
	o := ch.Outcome()
	if p, ok := phrases[o]; ok {
		return p(ch, would)
	}
	return string(o)
}
