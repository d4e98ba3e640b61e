package updater

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// BenchmarkPlanScenario plans the golden scenario (9 changes, each applied to
// a copy of the tree as it is planned) with an in-memory hasher.
func BenchmarkPlanScenario(b *testing.B) {
	dir := copyTree(b)
	tr := loadTree(b, dir)
	rels := scenarioReleases()
	h := &tableHasher{notYet: map[string]bool{"6.6.125": true}}
	for _, r := range rels { // warm the simulator's hash functions
		h.Hash(context.Background(), r.Version)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := (&Planner{Hasher: h}).Plan(context.Background(), rels, tr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyInitNixpkgsSize applies an init to a tree whose aliases.nix
// has as many entries as nixpkgs' (about 4,500 lines, 250 kB).
func BenchmarkApplyInitNixpkgsSize(b *testing.B) {
	files := map[string][]byte{}
	for _, p := range []string{KernelsJSONPath, LinuxKernelsPath, AliasesPath, PatchesJSONPath} {
		data, err := os.ReadFile(sampleTree + "/" + p)
		if err != nil {
			b.Fatal(err)
		}
		files[p] = data
	}
	var filler strings.Builder
	for i := range 4400 {
		fmt.Fprintf(&filler, "  zz-filler-%04d = throw \"'zz-filler-%04d' has been removed, as it was unmaintained upstream and broken for a long time\"; # Added 2025-11-15\n", i, i)
	}
	files[AliasesPath] = []byte(strings.Replace(string(files[AliasesPath]), "\n  # keep-sorted end", "\n"+filler.String()+"\n  # keep-sorted end", 1))
	b.SetBytes(int64(len(files[AliasesPath]) + len(files[LinuxKernelsPath])))
	c := Change{Kind: Init, Branch: "7.0", To: "7.0", Hash: "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q", Title: "linux_7_0: init at 7.0"}
	for b.Loop() {
		tr, err := LoadFiles(files)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Apply(c); err != nil {
			b.Fatal(err)
		}
	}
}
