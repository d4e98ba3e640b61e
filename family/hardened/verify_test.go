package hardened_test

import (
	"context"
	"crypto/sha256"
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
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/nix-community/go-nix/pkg/nixbase32"
)

const (
	kj = kernelfiles.KernelsJSONPath
	hp = kernelfiles.PatchesJSONPath
)

// kernelOrg is a table of kernel.org releases with the kernelorgtest
// hashes; it counts the reads of releases.json.
type kernelOrg struct{ reads int }

func (k *kernelOrg) Releases(context.Context) ([]kernelorg.Release, error) {
	k.reads++
	var out []kernelorg.Release
	for _, s := range []string{"6.19", "6.18.7", "6.12.66", "6.6.120"} {
		v := kernelorg.MustParseVersion(s)
		out = append(out, kernelorg.Release{Version: v, Branch: v.Branch(), LTS: v.Series() == "6.12" || v.Series() == "6.6"})
	}
	return out, nil
}

func (k *kernelOrg) Hash(_ context.Context, v kernelorg.Version) (string, error) {
	return kernelorgtest.FlatHash(v.String()), nil
}

// linuxHardened publishes a patch for each tag.
type linuxHardened struct{ tags []string }

func patchBytes(tag string) []byte { return []byte("linux-hardened " + tag + "\n") }

func patchURL(tag string) string {
	return "https://github.com/anthraxx/linux-hardened/releases/download/" + tag + "/linux-hardened-" + tag + ".patch"
}

func (h *linuxHardened) Releases(context.Context) ([]hardened.Release, error) {
	var out []hardened.Release
	for _, tag := range h.tags {
		out = append(out, hardened.Release{Tag: tag, PatchName: "linux-hardened-" + tag + ".patch", URL: patchURL(tag), DownloadURL: patchURL(tag)})
	}
	return out, nil
}

func (h *linuxHardened) Download(_ context.Context, url string) ([]byte, error) {
	for _, tag := range h.tags {
		if url == patchURL(tag) {
			return patchBytes(tag), nil
		}
	}
	return nil, fmt.Errorf("GET %s: 404", url)
}

func nix32(b []byte) string {
	s := sha256.Sum256(b)
	return nixbase32.EncodeToString(s[:])
}

// change is a hardened change as the planner makes it, for the release
// v<version><extra>.
func change(kind family.Kind, branch, from, version, extra string, drops ...string) family.Change {
	tag := "v" + version + extra
	return hardened.Made(family.Change{Kind: kind, Branch: branch, From: from, To: version + extra, Hash: kernelorgtest.FlatHash(version)},
		&hardened.Patch{Version: kernelorg.MustParseVersion(version), Extra: extra, Name: "linux-hardened-" + tag + ".patch", URL: patchURL(tag),
			SHA256: nix32(patchBytes(tag)), KernelSHA256: strings.TrimPrefix(kernelorgtest.FlatHash(version), "sha256:")}, drops...)
}

func sample(t *testing.T) *family.Tree {
	t.Helper()
	tr, err := familytest.Registry().LoadFS(os.DirFS("../../testdata/nixpkgs"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func made(t *testing.T, base *family.Tree, cs ...family.Change) *family.Tree {
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
	return family.NewTree(files)
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestVerify runs both families over one pull request, as kupdate check
// does: they share kernel.org's releases.json, read once.
func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name       string
		src        hardened.Source
		changes    []family.Change
		findings   []string
		unverified []string
		verified   []string
	}{
		{
			name: "kernel and hardened bumps",
			src:  &linuxHardened{tags: []string{"v6.12.66-hardened1"}},
			changes: []family.Change{
				vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "6.12", From: "6.12.64", To: "6.12.66", Hash: kernelorgtest.FlatHash("6.12.66"), LTS: true}),
				change(hardened.Bump, "6.12", "6.12.63-hardened1", "6.12.66", "-hardened1"),
			},
			verified: []string{kj + `:27: "6.12" 6.12.64 -> 6.12.66`, hp + `:2: hardened "6.12" 6.12.63-hardened1 -> 6.12.66-hardened1`},
		},
		{
			name:     "release linux-hardened does not have",
			src:      &linuxHardened{tags: []string{"v6.12.66-hardened2"}},
			changes:  []family.Change{change(hardened.Bump, "6.12", "6.12.63-hardened1", "6.12.66", "-hardened1")},
			findings: []string{hp + `:2: hardened "6.12": linux-hardened has no release v6.12.66-hardened1; fix the version or extra`},
		},
		{
			name:       "no linux-hardened source",
			changes:    []family.Change{change(hardened.Bump, "6.12", "6.12.63-hardened1", "6.12.66", "-hardened1")},
			unverified: []string{hp + `:2: hardened "6.12" v6.12.66-hardened1: the patch hash is not verified: no linux-hardened source is configured`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &kernelOrg{}
			base := sample(t)
			head := made(t, base, tc.changes...)
			pr := family.PR{Base: base, Head: head, Log: discard()}
			var out family.Results
			for _, f := range []family.Verifier{vanilla.New(k), hardened.New(tc.src, k)} {
				if _, err := f.Verify(context.Background(), pr, &out); err != nil {
					t.Fatal(err)
				}
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
			if k.reads != 1 {
				t.Errorf("releases.json read %d times, want once per check", k.reads)
			}
		})
	}
}

func TestClaimsChange(t *testing.T) {
	f := hardened.New(nil, nil)
	for title, want := range map[string]bool{
		"linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.64-hardened1": true,
		"linux_6_19_hardened: init at 6.19.1-hardened1":                         true,
		"linux_6_6_hardened: remove":                                            true,
		"linux_6_12_hardened: 6.12.63 -> 6.12.64":                               true,
		"linux_6_12: 6.12.63 -> 6.12.64":                                        false, // kernel.org's
		"linux/hardened/patches/6.12: update":                                   false,
		"linux_6_12_hardened: enable FOO":                                       false,
	} {
		if got := f.ClaimsChange(title); got != want {
			t.Errorf("ClaimsChange(%q) = %t, want %t", title, got, want)
		}
	}
}

// TestTitles: a hardened kernel dropped alone has no fixed title; with the
// removal of its kernel.org branch or a hardened init it needs none.
func TestTitles(t *testing.T) {
	dropAlone := func(files map[string][]byte) {
		s := string(files[hp])
		i, j := strings.Index(s, ",\n    \"6.18\""), strings.LastIndex(s, "\n}\n")
		files[hp] = []byte(s[:i] + s[j:])
	}
	for _, tc := range []struct {
		name    string
		changes []family.Change
		edit    func(map[string][]byte)
		want    family.CommitTitles
	}{
		{
			name:    "bump",
			changes: []family.Change{change(hardened.Bump, "6.12", "6.12.63-hardened1", "6.12.66", "-hardened1")},
			want: family.CommitTitles{File: hp, Line: 2, Want: []family.Title{{
				Text: "linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.66-hardened1",
				What: `changes hardened "6.12" from 6.12.63-hardened1 to 6.12.66-hardened1`,
			}}},
		},
		{
			name: "drop alone",
			edit: dropAlone,
			want: family.CommitTitles{File: hp, Want: []family.Title{{Text: "linux_6_18_hardened: ", Prefix: true, What: `drops hardened "6.18"`}}},
		},
		{
			name: "drop with its branch",
			edit: func(files map[string][]byte) {
				dropAlone(files)
				s := string(files[kj])
				i, j := strings.Index(s, ",\n    \"6.18\""), strings.LastIndex(s, "\n}\n")
				files[kj] = []byte(s[:i] + s[j:])
			},
			want: family.CommitTitles{File: hp},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := sample(t)
			head := made(t, base, tc.changes...)
			if tc.edit != nil {
				files := map[string][]byte{}
				for _, p := range head.Files() {
					files[p] = head.File(p)
				}
				tc.edit(files)
				head = family.NewTree(files)
			}
			titler, err := hardened.New(nil, &kernelOrg{}).Verify(context.Background(), family.PR{Base: base, Head: head, Log: discard()}, &family.Results{})
			if err != nil {
				t.Fatal(err)
			}
			got := titler.Titles(family.Commit{SHA: "c0ffee", Title: "x", Files: []string{kj, hp}, Parent: base, Tree: head})
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("Titles (-want +got):\n%s", d)
			}
		})
	}
}
