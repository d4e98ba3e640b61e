package zen_test

import (
	"context"
	"testing"

	"github.com/kupdate/kupdate/family/zen"
)

// BenchmarkIdlePlan is what zen costs a cycle with nothing new: the tree is
// at zen-kernel's newest releases and the source has listed them before (a
// running service). Reported per plan: requests to GitHub, those GitHub
// counts against the rate limit (a 304 is not counted). No tarball is
// downloaded: a tag is hashed only for a bump.
func BenchmarkIdlePlan(b *testing.B) {
	w := newWorld(b, "v6.18.3-lqx1", "v6.18.4-zen1")
	f := zen.New(w.src)
	tr := tree(b, readTestdata(b, "../../../testdata/nixpkgs/pkgs/os-specific/linux/kernel/zen-kernels.nix"))
	if _, err := f.Plan(context.Background(), tr); err != nil {
		b.Fatal(err)
	}
	w.gh.ResetRequests()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := f.Plan(context.Background(), tr)
		if err != nil || len(p.Changes)+len(p.Held)+len(p.Skipped) != 0 {
			b.Fatalf("an idle plan planned %+v, %v", p, err)
		}
	}
	b.StopTimer()
	var counted float64
	reqs := w.gh.Requests()
	for _, r := range reqs {
		if r.Counted {
			counted++
		}
	}
	b.ReportMetric(float64(len(reqs))/float64(b.N), "requests/plan")
	b.ReportMetric(counted/float64(b.N), "rate-limited/plan")
}
