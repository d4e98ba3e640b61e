package build

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkParallel builds six candidates whose kernel derivation sleeps
// one second each (new derivations every iteration, so Nix never reuses a
// result), and reports the wall time of the run against the sum of the
// tiers' own durations:
//
//   - concurrency=N: six attributes, N nix-build processes at a time,
//     max-jobs 1 each;
//   - max_jobs=N: one attribute whose kernel has six one-second
//     dependencies, one nix-build with --max-jobs N.
//
// go test -run '^$' -bench Parallel -benchtime 1x ./build/
func BenchmarkParallel(b *testing.B) {
	needNix(b)
	var six []string
	for i := 1; i <= 6; i++ {
		six = append(six, fmt.Sprintf("linux_bench_%d", i))
	}
	for _, bc := range []struct {
		name                 string
		concurrency, maxJobs int
		attrs                []string
	}{
		{"concurrency=1", 1, 1, six},
		{"concurrency=2", 2, 1, six},
		{"concurrency=6", 6, 1, six},
		{"max_jobs=1", 1, 1, []string{"linux_bench_deps"}},
		{"max_jobs=2", 1, 2, []string{"linux_bench_deps"}},
		{"max_jobs=6", 1, 6, []string{"linux_bench_deps"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var wall, parts time.Duration
			for b.Loop() {
				cfg := testConfig(uniqueMarker(b), "300", "kernel")
				cfg.Concurrency, cfg.MaxJobs = bc.concurrency, bc.maxJobs
				start := time.Now()
				rep := New(cfg).Run(context.Background(), treeDir(b), bc.attrs)
				wall += time.Since(start)
				if !rep.OK() {
					b.Fatalf("build failed: %+v", rep.Results)
				}
				for _, r := range rep.Results {
					parts += r.Duration
				}
			}
			n := float64(b.N)
			b.ReportMetric(wall.Seconds()/n, "wall-s/op")
			b.ReportMetric(parts.Seconds()/n, "sum-of-tiers-s/op")
			b.ReportMetric(6/(wall.Seconds()/n), "x-speedup") // six one-second sleeps per op
		})
	}
}
