package check

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/familytest"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// sampleTree is the repository's sample nixpkgs tree: the base of every test
// pull request.
const sampleTree = "../testdata/nixpkgs"

// The simulated kernel.org "now": 6.19 is out (so releases.json lists no
// rc), 6.17 is end of life, and earlier point releases (6.12.65, 6.19-rc5)
// have dropped out of releases.json but stay in the signed checksum list and
// on git.kernel.org, as on the real site.
var (
	earlierReleases = []kernelorgtest.Spec{
		{Version: "6.19-rc5"},
		{Version: "6.18.6"},
		{Version: "6.12.65", Moniker: "longterm"},
		{Version: "6.12.63", Moniker: "longterm"},
		{Version: "6.7.12", EOL: true},
	}
	currentReleases = []kernelorgtest.Spec{
		{Version: "6.19"},
		{Version: "6.18.7"},
		{Version: "6.17.13", EOL: true},
		{Version: "6.8.12", EOL: true},
		{Version: "6.12.66", Moniker: "longterm"},
		{Version: "6.6.120", Moniker: "longterm"},
		{Version: "6.1.160", Moniker: "longterm"},
		{Version: "5.15.198", Moniker: "longterm"},
		{Version: "5.10.248", Moniker: "longterm"},
	}
)

func newKernelOrg(t *testing.T) (*kernelorgtest.Server, *kernelorg.Client) {
	t.Helper()
	sim, err := kernelorgtest.New(earlierReleases...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if err := sim.SetReleases(currentReleases...); err != nil {
		t.Fatal(err)
	}
	c, err := kernelorg.New(kernelorg.Options{
		URL: sim.URL, GitURL: sim.URL,
		Keyring: sim.Keyring(), Fingerprint: sim.Fingerprint(),
		MaxAttempts: 1, RetryBackoff: time.Millisecond,
		CacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// registry is kupdate's families as families.New makes them, over the
// kernel.org simulator's client and a linux-hardened source (nil: none).
func registry(ko *kernelorg.Client, hsrc hardened.Source) family.Registry {
	return family.Registry{vanilla.New(ko), hardened.New(hsrc, ko)}
}

// prRepo is a git repository whose main branch is the sample tree, and a
// pull request branch built on it commit by commit.
type prRepo struct {
	*testRepo
	base  string
	files map[string][]byte // the kernel files at the tip of the PR branch
}

func newPRRepo(t testing.TB) *prRepo {
	t.Helper()
	tr := newTestRepo(t)
	base := tr.commitDir("sample tree", sampleTree)
	tr.run("checkout", "-q", "-b", "pr")
	files := map[string][]byte{}
	for _, p := range familytest.Registry().Paths() {
		b, err := os.ReadFile(filepath.Join(sampleTree, filepath.FromSlash(p)))
		if err == nil {
			files[p] = b
		}
	}
	return &prRepo{testRepo: tr, base: base, files: files}
}

// apply makes c with the updater (exactly what kupdate writes), lets edit
// change the result, and commits it titled title ("" = c's own title).
func (p *prRepo) apply(title string, c family.Change, edit func(files map[string][]byte)) string {
	p.t.Helper()
	changed, err := familytest.Apply(p.files, c, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		p.t.Fatalf("Apply(%s): %v", c.Title, err)
	}
	maps.Copy(p.files, changed)
	if edit != nil {
		edit(p.files)
	}
	if title == "" {
		title = c.Title
	}
	return p.commitFiles(title)
}

// edit changes the files by hand and commits them.
func (p *prRepo) edit(title string, edit func(files map[string][]byte)) string {
	p.t.Helper()
	edit(p.files)
	return p.commitFiles(title)
}

func (p *prRepo) commitFiles(title string) string {
	p.t.Helper()
	return p.commit(title, p.files)
}

// replace is an edit that replaces old with new in one file, exactly once.
func replace(t *testing.T, path, old, new string) func(map[string][]byte) {
	return func(files map[string][]byte) {
		s := string(files[path])
		if strings.Count(s, old) != 1 {
			t.Fatalf("%s: %q occurs %d times, want once", path, old, strings.Count(s, old))
		}
		files[path] = []byte(strings.Replace(s, old, new, 1))
	}
}

func bump(branch, from, to string, lts bool) family.Change {
	h := kernelorgtest.FlatHash(to)
	if strings.Contains(to, "-rc") {
		h = kernelorgtest.NARHash(to)
	}
	return vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: branch, From: from, To: to, Hash: h, LTS: lts})
}

// The kernel files, as findings name them.
const (
	kj = kernelfiles.KernelsJSONPath
	lk = kernelfiles.LinuxKernelsPath
	al = kernelfiles.AliasesPath
	hp = kernelfiles.PatchesJSONPath
)

// appendEntry is an edit that appends a kernels-org.json entry by hand.
func appendEntry(branch, version, hash string, lts bool) func(map[string][]byte) {
	return func(files map[string][]byte) {
		s := strings.TrimSuffix(string(files[kj]), "    }\n}\n")
		s += fmt.Sprintf("    },\n    %q: {\n        \"version\": %q,\n        \"hash\": %q,\n        \"lts\": %t\n    }\n}\n", branch, version, hash, lts)
		files[kj] = []byte(s)
	}
}

// listRC adds rc to releases.json and makes git.kernel.org answer status
// for its snapshot.
func listRC(t *testing.T, sim *kernelorgtest.Server, rc string, status int) {
	t.Helper()
	if err := sim.SetReleases(append(slices.Clone(currentReleases), kernelorgtest.Spec{Version: rc})...); err != nil {
		t.Fatal(err)
	}
	sim.SetFault(kernelorgtest.TarballPath(rc), kernelorgtest.Fault{Status: status})
}

// restore is an edit that puts a file back as the sample tree has it.
func restore(t *testing.T, path string) func(map[string][]byte) {
	return func(files map[string][]byte) {
		b, err := os.ReadFile(filepath.Join(sampleTree, filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		files[path] = b
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	fh := kernelorgtest.FlatHash
	init619 := vanilla.Made(family.Change{Kind: vanilla.Init, Branch: "6.19", To: "6.19", Hash: fh("6.19")})

	for _, tc := range []struct {
		name       string
		kernelOrg  func(sim *kernelorgtest.Server)
		pr         func(t *testing.T, p *prRepo)
		want       []string // Finding.String() of each finding, in order; "%s" = the head commit
		unverified []string
		verified   int
	}{
		{
			name: "correct bumps",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump("6.12", "6.12.64", "6.12.66", true), nil)
				p.apply("", bump("6.18", "6.18.5", "6.18.7", false), nil)
				p.apply("", bump("testing", "6.19-rc4", "6.19-rc5", false), nil)
			},
			verified: 3,
		},
		{
			// 6.12.65 is no longer in releases.json, but its signed checksum is real.
			name:     "bump to a point release releases.json no longer lists",
			pr:       func(t *testing.T, p *prRepo) { p.apply("", bump("6.12", "6.12.64", "6.12.65", true), nil) },
			verified: 1,
		},
		{
			name: "wrong hash",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump("6.12", "6.12.64", "6.12.66", true), replace(t, kj, fh("6.12.66"), fh("6.12.65")))
			},
			want: []string{
				kj + `:27: "6.12" hash ` + fh("6.12.65") + ` does not match kernel.org's signed checksum for linux-6.12.66.tar.xz (` + fh("6.12.66") + `); run kupdate update or fix the hash`,
			},
		},
		{
			name: "typo in a version",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("linux_6_12: 6.12.64 -> 6.12.66", bump("6.12", "6.12.64", "6.12.66", true), replace(t, kj, `"6.12.66"`, `"6.12.606"`))
			},
			want: []string{
				kj + `:27: "6.12" 6.12.606 is not a kernel.org release: releases.json does not list it and kernel.org's signed checksum list has no linux-6.12.606.tar.xz; fix the version`,
				kj + `:27: commit %s "linux_6_12: 6.12.64 -> 6.12.66": the title does not say what the commit does; it changes "6.12" from 6.12.64 to 6.12.606: title it "linux_6_12: 6.12.64 -> 6.12.606"`,
			},
		},
		{
			name: "unparsable version",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("linux_6_12: 6.12.64 -> 6.12.66", bump("6.12", "6.12.64", "6.12.66", true), replace(t, kj, `"6.12.66"`, `"6.12.6a"`))
			},
			want: []string{
				kj + `:27: "6.12": invalid kernel version "6.12.6a": want MAJOR.MINOR, MAJOR.MINOR.PATCH or MAJOR.MINOR-rcN (e.g. 6.12.64, 6.19, 6.19-rc4); fix the version`,
				kj + `:27: commit %s "linux_6_12: 6.12.64 -> 6.12.66": the title does not say what the commit does; it changes "6.12" from 6.12.64 to 6.12.6a: title it "linux_6_12: 6.12.64 -> 6.12.6a"`,
			},
		},
		{
			name: "rc newer than anything kernel.org lists",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump("testing", "6.19-rc4", "6.19-rc5", false), replace(t, kj, `"6.19-rc5"`, `"6.20-rc5"`))
			},
			want: []string{
				kj + `:2: "testing" 6.20-rc5 is not a kernel.org release: it is newer than anything kernel.org lists (the newest is 6.19); fix the version`,
				kj + `:2: commit %s "linux_testing: 6.19-rc4 -> 6.19-rc5": the title does not say what the commit does; it changes "testing" from 6.19-rc4 to 6.20-rc5: title it "linux_testing: 6.19-rc4 -> 6.20-rc5"`,
			},
		},
		{
			name: "release under testing",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump("testing", "6.19-rc4", "6.19-rc5", false), replace(t, kj, `"6.19-rc5"`, `"6.19"`))
			},
			want: []string{
				kj + `:2: "testing" holds 6.19, which is not a release candidate; "testing" holds the current rc (a release goes under "6.19")`,
				kj + `:2: commit %s "linux_testing: 6.19-rc4 -> 6.19-rc5": the title does not say what the commit does; it changes "testing" from 6.19-rc4 to 6.19: title it "linux_testing: 6.19-rc4 -> 6.19"`,
			},
		},
		{
			name: "downgrade",
			pr:   func(t *testing.T, p *prRepo) { p.apply("", bump("6.12", "6.12.64", "6.12.63", true), nil) },
			want: []string{
				kj + `:27: "6.12" goes backwards: 6.12.63 is older than 6.12.64 at the base; a kernel update never downgrades (a typo in the version?)`,
			},
		},
		{
			name: "lts that kernel.org does not list",
			pr:   func(t *testing.T, p *prRepo) { p.apply("", bump("6.18", "6.18.5", "6.18.7", true), nil) },
			want: []string{
				kj + `:32: "6.18" has "lts": true but kernel.org does not list 6.18 as longterm; set "lts": false`,
			},
		},
		{
			name: "re-added branch the base removed",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_6_17: init at 6.17.13", appendEntry("6.17", "6.17.13", fh("6.17.13"), false))
			},
			want: []string{
				kj + `:37: "6.17" was removed from this tree before (its throw is at pkgs/top-level/linux-kernels.nix:165); kupdate never adds a removed branch back (nixpkgs#258569): drop the entry`,
			},
		},
		{
			name: "added branch that kernel.org marks EOL",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_6_8: init at 6.8.12", appendEntry("6.8", "6.8.12", fh("6.8.12"), false))
			},
			want: []string{
				kj + `:37: "6.8" is end of life on kernel.org (its last release is 6.8.12); nixpkgs removes EOL branches, never adds them: drop the entry`,
			},
		},
		{
			name: "added branch that kernel.org no longer lists",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_6_7: init at 6.7.12", appendEntry("6.7", "6.7.12", fh("6.7.12"), false))
			},
			want: []string{
				kj + `:37: "6.7" is no longer listed on kernel.org (end of life); nixpkgs never adds an EOL branch: drop the entry`,
			},
		},
		{
			name:     "complete init",
			pr:       func(t *testing.T, p *prRepo) { p.apply("", init619, nil) },
			verified: 1,
		},
		{
			name: "init missing its aliases",
			pr:   func(t *testing.T, p *prRepo) { p.apply("", init619, restore(t, al)) },
			want: []string{
				kj + ":37: \"6.19\" is added without everything its init needs: pkgs/top-level/aliases.nix lacks `linux_6_19 = linuxKernel.kernels.linux_6_19;` and `linuxPackages_6_19 = linuxKernel.packages.linux_6_19;` (kupdate update writes them; nixpkgs squashes them into the `linux_6_19: init at ...` commit)",
			},
		},
		{
			name: "init missing everything but the JSON entry",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", init619, func(files map[string][]byte) { restore(t, al)(files); restore(t, lk)(files) })
			},
			want: []string{
				kj + ":37: \"6.19\" is added without everything its init needs: pkgs/top-level/linux-kernels.nix lacks `kernels.linux_6_19 = callPackage ../os-specific/linux/kernel/mainline.nix { branch = \"6.19\"; kernelPatches = [ ... ]; };`, `vanillaPackages.linux_6_19 = recurseIntoAttrs (packagesFor kernels.linux_6_19);` and `packageAliases.linux_latest = packages.linux_6_19;`; pkgs/top-level/aliases.nix lacks `linux_6_19 = linuxKernel.kernels.linux_6_19;` and `linuxPackages_6_19 = linuxKernel.packages.linux_6_19;` (kupdate update writes them; nixpkgs squashes them into the `linux_6_19: init at ...` commit)",
			},
		},
		{
			name: "init split over two commits",
			pr: func(t *testing.T, p *prRepo) {
				var full map[string][]byte
				p.apply("", init619, func(files map[string][]byte) {
					full = maps.Clone(files)
					restore(t, al)(files)
					restore(t, lk)(files)
				})
				p.edit("linux-kernels, aliases: add 6.19", func(files map[string][]byte) { maps.Copy(files, full) })
			},
			want: []string{
				kj + `:37: commit %s~1 "linux_6_19: init at 6.19": adds "6.19" to kernels-org.json without the pkgs/top-level/linux-kernels.nix and pkgs/top-level/aliases.nix parts of the init; nixpkgs squashes them into this commit`,
			},
			verified: 1,
		},
		{
			name: "init split over two commits with the same title",
			pr: func(t *testing.T, p *prRepo) {
				var full map[string][]byte
				p.apply("", init619, func(files map[string][]byte) {
					full = maps.Clone(files)
					restore(t, al)(files)
					restore(t, lk)(files)
				})
				p.edit("linux_6_19: init at 6.19", func(files map[string][]byte) { maps.Copy(files, full) })
			},
			want: []string{
				kj + `:37: commit %s~1 "linux_6_19: init at 6.19": adds "6.19" to kernels-org.json without the pkgs/top-level/linux-kernels.nix and pkgs/top-level/aliases.nix parts of the init; nixpkgs squashes them into this commit`,
				lk + `: commit %s "linux_6_19: init at 6.19": the title names a version change, but the commit changes no entry of pkgs/os-specific/linux/kernel/kernels-org.json or pkgs/os-specific/linux/kernel/hardened/patches.json (only pkgs/top-level/linux-kernels.nix and pkgs/top-level/aliases.nix); squash it into the commit that does, or title it after what it changes`,
			},
			verified: 1,
		},
		{
			name: "free-form title of a linux-kernels.nix change",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_6_12: drop request_key_helper", replace(t, lk, "          branch = \"6.12\";\n          kernelPatches = [\n            kernelPatches.bridge_stp_helper\n            kernelPatches.request_key_helper\n", "          branch = \"6.12\";\n          kernelPatches = [\n            kernelPatches.bridge_stp_helper\n"))
			},
		},
		{
			name: "reformatted JSON",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("kernels-org.json: reformat", func(files map[string][]byte) {
					files[kj] = []byte(strings.ReplaceAll(string(files[kj]), "    ", "  "))
				})
			},
			want: []string{
				kj + `:2: not formatted as kupdate writes it (Python's json.dump(indent=4) and a final newline): line 2 is "  \"testing\": {", want "    \"testing\": {"; run kupdate update or reformat`,
			},
		},
		{
			name: "JSON without its final newline",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump("6.12", "6.12.64", "6.12.66", true), func(files map[string][]byte) {
					files[kj] = []byte(strings.TrimSuffix(string(files[kj]), "\n"))
				})
			},
			want: []string{
				kj + `:37: not formatted as kupdate writes it (Python's json.dump(indent=4) and a final newline): the file must end with exactly one newline; run kupdate update or reformat`,
			},
		},
		{
			name: "invalid JSON",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_6_12: 6.12.64 -> 6.12.66", replace(t, kj, `"6.12.64",`, `"6.12.66"`))
			},
			want: []string{
				kj + `:29: not valid JSON: invalid character '"' after object key:value pair; fix the file (kupdate update writes it correctly)`,
			},
		},
		{
			name: "reordered entries",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("kernels-org.json: sort", func(files map[string][]byte) {
					s := string(files[kj])
					e612 := s[strings.Index(s, `    "6.12"`):strings.Index(s, `    "6.18"`)]
					s = strings.Replace(s, e612, "", 1)
					files[kj] = []byte(strings.Replace(s, `    "6.1": {`, e612+`    "6.1": {`, 1))
				})
			},
			want: []string{
				kj + `:12: "6.1" now comes after "6.12", unlike at the base; kernels-org.json keeps insertion order (a bump rewrites an entry in place): restore the base's order`,
			},
		},
		{
			name: "complete removal",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247", LTS: true}), nil)
			},
			verified: 1,
		},
		{
			name: "removal before end of life, as a maintainer proposes it",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247", LTS: true,
					Payload: vanilla.Removal{EOLWithin: "26.05"}}), nil)
			},
			verified: 1,
		},
		{
			name: "removal whose alias points at another kernel",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247", LTS: true}),
					replace(t, al, "  linux_5_10 = linuxKernel.kernels.linux_5_10;\n", "  linux_5_10 = linuxKernel.kernels.linux_6_1;\n"))
			},
			want: []string{
				kj + ":17: \"5.10\" is removed without its throws: pkgs/top-level/aliases.nix lacks `linux_5_10 = linuxKernel.kernels.linux_5_10; (or a throw)` (those of linux-kernels.nix go in the allowAliases parts; kupdate update writes them all in the `linux_5_10: remove` commit)",
			},
		},
		{
			name: "removal without its throws",
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_5_10: remove", func(files map[string][]byte) {
					s := string(files[kj])
					i, j := strings.Index(s, `    "5.10"`), strings.Index(s, `    "6.6"`)
					files[kj] = []byte(s[:i] + s[j:])
				})
			},
			want: []string{
				kj + ":17: \"5.10\" is removed without its throws: pkgs/top-level/linux-kernels.nix lacks `kernels.linux_5_10 = throw \"linux 5.10 was removed ...\";` and `vanillaPackages.linux_5_10 = throw \"linux 5.10 was removed ...\";` (those of linux-kernels.nix go in the allowAliases parts; kupdate update writes them all in the `linux_5_10: remove` commit)",
				lk + `:61: kernels.linux_5_10 is still here while "5.10" is removed from ` + kj + `; delete it (the throw goes in the allowAliases part)`,
				lk + `:198: vanillaPackages.linux_5_10 is still here while "5.10" is removed from ` + kj + `; delete it (the throw goes in the allowAliases part)`,
			},
		},
		{
			name: "mistitled commit",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("linux_6_12: 6.12.64 -> 6.12.65", bump("6.12", "6.12.64", "6.12.66", true), nil)
			},
			want: []string{
				kj + `:27: commit %s "linux_6_12: 6.12.64 -> 6.12.65": the title does not say what the commit does; it changes "6.12" from 6.12.64 to 6.12.66: title it "linux_6_12: 6.12.64 -> 6.12.66"`,
			},
		},
		{
			name: "pull request title on a commit",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("Kernel updates for 2026-01-10", bump("6.12", "6.12.64", "6.12.66", true), nil)
			},
			want: []string{
				kj + `:27: commit %s "Kernel updates for 2026-01-10": "Kernel updates for ..." is a pull request title; each commit is titled after the one branch it changes: "linux_6_12: 6.12.64 -> 6.12.66"`,
			},
		},
		{
			name: "pull request title of 2026 on a commit",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("kernel updates for 2026-04-30", bump("6.12", "6.12.64", "6.12.66", true), nil)
			},
			want: []string{
				kj + `:27: commit %s "kernel updates for 2026-04-30": "kernel updates for ..." is a pull request title; each commit is titled after the one branch it changes: "linux_6_12: 6.12.64 -> 6.12.66"`,
			},
		},
		{
			name: "two branches in one commit",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("linux_6_12: 6.12.64 -> 6.12.66", bump("6.12", "6.12.64", "6.12.66", true), func(files map[string][]byte) {
					changed, err := familytest.Apply(files, bump("6.6", "6.6.119", "6.6.120", true), time.Time{})
					if err != nil {
						t.Fatal(err)
					}
					maps.Copy(files, changed)
				})
			},
			want: []string{
				kj + `:22: commit %s "linux_6_12: 6.12.64 -> 6.12.66": changes "6.6" from 6.6.119 to 6.6.120, changes "6.12" from 6.12.64 to 6.12.66; nixpkgs wants one commit per branch: split it into "linux_6_6: 6.6.119 -> 6.6.120" and "linux_6_12: 6.12.64 -> 6.12.66"`,
			},
			verified: 2,
		},
		{
			name:      "kernel.org unreachable",
			kernelOrg: func(sim *kernelorgtest.Server) { sim.SetFault("/releases.json", kernelorgtest.Fault{Status: 503}) },
			pr:        func(t *testing.T, p *prRepo) { p.apply("", bump("6.12", "6.12.64", "6.12.66", true), nil) },
			unverified: []string{
				kj + `:27: "6.12" 6.12.66: could not verify against kernel.org: kernel.org releases: GET %u/releases.json: kernel.org answered 503 Service Unavailable (gave up after 1 try; kernel.org is failing: re-run the check once kernel.org answers)`,
			},
		},
		{
			name: "checksum not published yet",
			kernelOrg: func(sim *kernelorgtest.Server) {
				sim.SetFault(kernelorgtest.ChecksumsPath("6.18.7"), kernelorgtest.Fault{OmitFiles: []string{"linux-6.18.7.tar.xz"}})
			},
			pr: func(t *testing.T, p *prRepo) { p.apply("", bump("6.18", "6.18.5", "6.18.7", false), nil) },
			unverified: []string{
				kj + `:32: "6.18" 6.18.7: kernel.org lists the release but kernel.org's signed checksum list has no linux-6.18.7.tar.xz yet; re-run the check later`,
			},
		},
		{
			// git.kernel.org makes an rc's snapshot some time after the tag.
			name:      "rc listed but its snapshot not generated yet",
			kernelOrg: func(sim *kernelorgtest.Server) { listRC(t, sim, "6.20-rc1", 404) },
			pr:        func(t *testing.T, p *prRepo) { p.apply("", bump("testing", "6.19-rc4", "6.20-rc1", false), nil) },
			unverified: []string{
				kj + `:2: "testing" 6.20-rc1: kernel.org lists the release but git.kernel.org has no snapshot linux-6.20-rc1.tar.gz yet; re-run the check later`,
			},
		},
		{
			name: "rc neither listed nor on git.kernel.org",
			kernelOrg: func(sim *kernelorgtest.Server) {
				sim.SetFault(kernelorgtest.TarballPath("6.19-rc7"), kernelorgtest.Fault{Status: 404})
			},
			pr: func(t *testing.T, p *prRepo) { p.apply("", bump("testing", "6.19-rc4", "6.19-rc7", false), nil) },
			want: []string{
				kj + `:2: "testing" 6.19-rc7 is not a kernel.org release: releases.json does not list it and git.kernel.org has no snapshot linux-6.19-rc7.tar.gz; fix the version`,
			},
		},
		{
			// An rc that dropped out of releases.json is still real.
			name:     "rc no longer listed but on git.kernel.org",
			pr:       func(t *testing.T, p *prRepo) { p.apply("", bump("testing", "6.19-rc4", "6.19-rc5", false), nil) },
			verified: 1,
		},
		{
			// A failing git.kernel.org says nothing about the rc.
			name: "rc not listed, git.kernel.org failing",
			kernelOrg: func(sim *kernelorgtest.Server) {
				sim.SetFault(kernelorgtest.TarballPath("6.19-rc7"), kernelorgtest.Fault{Status: 503})
			},
			pr: func(t *testing.T, p *prRepo) { p.apply("", bump("testing", "6.19-rc4", "6.19-rc7", false), nil) },
			unverified: []string{
				kj + `:2: "testing" 6.19-rc7: could not get kernel.org's hash: linux 6.19-rc7: snapshot: GET %u/torvalds/t/linux-6.19-rc7.tar.gz: kernel.org answered 503 Service Unavailable (gave up after 1 try; kernel.org is failing: re-run the check once kernel.org answers)`,
			},
		},
		{
			name:      "rc listed, git.kernel.org failing",
			kernelOrg: func(sim *kernelorgtest.Server) { listRC(t, sim, "6.20-rc1", 502) },
			pr:        func(t *testing.T, p *prRepo) { p.apply("", bump("testing", "6.19-rc4", "6.20-rc1", false), nil) },
			unverified: []string{
				kj + `:2: "testing" 6.20-rc1: could not get kernel.org's hash: linux 6.20-rc1: snapshot: GET %u/torvalds/t/linux-6.20-rc1.tar.gz: kernel.org answered 502 Bad Gateway (gave up after 1 try; kernel.org is failing: re-run the check once kernel.org answers)`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, client := newKernelOrg(t)
			if tc.kernelOrg != nil {
				tc.kernelOrg(sim)
			}
			p := newPRRepo(t)
			tc.pr(t, p)
			head := p.run("rev-parse", "HEAD")
			ck := &Checker{Repo: &Repo{Dir: p.dir}, Families: registry(client, nil)}
			rep, err := ck.Check(context.Background(), "main", "pr")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.String())
			}
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				w = strings.ReplaceAll(w, "commit %s~1", "commit "+short(p.run("rev-parse", "HEAD~1")))
				w = strings.ReplaceAll(w, "commit %s", "commit "+short(head))
				want[i] = w
			}
			if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("findings (-want +got):\n%s\ngot:\n%s", d, strings.Join(got, "\n"))
			}
			got = nil
			for _, f := range rep.Unverified {
				got = append(got, f.String())
			}
			want = nil
			for _, w := range tc.unverified {
				want = append(want, strings.ReplaceAll(w, "%u", sim.URL))
			}
			if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("unverified (-want +got):\n%s", d)
			}
			wantC := Pass
			switch {
			case len(tc.want) > 0:
				wantC = Fail
			case len(tc.unverified) > 0:
				wantC = Incomplete
			}
			if rep.Conclusion != wantC {
				t.Errorf("conclusion %s, want %s", rep.Conclusion, wantC)
			}
			if tc.verified > 0 && len(rep.Verified) != tc.verified {
				t.Errorf("verified %d entries, want %d: %+v", len(rep.Verified), tc.verified, rep.Verified)
			}
			if rep.MergeBase != p.base || rep.Head != head {
				t.Errorf("report is of %s..%s, want %s..%s", rep.MergeBase, rep.Head, p.base, head)
			}
		})
	}
}
