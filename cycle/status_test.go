package cycle_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/state"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/cycle"
	hfamily "github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/workflow/githubtest"
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
	if st == nil || len(st.Attrs) == 0 {
		t.Errorf("status before any cycle has no records: %+v", st)
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
	b, err := state.Marshal(st)
	must(t, err)
	got := f.stable(string(b))
	golden(t, "status.json", stableHeads(f, got))
	if last := c.State(); last == nil || len(last.Attrs) != len(st.Attrs) {
		t.Errorf("State() is %+v; Status has %d records", last, len(st.Attrs))
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

// A PR the cycle merges is recorded merged in state.json, not open; a PR
// it opened as a draft and left unchanged is still recorded a draft (#2),
// one a person marked ready and it merged is not.
func TestStateRecordsMerge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run()
	must(t, f.gh.SetDraft("NixOS", "nixpkgs", 1, false))
	must(t, f.gh.Review("NixOS", "nixpkgs", 1, "maintainer", "APPROVED"))
	f.cfg.GitHub.Merge = true
	rep := f.run()
	if m := rep.Branches[0].PR.Merge; m != "merged" {
		t.Fatalf("merge of #1: %q", m)
	}
	st, err := state.Read(f.cache)
	must(t, err)
	var got []string
	for _, p := range st.Branches {
		got = append(got, fmt.Sprintf("%s #%d %s", p.Name, p.PR.Number, p.PR.State))
	}
	for _, a := range st.Attrs {
		if a.Change != nil && a.PR != nil {
			got = append(got, fmt.Sprintf("%s: #%d %s", a.Change.Title, a.PR.Number, a.PR.State))
		}
	}
	for _, b := range st.Attrs {
		if b.PR != nil {
			got = append(got, fmt.Sprintf("%s: #%d %s: %s", b.Attr, b.PR.Number, b.PR.State, b.Reason()))
		}
	}
	want := []string{
		"kupdate/staging-nixos/updates #1 merged",
		"kupdate/staging-nixos/linux_6_19-init #2 draft",
		"linux_6_12: 6.12.64 -> 6.12.65: #1 merged",
		"linux_6_18: 6.18.5 -> 6.18.6: #1 merged",
		"linux_6_19: init at 6.19: #2 draft",
		"linux_6_12: #1 merged: linux_6_12: 6.12.64 -> 6.12.65: merged in #1",
		"linux_6_18: #1 merged: linux_6_18: 6.18.5 -> 6.18.6: merged in #1",
		"linux_6_19: #2 draft: linux_6_19: init at 6.19: PR #2 up to date",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state.json (-want +got):\n%s", diff)
	}
	// The lag: kernel.org released 6.12.65 on the simulator's default
	// date, the first cycle proposed it in #1, the second merged it.
	link := &state.PR{Number: 1, URL: f.gh.URL() + "/NixOS/nixpkgs/pull/1", State: state.Merged}
	released := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, a := range st.Attrs {
		if a.Attr != "linux_6_12" {
			continue
		}
		wantH := []state.Release{{Version: "6.12.65", Released: released, Proposed: epoch, PR: link, Merged: epoch}}
		if diff := cmp.Diff(wantH, a.History); diff != "" {
			t.Errorf("linux_6_12 history (-want +got):\n%s", diff)
		}
	}
}

// With kernel.org and GitHub failing, Status shows the last cycle's rows,
// all of them (the new branch 6.19, known from kernel.org only, with its
// PR), names the sources it could not read, and does not ask GitHub again
// after the first failure.
func TestStatusWithSourcesDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run()
	f.ko.SetFault("/releases.json", kernelorgtest.Fault{Status: 502})
	f.gh.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Status: 502, Times: 100})
	opts, err := kernelorg.OptionsFromConfig(f.cfg)
	must(t, err)
	opts.MaxAttempts, opts.RetryBackoff = 2, time.Millisecond
	ko, err := kernelorg.New(opts)
	must(t, err)
	f.ko.ResetCounts()
	f.gh.ResetRequests()
	st, errs := f.cycle(dryRun, func(o *cycle.Options) { o.KernelOrg = ko }).Status(context.Background())
	if len(errs) != 2 {
		t.Errorf("errors: %v", errs)
	}
	if diff := cmp.Diff([]string{cycle.SourceKernelOrg, cycle.SourceGitHub}, st.Stale); diff != "" {
		t.Errorf("Stale (-want +got):\n%s", diff)
	}
	var rows []string
	for _, b := range st.Attrs {
		pr := "-"
		if b.PR != nil {
			pr = fmt.Sprintf("#%d %s", b.PR.Number, b.PR.State)
		}
		rows = append(rows, fmt.Sprintf("%s %s %s %s %s", b.Attr, b.Nixpkgs, b.Upstream, pr, b.Reason()))
	}
	want := []string{
		"linux_lqx 6.18.3-lqx1  - up to date",
		"linux_zen 6.18.4-zen1  - up to date",
		"linux_5_10 5.10.247 5.10.247 - up to date",
		"linux_5_15 5.15.197 5.15.197 - up to date",
		"linux_6_1 6.1.159 6.1.159 - up to date",
		"linux_6_6 6.6.119 6.6.119 - up to date",
		"linux_6_12 6.12.64 6.12.65 #1 draft linux_6_12: 6.12.64 -> 6.12.65: PR #1 opened",
		"linux_6_12_hardened 6.12.63-hardened1  - up to date",
		"linux_6_18 6.18.5 6.18.6 #1 draft linux_6_18: 6.18.5 -> 6.18.6: PR #1 opened",
		"linux_6_18_hardened 6.18.4-hardened1  - up to date",
		"linux_6_19  6.19 #2 draft linux_6_19: init at 6.19: PR #2 opened",
		"linux_testing 6.19-rc4  - kernel.org lists no rc; linux_testing stays at 6.19-rc4 until the next rc1",
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if n := f.ko.Requests("/releases.json"); n != 2 {
		t.Errorf("%d requests for releases.json, want 2", n)
	}
	if n := len(f.gh.Requests()); n != 2 {
		t.Errorf("%d GitHub requests, want the 2 tries of the first PR: %v", n, f.gh.Requests())
	}
}

// A cycle that does not look at a branch (--only left it out, it was kept
// as proposed for a failed source) carries its row forward in state.json:
// the PR, the build and kernel.org's version the earlier cycle saw, and
// its last result saying once why it was not checked now.
func TestPartialCycleCarriesState(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hardened := f.withHardened("v6.12.65-hardened1", "v6.18.6-hardened1")
	f.run(hardened)
	rows := func() []string {
		t.Helper()
		st, err := state.Read(f.cache)
		must(t, err)
		var got []string
		for _, p := range st.Branches {
			got = append(got, fmt.Sprintf("%s #%d", p.Name, p.PR.Number))
		}
		for _, b := range st.Attrs {
			pr := "-"
			if b.PR != nil {
				pr = fmt.Sprintf("#%d", b.PR.Number)
			}
			got = append(got, fmt.Sprintf("%s %s %s %s: %s", b.Attr, b.Upstream, pr, b.Build, b.Reason()))
		}
		return got
	}
	_ = rows() // the full cycle wrote a state

	rep := f.run(func(o *cycle.Options) { hardened(o); o.Only = []string{"linux_6_19"} })
	if err := rep.Err(); err != nil {
		t.Fatalf("--only linux_6_19: %v", err)
	}
	want := []string{
		"kupdate/staging-nixos/linux_6_19-init #2",
		"kupdate/staging-nixos/updates #1",
		"linux_lqx  - : up to date (not checked this cycle: not selected by --only)",
		"linux_zen  - : up to date (not checked this cycle: not selected by --only)",
		"linux_5_10 5.10.247 - : up to date (not checked this cycle: not selected by --only)",
		"linux_5_15 5.15.197 - : up to date (not checked this cycle: not selected by --only)",
		"linux_6_1 6.1.159 - : up to date (not checked this cycle: not selected by --only)",
		"linux_6_6 6.6.119 - : up to date (not checked this cycle: not selected by --only)",
		"linux_6_12 6.12.65 #1 passed: linux_6_12: 6.12.64 -> 6.12.65: PR #1 opened (not checked this cycle: not selected by --only)",
		"linux_6_12_hardened 6.12.65-hardened1 #1 passed: linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.65-hardened1: PR #1 opened (not checked this cycle: not selected by --only)",
		"linux_6_18 6.18.6 #1 passed: linux_6_18: 6.18.5 -> 6.18.6: PR #1 opened (not checked this cycle: not selected by --only)",
		"linux_6_18_hardened 6.18.6-hardened1 #1 passed: linux/hardened/patches/6.18: v6.18.4-hardened1 -> v6.18.6-hardened1: PR #1 opened (not checked this cycle: not selected by --only)",
		"linux_6_19 6.19 #2 passed: linux_6_19: init at 6.19: PR #2 up to date",
		"linux_testing  - : kernel.org lists no rc; linux_testing stays at 6.19-rc4 until the next rc1 (not checked this cycle: not selected by --only)",
	}
	if diff := cmp.Diff(want, rows()); diff != "" {
		t.Errorf("state after --only linux_6_19 (-want +got):\n%s", diff)
	}
	// A second partial cycle says why once, not twice.
	f.run(func(o *cycle.Options) { hardened(o); o.Only = []string{"linux_6_19"} })
	if diff := cmp.Diff(want, rows()); diff != "" {
		t.Errorf("state after a second --only linux_6_19 (-want +got):\n%s", diff)
	}

	f.gh.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/anthraxx/linux-hardened/releases", Status: 502, Times: hfamily.DefaultHardenedAttempts})
	if _, err := f.cycle(hardened).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	kept := rows()
	for _, want := range []string{
		"linux_6_12 6.12.65 #1 passed: linux_6_12: 6.12.64 -> 6.12.65: kept as proposed: linux_6_12_hardened, linux_6_18_hardened could not be re-verified (listing linux-hardened releases: ",
		"linux_6_12_hardened 6.12.65-hardened1 #1 passed: linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.65-hardened1: PR #1 opened (not checked this cycle: kept as proposed: listing linux-hardened releases: ",
		"linux_6_18_hardened 6.18.6-hardened1 #1 passed: linux/hardened/patches/6.18: v6.18.4-hardened1 -> v6.18.6-hardened1: PR #1 opened (not checked this cycle: kept as proposed: listing linux-hardened releases: ",
	} {
		i := slices.IndexFunc(kept, func(r string) bool { return strings.HasPrefix(r, want) })
		if i < 0 {
			t.Errorf("no row %q in the kept cycle's state:\n%s", want, strings.Join(kept, "\n"))
		} else if n := strings.Count(kept[i], "linux-hardened releases"); n != 1 || len(kept[i]) > 400 {
			t.Errorf("the reason is said %d times, in %d bytes: %s", n, len(kept[i]), kept[i])
		}
	}
}

// A promotion step run alone (the service's webhook) writes its
// promotions into the state at once, so the status page does not show the
// last cycle's until the next one; its log lines carry one step id.
func TestPromoteAloneRefreshesState(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.cycle()
	if _, err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := c.State().Promotions; p != nil {
		t.Fatalf("promotions after a cycle without promote.enabled: %+v", p)
	}
	_, err := f.gh.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"README.md": "staging moved\n"}, "staging moved")
	must(t, err)
	must(t, c.Promote(context.Background()))
	want := []state.Promotion{{From: "staging-nixos", To: "master", Ahead: 1, Outcome: "opened",
		PR: &state.PR{Number: 3, URL: f.gh.URL() + "/NixOS/nixpkgs/pull/3", State: state.Open}, Reason: "promote.merge is off: a person merges it"}}
	if diff := cmp.Diff(want, c.State().Promotions); diff != "" {
		t.Errorf("State().Promotions after Promote (-want +got):\n%s", diff)
	}
	st, err := state.Read(f.cache)
	must(t, err)
	if diff := cmp.Diff(want, st.Promotions); diff != "" {
		t.Errorf("state.json promotions after Promote (-want +got):\n%s", diff)
	}
	if len(st.Attrs) == 0 || st.End.IsZero() {
		t.Errorf("the promotion step lost the cycle's records: %d attrs, end %v", len(st.Attrs), st.End)
	}
	if !strings.Contains(f.logs.String(), `msg="cycle: promotion" from=staging-nixos to=master outcome=opened pr=3 reason="promote.merge is off: a person merges it" cycle=`) {
		t.Errorf("no promotion line with a step id in the log:\n%s", f.logs)
	}
}
