package cycle_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/cycle"
)

const kernelsOrg = "pkgs/os-specific/linux/kernel/kernels-org.json"

// outcomesOf lists each change's title and outcome.
func outcomesOf(rep *cycle.Report) []string {
	var out []string
	for _, ch := range rep.Changes {
		out = append(out, ch.Change.Title+": "+string(ch.Outcome()))
	}
	return out
}

// syncFork brings the fork's staging-nixos up to upstream's, as a GitHub
// fork shares its upstream's objects: kupdate sends only its own objects.
func (f *fixture) syncFork() {
	f.t.Helper()
	gitOut(f.t, f.gh.RepoDir("kupdate-bot", "nixpkgs"), "fetch", "-q", f.gh.RepoDir("NixOS", "nixpkgs"), "+staging-nixos:staging-nixos")
}

// staging-nixos moves many times a day. A move that does not touch the
// files of kupdate's commits leaves its branches (and PRs, and their CI)
// alone: no push, no rebuild, no GitHub write. A move that touches them
// rebuilds the branches on the new base and force-pushes them; a change
// the base already has is no longer planned, and its branch is not pushed.
func TestBaseMoves(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run()
	fork := f.gh.RepoDir("kupdate-bot", "nixpkgs")
	first := f.forkBranches()

	// Unrelated commits on the base.
	_, err := f.gh.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"pkgs/by-name/he/hello/package.nix": "{ }\n"}, "hello: 2.12.1 -> 2.12.2")
	must(t, err)
	moved, err := f.gh.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"nixos/tests/kernel-generic.nix": "{ }\n"}, "nixosTests.kernel-generic: tidy")
	must(t, err)
	before := f.world()
	pushes := f.receives.Load()
	f.gh.ResetRequests()
	logStart := len(f.logs.String())
	rep := f.run()
	logs := f.logs.String()[logStart:]
	if rep.Base != moved {
		t.Fatalf("the cycle started from %s, want the moved base %s", rep.Base, moved)
	}
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes after an unrelated base move: %v", w)
	}
	if n := f.receives.Load() - pushes; n != 0 {
		t.Errorf("%d pushes after an unrelated base move", n)
	}
	if diff := cmp.Diff(before, f.world()); diff != "" {
		t.Errorf("an unrelated base move changed the world (-before +after):\n%s", diff)
	}
	for _, br := range rep.Branches {
		if br.Push != "unchanged" || !br.Reused || br.Head != first[br.Name] {
			t.Errorf("%s: push %s, reused %t, head %s; want unchanged at %s with the earlier build", br.Name, br.Push, br.Reused, br.Head, first[br.Name])
		}
	}
	if strings.Contains(logs, "cycle: building") || strings.Contains(logs, "cycle: validated") {
		t.Errorf("rebuilt after an unrelated base move:\n%s", logs)
	}
	if diff := cmp.Diff([]string{
		"linux_6_18: 6.18.5 -> 6.18.6: unchanged",
		"linux_6_12: 6.12.64 -> 6.12.65: unchanged",
		"linux_6_19: init at 6.19: unchanged",
	}, outcomesOf(rep)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}

	// Without the earlier build results, what the fork keeps is built:
	// its head on the older base, whose status is already there.
	must(t, os.Remove(filepath.Join(f.cache, "builds.json")))
	f.gh.ResetRequests()
	logStart = len(f.logs.String())
	f.run()
	logs = f.logs.String()[logStart:]
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes after building the kept branches again: %v", w)
	}
	if n := f.receives.Load() - pushes; n != 0 {
		t.Errorf("%d pushes", n)
	}
	if got := strings.Count(logs, `msg="cycle: building the fork's head"`); got != 2 {
		t.Errorf("built the fork's heads %d times, want 2:\n%s", got, logs)
	}
	if got, _ := os.ReadFile(filepath.Join(f.cache, "tree", ".kupdate-export")); strings.TrimSpace(string(got)) != first[initBr] {
		t.Errorf("the last export is %s, want the fork's %s", got, first[initBr])
	}

	// A maintainer bumps linux_6_18 by hand on the base, as kupdate would
	// have: the rolling branch keeps only linux_6_12's bump, rebuilt on the
	// new base, and the init (which touches kernels-org.json too) is
	// rebuilt; both are force-pushed. Their kernels' own entries are as
	// they were built, so the build results are reused.
	bumped := gitOut(t, fork, "show", rolling+"~1:"+kernelsOrg) + "\n"
	moved, err = f.gh.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{kernelsOrg: bumped}, "linux_6_18: 6.18.5 -> 6.18.6")
	must(t, err)
	f.syncFork()
	f.gh.ResetRequests()
	rep = f.run()
	if diff := cmp.Diff([]string{
		"linux_6_12: 6.12.64 -> 6.12.65: updated",
		"linux_6_19: init at 6.19: updated",
	}, outcomesOf(rep)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	for _, br := range rep.Branches {
		if br.Push != "pushed" || !br.Reused {
			t.Errorf("%s: push %s, reused %t; want pushed, the earlier build reused", br.Name, br.Push, br.Reused)
		}
		if got := gitOut(t, fork, "rev-parse", br.Name+"~1"); got != moved {
			t.Errorf("%s is based on %s, want the new base %s", br.Name, got, moved)
		}
	}
	if got := gitOut(t, fork, "log", "--format=%s", "staging-nixos.."+rolling); got != "linux_6_12: 6.12.64 -> 6.12.65" {
		t.Errorf("commits on %s:\n%s", rolling, got)
	}
	second := f.forkBranches()

	// The maintainer takes linux_6_12's bump too: nothing is left to plan
	// for the rolling branch, which is not pushed; the init moves again.
	all := gitOut(t, fork, "show", rolling+":"+kernelsOrg) + "\n"
	moved, err = f.gh.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{kernelsOrg: all}, "linux_6_12: 6.12.64 -> 6.12.65")
	must(t, err)
	f.syncFork()
	pushes = f.receives.Load()
	rep = f.run()
	if diff := cmp.Diff([]string{"linux_6_19: init at 6.19: updated"}, outcomesOf(rep)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if len(rep.Branches) != 1 || rep.Branches[0].Name != initBr {
		t.Errorf("branches: %+v", rep.Branches)
	}
	if n := f.receives.Load() - pushes; n != 1 {
		t.Errorf("%d pushes, want 1 (the init)", n)
	}
	now := f.forkBranches()
	if now[rolling] != second[rolling] {
		t.Errorf("%s moved from %s to %s", rolling, second[rolling], now[rolling])
	}
	if got := gitOut(t, fork, "rev-parse", initBr+"~1"); got != moved {
		t.Errorf("%s is based on %s, want %s", initBr, got, moved)
	}
}
