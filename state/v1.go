package state

import (
	"encoding/json"
	"strings"
	"time"
)

// v1 is state.json as kupdate wrote it before the per-attribute records: a
// row per attribute for the status page, the cycle's changes, and a PR per
// branch. An upgrade reads it, so that no operator loses a PR link.
type v1 struct {
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	BaseBranch string    `json:"base_branch"`
	Base       string    `json:"base"`
	Source     string    `json:"source"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	Branches   []struct {
		Branch    string    `json:"branch"`
		Attr      string    `json:"attr"`
		Nixpkgs   string    `json:"nixpkgs"`
		KernelOrg string    `json:"kernel_org"`
		PR        *PR       `json:"pr"`
		Build     string    `json:"build"`
		CheckedAt time.Time `json:"checked_at"`
		Reason    string    `json:"reason"`
	} `json:"branches"`
	Changes []struct {
		Title   string `json:"title"`
		Kind    string `json:"kind"`
		Attr    string `json:"attr"`
		Branch  string `json:"branch"`
		Outcome string `json:"outcome"`
		Error   string `json:"error,omitempty"`
	} `json:"changes"`
	PRs        []Branch    `json:"prs"`
	Promotions []Promotion `json:"promotions,omitempty"`
}

// notCheckedV1 is how version 1 said a row was an earlier cycle's, at the
// end of its reason.
const notCheckedV1 = " (not checked this cycle: "

func fromV1(b []byte) (*State, error) {
	var o v1
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, err
	}
	st := &State{Version: Version, Start: o.Start, End: o.End, BaseBranch: o.BaseBranch, Base: o.Base, Source: o.Source,
		OK: o.OK, Error: o.Error, Branches: o.PRs, Promotions: o.Promotions}
	if st.OK {
		st.LastSuccess = st.End
	}
	for _, r := range o.Branches {
		a := Attr{Attr: r.Attr, Branch: r.Branch, Nixpkgs: r.Nixpkgs, Upstream: r.KernelOrg, Checked: r.CheckedAt, PR: r.PR, Build: r.Build, Result: r.Reason}
		if res, why, ok := strings.Cut(r.Reason, notCheckedV1); ok {
			a.Result, a.NotChecked = res, strings.TrimSuffix(why, ")")
		}
		for _, c := range o.Changes {
			if c.Attr == r.Attr {
				a.Change = &Change{Title: c.Title, Kind: c.Kind, Outcome: Outcome(c.Outcome), Branch: c.Branch, Error: c.Error}
			}
		}
		st.Attrs = append(st.Attrs, a)
	}
	return st, nil
}
