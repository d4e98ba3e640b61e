package updater

import (
	"context"
	"fmt"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
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
		if _, err := (&Planner{Families: kernels(rels, h, nil)}).Plan(context.Background(), tr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyInitNixpkgsSize applies an init to a tree whose aliases.nix
// has as many entries as nixpkgs' (about 4,500 lines, 250 kB).
func BenchmarkApplyInitNixpkgsSize(b *testing.B) {
	files := map[string][]byte{}
	for _, p := range []string{kernelfiles.KernelsJSONPath, kernelfiles.LinuxKernelsPath, kernelfiles.AliasesPath, kernelfiles.PatchesJSONPath} {
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
	files[kernelfiles.AliasesPath] = []byte(strings.Replace(string(files[kernelfiles.AliasesPath]), "\n  # keep-sorted end", "\n"+filler.String()+"\n  # keep-sorted end", 1))
	b.SetBytes(int64(len(files[kernelfiles.AliasesPath]) + len(files[kernelfiles.LinuxKernelsPath])))
	c := initChange("7.0", "7.0")
	reg := family.Registry{vanilla.New(nil), hardened.New(nil, nil)}
	for b.Loop() {
		tr, err := reg.Load(files)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Apply(reg, tr, c); err != nil {
			b.Fatal(err)
		}
	}
}
