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

// BenchmarkCycleNewProcess is BenchmarkCycle for a one-shot `kupdate run`
// from cron: every cycle is a new Client (a new process), either sharing a
// cache directory with the ones before (cache=shared, as
// OptionsFromConfig sets it) or with none (cache=none, memory only).
func BenchmarkCycleNewProcess(b *testing.B) {
	for _, cache := range []string{"shared", "none"} {
		for _, filler := range []int{0, 20000} {
			for _, changed := range []int{-1, 0, 1, 7} {
				name := fmt.Sprintf("cache=%s/filler=%d/changed=%d", cache, filler, changed)
				if changed < 0 {
					name = fmt.Sprintf("cache=%s/filler=%d/changed=0+open-pr", cache, filler)
				}
				b.Run(name, func(b *testing.B) {
					dir := ""
					if cache == "shared" {
						dir = b.TempDir()
					}
					benchCycleWith(b, filler, changed, func(srv *kernelorgtest.Server) *Client {
						return newClient(b, srv, func(o *Options) { o.CacheDir = dir })
					})
				})
			}
		}
	}
}

func benchCycle(b *testing.B, filler, changed int) {
	var c *Client
	benchCycleWith(b, filler, changed, func(srv *kernelorgtest.Server) *Client {
		if c == nil {
			c = newClient(b, srv)
		}
		return c
	})
}

// benchCycleWith runs the cycles of BenchmarkCycle with the Client that
// client returns before each one (the same one for a service, a new one
// for a new process). changed < 0 is an idle cycle with an open PR: nothing
// new, but the hash of the PR's version (6.18.5) is checked again, as a
// whole cycle does for the PRs it keeps open.
func benchCycleWith(b *testing.B, filler, changed int, client func(*kernelorgtest.Server) *Client) {
	srv := newServer(b, sevenBranches...)
	srv.SetChecksumFiller(filler)
	ctx := context.Background()
	known := map[string]Version{}
	cycle := func(c *Client) {
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
		if changed < 0 {
			if _, err := c.Hash(ctx, known["6.18"]); err != nil {
				b.Fatal(err)
			}
		}
	}
	cycle(client(srv)) // what the service or the process before did: every branch known
	current := make([]Version, 7)
	for i := range current {
		current[i] = MustParseVersion(sevenBranches[i].Version)
	}
	var reqs, notModified, bytes, tarball int64
	b.ResetTimer()
	for range b.N {
		for i := range changed {
			current[i].Patch++
			if err := srv.Upsert(kernelorgtest.Spec{Version: current[i].String(), Moniker: sevenBranches[i].Moniker}); err != nil {
				b.Fatal(err)
			}
		}
		c := client(srv)
		before := c.Stats()
		cycle(c)
		after := c.Stats()
		reqs += after.Requests - before.Requests
		notModified += after.NotModified - before.NotModified
		bytes += after.Bytes - before.Bytes
		tarball += after.SnapshotBytes - before.SnapshotBytes
	}
	b.ReportMetric(float64(reqs)/float64(b.N), "requests/cycle")
	b.ReportMetric(float64(notModified)/float64(b.N), "304s/cycle")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/cycle")
	b.ReportMetric(float64(tarball)/float64(b.N), "tarball-bytes/cycle")
}

// BenchmarkRCHash measures what an rc hash costs kernel.org in a new
// process (a one-shot `kupdate run`) sharing the cache directory, per case:
// asking for a cached hash, as every cycle does while the testing bump
// waits in a PR (cached); a recheck because Nix refused a cached hash
// (recheck: a fresh download); Nix refusing the rechecked hash again for
// another reason, the snapshot unchanged (recheck-again: a conditional
// request); and the same once the snapshot changed (recheck-changed).
func BenchmarkRCHash(b *testing.B) {
	rc := MustParseVersion("6.19-rc4")
	right := kernelorgtest.NARHash("6.19-rc4")
	path := kernelorgtest.TarballPath("6.19-rc4")
	cases := []struct {
		name string
		// prepare readies the cache (and the simulator) before each
		// measured call, in its own Client, and returns the hash the call
		// rechecks ("" for Hash).
		prepare func(b *testing.B, srv *kernelorgtest.Server, c *Client) string
	}{
		{"cached", func(b *testing.B, srv *kernelorgtest.Server, c *Client) string {
			if _, err := c.Hash(context.Background(), rc); err != nil {
				b.Fatal(err)
			}
			return ""
		}},
		{"recheck", func(b *testing.B, srv *kernelorgtest.Server, c *Client) string {
			writeRecord(b, c.rcCacheFile(rc), rcRecord{Version: rc.String(), URL: c.SnapshotURL(rc), Hash: wrongHash})
			return wrongHash
		}},
		{"recheck-again", func(b *testing.B, srv *kernelorgtest.Server, c *Client) string {
			if _, err := c.Recheck(context.Background(), rc, right); err != nil {
				b.Fatal(err)
			}
			return right
		}},
		{"recheck-changed", func(b *testing.B, srv *kernelorgtest.Server, c *Client) string {
			srv.ClearFault(path)
			if _, err := c.Recheck(context.Background(), rc, right); err != nil {
				b.Fatal(err)
			}
			srv.SetFault(path, kernelorgtest.Fault{Body: kernelorgtest.TarGz("6.19-rc5")})
			return right
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			srv := newServer(b, sevenBranches...)
			cache := b.TempDir()
			var reqs, notModified, tarball int64
			for range b.N {
				b.StopTimer()
				used := tc.prepare(b, srv, newClient(b, srv, func(o *Options) { o.CacheDir = cache }))
				c := newClient(b, srv, func(o *Options) { o.CacheDir = cache })
				b.StartTimer()
				var err error
				if used == "" {
					_, err = c.Hash(context.Background(), rc)
				} else {
					_, err = c.Recheck(context.Background(), rc, used)
				}
				if err != nil {
					b.Fatal(err)
				}
				s := c.Stats()
				reqs, notModified, tarball = reqs+s.Requests, notModified+s.NotModified, tarball+s.SnapshotBytes
			}
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
			b.ReportMetric(float64(notModified)/float64(b.N), "304s/op")
			b.ReportMetric(float64(tarball)/float64(b.N), "tarball-bytes/op")
		})
	}
}
