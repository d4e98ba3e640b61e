package cycle_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/cycle"
	hfamily "github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// withHardened publishes linux-hardened releases for the tree's two
// hardened kernels (6.12 and 6.18) and returns the option that makes the
// cycle read them through the production source, retrying at once.
func (f *fixture) withHardened(tags ...string) func(*cycle.Options) {
	f.t.Helper()
	for _, tag := range tags {
		must(f.t, f.gh.PublishRelease("anthraxx", "linux-hardened", githubtest.Release{Tag: tag, Assets: []githubtest.Asset{
			{Name: "linux-hardened-" + tag + ".patch", Data: []byte("linux-hardened patch " + tag + "\n")},
		}}))
	}
	h := hfamily.NewGitHub(f.cfg.GitHub.APIURL, "kupdate-test")
	h.HTTP = &http.Client{Transport: f.gh.Client().Transport}
	h.Token = token
	h.Backoff = time.Millisecond
	return func(o *cycle.Options) { o.Hardened = h }
}

func commitsOn(t *testing.T, f *fixture, branch string) string {
	t.Helper()
	return gitOut(t, f.gh.RepoDir("kupdate-bot", "nixpkgs"), "log", "--reverse", "--format=%s", "staging-nixos.."+branch)
}

// A source that fails for one cycle never makes kupdate withdraw commits it
// already proposed: a 502 from linux-hardened's release listing, then a
// checksum list of kernel.org that does not verify, each leave the rolling
// branch and its PR exactly as they are (no push, no GitHub write), and the
// cycle fails saying why. The next clean cycle carries on from there, each
// commit once.
func TestFailedSourceKeepsProposedCommits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hardened := f.withHardened("v6.12.65-hardened1", "v6.18.6-hardened1")
	f.run(hardened)
	proposed := strings.Join([]string{
		"linux_6_18: 6.18.5 -> 6.18.6",
		"linux_6_12: 6.12.64 -> 6.12.65",
		"linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.65-hardened1",
		"linux/hardened/patches/6.18: v6.18.4-hardened1 -> v6.18.6-hardened1",
	}, "\n")
	if got := commitsOn(t, f, rolling); got != proposed {
		t.Fatalf("commits on %s after the first cycle:\n%s", rolling, got)
	}
	before := f.world()

	keptCycle := func(name, goldenName string, wantErr string) {
		t.Helper()
		pushes := f.receives.Load()
		f.gh.ResetRequests()
		rep, err := f.cycle(hardened).Run(context.Background())
		if err != nil {
			t.Fatalf("%s: cycle stopped: %v\n%s", name, err, f.logs)
		}
		if err := rep.Err(); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: Err() = %v, want one containing %q", name, err, wantErr)
		}
		if n := f.receives.Load() - pushes; n != 0 {
			t.Errorf("%s: %d pushes", name, n)
		}
		if w := f.writes(); w != nil {
			t.Errorf("%s: GitHub writes: %v", name, w)
		}
		if diff := cmp.Diff(before, f.world()); diff != "" {
			t.Errorf("%s changed the world (-before +after):\n%s", name, diff)
		}
		if got := commitsOn(t, f, rolling); got != proposed {
			t.Errorf("%s: commits on %s:\n%s", name, rolling, got)
		}
		golden(t, goldenName, summary(t, f, rep))
	}

	// linux-hardened answers 502 to every try: the hardened bumps cannot be
	// planned, and pushing the two point releases alone would drop them.
	f.gh.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/anthraxx/linux-hardened/releases", Status: 502, Times: hfamily.DefaultHardenedAttempts})
	keptCycle("a 502 from linux-hardened", "kept-hardened.txt", "hardened: listing linux-hardened releases: ")

	// kernel.org's v6.x checksum list does not verify, and 5.15.198 (v5.x)
	// is new: rebuilt, the branch would hold 5.15.198 alone.
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "5.15.198", Moniker: "longterm"}))
	f.ko.SetFault(kernelorgtest.ChecksumsPath("6.12.65"), kernelorgtest.Fault{BadSignature: true})
	keptCycle("a bad signature on v6.x/sha256sums.asc", "kept-checksums.txt", "\n6.12 (hardened): linux 6.12.65: ")

	// Everything verifies again: the branch gets 5.15.198, each commit once.
	f.ko.ClearFault(kernelorgtest.ChecksumsPath("6.12.65"))
	rep := f.run(hardened)
	if got, want := commitsOn(t, f, rolling), strings.Replace(proposed, "6.12.65\n", "6.12.65\nlinux_5_15: 5.15.197 -> 5.15.198\n", 1); got != want {
		t.Errorf("commits on %s after the clean cycle:\n%s\nwant:\n%s", rolling, got, want)
	}
	var outcomes []string
	for _, ch := range rep.Changes {
		outcomes = append(outcomes, ch.Change.Title+": "+string(ch.Outcome()))
	}
	want := []string{
		"linux_6_18: 6.18.5 -> 6.18.6: unchanged",
		"linux_6_12: 6.12.64 -> 6.12.65: unchanged",
		"linux_5_15: 5.15.197 -> 5.15.198: added",
		"linux_6_19: init at 6.19: unchanged",
		"linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.65-hardened1: unchanged",
		"linux/hardened/patches/6.18: v6.18.4-hardened1 -> v6.18.6-hardened1: unchanged",
	}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes of the clean cycle (-want +got):\n%s", diff)
	}
	if prs := f.gh.PRs("NixOS", "nixpkgs"); len(prs) != 2 || strings.Count(prs[0].Body, "- **linux_6_12: 6.12.64 -> 6.12.65**\n") != 1 || !strings.Contains(prs[0].Body, "- **linux_5_15: 5.15.197 -> 5.15.198**\n") {
		t.Errorf("PRs after the clean cycle: %+v", prs)
	}
}

// A change of the rolling branch that no longer evaluates (its new rc's
// snapshot cannot be fetched) keeps the version already proposed: the
// branch stays as it is, the other new release waits with it.
func TestFailedChangeKeepsProposedCommit(t *testing.T) {
	t.Parallel()
	// 6.19-rc9 is evaluated by this test only: Nix must not have its
	// snapshot. kernel.org serves it to kupdate's hashing, then fails Nix.
	f := newFixture(t, specs(kernelorgtest.Spec{Version: "6.19-rc5"})...)
	f.run()
	if got := commitsOn(t, f, rolling); got != "linux_testing: 6.19-rc4 -> 6.19-rc5\nlinux_6_18: 6.18.5 -> 6.18.6\nlinux_6_12: 6.12.64 -> 6.12.65" {
		t.Fatalf("commits on %s:\n%s", rolling, got)
	}
	before := f.world()
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.19-rc9"}))
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}))
	rep, err := f.cycle(func(o *cycle.Options) {
		o.AfterStep = func(s cycle.Step, _ string) {
			if s == cycle.StepPlanned {
				f.ko.SetFault(kernelorgtest.TarballPath("6.19-rc9"), kernelorgtest.Fault{Status: 404})
			}
		}
	}).Run(context.Background())
	if err != nil {
		t.Fatalf("cycle stopped: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "linux_testing: 6.19-rc4 -> 6.19-rc9: evaluating what it touched failed") {
		t.Errorf("Err() = %v", err)
	}
	if diff := cmp.Diff(before, f.world()); diff != "" {
		t.Errorf("the world changed (-before +after):\n%s", diff)
	}
	var notes []string
	for _, line := range strings.Split(summary(t, f, rep), "\n") {
		if strings.HasPrefix(line, "kept: ") {
			notes = append(notes, line[:strings.Index(line, " (")])
		}
	}
	if diff := cmp.Diff([]string{"kept: kupdate/staging-nixos/updates: linux_testing could not be re-verified this cycle"}, notes); diff != "" {
		t.Errorf("kept notes (-want +got):\n%s", diff)
	}
	var outcomes []string
	for _, ch := range rep.Changes {
		outcomes = append(outcomes, ch.Change.Title+": "+string(ch.Outcome()))
	}
	want := []string{"linux_testing: 6.19-rc4 -> 6.19-rc9: failed", "linux_6_18: 6.18.5 -> 6.18.6: kept", "linux_6_12: 6.12.64 -> 6.12.66: kept"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

// --only never drops other proposed commits from the rolling branch: it is
// kept as proposed, saying which commits --only left out, and that is no
// failure; a dry run says the same. An --only attribute that exists nowhere is a usage error naming
// the known ones.
func TestOnlyKeepsOtherProposedCommits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run()
	before := f.world()
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}))
	for _, dry := range []bool{true, false} {
		f.gh.ResetRequests()
		rep, err := f.cycle(func(o *cycle.Options) { o.Only, o.DryRun = []string{"linux_6_12"}, dry }).Run(context.Background())
		if err != nil {
			t.Fatalf("dry %v: cycle stopped: %v", dry, err)
		}
		// Leaving the branch alone is what --only asks for: no failure.
		if err := rep.Err(); err != nil {
			t.Errorf("dry %v: Err() = %v", dry, err)
		}
		got := summary(t, f, rep)
		if !strings.Contains(got, "linux_6_12: 6.12.64 -> 6.12.66  kupdate/staging-nixos/updates  kept     #1 GITHUB/NixOS/nixpkgs/pull/1  not built\n"+
			"linux_6_18: 6.18.5 -> 6.18.6    kupdate/staging-nixos/updates  kept     #1 GITHUB/NixOS/nixpkgs/pull/1  not built\n") ||
			!strings.Contains(got, "\nkept: kupdate/staging-nixos/updates: linux_6_18 not selected by --only (run without --only to update the branch); the branch stays as proposed\n") {
			t.Errorf("dry %v: summary:\n%s", dry, got)
		}
		if w := f.writes(); w != nil {
			t.Errorf("dry %v: GitHub writes: %v", dry, w)
		}
		if diff := cmp.Diff(before, f.world()); diff != "" {
			t.Errorf("dry %v: the world changed (-before +after):\n%s", dry, diff)
		}
	}

	_, err := f.cycle(func(o *cycle.Options) { o.Only = []string{"linux_6_99"} }).Run(context.Background())
	var oe *cycle.OnlyError
	if !errors.As(err, &oe) || err.Error() != "--only linux_6_99: not a kernel attribute of the tree or of kernel.org's branches (known: linux_5_10, linux_5_15, linux_6_1, linux_6_12, linux_6_12_hardened, linux_6_18, linux_6_18_hardened, linux_6_19, linux_6_6, linux_lqx, linux_testing, linux_zen)" {
		t.Errorf("--only linux_6_99: %v", err)
	}
}

// Commits the base has now (their PR was merged) are not kept for a source
// that fails: the rolling branch moves on to what is new, and the failure is
// reported.
func TestMergedCommitsAreNotKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hardened := f.withHardened("v6.12.65-hardened1", "v6.18.6-hardened1")
	f.run(hardened)
	// What the rolling PR proposes lands on the base, as its merge would.
	fork := f.gh.RepoDir("kupdate-bot", "nixpkgs")
	files := map[string]string{}
	for _, p := range []string{kernelsJSON, kernelfiles.PatchesJSONPath} {
		files[p] = gitOut(t, fork, "show", rolling+":"+p) + "\n"
	}
	_, err := f.gh.Commit("NixOS", "nixpkgs", "staging-nixos", files, "Kernel updates (merged)")
	must(t, err)
	f.syncFork()

	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "5.15.198", Moniker: "longterm"}))
	f.gh.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/anthraxx/linux-hardened/releases", Status: 502, Times: hfamily.DefaultHardenedAttempts})
	rep, err := f.cycle(hardened).Run(context.Background())
	if err != nil {
		t.Fatalf("cycle stopped: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err == nil || !strings.HasPrefix(err.Error(), "hardened: listing linux-hardened releases: ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Err() = %v, want the hardened listing's failure alone", err)
	}
	if got := commitsOn(t, f, rolling); got != "linux_5_15: 5.15.197 -> 5.15.198" {
		t.Errorf("commits on %s:\n%s", rolling, got)
	}
	if len(rep.Branches) == 0 || len(rep.Branches[0].Kept) != 0 || rep.Branches[0].Push != "pushed" {
		t.Errorf("rolling branch: %+v", rep.Branches)
	}
}
