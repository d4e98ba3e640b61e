package state

import (
	"slices"
	"time"
)

// HistoryLen is how many versions an attribute's History keeps: about a
// quarter of a stable branch's point releases, enough for the lag chart of
// the last weeks, and a state file that stays small.
const HistoryLen = 12

// Release is one upstream version of an attribute on its way into nixpkgs:
// when kernel.org released it, when kupdate first proposed it, when it
// reached the base branch and then the promotion target. A zero time is
// "not yet" (or not seen: the first cycle does not know when a version
// already at the base got there).
type Release struct {
	Version  string    `json:"version"`
	Released time.Time `json:"released,omitzero"` // kernel.org's release time (releases.json)
	Proposed time.Time `json:"proposed,omitzero"` // the first cycle whose PR carried it (opened or updated)
	PR       *PR       `json:"pr,omitempty"`      // the PR that carried it
	Merged   time.Time `json:"merged,omitzero"`   // the first cycle that found it at the base branch
	Promoted time.Time `json:"promoted,omitzero"` // the first promotion step that found it in the target
}

// Note finds version v in a's History, adding it when it is new (oldest
// first, at most HistoryLen kept), and lets set fill in what is known.
// It returns whether v was already there.
func (a *Attr) Note(v string, set func(*Release)) (known bool) {
	i := slices.IndexFunc(a.History, func(x Release) bool { return x.Version == v })
	if i < 0 {
		a.History = append(a.History, Release{Version: v})
		i = len(a.History) - 1
	} else {
		known = true
	}
	set(&a.History[i])
	if n := len(a.History); n > HistoryLen {
		a.History = slices.Delete(a.History, 0, n-HistoryLen)
	}
	return known
}

// Find is the record of version v in a's History, nil when it has none.
func (a *Attr) Find(v string) *Release {
	for i := range a.History {
		if a.History[i].Version == v {
			return &a.History[i]
		}
	}
	return nil
}
