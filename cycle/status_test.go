package cycle_test

import (
	"context"
	"testing"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// Status is the last cycle's state with what is live now: kernel.org's
// versions, the tree's, the PRs' states on GitHub. It writes nothing.
func TestStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st, errs := f.cycle(dryRun).Status(context.Background())
	if len(errs) != 1 || errs[0].Error() != "no managed clone at "+f.cache+"/nixpkgs.git yet: run a cycle first (kupdate run)" {
		t.Errorf("status before any cycle: %v", errs)
	}
	if st == nil || len(st.Branches) == 0 {
		t.Errorf("status before any cycle has no branches: %+v", st)
	}
	c := f.cycle()
	if _, err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}))
	must(t, f.gh.ClosePR("NixOS", "nixpkgs", 2))
	f.gh.ResetRequests()
	st, errs = f.cycle(dryRun).Status(context.Background())
	if errs != nil {
		t.Fatal(errs)
	}
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes: %v", w)
	}
	b, err := cycle.MarshalState(st)
	must(t, err)
	got := f.stable(string(b))
	golden(t, "status.json", stableHeads(f, got))
	if rows := c.Branches(); len(rows) != len(st.Branches) {
		t.Errorf("Branches() has %d rows, Status %d", len(rows), len(st.Branches))
	}
}

func stableHeads(f *fixture, s string) string {
	rep := &cycle.Report{}
	for name, sha := range f.forkBranches() {
		rep.Branches = append(rep.Branches, &cycle.BranchResult{Name: name, Head: sha})
	}
	// Deterministic names: by branch name.
	if len(rep.Branches) == 2 && rep.Branches[0].Name != rolling {
		rep.Branches[0], rep.Branches[1] = rep.Branches[1], rep.Branches[0]
	}
	return stableCommits(rep, s)
}
