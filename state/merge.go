package state

import "slices"

// Merge is the state a cycle leaves: cur, the attributes and branches the
// cycle looked at, over prev, the state before it. notLooked says, for
// attributes of cur, why the cycle did not look at them:
//
//   - with a reason ("not selected by --only", "kept as proposed: …",
//     "held: …"), the attribute keeps prev's record but for what the
//     cycle read of the tree and the sources (its versions), and
//     NotChecked gives the reason;
//   - with "" (the cycle looked at its change but neither built nor
//     proposed it: its branch was kept as proposed or left alone), it keeps
//     prev's PR, build and upstream version where cur has none.
//
// A branch of prev that cur lacks stays while an attribute it carried is
// one the cycle did not look at (its PR is still what shows it). Without
// prev, cur is the state as it is.
func Merge(prev, cur *State, notLooked map[string]string) *State {
	if cur.OK {
		cur.LastSuccess = cur.End
	}
	if prev == nil {
		return cur
	}
	if !cur.OK {
		cur.LastSuccess = prev.LastSuccess
	}
	last := map[string]Attr{}
	for _, a := range prev.Attrs {
		last[a.Attr] = a
	}
	changed := map[string]bool{} // attributes with a change this cycle
	for _, a := range cur.Attrs {
		changed[a.Attr] = a.Change != nil
	}
	for i := range cur.Attrs {
		a := &cur.Attrs[i]
		l, ok := last[a.Attr]
		if ok && a.History == nil {
			a.History = slices.Clone(l.History)
		}
		if ok && a.Tiers == nil {
			a.Tiers = l.Tiers // the last build, until one replaces it
		}
		why, skipped := notLooked[a.Attr]
		if !ok || !skipped {
			continue
		}
		*a = keepLast(*a, l, why)
	}
	cur.Branches = append(cur.Branches, carriedBranches(prev, cur, changed, notLooked)...)
	return cur
}

// keepLast is a, the record of an attribute the cycle did not look at,
// completed from l, its last record.
func keepLast(a, l Attr, why string) Attr {
	if a.PR == nil {
		a.PR = l.PR
	}
	if a.Build == "" {
		a.Build = l.Build
	}
	if a.Upstream == "" {
		a.Upstream = l.Upstream
	}
	if why == "" {
		return a
	}
	a.Checked, a.Result, a.NotChecked = l.Checked, l.Result, why
	if l.Standing != "" {
		a.Standing = l.Standing // it goes with the result
	}
	if a.Change == nil {
		a.Change = l.Change
	}
	return a
}

// carriedBranches are prev's branches cur lacks that carry an attribute
// the cycle did not look at, with a reason.
func carriedBranches(prev, cur *State, changed map[string]bool, notLooked map[string]string) []Branch {
	var out []Branch
	for _, b := range prev.Branches {
		if slices.ContainsFunc(cur.Branches, func(x Branch) bool { return x.Name == b.Name }) {
			continue
		}
		if slices.ContainsFunc(prev.Attrs, func(a Attr) bool {
			return a.Change != nil && a.Change.Branch == b.Name && notLooked[a.Attr] != "" && !changed[a.Attr]
		}) {
			out = append(out, b)
		}
	}
	return out
}
