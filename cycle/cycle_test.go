package cycle_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/server"
)

func summary(t *testing.T, f *fixture, rep *cycle.Report) string {
	t.Helper()
	var b bytes.Buffer
	must(t, rep.WriteSummary(&b))
	return stableCommits(rep, f.stable(b.String()))
}

// stableCommits replaces the ids of the commits kupdate built (their
// messages carry kernel.org's ChangeLog URL, whose port changes) with names.
func stableCommits(rep *cycle.Report, s string) string {
	for i, b := range rep.Branches {
		ids := append([]string{b.Head}, b.Commits...)
		for j, id := range ids {
			if len(id) != 40 {
				continue
			}
			name := fmt.Sprintf("COMMIT-%d-%d", i+1, j)
			if j == 0 {
				name = fmt.Sprintf("HEAD-%d", i+1)
			}
			s = strings.ReplaceAll(s, id, name)
			s = strings.ReplaceAll(s, id[:12], name)
		}
	}
	return s
}

// TestRunAndRunAgain is the whole cycle against the simulators and the
// sample tree with real git and Nix: the rolling PR and the init's PR are
// opened as drafts with the backport label, one commit per change, built
// and reported; a second cycle with nothing new writes nothing anywhere.
func TestRunAndRunAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	jlogs, withJSON := jsonLogs(f)
	c := f.cycle(withJSON, func(o *cycle.Options) { o.Metrics = server.NewMetrics(reg) })
	rep, err := c.Run(context.Background())
	if err != nil {
		t.Fatalf("cycle stopped: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("cycle failed: %v\n%s", err, f.logs)
	}
	golden(t, "run.txt", summary(t, f, rep))

	prs := f.gh.PRs("NixOS", "nixpkgs")
	type pr struct {
		Number            int
		Title, Head, Base string
		HeadOwner, State  string
		Draft             bool
		Labels            []string
	}
	var got []pr
	for _, p := range prs {
		got = append(got, pr{p.Number, p.Title, p.Head, p.Base, p.HeadOwner, p.State, p.Draft, p.Labels})
	}
	want := []pr{
		{1, "kernel updates for 2026-01-10", rolling, "staging-nixos", "kupdate-bot", "open", true, []string{"backport release-25.11"}},
		{2, "linux_6_19: init at 6.19", initBr, "staging-nixos", "kupdate-bot", "open", true, []string{"backport release-25.11"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PRs (-want +got):\n%s", diff)
	}
	repo := f.gh.RepoDir("kupdate-bot", "nixpkgs")
	if got := gitOut(t, repo, "log", "--format=%s", "staging-nixos.."+rolling); got != "linux_6_12: 6.12.64 -> 6.12.65\nlinux_6_18: 6.18.5 -> 6.18.6" {
		t.Errorf("commits on %s:\n%s", rolling, got)
	}
	if got := gitOut(t, repo, "log", "--format=%s", "staging-nixos.."+initBr); got != "linux_6_19: init at 6.19" {
		t.Errorf("commits on %s:\n%s", initBr, got)
	}
	for _, p := range prs {
		st := f.gh.Statuses("NixOS", "nixpkgs", p.HeadSHA)
		if len(st) != 1 || st[0].Context != "kupdate/build" || st[0].State != "success" {
			t.Errorf("PR #%d statuses: %+v", p.Number, st)
		}
		if !strings.Contains(p.Body, "✅ passed") || strings.Contains(p.Body, "Not built") {
			t.Errorf("PR #%d body has no build results:\n%s", p.Number, p.Body)
		}
	}
	if st := c.State(); st == nil || len(st.Attrs) == 0 {
		t.Error("State() has no records after a cycle")
	}
	if diff := cmp.Diff(map[string]float64{
		`kupdate_changes_total{kind="bump",outcome="opened"}`:            2,
		`kupdate_changes_total{kind="init",outcome="opened"}`:            1,
		`kupdate_build_results_total{status="passed",tier="configfile"}`: 3,
		`kupdate_build_results_total{status="passed",tier="eval"}`:       3,
	}, counters(t, reg, "kupdate_changes_total", "kupdate_build_results_total")); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}

	// Again, nothing new upstream: no commit, no push, no GitHub write, and
	// nothing rebuilt.
	before := f.world()
	pushes, gitReqs := f.receives.Load(), f.gitReqs.Load()
	f.gh.ResetRequests()
	rep2 := f.run(withJSON)
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes on the second cycle: %v", w)
	}
	if n := f.receives.Load() - pushes; n != 0 {
		t.Errorf("%d pushes on the second cycle", n)
	}
	if n := f.gitReqs.Load() - gitReqs; n > 2 {
		t.Errorf("%d git requests to the fork on the second cycle; want at most one ref listing per branch", n)
	}
	if diff := cmp.Diff(before, f.world()); diff != "" {
		t.Errorf("the second cycle changed the world (-before +after):\n%s", diff)
	}
	golden(t, "run-again.txt", summary(t, f, rep2))
	if strings.Contains(f.logs.String(), "err=<nil>") {
		t.Errorf("the log names errors that are not there:\n%s", f.logs)
	}
	checkJSONLogs(t, jlogs.String(), 2)
}

func dryRun(o *cycle.Options) { o.DryRun = true }

func dryOutput(t *testing.T, f *fixture, rep *cycle.Report) string {
	t.Helper()
	var b bytes.Buffer
	must(t, rep.WriteDryRun(&b))
	must(t, rep.WriteSummary(&b))
	return stableCommits(rep, f.stable(b.String()))
}

// TestDryRun shows the branches, diffs, titles, bodies, labels and the
// merge decision, and writes nothing: no push, no GitHub write, no state,
// no build; after a real cycle it shows that nothing would change.
func TestDryRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rep, err := f.cycle(dryRun).Run(context.Background())
	if err != nil {
		t.Fatalf("dry run stopped: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("dry run failed: %v\n%s", err, f.logs)
	}
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes in a dry run: %v", w)
	}
	if n := f.receives.Load(); n != 0 {
		t.Errorf("%d pushes in a dry run", n)
	}
	if b := f.forkBranches(); len(b) != 0 {
		t.Errorf("fork branches after a dry run: %v", b)
	}
	for _, name := range []string{"state.json", "builds.json", "tree"} {
		if _, err := os.Stat(filepath.Join(f.cache, name)); !os.IsNotExist(err) {
			t.Errorf("%s exists after a dry run (%v)", name, err)
		}
	}
	golden(t, "dry-run.txt", dryOutput(t, f, rep))

	f.run()
	f.gh.ResetRequests()
	rep, err = f.cycle(dryRun).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dry-run-after-run.txt", dryOutput(t, f, rep))
}

// counters reads the counters of the named families from reg, keyed
// name{label="value",...} with labels in name order.
func counters(t *testing.T, reg *prometheus.Registry, names ...string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	must(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if !slices.Contains(names, mf.GetName()) {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}
