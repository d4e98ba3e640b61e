package cycle_test

import (
	"strings"
	"testing"

	"github.com/kupdate/kupdate/srcarchive/srcarchivetest"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// A zen-kernel release reaches nixpkgs through the cycle as any family's
// change does, with nothing in the cycle knowing zen: a PR of its own,
// titled as nixpkgs titles zen bumps, whose kernel Nix built from the
// simulator's tag tarball (the hash checked). The next cycle changes
// nothing.
func TestZenRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run()
	tag := "v6.18.9-zen1"
	must(t, f.gh.PublishRelease("zen-kernel", "zen-kernel", githubtest.Release{Tag: tag, Source: srcarchivetest.Kernel("zen-kernel-6.18.9-zen1", tag)}))
	rep := f.run()
	const branch = "kupdate/staging-nixos/linux_zen-update"
	var zen *githubtest.PullRequest
	prs := f.gh.PRs("NixOS", "nixpkgs")
	for i := range prs {
		if prs[i].Head == branch {
			zen = &prs[i]
		}
	}
	if zen == nil || zen.Title != "linuxKernel.kernels.linux_zen: 6.18.4-zen1 -> 6.18.9-zen1" || zen.HeadSHA != f.forkBranches()[branch] {
		t.Fatalf("no zen PR on %s: %+v\n%s", branch, prs, summary(t, f, rep))
	}
	s := summary(t, f, rep)
	if !strings.Contains(s, "linuxKernel.kernels.linux_zen: 6.18.4-zen1 -> 6.18.9-zen1") || !strings.Contains(f.logs.String(), "attrs=[linux_zen]") {
		t.Errorf("summary or build log lacks the zen bump:\n%s", s)
	}
	head := f.forkBranches()[branch]
	again := f.run()
	if got := f.forkBranches()[branch]; got != head || len(f.gh.PRs("NixOS", "nixpkgs")) != len(prs) {
		t.Errorf("the next cycle moved %s from %s to %s or opened a PR:\n%s", branch, head, got, summary(t, f, again))
	}
}
