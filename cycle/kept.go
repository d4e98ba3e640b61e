package cycle

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
)

// A change that could not be verified again this cycle must never make
// kupdate withdraw a commit it already proposed: a 502 from linux-hardened's
// release listing, or a checksum list whose signature does not verify,
// would otherwise force-push the rolling branch without the commits of that
// source, rewrite its PR and restart its CI, and the security bumps already
// proposed would be gone until the next cycle puts them back. So a rolling
// branch that would lose such a commit is kept exactly as it is (branch,
// PR, status) until every change it holds verifies again. The simpler of
// the two ways out: carrying the fork's commit forward would mean
// re-applying content this cycle could not check on top of content it did.

// Withheld is a commit of the fork's branch that the branch as rebuilt
// this cycle would have withdrawn, for a reason that is not the commit's
// own: its change could not be verified again (its source failed, or has
// not published the next version yet, or the change failed this cycle), or
// --only left it out. The branch is then kept as it is.
type Withheld struct {
	Title  string // the commit's title on the fork
	Attr   string
	Reason string
	Held   bool // the reason is a held change (not a change that failed)
	Only   bool // left out by --only
}

// keptCommits is the kept rule: the commits of the fork's branch (prev,
// kupdate's, oldest first) that the branch as rebuilt (holding the
// attributes in) would withdraw for a reason that is not theirs, as why
// says. A commit that is missing for a reason of its own is not withheld:
// the base has caught up with it (ahead says it is not ahead of the base
// any more: its PR merged, the same bump made by hand) or dropped its
// kernel; a commit that says nothing kupdate can read is not either.
func keptCommits(prev []gitops.Proposed, in map[string]bool, why func(family.Key) (Withheld, bool), ahead func(family.Key) bool) []Withheld {
	var out []Withheld
	for _, cm := range prev {
		k := cm.Key
		if k.IsZero() || in[k.Attr] || !ahead(k) {
			continue
		}
		if w, ok := why(k); ok {
			w.Title = cm.Title
			out = append(out, w)
		}
	}
	return out
}

// unverified says why a proposed change could not be (re)verified this
// cycle: the plan held it (its source has not published the next version,
// or failed), its family's whole source failed, it failed this cycle
// (failed: by attribute), or --only left it out. nil when every change
// could be.
func unverified(held []family.Note, failed map[string]error, only []string) func(k family.Key) (Withheld, bool) {
	reasons := map[string]string{}
	isHeld := map[string]bool{}
	sources := map[string]string{} // family -> why its source failed
	for _, n := range held {
		r := n.Reason
		if n.Err != nil {
			r = n.Err.Error()
		}
		switch {
		case n.Attr != "":
			if _, ok := reasons[n.Attr]; !ok {
				reasons[n.Attr], isHeld[n.Attr] = r, true
			}
		case n.SourceFailure():
			sources[n.Family] = r
		}
	}
	for attr, err := range failed {
		reasons[attr] = err.Error()
		isHeld[attr] = false
	}
	if len(reasons) == 0 && len(sources) == 0 && len(only) == 0 {
		return nil
	}
	return func(k family.Key) (Withheld, bool) {
		switch r, ok := reasons[k.Attr]; {
		case len(only) > 0 && !slices.Contains(only, k.Attr):
			return Withheld{Attr: k.Attr, Reason: notSelected, Only: true}, true
		case ok:
			return Withheld{Attr: k.Attr, Reason: r, Held: isHeld[k.Attr]}, true
		case sources[k.Family] != "":
			return Withheld{Attr: k.Attr, Reason: sources[k.Family], Held: true}, true
		}
		return Withheld{}, false
	}
}

// onlyKept says which proposed commits of a branch --only left out, which
// is why the branch stays as proposed: what --only asks for, not a failure.
func onlyKept(kept []Withheld) string {
	var attrs []string
	for _, w := range kept {
		if w.Only {
			attrs = append(attrs, w.Attr)
		}
	}
	return fmt.Sprintf("%s %s (run without --only to update the branch)", strings.Join(attrs, ", "), notSelected)
}

// keptNotes are the summary lines of a kept branch: one for what --only
// would drop, one for the commits that could not be verified again, with
// their reason when they share one (else the "held:" and "failed:" lines
// say).
func keptNotes(br *BranchResult) []string {
	var notes []string
	if br.KeptByOnly() {
		notes = append(notes, fmt.Sprintf("kept: %s: %s; the branch stays as proposed", br.Name, onlyKept(br.Kept)))
	}
	var attrs, reasons []string
	held, failed := false, false
	for _, w := range br.Kept {
		if w.Only {
			continue
		}
		attrs = append(attrs, w.Attr)
		if !slices.Contains(reasons, w.Reason) {
			reasons = append(reasons, w.Reason)
		}
		held, failed = held || w.Held, failed || !w.Held
	}
	if len(attrs) == 0 {
		return notes
	}
	why := reasons[0]
	switch {
	case len(reasons) == 1:
	case held && failed:
		why = `see "failed:" and "held:"`
	case held:
		why = `see "held:" below`
	default:
		why = `see "failed:" above`
	}
	return append(notes, fmt.Sprintf("kept: %s: %s could not be re-verified this cycle (%s); the branch stays as proposed", br.Name, strings.Join(attrs, ", "), why))
}

// keptReason is why a branch was kept, in a line: the attributes that could
// not be verified again and why.
func keptReason(br *BranchResult) string {
	// Attributes that share a reason (one failed source) say it once.
	var reasons []string
	attrs := map[string][]string{}
	for _, w := range br.Kept {
		if w.Only {
			continue
		}
		if _, ok := attrs[w.Reason]; !ok {
			reasons = append(reasons, w.Reason)
		}
		attrs[w.Reason] = append(attrs[w.Reason], w.Attr)
	}
	var parts []string
	if br.KeptByOnly() {
		parts = append(parts, onlyKept(br.Kept))
	}
	for _, r := range reasons {
		parts = append(parts, strings.Join(attrs[r], ", ")+" could not be re-verified ("+concise(r)+")")
	}
	return strings.Join(parts, "; ")
}

// OnlyError is an --only that names an attribute neither the tree nor
// kernel.org has: a mistyped attribute would otherwise select nothing and
// look like "nothing to do".
type OnlyError struct {
	Unknown []string // the --only attributes nobody knows
	Known   []string // the attributes the tree and kernel.org have, sorted
}

func (e *OnlyError) Error() string {
	return fmt.Sprintf("--only %s: not a kernel attribute of the tree or of kernel.org's branches (known: %s)",
		strings.Join(e.Unknown, ", "), strings.Join(e.Known, ", "))
}

// checkOnly refuses an --only attribute that is neither in the tree (the
// attributes its families keep) nor offered by a family's source, nor
// planned.
func checkOnly(only []string, reg family.Registry, tree *family.Tree, pl *family.Plan) error {
	if len(only) == 0 {
		return nil
	}
	known := map[string]bool{}
	for attr := range owners(reg, tree, pl) {
		known[attr] = true
	}
	var unknown []string
	for _, a := range only {
		if !known[a] {
			unknown = append(unknown, a)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return &OnlyError{Unknown: unknown, Known: slices.Sorted(maps.Keys(known))}
}

// owners is the family of every attribute the tree has, a source offers or
// the plan changes.
func owners(reg family.Registry, tree *family.Tree, pl *family.Plan) map[string]string {
	out := map[string]string{}
	for _, a := range reg.Attrs(tree) {
		out[a.Name] = a.Family
	}
	for _, o := range pl.Offers {
		if _, ok := out[o.Attr]; !ok {
			out[o.Attr] = ""
		}
	}
	for _, ch := range pl.Changes {
		out[ch.Attr] = ch.Family()
	}
	return out
}

// selected are the held notes of the --only attributes (all without
// --only); a failure of a whole source concerns them when one of them is
// of its family (or of no family known).
func selected(only []string, owner map[string]string, held []family.Note) []family.Note {
	if len(only) == 0 {
		return held
	}
	var out []family.Note
	for _, n := range held {
		switch {
		case n.Attr != "" && slices.Contains(only, n.Attr):
		case n.Attr == "" && slices.ContainsFunc(only, func(a string) bool { f, ok := owner[a]; return !ok || f == n.Family }):
		default:
			continue
		}
		out = append(out, n)
	}
	return out
}
