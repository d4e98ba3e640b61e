package family

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTitle(t *testing.T) {
	for _, tc := range []struct {
		t     Title
		s     string
		match bool
		str   string
	}{
		{Title{Text: "linux_6_12: 6.12.63 -> 6.12.64"}, "linux_6_12: 6.12.63 -> 6.12.64", true, `"linux_6_12: 6.12.63 -> 6.12.64"`},
		{Title{Text: "linux_6_12: 6.12.63 -> 6.12.64"}, "linux_6_12: 6.12.63 -> 6.12.64 ", false, `"linux_6_12: 6.12.63 -> 6.12.64"`},
		{Title{Text: "linux_6_12: ", Prefix: true}, "linux_6_12: fix the hash", true, `"linux_6_12: ..."`},
		// A prefix wants something after it.
		{Title{Text: "linux_6_12: ", Prefix: true}, "linux_6_12: ", false, `"linux_6_12: ..."`},
		{Title{Text: "linux_6_12: ", Prefix: true}, "linux_6_1: fix", false, `"linux_6_12: ..."`},
	} {
		if got := tc.t.Matches(tc.s); got != tc.match {
			t.Errorf("%+v.Matches(%q) = %t, want %t", tc.t, tc.s, got, tc.match)
		}
		if got := tc.t.String(); got != tc.str {
			t.Errorf("%+v.String() = %s, want %s", tc.t, got, tc.str)
		}
	}
}

func TestMissing(t *testing.T) {
	var m Missing
	if !m.Empty() || m.String() != "" {
		t.Fatalf("zero Missing: empty %t, %q", m.Empty(), m.String())
	}
	m.Add("a.nix", "x = 1;")
	m.Add("b.nix", "z = 3;")
	m.Add("a.nix", "y = 2;")
	m.Add("a.nix", "w = 4;")
	want := "a.nix lacks `x = 1;`, `y = 2;` and `w = 4;`; b.nix lacks `z = 3;`"
	if m.Empty() || m.String() != want {
		t.Errorf("Missing = %q, want %q", m.String(), want)
	}
}

func TestResults(t *testing.T) {
	var r Results
	r.Findingf("k.json", 3, RuleHash, "%q hash %s", "6.12", "sha256:x")
	r.Unverifiedf("k.json", 0, "%q: %v", "6.18", "kernel.org is down")
	r.Verify(Verified{File: "p.json", Line: 2, Branch: "6.12", Variant: "hardened", From: "6.12.1-hardened1", To: "6.12.2-hardened1"})
	r.Verify(Verified{File: "k.json", Branch: "5.10", From: "5.10.247"})
	r.Verify(Verified{File: "k.json", Line: 9, Branch: "6.19", To: "6.19"})
	var got []string
	for _, f := range r.Findings {
		got = append(got, string(f.Rule)+" "+f.String())
	}
	for _, f := range r.Unverified {
		got = append(got, string(f.Rule)+"- "+f.String())
	}
	for _, v := range r.Verified {
		got = append(got, v.Where()+": "+v.Label()+" "+v.Change())
	}
	want := []string{
		`hash k.json:3: "6.12" hash sha256:x`,
		`- k.json: "6.18": kernel.org is down`,
		`p.json:2: hardened "6.12" 6.12.1-hardened1 -> 6.12.2-hardened1`,
		`k.json: "5.10" removed (was 5.10.247)`,
		`k.json:9: "6.19" added at 6.19`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("results (-want +got):\n%s", d)
	}
}
