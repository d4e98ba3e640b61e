package kernelorg

import (
	"context"
	"fmt"
	"testing"

	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// sevenBranches are the stable and longterm branches of early 2026, in two
// checksum folders (v5.x, v6.x), with an rc and linux-next beside them.
var sevenBranches = []kernelorgtest.Spec{
	{Version: "6.18.5"},
	{Version: "6.12.64", Moniker: "longterm"},
	{Version: "6.6.119", Moniker: "longterm"},
	{Version: "6.1.159", Moniker: "longterm"},
	{Version: "5.15.197", Moniker: "longterm"},
	{Version: "5.10.247", Moniker: "longterm"},
	{Version: "5.4.301", Moniker: "longterm"},
	{Version: "6.19-rc4"},
	{Version: "next-20260105"},
}

// BenchmarkCycle measures what one polling cycle fetches from kernel.org
// (the simulator) when `changed` stable/longterm branches have a new point
// release: releases.json, then a hash for each changed branch, as the
// planner asks for them. filler adds lines to each sha256sums.asc to bring
// it nearer kernel.org's size. The figures are requests/cycle, bytes/cycle
// (response bodies) and tarball-bytes/cycle (rc snapshots; stable and
// longterm hashes need none).
func BenchmarkCycle(b *testing.B) {
	for _, filler := range []int{0, 20000} {
		for _, changed := range []int{0, 1, 7} {
			b.Run(fmt.Sprintf("filler=%d/changed=%d", filler, changed), func(b *testing.B) {
				benchCycle(b, filler, changed)
			})
		}
	}
}

func benchCycle(b *testing.B, filler, changed int) {
	srv := newServer(b, sevenBranches...)
	srv.SetChecksumFiller(filler)
	c := newClient(b, srv)
	ctx := context.Background()
	known := map[string]Version{}
	cycle := func() {
		rels, err := c.Releases(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rels {
			if known[r.Branch] == r.Version {
				continue
			}
			if _, err := c.Hash(ctx, r.Version); err != nil {
				b.Fatal(err)
			}
			known[r.Branch] = r.Version
		}
	}
	cycle() // what a running service did before: every branch known
	current := make([]Version, 7)
	for i := range current {
		current[i] = MustParseVersion(sevenBranches[i].Version)
	}
	var reqs, bytes, tarball int64
	b.ResetTimer()
	for range b.N {
		for i := range changed {
			current[i].Patch++
			if err := srv.Upsert(kernelorgtest.Spec{Version: current[i].String(), Moniker: sevenBranches[i].Moniker}); err != nil {
				b.Fatal(err)
			}
		}
		before := c.Stats()
		cycle()
		after := c.Stats()
		reqs += after.Requests - before.Requests
		bytes += after.Bytes - before.Bytes
		tarball += after.SnapshotBytes - before.SnapshotBytes
	}
	b.ReportMetric(float64(reqs)/float64(b.N), "requests/cycle")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/cycle")
	b.ReportMetric(float64(tarball)/float64(b.N), "tarball-bytes/cycle")
}
