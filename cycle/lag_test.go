package cycle

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/state"
	"github.com/kupdate/kupdate/workflow"
)

type lagMetrics struct{ got []string }

func (*lagMetrics) ObserveChange(kind, outcome string) {}
func (*lagMetrics) ObserveBuild(tier, status string)   {}
func (*lagMetrics) ObservePromotion(outcome string)    {}
func (m *lagMetrics) ObserveLag(stage string, d time.Duration) {
	m.got = append(m.got, fmt.Sprintf("%s %s", stage, d))
}

// A version's way, cycle after cycle: released (the base lacks it),
// proposed in a PR, found at the base, promoted; each stage once, timed
// from kernel.org's release, and the history bounded.
func TestLagHistory(t *testing.T) {
	cfg := config.Default()
	m := &lagMetrics{}
	c := &Cycle{cfg: &cfg, o: Options{Metrics: m}}
	rel := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	offer := []family.Offer{{Attr: "linux_6_12", Branch: "6.12", Version: "6.12.65", Released: rel}}
	attr := func(nixpkgs string, prev *state.State) *state.State {
		cur := &state.State{Attrs: []state.Attr{{Attr: "linux_6_12", Branch: "6.12", Nixpkgs: nixpkgs, Upstream: "6.12.65"}}}
		return state.Merge(prev, cur, nil)
	}
	pr := &BranchResult{Name: "kupdate/staging-nixos/updates", PR: &workflow.PRResult{Number: 7, URL: "https://github.com/NixOS/nixpkgs/pull/7", Outcome: workflow.Opened}}
	carried := []*ChangeResult{{Change: family.Change{Attr: "linux_6_12", To: "6.12.65"}, Branch: pr}}

	// 1: released, the PR is not there yet (say the checksum waited).
	t1 := rel.Add(2 * time.Hour)
	st := attr("6.12.64", nil)
	c.history(st, &Report{offers: offer}, t1)
	// 2: proposed in #7; twice does not move the time.
	t2 := rel.Add(5 * time.Hour)
	st = attr("6.12.64", st)
	c.history(st, &Report{offers: offer, Changes: carried}, t2)
	st = attr("6.12.64", st)
	c.history(st, &Report{offers: offer, Changes: carried}, t2.Add(time.Hour))
	// 3: at the base; the promotion to master is still open.
	t3 := rel.Add(30 * time.Hour)
	st = attr("6.12.65", st)
	c.history(st, &Report{offers: offer}, t3)
	c.promoted(st, []workflow.PromoteResult{{From: "staging-nixos", To: "master", Outcome: workflow.Open}}, t3)
	// 4: the promotion merged.
	t4 := rel.Add(50 * time.Hour)
	c.promoted(st, []workflow.PromoteResult{{From: "staging-nixos", To: "master", Outcome: workflow.Merged}}, t4)
	c.promoted(st, []workflow.PromoteResult{{From: "staging-nixos", To: "master", Outcome: workflow.UpToDate}}, t4.Add(time.Hour))

	want := []state.Release{{Version: "6.12.65", Released: rel, Proposed: t2,
		PR: &state.PR{Number: 7, URL: "https://github.com/NixOS/nixpkgs/pull/7", State: state.Merged}, Merged: t3, Promoted: t4}}
	if diff := cmp.Diff(want, st.Attrs[0].History); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"proposed 5h0m0s", "merged 30h0m0s", "promoted 50h0m0s"}, m.got); diff != "" {
		t.Errorf("lag observed (-want +got):\n%s", diff)
	}

	// A version already at the base the first time kupdate looks gets no
	// made-up times; the history keeps the last state.HistoryLen versions.
	st = attr("6.12.65", nil)
	c.history(st, &Report{offers: offer}, t4)
	if h := st.Attrs[0].History; h != nil {
		t.Errorf("history of a version found at the base: %+v", h)
	}
	a := &state.Attr{}
	for i := range state.HistoryLen + 3 {
		a.Note(fmt.Sprintf("6.12.%d", i), func(*state.Release) {})
	}
	if n, first := len(a.History), a.History[0].Version; n != state.HistoryLen || first != "6.12.3" {
		t.Errorf("history of %d versions, first %s; want %d, first 6.12.3", n, first, state.HistoryLen)
	}
}
