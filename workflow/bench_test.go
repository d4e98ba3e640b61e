package workflow_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/workflow"
)

// BenchmarkCycleRequests counts the GitHub requests of one whole cycle (Sync
// of the rolling branch, then Promote with a pending check on staging-nixos)
// in three situations, and how many of them count against the rate limit
// (a 304 does not). Time per op is the simulator's and git's, not GitHub's:
// the figures that matter are requests/op and counted/op.
//
//	go test -run '^$' -bench CycleRequests -benchtime 5x ./workflow/
func BenchmarkCycleRequests(b *testing.B) {
	setup := func(b *testing.B) (*fixture, *workflow.Workflow) {
		f := newFixture(b, func(c *config.Config) { c.Promote.Enabled, c.Promote.Merge = true, true })
		head := stagingAhead(b, f)
		must(b, f.sim.SetStatus("NixOS", "nixpkgs", head, "nixos-tests", "pending"))
		return f, f.workflow()
	}
	cycle := func(b *testing.B, w *workflow.Workflow, u workflow.BranchUpdate) {
		if _, err := w.Sync(context.Background(), []workflow.BranchUpdate{u}); err != nil {
			b.Fatal(err)
		}
		res, err := w.Promote(context.Background())
		if err != nil || res[0].Outcome != workflow.Waiting {
			b.Fatalf("promotion: %+v %v", res, err)
		}
	}
	report := func(b *testing.B, total, counted int) {
		b.ReportMetric(float64(total)/float64(b.N), "requests/op")
		b.ReportMetric(float64(counted)/float64(b.N), "counted/op")
	}
	count := func(f *fixture) (total, counted int) {
		for _, r := range f.sim.Requests() {
			total++
			if r.Counted {
				counted++
			}
		}
		f.sim.ResetRequests()
		return total, counted
	}

	b.Run("first", func(b *testing.B) { // opens the PR and the promotion PR
		var total, counted int
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			f, w := setup(b)
			u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"), bump("linux_6_18", "6.18.2", "6.18.3"))
			u.Build = passed("linux_6_12", "linux_6_18")
			f.sim.ResetRequests()
			b.StartTimer()
			cycle(b, w, u)
			t, c := count(f)
			total, counted = total+t, counted+c
		}
		report(b, total, counted)
	})
	b.Run("update", func(b *testing.B) { // a newer point release, built: body and status change
		f, w := setup(b)
		u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
		cycle(b, w, u)
		cycle(b, w, u) // the reads the first cycle's writes changed
		var total, counted int
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			u := f.push(rolling, bump("linux_6_12", "6.12.63", fmt.Sprintf("6.12.%d", 65+i)))
			u.Build = passed("linux_6_12")
			f.sim.ResetRequests()
			b.StartTimer()
			cycle(b, w, u)
			t, c := count(f)
			total, counted = total+t, counted+c
		}
		report(b, total, counted)
	})
	b.Run("no-change", func(b *testing.B) { // the steady state: same head, same results
		f, w := setup(b)
		u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
		u.Build = passed("linux_6_12")
		cycle(b, w, u)
		cycle(b, w, u) // the reads the first cycle's writes changed
		f.sim.ResetRequests()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			cycle(b, w, u)
		}
		b.StopTimer()
		total, counted := count(f)
		report(b, total, counted)
	})
	// The steady state with github.reviewers, one of whom already reviewed
	// (so is no longer in requested_reviewers), in a new process each cycle
	// (kupdate run from cron, the ETag cache on disk): each reads the PR's
	// timeline to learn she was asked before. A service remembers it (as
	// "no-change" shows, it makes no such read).
	b.Run("no-change-reviewed-new-process", func(b *testing.B) {
		f, _ := setup(b)
		f.cfg.GitHub.Reviewers = []string{"alice", "NixOS/linux-kernel"}
		f.opts.CacheDir = b.TempDir()
		u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
		u.Build = passed("linux_6_12")
		cycle(b, f.workflow(), u)
		must(b, f.sim.Review("NixOS", "nixpkgs", 1, "alice", "APPROVED"))
		cycle(b, f.workflow(), u) // the reads the first cycle and the review changed
		f.sim.ResetRequests()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			cycle(b, f.workflow(), u)
		}
		b.StopTimer()
		total, counted := count(f)
		report(b, total, counted)
	})
}
