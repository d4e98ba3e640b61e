package check

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/workflow/githubtest"
	"github.com/nix-community/go-nix/pkg/nixbase32"
)

func hardenedPatchBytes(tag string) []byte {
	return []byte("linux-hardened " + tag + "\n--- a/Makefile\n+++ b/Makefile\n")
}

func nix32(b []byte) string {
	s := sha256.Sum256(b)
	return nixbase32.EncodeToString(s[:])
}

// newHardenedSource publishes linux-hardened releases on a GitHub simulator.
func newHardenedSource(t *testing.T, tags ...string) (*githubtest.Server, *hardened.GitHub) {
	t.Helper()
	gh, err := githubtest.New(githubtest.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	if err := gh.CreateRepo("anthraxx", "linux-hardened", "master"); err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		err := gh.PublishRelease("anthraxx", "linux-hardened", githubtest.Release{Tag: tag, Assets: []githubtest.Asset{
			{Name: "linux-hardened-" + tag + ".patch", Data: hardenedPatchBytes(tag)},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	src := hardened.NewGitHub(gh.APIURL(), "kupdate-test")
	src.HTTP = gh.Client()
	return gh, src
}

// hardenedBump is the change kupdate makes for a new linux-hardened release.
func hardenedBump(branch, from, version, extra string) family.Change {
	return hardenedMade(hardened.Bump, branch, from, version, extra)
}

// hardenedMade is a hardened change as the planner makes it, with the
// patch of v<version><extra>; drops for an init.
func hardenedMade(kind family.Kind, branch, from, version, extra string, drops ...string) family.Change {
	tag := "v" + version + extra
	name := "linux-hardened-" + tag + ".patch"
	return hardened.Made(family.Change{
		Kind: kind, Branch: branch, From: from, To: version + extra, Hash: kernelorgtest.FlatHash(version),
	}, &hardened.Patch{
		Version: kernelorg.MustParseVersion(version), Extra: extra, Name: name,
		URL:          "https://github.com/anthraxx/linux-hardened/releases/download/" + tag + "/" + name,
		SHA256:       nix32(hardenedPatchBytes(tag)),
		KernelSHA256: strings.TrimPrefix(kernelorgtest.FlatHash(version), "sha256:"),
	}, drops...)
}

func TestCheckHardened(t *testing.T) {
	t.Parallel()
	fh := func(v string) string { return strings.TrimPrefix(kernelorgtest.FlatHash(v), "sha256:") }
	bump612 := hardenedBump("6.12", "6.12.63-hardened1", "6.12.66", "-hardened1")
	init619 := vanilla.Made(family.Change{Kind: vanilla.Init, Branch: "6.19", To: "6.19", Hash: kernelorgtest.FlatHash("6.19")})
	hardenedInit619 := func(drops []string) family.Change {
		return hardenedMade(hardened.Init, "6.19", "", "6.19", "-hardened1", drops...)
	}

	for _, tc := range []struct {
		name       string
		noSource   bool
		kernelOrg  func(sim *kernelorgtest.Server)
		github     func(gh *githubtest.Server, src *hardened.GitHub)
		pr         func(t *testing.T, p *prRepo)
		want       []string
		unverified []string
		verified   []string // hardened patches.json changes are listed with the kernel ones
	}{
		{
			name:     "correct hardened bump",
			pr:       func(t *testing.T, p *prRepo) { p.apply("", bump612, nil) },
			verified: []string{hp + `:2: hardened "6.12" 6.12.63-hardened1 -> 6.12.66-hardened1`},
		},
		{
			name: "wrong patch hash",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump612, replace(t, hp, nix32(hardenedPatchBytes("v6.12.66-hardened1")), nix32([]byte("other"))))
			},
			want: []string{
				hp + `:2: hardened "6.12" patch sha256 ` + nix32([]byte("other")) + ` does not match the release asset linux-hardened-v6.12.66-hardened1.patch (` + nix32(hardenedPatchBytes("v6.12.66-hardened1")) + `); run kupdate update or fix the hash`,
			},
		},
		{
			name: "wrong kernel hash",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump612, replace(t, hp, fh("6.12.66"), fh("6.12.65")))
			},
			want: []string{
				hp + `:2: hardened "6.12" sha256 ` + fh("6.12.65") + ` does not match kernel.org's signed checksum for linux-6.12.66.tar.xz (` + fh("6.12.66") + `); run kupdate update or fix the hash`,
			},
		},
		{
			name: "release that linux-hardened does not have",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.66-hardened2", bump612, func(files map[string][]byte) {
					files[hp] = []byte(strings.ReplaceAll(strings.ReplaceAll(string(files[hp]), "v6.12.66-hardened1", "v6.12.66-hardened2"), `"extra": "-hardened1",
            "name": "linux-hardened-v6.12.66`, `"extra": "-hardened2",
            "name": "linux-hardened-v6.12.66`))
				})
			},
			want: []string{
				hp + `:2: hardened "6.12": linux-hardened has no release v6.12.66-hardened2; fix the version or extra`,
			},
		},
		{
			name: "mistitled hardened bump",
			pr:   func(t *testing.T, p *prRepo) { p.apply("linux_6_12_hardened: 6.12.63 -> 6.12.66", bump612, nil) },
			want: []string{
				hp + `:2: commit %s "linux_6_12_hardened: 6.12.63 -> 6.12.66": the title does not say what the commit does; it changes hardened "6.12" from 6.12.63-hardened1 to 6.12.66-hardened1: title it "linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.66-hardened1"`,
			},
			// The entry itself is right; only its commit's title is not.
			verified: []string{hp + `:2: hardened "6.12" 6.12.63-hardened1 -> 6.12.66-hardened1`},
		},
		{
			name: "re-added hardened kernel",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_6_6_hardened: init at 6.6.120-hardened1", func(files map[string][]byte) {
					s := string(files[hp])
					files[hp] = []byte(strings.TrimSuffix(s, "    }\n}\n") + "    },\n    \"6.6\": {\n        \"patch\": {\n            \"extra\": \"-hardened1\",\n            \"name\": \"linux-hardened-v6.6.120-hardened1.patch\",\n            \"sha256\": \"" + nix32(nil) + "\",\n            \"url\": \"https://github.com/anthraxx/linux-hardened/releases/download/v6.6.120-hardened1/linux-hardened-v6.6.120-hardened1.patch\"\n        },\n        \"sha256\": \"" + fh("6.6.120") + "\",\n        \"version\": \"6.6.120\"\n    }\n}\n")
				})
			},
			want: []string{
				hp + `:22: hardened "6.6" was removed from this tree before (linux_6_6_hardened is a throw at pkgs/top-level/linux-kernels.nix:170); kupdate never adds a removed kernel back: drop the entry`,
			},
		},
		{
			name: "hardened init that drops the previous stable",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", init619, nil)
				p.apply("", hardenedInit619([]string{"6.18"}), nil)
			},
			verified: []string{
				kj + `:37: "6.19" added at 6.19`,
				hp + `:12: hardened "6.19" added at 6.19-hardened1`,
				hp + `: hardened "6.18" removed (was 6.18.4-hardened1)`,
			},
		},
		{
			name: "hardened init that keeps the previous stable",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", init619, nil)
				p.apply("", hardenedInit619(nil), nil)
			},
			want: []string{
				hp + `:12: hardened "6.18" is neither the latest stable (6.19) nor the latest LTS (6.12) hardened kernel; nixpkgs keeps only those two: drop it (linux_6_18_hardened becomes a throw)`,
			},
			verified: []string{
				kj + `:37: "6.19" added at 6.19`,
				hp + `:22: hardened "6.19" added at 6.19-hardened1`,
			},
		},
		{
			name:     "no linux-hardened source",
			noSource: true,
			pr:       func(t *testing.T, p *prRepo) { p.apply("", bump612, nil) },
			unverified: []string{
				hp + `:2: hardened "6.12" v6.12.66-hardened1: the patch hash is not verified: no linux-hardened source is configured`,
			},
		},
		{
			// As for a kernels-org.json entry: kernel.org lists 6.12.66, so a
			// missing checksum is "not yet", not "not a release".
			name: "kernel checksum not published yet",
			kernelOrg: func(sim *kernelorgtest.Server) {
				sim.SetFault(kernelorgtest.ChecksumsPath("6.12.66"), kernelorgtest.Fault{OmitFiles: []string{"linux-6.12.66.tar.xz"}})
			},
			pr: func(t *testing.T, p *prRepo) { p.apply("", bump612, nil) },
			unverified: []string{
				hp + `:2: hardened "6.12" 6.12.66: kernel.org lists the release but kernel.org's signed checksum list has no linux-6.12.66.tar.xz yet; re-run the check later`,
			},
		},
		{
			name: "kernel checksum missing, releases.json unreachable",
			kernelOrg: func(sim *kernelorgtest.Server) {
				sim.SetFault(kernelorgtest.ChecksumsPath("6.12.66"), kernelorgtest.Fault{OmitFiles: []string{"linux-6.12.66.tar.xz"}})
				sim.SetFault("/releases.json", kernelorgtest.Fault{Status: 503})
			},
			pr: func(t *testing.T, p *prRepo) { p.apply("", bump612, nil) },
			unverified: []string{
				hp + `:2: hardened "6.12" 6.12.66: kernel.org's signed checksum list has no linux-6.12.66.tar.xz, and kernel.org's releases could not be read to tell whether it is a release: kernel.org releases: GET %u/releases.json: kernel.org answered 503 Service Unavailable (gave up after 1 try; kernel.org is failing: re-run the check once kernel.org answers)`,
			},
		},
		{
			// GitHub's cycle wording ("the next cycle tries again") becomes a
			// check's: nothing re-runs a check by itself.
			name: "GitHub failing",
			github: func(gh *githubtest.Server, src *hardened.GitHub) {
				src.Attempts, src.Backoff = 2, time.Millisecond
				gh.AddFault(githubtest.Fault{Path: "/repos/anthraxx/linux-hardened/releases", Status: 502, Times: 2})
			},
			pr: func(t *testing.T, p *prRepo) { p.apply("", bump612, nil) },
			unverified: []string{
				hp + `:2: hardened "6.12" v6.12.66-hardened1: could not list linux-hardened releases: GET %g/repos/anthraxx/linux-hardened/releases?per_page=100: GitHub answered 502 Bad Gateway: Bad Gateway (gave up after 2 tries; GitHub is failing: re-run the check once GitHub answers)`,
			},
		},
		{
			// 6.12.67 is not a kernel.org release, whatever linux-hardened says.
			name: "kernel that kernel.org never released",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", hardenedBump("6.12", "6.12.63-hardened1", "6.12.67", "-hardened1"), nil)
			},
			want: []string{
				hp + `:2: hardened "6.12": 6.12.67 is not a kernel.org release: releases.json does not list it and kernel.org's signed checksum list has no linux-6.12.67.tar.xz; fix the version`,
				hp + `:2: hardened "6.12": linux-hardened has no release v6.12.67-hardened1; fix the version or extra`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, client := newKernelOrg(t)
			if tc.kernelOrg != nil {
				tc.kernelOrg(sim)
			}
			gh, src := newHardenedSource(t, "v6.12.63-hardened1", "v6.12.66-hardened1", "v6.19-hardened1")
			if tc.github != nil {
				tc.github(gh, src)
			}
			p := newPRRepo(t)
			tc.pr(t, p)
			head := p.run("rev-parse", "HEAD")
			ck := &Checker{Repo: &Repo{Dir: p.dir}, Families: registry(client, src)}
			if tc.noSource {
				ck.Families = registry(client, nil)
			}
			gh.ResetRequests()
			rep, err := ck.Check(context.Background(), "main", "pr")
			if err != nil {
				t.Fatal(err)
			}
			var got, gotU []string
			for _, f := range rep.Findings {
				got = append(got, f.String())
			}
			for _, f := range rep.Unverified {
				gotU = append(gotU, f.String())
			}
			for i := range tc.want {
				tc.want[i] = strings.ReplaceAll(tc.want[i], "commit %s", "commit "+short(head))
			}
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("findings (-want +got):\n%s\ngot:\n%s", d, strings.Join(got, "\n"))
			}
			for i := range tc.unverified {
				tc.unverified[i] = strings.ReplaceAll(tc.unverified[i], "%u", sim.URL)
				tc.unverified[i] = strings.ReplaceAll(tc.unverified[i], "%g/", gh.APIURL())
			}
			if d := cmp.Diff(tc.unverified, gotU, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("unverified (-want +got):\n%s", d)
			}
			var gotV []string
			for _, v := range rep.Verified {
				gotV = append(gotV, v.Where()+": "+v.Label()+" "+v.Change())
			}
			if d := cmp.Diff(tc.verified, gotV, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("verified (-want +got):\n%s", d)
			}
			if tc.name == "correct hardened bump" {
				var reqs []string
				for _, r := range gh.Requests() {
					reqs = append(reqs, r.String())
				}
				if d := cmp.Diff([]string{"GET /repos/anthraxx/linux-hardened/releases?per_page=100"}, reqs); d != "" {
					t.Errorf("linux-hardened API requests (-want +got):\n%s", d)
				}
				if rep.Conclusion != Pass {
					t.Errorf("conclusion %s", rep.Conclusion)
				}
				var text strings.Builder
				if err := rep.WriteText(&text); err != nil {
					t.Fatal(err)
				}
				wantText := "kupdate check " + short(rep.MergeBase) + ".." + short(head) + " (1 commit): pass: 1 kernel change verified against kernel.org and linux-hardened\n" +
					"ok " + hp + `:2: hardened "6.12" 6.12.63-hardened1 -> 6.12.66-hardened1` + "\n"
				if d := cmp.Diff(wantText, text.String()); d != "" {
					t.Errorf("text (-want +got):\n%s", d)
				}
				wantMD := "**1 kernel change verified against kernel.org and linux-hardened** — kupdate check of " + short(rep.MergeBase) + ".." + short(head) + " (1 commit)\n" +
					"\n### Verified against kernel.org and linux-hardened\n\n| branch | change | hash |\n|---|---|---|\n" +
					"| 6.12 hardened | 6.12.63-hardened1 -> 6.12.66-hardened1 | `" + nix32(hardenedPatchBytes("v6.12.66-hardened1")) + "` |\n"
				if d := cmp.Diff(wantMD, rep.Markdown()); d != "" {
					t.Errorf("markdown (-want +got):\n%s", d)
				}
			}
		})
	}
}
