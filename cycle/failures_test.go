package cycle_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/server"
	"github.com/kupdate/kupdate/state"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// specs is upstream with some rows replaced (by series).
func specs(replace ...kernelorgtest.Spec) []kernelorgtest.Spec {
	out := append([]kernelorgtest.Spec{}, upstream...)
	for _, r := range replace {
		series := r.Version
		if i := strings.LastIndex(series, "."); strings.Count(series, ".") == 2 {
			series = series[:i]
		}
		if i := strings.Index(series, "-rc"); i >= 0 {
			series = series[:i]
		}
		done := false
		for i, s := range out {
			if strings.HasPrefix(s.Version+".", series+".") || s.Version == series {
				out[i], done = r, true
			}
		}
		if !done {
			out = append(out, r)
		}
	}
	return out
}

// A candidate that does not build is still committed, pushed and proposed
// (a draft even with github.draft off, the failure and its log tail in the
// body, the status failure); the other branch goes on, ready for review;
// the cycle reports the failure.
func TestBuildFailureIsProposed(t *testing.T) {
	t.Parallel()
	// 6.18.91 is built by this test only: Nix must not have its tarball.
	f := newFixture(t, specs(kernelorgtest.Spec{Version: "6.18.91"})...)
	f.cfg.GitHub.Draft = false
	f.ko.SetFault(kernelorgtest.TarballPath("6.18.91"), kernelorgtest.Fault{Body: []byte("not the tarball kernel.org signed\n")})
	rep, err := f.cycle().Run(context.Background())
	if err != nil {
		t.Fatalf("cycle stopped: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "kupdate/staging-nixos/updates: build failed: 3 passed, 1 failed (linux_6_18 configfile)") {
		t.Errorf("Err() = %v", err)
	}
	golden(t, "build-failure.txt", summary(t, f, rep))
	prs := f.gh.PRs("NixOS", "nixpkgs")
	if len(prs) != 2 {
		t.Fatalf("%d PRs, want 2", len(prs))
	}
	p := prs[0]
	if p.Head != rolling || !p.Draft || !strings.Contains(p.Body, "| `linux_6_18` | ✅ passed | ❌ failed |") || !strings.Contains(p.Body, "hash mismatch") {
		t.Errorf("rolling PR: %+v", p)
	}
	if st := f.gh.Statuses("NixOS", "nixpkgs", p.HeadSHA); len(st) != 1 || st[0].State != "failure" {
		t.Errorf("rolling PR statuses: %+v", st)
	}
	if st := f.gh.Statuses("NixOS", "nixpkgs", prs[1].HeadSHA); len(st) != 1 || st[0].State != "success" {
		t.Errorf("init PR statuses: %+v", st)
	}
	if prs[1].Draft {
		t.Errorf("init PR (built fine, github.draft off) is a draft")
	}

	// The failure is not built again for the same content, and nothing is
	// written.
	f.gh.ResetRequests()
	rep, err = f.cycle().Run(context.Background())
	if err != nil || rep.Err() == nil {
		t.Fatalf("second cycle: %v, %v", err, rep.Err())
	}
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes on the second cycle: %v", w)
	}
	if !rep.Branches[0].Reused {
		t.Errorf("the failed build was not reused")
	}
	// The state keeps the build per tier, and the failed tier's log in the
	// state directory, once: the reused result is not logged again.
	st, err := state.Read(f.cache)
	must(t, err)
	var tiers []string
	for _, a := range st.Attrs {
		if a.Attr == "linux_6_18" {
			for _, tr := range a.Tiers {
				tiers = append(tiers, tr.Tier+" "+tr.Status+" "+tr.Log)
			}
		}
	}
	logName := "20260110T093000Z-linux_6_18-configfile.log"
	if diff := cmp.Diff([]string{"eval passed ", "configfile failed " + logName}, tiers); diff != "" {
		t.Errorf("linux_6_18 tiers in the state (-want +got):\n%s", diff)
	}
	logs, err := os.ReadDir(filepath.Join(f.cache, state.LogDir))
	must(t, err)
	if len(logs) != 1 || logs[0].Name() != logName {
		t.Errorf("build logs kept: %v, want %s only", logs, logName)
	}
	if b, err := os.ReadFile(filepath.Join(f.cache, state.LogDir, logName)); err != nil || !strings.HasPrefix(string(b), "linux_6_18 configfile: failed after ") || !strings.Contains(string(b), "hash mismatch") {
		t.Errorf("the kept log: %v\n%s", err, b)
	}
}

// A change that does not evaluate is left out: no commit, the rest of its
// branch goes on without it.
func TestEvaluationFailureLeavesChangeOut(t *testing.T) {
	t.Parallel()
	// 6.19-rc8 is evaluated by this test only: Nix must not have its
	// snapshot. kernel.org serves it to kupdate's hashing, then fails Nix.
	f := newFixture(t, specs(kernelorgtest.Spec{Version: "6.19-rc8"})...)
	rep, err := f.cycle(func(o *cycle.Options) {
		o.AfterStep = func(s cycle.Step, _ string) {
			if s == cycle.StepPlanned {
				f.ko.SetFault(kernelorgtest.TarballPath("6.19-rc8"), kernelorgtest.Fault{Status: 404})
			}
		}
	}).Run(context.Background())
	if err != nil {
		t.Fatalf("cycle stopped: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "linux_testing: 6.19-rc4 -> 6.19-rc8: evaluating what it touched failed") {
		t.Errorf("Err() = %v", err)
	}
	var outcomes []string
	for _, ch := range rep.Changes {
		outcomes = append(outcomes, ch.Change.Title+": "+string(ch.Outcome()))
	}
	want := []string{"linux_testing: 6.19-rc4 -> 6.19-rc8: failed", "linux_6_18: 6.18.5 -> 6.18.6: opened", "linux_6_12: 6.12.64 -> 6.12.65: opened"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if got := gitOut(t, f.gh.RepoDir("kupdate-bot", "nixpkgs"), "log", "--format=%s", "staging-nixos.."+rolling); got != "linux_6_12: 6.12.64 -> 6.12.65\nlinux_6_18: 6.18.5 -> 6.18.6" {
		t.Errorf("commits on %s:\n%s", rolling, got)
	}
}

// Someone else's commit on a kupdate branch: that branch is left alone
// (its PR too), the others go on, and it is not a failure.
func TestForeignCommitLeftAlone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run()
	if _, err := f.gh.Commit("kupdate-bot", "nixpkgs", rolling, map[string]string{"README.md": "a maintainer's fixup\n"}, "fixup by a maintainer"); err != nil {
		t.Fatal(err)
	}
	before := f.forkBranches()
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}))
	f.gh.ResetRequests()
	rep := f.run()
	golden(t, "foreign.txt", summary(t, f, rep))
	if got := f.forkBranches(); got[rolling] != before[rolling] {
		t.Errorf("%s moved from %s to %s", rolling, before[rolling], got[rolling])
	}
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes: %v", w)
	}
}

// A newer point release updates the rolling PR in place, and only its
// kernel is built again: the other kernel's entry is as it was built. The
// summary says so per change; the init's PR is left as it is.
func TestNewerPointRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run()
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}))
	f.gh.ResetRequests()
	reg := prometheus.NewRegistry()
	rep := f.run(func(o *cycle.Options) { o.Metrics = server.NewMetrics(reg) })
	golden(t, "newer.txt", summary(t, f, rep))
	if diff := cmp.Diff(map[string]float64{
		`kupdate_build_results_total{status="passed",tier="configfile"}`: 1,
		`kupdate_build_results_total{status="passed",tier="eval"}`:       1,
	}, counters(t, reg, "kupdate_build_results_total")); diff != "" {
		t.Errorf("builds of the second cycle (-want +got):\n%s", diff)
	}
	if got := strings.Count(f.logs.String(), `msg="cycle: building" branch=kupdate/staging-nixos/updates attrs=[linux_6_12] reused=1`); got != 1 {
		t.Errorf("the second cycle built linux_6_12 alone %d times, want 1:\n%s", got, f.logs)
	}
	prs := f.gh.PRs("NixOS", "nixpkgs")
	if len(prs) != 2 || !strings.Contains(prs[0].Body, "- **linux_6_12: 6.12.64 -> 6.12.66**\n") || prs[0].HeadSHA != f.forkBranches()[rolling] {
		t.Errorf("PRs: %+v", prs)
	}
	var writes []string
	for _, w := range f.writes() {
		writes = append(writes, w[:strings.LastIndex(w, "/")+1])
	}
	if diff := cmp.Diff([]string{"PATCH /repos/NixOS/nixpkgs/pulls/", "POST /repos/NixOS/nixpkgs/statuses/"}, writes); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

// --only limits the cycle to some attributes; the next full cycle adds the
// rest.
func TestOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rep := f.run(func(o *cycle.Options) { o.Only = []string{"linux_6_19"} })
	if len(rep.Changes) != 1 || len(f.gh.PRs("NixOS", "nixpkgs")) != 1 {
		t.Errorf("--only linux_6_19: %d changes, PRs %+v", len(rep.Changes), f.gh.PRs("NixOS", "nixpkgs"))
	}
	f.run()
	if n := len(f.gh.PRs("NixOS", "nixpkgs")); n != 2 {
		t.Errorf("%d PRs after the full cycle, want 2", n)
	}
	if _, err := cycle.New(f.cfg, f.options(func(o *cycle.Options) { o.Only = []string{"6.12"} })); err == nil || err.Error() != `--only "6.12": not a kernel attribute (want e.g. linux_6_12, linux_testing, linux_6_12_hardened)` {
		t.Errorf("--only 6.12: %v", err)
	}
}

// TestGitTokenEnvNotValidated: a Config built in code skips config's
// validation; a token pasted in git.token_env is still refused, without
// being repeated, before a push could be tried or reported with it.
func TestGitTokenEnvNotValidated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const pasted = "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789"
	cfg := *f.cfg
	cfg.Git.TokenEnv = pasted
	_, err := cycle.New(&cfg, f.options())
	want := `git.token_env: a GitHub token (it starts with "github_pat_"), not the name of an environment variable: remove it from the file, and revoke it on GitHub if others can read the file (the Nix store is world-readable)`
	if err == nil || err.Error() != want {
		t.Errorf("New error:\n got %v\nwant %s", err, want)
	}
	if err != nil && strings.Contains(err.Error(), pasted) {
		t.Errorf("the error repeats the token: %v", err)
	}
}

// A hardened init of a branch whose own init is not merged yet waits: on
// the base alone it has no kernel to harden. Nothing is committed for it,
// and it is not a failure.
func TestHardenedInitWaitsForItsBranch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	name := "linux-hardened-v6.19-hardened1.patch"
	must(t, f.gh.PublishRelease("anthraxx", "linux-hardened", githubtest.Release{Tag: "v6.19-hardened1", Assets: []githubtest.Asset{
		{Name: name, Data: []byte("linux-hardened patch v6.19-hardened1\n")},
	}}))
	rep := f.run()
	var outcomes []string
	for _, ch := range rep.Changes {
		outcomes = append(outcomes, ch.Change.Title+": "+string(ch.Outcome()))
	}
	want := []string{"linux_6_18: 6.18.5 -> 6.18.6: opened", "linux_6_12: 6.12.64 -> 6.12.65: opened", "linux_6_19: init at 6.19: opened", "linux_6_19_hardened: init at 6.19-hardened1: waiting"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if n := len(f.gh.PRs("NixOS", "nixpkgs")); n != 2 {
		t.Errorf("%d PRs, want 2", n)
	}
	golden(t, "hardened-waits.txt", summary(t, f, rep))
}

// A push the fork refuses fails its branch only; the summary still shows
// the PR the branch has.
func TestPushFailedShowsThePR(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run()
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}))
	f.refuse.Store(true)
	rep, err := f.cycle().Run(context.Background())
	if err != nil {
		t.Fatalf("cycle stopped: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "push of kupdate/staging-nixos/updates to FORK rejected: ") && !strings.Contains(f.stable(err.Error()), "push of kupdate/staging-nixos/updates to FORK rejected: ") {
		t.Errorf("Err() = %v", err)
	}
	got := summary(t, f, rep)
	for _, want := range []string{
		"linux_6_12: 6.12.64 -> 6.12.66  kupdate/staging-nixos/updates          push-failed  #1 GITHUB/NixOS/nixpkgs/pull/1  passed\n",
		"linux_6_18: 6.18.5 -> 6.18.6    kupdate/staging-nixos/updates          push-failed  #1 GITHUB/NixOS/nixpkgs/pull/1  passed (earlier build)\n",
		"\nfailed: kupdate/staging-nixos/updates: push of kupdate/staging-nixos/updates to FORK rejected: ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in the summary:\n%s", want, got)
		}
	}
}
