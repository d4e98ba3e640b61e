package cycle_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/cycle"
)

// checkoutState is everything of a checkout a maintainer would notice.
func checkoutState(t *testing.T, dir string) []string {
	t.Helper()
	kernels, err := os.ReadFile(filepath.Join(dir, "pkgs/os-specific/linux/kernel/kernels-org.json"))
	must(t, err)
	return []string{
		gitOut(t, dir, "rev-parse", "HEAD"),
		gitOut(t, dir, "symbolic-ref", "HEAD"),
		gitOut(t, dir, "for-each-ref"),
		gitOut(t, dir, "status", "--porcelain", "--untracked-files=all"),
		gitOut(t, dir, "ls-files", "--stage", "--debug"),
		string(kernels),
	}
}

// With a maintainer's checkout (--nixpkgs), the cycle starts from its HEAD
// and never touches its worktree, index or refs: validation and builds run
// in the export under the cache directory.
func TestLocalCheckout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "nixpkgs")
	gitOut(t, ".", "clone", "--quiet", "--branch", "staging-nixos", f.gh.GitURL("NixOS", "nixpkgs"), dir)
	// The maintainer's own unfinished work stays as it is.
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644))
	before := checkoutState(t, dir)

	local := func(o *cycle.Options) { o.Nixpkgs = dir }
	rep, err := f.cycle(local, dryRun).Run(context.Background())
	if err != nil || rep.Err() != nil || len(rep.Branches) != 2 {
		t.Fatalf("dry run: %v, %v, %d branches\n%s", err, rep.Err(), len(rep.Branches), f.logs)
	}
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes in a dry run: %v", w)
	}
	rep = f.run(local)
	if rep.Source != "checkout "+dir {
		t.Errorf("Source = %q", rep.Source)
	}
	if n := len(f.gh.PRs("NixOS", "nixpkgs")); n != 2 {
		t.Errorf("%d PRs, want 2", n)
	}
	if diff := cmp.Diff(before, checkoutState(t, dir)); diff != "" {
		t.Errorf("the checkout changed (-before +after):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(f.cache, "tree", "pkgs/top-level/linux-kernels.nix")); err != nil {
		t.Errorf("no export under the cache directory: %v", err)
	}
}
