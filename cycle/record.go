package cycle

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/state"
	"github.com/kupdate/kupdate/workflow"
)

// record is the state a finished cycle leaves, before it is merged over
// the last one (state.Merge): a record per attribute it knows of, its
// branches and the promotions.
func record(rep *Report) *state.State {
	st := &state.State{Version: state.Version, Start: rep.Start, End: rep.End, BaseBranch: rep.BaseBranch, Base: rep.Base, Source: rep.Source, OK: true}
	if err := rep.Err(); err != nil {
		st.OK, st.Error = false, err.Error()
	}
	for _, b := range rep.Branches {
		st.Branches = append(st.Branches, state.Branch{Name: b.Name, Head: b.Head, Push: string(b.Push), PR: prRef(b)})
	}
	st.Attrs = attrRecords(rep.families, rep.tree, rep.offers, rep, rep.End)
	for _, p := range rep.Promotions {
		st.Promotions = append(st.Promotions, promotionRecord(p))
	}
	st.Suggestions = suggestions(rep.families, rep.tree)
	return st
}

// suggestions are what the families of t advise a maintainer to ask for.
func suggestions(reg family.Registry, t *family.Tree) []state.Suggestion {
	if t == nil {
		return nil
	}
	var out []state.Suggestion
	for _, f := range reg.Present(t) {
		if s, ok := f.(family.Suggester); ok {
			for _, sg := range s.Suggest(t) {
				out = append(out, state.Suggestion{Family: sg.Family, Attr: sg.Request.Attr, Reason: sg.Reason, Command: sg.Command()})
			}
		}
	}
	return out
}

// prRef is the branch's PR as the cycle left it: as GitHub reported it when
// the cycle synced it, else as the cycle found it.
func prRef(b *BranchResult) *state.PR {
	if b == nil {
		return nil
	}
	switch {
	case b.PR != nil && b.PR.Number != 0:
		return &state.PR{Number: b.PR.Number, URL: b.PR.URL, State: syncedState(b.PR)}
	case b.Found != nil:
		return &state.PR{Number: b.Found.Number, URL: b.Found.URL, State: foundState(b.Found)}
	}
	return nil
}

// syncedState is the state of a PR the cycle synced.
func syncedState(r *workflow.PRResult) state.PRState {
	switch {
	case r.Merge == workflow.Merged, r.Outcome == workflow.AlreadyMerged:
		return state.Merged
	case r.Outcome == workflow.Declined:
		return state.Closed
	case r.Draft:
		return state.Draft
	}
	return state.Open
}

// foundState is the state of a PR as GitHub has it.
func foundState(pr *workflow.PullRequest) state.PRState {
	switch {
	case pr.Merged:
		return state.Merged
	case pr.State == "open" && pr.Draft:
		return state.Draft
	}
	return state.PRState(pr.State)
}

func promotionRecord(p workflow.PromoteResult) state.Promotion {
	ps := state.Promotion{From: p.From, To: p.To, Ahead: p.Ahead, Outcome: string(p.Outcome), Reason: p.Reason}
	if p.Err != nil {
		ps.Outcome, ps.Reason = "failed", concise(p.Err.Error())
	}
	if p.Number != 0 {
		st := state.Open
		switch p.Outcome {
		case workflow.Merged:
			st = state.Merged
		case workflow.Declined:
			st = state.Closed
		}
		ps.PR = &state.PR{Number: p.Number, URL: p.URL, State: st}
	}
	return ps
}

// attrRecords is one record per kernel attribute: those the tree's families
// keep, what their sources offer beyond them (a new branch), and what the
// cycle changed (rep, nil when there was no cycle).
func attrRecords(reg family.Registry, tree *family.Tree, offers []family.Offer, rep *Report, at time.Time) []state.Attr {
	rs := newRecords(at)
	up := map[string]string{}
	for _, o := range offers {
		up[o.Attr] = o.Version
	}
	if tree != nil {
		for _, a := range reg.Attrs(tree) {
			rs.add(a.Family, a.Branch, a.Name, a.Version, up[a.Name])
		}
	}
	for _, o := range offers {
		// An offer only a tree that has the attribute cares about
		// (testing) is shown without a tree (none read yet), or with one
		// that has it.
		if !rs.has(o.Attr) && (!o.IfCarried || tree == nil) {
			rs.add(o.Family, o.Branch, o.Attr, "", o.Version)
		}
	}
	if rep != nil {
		for _, ch := range rep.Changes {
			rs.change(ch, rep.DryRun)
		}
		// A note explains the records of its family's branch that no
		// change explains.
		for _, n := range rep.Held {
			rs.note(n, state.Work)
		}
		for _, n := range rep.Skipped {
			rs.note(n, state.Left)
		}
	}
	return rs.list()
}

// records are attribute records being made, in the order they were added.
type records struct {
	at    time.Time
	by    map[string]*state.Attr
	order []string
}

func newRecords(at time.Time) *records { return &records{at: at, by: map[string]*state.Attr{}} }

func (rs *records) has(attr string) bool { _, ok := rs.by[attr]; return ok }

func (rs *records) add(fam, branch, attr, nixpkgs, upstream string) *state.Attr {
	if r, ok := rs.by[attr]; ok {
		return r
	}
	r := &state.Attr{Attr: attr, Family: fam, Branch: branch, Nixpkgs: nixpkgs, Upstream: upstream, Checked: rs.at}
	rs.by[attr] = r
	rs.order = append(rs.order, attr)
	return r
}

// change records what became of a planned change.
func (rs *records) change(ch *ChangeResult, dry bool) {
	c := ch.Change
	r := rs.add(c.Family(), c.Branch, c.Attr, "", "")
	if r.Upstream == "" {
		r.Upstream = c.To
	}
	r.PR, r.Build = prRef(ch.Branch), ch.BuildStatus()
	r.Result = c.Title + ": " + describe(ch, dry)
	r.Standing = state.Work
	if c.Removes() {
		r.Standing = state.Removing
	}
	r.Change = &state.Change{Title: c.Title, Kind: string(c.Kind), Outcome: state.Outcome(ch.Outcome()), Error: changeError(ch)}
	if ch.Branch != nil {
		r.Change.Branch = ch.Branch.Name
	}
}

// changeError is why a change did not reach an up-to-date PR, "" when it
// did.
func changeError(ch *ChangeResult) string {
	switch b := ch.Branch; {
	case ch.Err != nil:
		return ch.Err.Error()
	case ch.Wait != "":
		return ch.Wait
	case b != nil && b.Err != nil:
		return b.Err.Error()
	case b != nil && b.PR != nil && b.PR.Err != nil:
		return b.PR.Err.Error()
	}
	return ""
}

// note explains with n the records of its family's branch (its attribute,
// when it names one) that nothing explains yet.
func (rs *records) note(n family.Note, st state.Standing) {
	for _, attr := range rs.order {
		r := rs.by[attr]
		if r.Branch == n.Branch && r.Result == "" && r.Family == n.Family && (n.Attr == "" || n.Attr == attr) {
			r.Result, r.Standing = n.Reason, st
		}
	}
}

// list is the records, "up to date" where nothing else is said, sorted.
func (rs *records) list() []state.Attr {
	out := make([]state.Attr, 0, len(rs.order))
	for _, attr := range rs.order {
		r := rs.by[attr]
		if r.Result == "" {
			r.Result = "up to date"
		}
		if r.Standing == "" {
			r.Standing = standing(r)
		}
		out = append(out, *r)
	}
	sortAttrs(out)
	return out
}

// standing is where a record no change or note explained stands: had
// kupdate work to do there, one would. Packaged, it is current (its source
// offers nothing newer, or nothing kupdate reads); not packaged, kupdate
// does not add it.
func standing(r *state.Attr) state.Standing {
	if r.Nixpkgs != "" {
		return state.Current
	}
	return state.Left
}

// sortAttrs orders records by branch (5.10 < 6.1 < 6.12, testing last),
// then attribute.
func sortAttrs(as []state.Attr) {
	sort.SliceStable(as, func(i, j int) bool {
		if c := kernelorg.CompareSeries(as[i].Branch, as[j].Branch); c != 0 {
			return c < 0
		}
		return as[i].Attr < as[j].Attr
	})
}

// notLooked is, per attribute of st, why this cycle did not look at it:
// "" when it looked at its change but neither built nor proposed it (its
// branch was kept as proposed or left alone), so only its build and PR are
// the earlier ones. It is what state.Merge keeps of the last state.
func notLooked(rep *Report, st *state.State) map[string]string {
	why := map[string]string{}
	set := func(attr, w string) {
		if _, ok := why[attr]; !ok {
			why[attr] = w
		}
	}
	for _, br := range rep.Branches {
		for _, w := range br.Kept {
			if w.Only {
				set(w.Attr, notSelected)
			} else {
				set(w.Attr, "kept as proposed: "+concise(w.Reason))
			}
		}
	}
	inCycle := map[string]bool{}
	for _, ch := range rep.Changes {
		inCycle[ch.Change.Attr] = true
		if b := ch.Branch; b != nil && (len(b.Kept) > 0 || b.Push == gitops.SkippedForeign) {
			set(ch.Change.Attr, "")
		}
	}
	for _, a := range st.Attrs {
		if n, ok := heldBy(rep, a.Attr); ok && !inCycle[a.Attr] {
			set(a.Attr, "held: "+concise(n.Err.Error()))
		}
		if len(rep.Only) > 0 && !slices.Contains(rep.Only, a.Attr) {
			set(a.Attr, notSelected)
		}
	}
	return why
}

// heldBy is the failure that held attr's change back this cycle: its own,
// or its family's source's.
func heldBy(rep *Report, attr string) (family.Note, bool) {
	for _, n := range rep.Held {
		if n.Err != nil && (n.Attr == attr || n.SourceFailure() && rep.owner[attr] == n.Family) {
			return n, true
		}
	}
	return family.Note{}, false
}

// notSelected is why an attribute --only left out was not looked at, in
// the log, the summary and the state alike.
const notSelected = "not selected by --only"

// concise is the first line of a reason, at most 120 bytes: the full text
// is in the cycle's summary and log once.
func concise(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:120], "") + "…"
	}
	return s
}
