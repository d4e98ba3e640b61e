package cycle_test

import (
	"context"
	"testing"
)

// BenchmarkCycle measures a cycle against the simulators and the sample
// tree with real git and Nix: "first" opens the two PRs (three changes,
// built in the eval and configfile tiers) in a new world each time; "idle"
// is a cycle with nothing new upstream, what the hourly schedule costs most
// hours. Requests are per cycle: GitHub API requests (and how many counted
// against the rate limit: 304s do not), git requests to the fork, kernel.org
// requests.
func BenchmarkCycle(b *testing.B) {
	b.Run("first", func(b *testing.B) {
		var gh, counted, git, ko float64
		for b.Loop() {
			b.StopTimer()
			f := newFixture(b)
			c := f.cycle()
			b.StartTimer()
			rep, err := c.Run(context.Background())
			if err != nil || rep.Err() != nil {
				b.Fatalf("%v %v", err, rep.Err())
			}
			b.StopTimer()
			for _, r := range f.gh.Requests() {
				gh++
				if r.Counted {
					counted++
				}
			}
			n, _ := f.ko.Totals()
			ko += float64(n)
			git += float64(f.gitReqs.Load())
			b.StartTimer()
		}
		report(b, gh, counted, git, ko)
	})
	b.Run("idle", func(b *testing.B) {
		f := newFixture(b)
		f.run()
		c := f.cycle()
		if _, err := c.Run(context.Background()); err != nil { // warm the ETag cache
			b.Fatal(err)
		}
		f.gh.ResetRequests()
		f.ko.ResetCounts()
		git0 := f.gitReqs.Load()
		for b.Loop() {
			rep, err := c.Run(context.Background())
			if err != nil || rep.Err() != nil {
				b.Fatalf("%v %v", err, rep.Err())
			}
		}
		var gh, counted float64
		for _, r := range f.gh.Requests() {
			gh++
			if r.Counted {
				counted++
			}
			if r.Method != "GET" {
				b.Fatalf("an idle cycle wrote: %s", r)
			}
		}
		n, _ := f.ko.Totals()
		report(b, gh, counted, float64(f.gitReqs.Load()-git0), float64(n))
	})
}

func report(b *testing.B, gh, counted, git, ko float64) {
	n := float64(b.N)
	b.ReportMetric(gh/n, "github-req/op")
	b.ReportMetric(counted/n, "github-counted/op")
	b.ReportMetric(git/n, "fork-git-req/op")
	b.ReportMetric(ko/n, "kernelorg-req/op")
}
