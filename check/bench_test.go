package check

import (
	"context"
	"testing"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// BenchmarkCheck checks a weekly-batch-sized pull request: six bumps and a
// testing bump, one commit each, on the sample tree. "cold" is a one-shot
// CI job (a new kernel.org client with an empty rc hash cache: releases.json,
// each sha256sums.asc and the rc snapshot are downloaded and verified);
// "warm" is the service re-checking with the same client (conditional
// requests answered 304, the rc hash remembered).
func BenchmarkCheck(b *testing.B) {
	sim, err := kernelorgtest.New(earlierReleases...)
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	if err := sim.SetReleases(currentReleases...); err != nil {
		b.Fatal(err)
	}
	sim.SetChecksumFiller(20000) // kernel.org's v6.x list has ~20,000 lines
	newClient := func() *kernelorg.Client {
		c, err := kernelorg.New(kernelorg.Options{URL: sim.URL, GitURL: sim.URL, Keyring: sim.Keyring(), Fingerprint: sim.Fingerprint(), CacheDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	p := newPRRepo(b)
	for _, c := range []family.Change{
		bump("6.1", "6.1.159", "6.1.160", true),
		bump("5.15", "5.15.197", "5.15.198", true),
		bump("5.10", "5.10.247", "5.10.248", true),
		bump("6.6", "6.6.119", "6.6.120", true),
		bump("6.12", "6.12.64", "6.12.66", true),
		bump("6.18", "6.18.5", "6.18.7", false),
		bump("testing", "6.19-rc4", "6.19-rc5", false),
	} {
		p.apply("", c, nil)
	}
	run := func(b *testing.B, client *kernelorg.Client) {
		if client == nil {
			client = newClient()
		}
		ck := &Checker{Repo: &Repo{Dir: p.dir}, Families: registry(client, nil)}
		rep, err := ck.Check(context.Background(), "main", "pr")
		if err != nil {
			b.Fatal(err)
		}
		if rep.Conclusion != Pass || len(rep.Verified) != 7 {
			b.Fatalf("conclusion %s, %d verified, findings %v", rep.Conclusion, len(rep.Verified), rep.Findings)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			run(b, nil)
		}
	})
	b.Run("warm", func(b *testing.B) {
		client := newClient()
		run(b, client)
		for b.Loop() {
			run(b, client)
		}
	})
}
