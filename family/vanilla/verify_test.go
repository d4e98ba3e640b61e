package vanilla_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/familytest"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

const (
	kj = kernelfiles.KernelsJSONPath
	lk = kernelfiles.LinuxKernelsPath
	al = kernelfiles.AliasesPath
)

// kernelOrg answers like kernelorg.Client would for a table of releases:
// the kernelorgtest hashes, ErrNotYet for what is not signed, and counts
// the reads of releases.json.
type kernelOrg struct {
	releases    []kernelorg.Release
	releasesErr error
	notYet      map[string]bool
	reads       int
}

func (k *kernelOrg) Releases(context.Context) ([]kernelorg.Release, error) {
	k.reads++
	return k.releases, k.releasesErr
}

func (k *kernelOrg) Hash(_ context.Context, v kernelorg.Version) (string, error) {
	if k.notYet[v.String()] {
		return "", fmt.Errorf("linux %s: %w", v, kernelorg.ErrNotYet)
	}
	if v.IsRC() {
		return kernelorgtest.NARHash(v.String()), nil
	}
	return kernelorgtest.FlatHash(v.String()), nil
}

// releases are kernel.org's releases.json of the check tests: 6.19 is out,
// 6.17 and 6.8 are end of life.
func releases() []kernelorg.Release {
	var out []kernelorg.Release
	for _, r := range []struct {
		v        string
		lts, eol bool
	}{
		{"6.19", false, false}, {"6.18.7", false, false}, {"6.17.13", false, true}, {"6.8.12", false, true},
		{"6.12.66", true, false}, {"6.6.120", true, false}, {"6.1.160", true, false},
		{"5.15.198", true, false}, {"5.10.248", true, false},
	} {
		v := kernelorg.MustParseVersion(r.v)
		out = append(out, kernelorg.Release{Version: v, Branch: v.Branch(), LTS: r.lts, EOL: r.eol})
	}
	return out
}

// sample is the repository's sample nixpkgs tree, as the check reads it.
func sample(t *testing.T) *family.Tree {
	t.Helper()
	tr, err := familytest.Registry().LoadFS(os.DirFS("../../testdata/nixpkgs"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// made applies changes to base as kupdate does, then edit (nil: none).
func made(t *testing.T, base *family.Tree, edit func(map[string][]byte), cs ...family.Change) *family.Tree {
	t.Helper()
	files := map[string][]byte{}
	for _, p := range base.Files() {
		files[p] = base.File(p)
	}
	for _, c := range cs {
		changed, err := familytest.Apply(files, c, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(files, changed)
	}
	if edit != nil {
		edit(files)
	}
	return family.NewTree(files)
}

func bump(branch, from, to string, lts bool) family.Change {
	return vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: branch, From: from, To: to, Hash: kernelorgtest.FlatHash(to), LTS: lts})
}

func replace(path, old, new string) func(map[string][]byte) {
	return func(files map[string][]byte) {
		files[path] = []byte(strings.Replace(string(files[path]), old, new, 1))
	}
}

func appendEntry(branch, version string) func(map[string][]byte) {
	return func(files map[string][]byte) {
		s := strings.TrimSuffix(string(files[kj]), "    }\n}\n")
		s += fmt.Sprintf("    },\n    %q: {\n        \"version\": %q,\n        \"hash\": %q,\n        \"lts\": false\n    }\n}\n", branch, version, kernelorgtest.FlatHash(version))
		files[kj] = []byte(s)
	}
}

// TestVerify runs the family's rules on trees in memory, against a table
// of kernel.org releases: no git, no simulator.
func TestVerify(t *testing.T) {
	fh := kernelorgtest.FlatHash
	for _, tc := range []struct {
		name       string
		edit       func(map[string][]byte)
		changes    []family.Change
		kernelOrg  func(*kernelOrg)
		findings   []string
		unverified []string
		verified   []string
		reads      int // of releases.json
	}{
		{
			name:     "bump",
			changes:  []family.Change{bump("6.12", "6.12.64", "6.12.66", true)},
			verified: []string{kj + `:27: "6.12" 6.12.64 -> 6.12.66`},
			reads:    1,
		},
		{
			name:     "wrong hash",
			changes:  []family.Change{bump("6.12", "6.12.64", "6.12.66", true)},
			edit:     replace(kj, fh("6.12.66"), fh("6.12.65")),
			findings: []string{kj + `:27: "6.12" hash ` + fh("6.12.65") + ` does not match kernel.org's signed checksum for linux-6.12.66.tar.xz (` + fh("6.12.66") + `); run kupdate update or fix the hash`},
			reads:    1,
		},
		{
			name:     "lts flag kernel.org does not list",
			changes:  []family.Change{bump("6.18", "6.18.5", "6.18.7", true)},
			findings: []string{kj + `:32: "6.18" has "lts": true but kernel.org does not list 6.18 as longterm; set "lts": false`},
			reads:    1,
		},
		{
			name:       "not signed yet",
			changes:    []family.Change{bump("6.18", "6.18.5", "6.18.7", false)},
			kernelOrg:  func(k *kernelOrg) { k.notYet = map[string]bool{"6.18.7": true} },
			unverified: []string{kj + `:32: "6.18" 6.18.7: kernel.org lists the release but kernel.org's signed checksum list has no linux-6.18.7.tar.xz yet; re-run the check later`},
			reads:      1,
		},
		{
			// releases.json is read once per check, its failure included.
			name:      "releases.json failing",
			changes:   []family.Change{bump("6.12", "6.12.64", "6.12.66", true), bump("6.18", "6.18.5", "6.18.7", false)},
			kernelOrg: func(k *kernelOrg) { k.releasesErr = fmt.Errorf("HTTP 503") },
			unverified: []string{
				kj + `:27: "6.12" 6.12.66: could not verify against kernel.org: kernel.org releases: HTTP 503`,
				kj + `:32: "6.18" 6.18.7: could not verify against kernel.org: kernel.org releases: HTTP 503`,
			},
			reads: 1,
		},
		{
			name:     "end of life branch added",
			edit:     appendEntry("6.8", "6.8.12"),
			findings: []string{kj + `:37: "6.8" is end of life on kernel.org (its last release is 6.8.12); nixpkgs removes EOL branches, never adds them: drop the entry`},
			reads:    1,
		},
		{
			name:     "complete init",
			changes:  []family.Change{vanilla.Made(family.Change{Kind: vanilla.Init, Branch: "6.19", To: "6.19", Hash: fh("6.19")})},
			verified: []string{kj + `:37: "6.19" added at 6.19`},
			reads:    1,
		},
		{
			// A removal is checked in the tree alone.
			name:     "complete removal",
			changes:  []family.Change{vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247", LTS: true})},
			verified: []string{kj + `:17: "5.10" removed (was 5.10.247)`},
		},
		{
			name:     "downgrade",
			changes:  []family.Change{bump("6.12", "6.12.64", "6.12.63", true)},
			findings: []string{kj + `:27: "6.12" goes backwards: 6.12.63 is older than 6.12.64 at the base; a kernel update never downgrades (a typo in the version?)`},
			reads:    1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &kernelOrg{releases: releases()}
			if tc.kernelOrg != nil {
				tc.kernelOrg(k)
			}
			base := sample(t)
			head := made(t, base, tc.edit, tc.changes...)
			var out family.Results
			if _, err := vanilla.New(k).Verify(context.Background(), family.PR{Base: base, Head: head, Log: discard()}, &out); err != nil {
				t.Fatal(err)
			}
			var got, gotU, gotV []string
			for _, f := range out.Findings {
				got = append(got, f.String())
			}
			for _, f := range out.Unverified {
				gotU = append(gotU, f.String())
			}
			for _, v := range out.Verified {
				gotV = append(gotV, v.Where()+": "+v.Label()+" "+v.Change())
			}
			if d := cmp.Diff(tc.findings, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.unverified, gotU, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("unverified (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.verified, gotV, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("verified (-want +got):\n%s", d)
			}
			if k.reads != tc.reads {
				t.Errorf("releases.json read %d times, want %d", k.reads, tc.reads)
			}
		})
	}
}

func TestVerifyNeedsKernelsJSON(t *testing.T) {
	tr := family.NewTree(map[string][]byte{lk: []byte("{ }\n")})
	_, err := vanilla.New(&kernelOrg{}).Verify(context.Background(), family.PR{Base: tr, Head: tr, Log: discard()}, &family.Results{})
	want := kj + " is in neither the merge base nor the head: not a nixpkgs tree with kernels-org.json (check --nixpkgs and the revisions)"
	if err == nil || err.Error() != want {
		t.Errorf("Verify of a tree without kernels-org.json: %v, want %q", err, want)
	}
}

func TestClaimsChange(t *testing.T) {
	f := vanilla.New(nil)
	for title, want := range map[string]bool{
		"linux_6_12: 6.12.63 -> 6.12.64":      true,
		"linux_testing: 6.19-rc3 -> 6.19-rc4": true,
		"linux_7_0: init at 7.0.1":            true,
		"linux_5_10: remove":                  true,
		"linux_6_12: enable FOO":              false,
		"linux_6_18: mark as longterm":        false,
		"linux_6_12_hardened: remove":         false, // linux-hardened's
		"linux_zen: 6.18.1 -> 6.18.2":         false,
		"linux-kernels: 6.12.63 -> 6.12.64":   false,
		"linux_6_12: 6.12.63 -> 6.12.64 fix":  false,
	} {
		if got := f.ClaimsChange(title); got != want {
			t.Errorf("ClaimsChange(%q) = %t, want %t", title, got, want)
		}
	}
}

// TestTitles: the titles a commit's changes of kernels-org.json want, and
// where a title finding points.
func TestTitles(t *testing.T) {
	fh := kernelorgtest.FlatHash
	init619 := vanilla.Made(family.Change{Kind: vanilla.Init, Branch: "6.19", To: "6.19", Hash: fh("6.19")})
	for _, tc := range []struct {
		name    string
		changes []family.Change
		edit    func(map[string][]byte)
		files   []string // the commit's; nil: every file the changes touch
		want    family.CommitTitles
	}{
		{
			name:    "bump",
			changes: []family.Change{bump("6.12", "6.12.64", "6.12.66", true)},
			want: family.CommitTitles{File: kj, Line: 27, Want: []family.Title{
				{Text: "linux_6_12: 6.12.64 -> 6.12.66", What: `changes "6.12" from 6.12.64 to 6.12.66`},
			}},
		},
		{
			name:    "two bumps, in file order",
			changes: []family.Change{bump("6.12", "6.12.64", "6.12.66", true), bump("6.6", "6.6.119", "6.6.120", true)},
			want: family.CommitTitles{File: kj, Line: 22, Want: []family.Title{
				{Text: "linux_6_6: 6.6.119 -> 6.6.120", What: `changes "6.6" from 6.6.119 to 6.6.120`},
				{Text: "linux_6_12: 6.12.64 -> 6.12.66", What: `changes "6.12" from 6.12.64 to 6.12.66`},
			}},
		},
		{
			name:    "lts flip",
			changes: []family.Change{vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "6.18", From: "6.18.5", To: "6.18.5", Hash: "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q", LTS: true})},
			want: family.CommitTitles{File: kj, Line: 32, Want: []family.Title{
				{Text: "linux_6_18: mark as longterm", What: `flips the lts flag of "6.18"`},
			}},
		},
		{
			name: "hash fixed in place",
			edit: replace(kj, "sha256:18j9ivimvlm1afzfiw03n3r35qv91nbjhh2gi3z8w5416sir9bfi", fh("6.12.64")),
			want: family.CommitTitles{File: kj, Line: 27, Want: []family.Title{
				{Text: "linux_6_12: ", Prefix: true, What: `changes the entry of "6.12" at 6.12.64`},
			}},
		},
		{
			name:    "removal",
			changes: []family.Change{vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247", LTS: true})},
			want: family.CommitTitles{File: kj, Line: 17, Want: []family.Title{
				{Text: "linux_5_10: remove", What: `removes "5.10"`},
			}},
		},
		{
			name:    "init in one commit",
			changes: []family.Change{init619},
			want: family.CommitTitles{File: kj, Line: 37, Want: []family.Title{
				{Text: "linux_6_19: init at 6.19", What: `adds "6.19" at 6.19`},
			}},
		},
		{
			// Its linux-kernels.nix and aliases.nix parts come in another commit.
			name:    "init split",
			changes: []family.Change{init619},
			files:   []string{kj},
			want: family.CommitTitles{File: kj, Line: 37, Want: []family.Title{
				{Text: "linux_6_19: init at 6.19", What: `adds "6.19" at 6.19`, Partial: `adds "6.19" to kernels-org.json without the ` + lk + ` and ` + al + ` parts of the init; nixpkgs squashes them into this commit`},
			}},
		},
		{
			name:  "no entry changed",
			files: []string{lk},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := sample(t)
			head := made(t, base, tc.edit, tc.changes...)
			files := tc.files
			if files == nil {
				for _, p := range head.Files() {
					if string(head.File(p)) != string(base.File(p)) {
						files = append(files, p)
					}
				}
			}
			titler, err := vanilla.New(&kernelOrg{releases: releases()}).Verify(context.Background(), family.PR{Base: base, Head: head, Log: discard()}, &family.Results{})
			if err != nil {
				t.Fatal(err)
			}
			got := titler.Titles(family.Commit{SHA: "c0ffee", Title: "x", Files: files, Parent: base, Tree: head})
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("Titles (-want +got):\n%s", d)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
