package vanilla_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/updater"
)

// The replays edit nixpkgs' real texts (testdata/replay/PROVENANCE): the
// "before" of a change is the real file with the change undone by hand,
// and the change must give the real file back byte for byte.

func readReal(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// realTree is the Dec 2025 linux-kernels.nix, the July 2026 aliases.nix
// and the Jan 2026 kernels-org.json, each passed through edit first.
type realTree struct{ json, lk, al string }

func loadReal(t *testing.T) realTree {
	return realTree{
		json: readReal(t, "../../testdata/fixtures/kernels-org-2026-01.json"),
		lk:   readReal(t, "testdata/replay/linux-kernels-2025-12.nix"),
		al:   readReal(t, "testdata/replay/aliases-2026-07.nix"),
	}
}

func (r realTree) tree(date string) *family.Tree {
	tr := family.NewTree(map[string][]byte{kj: []byte(r.json), lk: []byte(r.lk), al: []byte(r.al)})
	tr.Now = func() time.Time { t, _ := time.Parse(time.DateOnly, date); return t }
	return tr
}

// cut removes the first occurrence of s from text, failing when it is not
// there (the undoing of a change must find what the change made).
func cut(t *testing.T, text, s string) string {
	t.Helper()
	if !strings.Contains(text, s) {
		t.Fatalf("real text lacks %q", s)
	}
	return strings.Replace(text, s, "", 1)
}

func swap(t *testing.T, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("real text lacks %q", old)
	}
	return strings.Replace(text, old, new, 1)
}

func sameBytes(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if d := cmp.Diff(want, string(got)); d != "" {
		t.Errorf("%s differs from nixpkgs' (-want +got):\n%s", what, d)
	}
}

// A removal leaves the July 2026 aliases.nix byte-identical, as nixpkgs'
// removals of 6.17 and 6.19 did; with alias_throws (the 2025 convention)
// it turns exactly the two aliases into dated throws.
func TestReplayRemovalLeavesAliases(t *testing.T) {
	real := loadReal(t)
	c := vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247", LTS: true})

	files, err := vanilla.New(nil).Apply(real.tree("2026-07-20"), c)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := files[al]; ok {
		t.Errorf("the removal wrote aliases.nix:\n%s", cmp.Diff(real.al, string(b)))
	}
	sameBytes(t, kj, files[kj], cut(t, real.json, `    "5.10": {
        "version": "5.10.247",
        "hash": "sha256:037yv5lryfanpfbk3z60yfsx14nskgf386b6cfkbzn7wl5xvij3h",
        "lts": true
    },
`))

	files, err = vanilla.New(nil).AliasThrows(true).Apply(real.tree("2026-07-20"), c)
	if err != nil {
		t.Fatal(err)
	}
	want := swap(t, real.al, "  linux_5_10 = linuxKernel.kernels.linux_5_10;\n",
		"  linux_5_10 = throw \"linux 5.10 was removed because it has reached its end of life upstream\"; # Added 2026-07-20\n")
	want = swap(t, want, "  linuxPackages_5_10 = linuxKernel.packages.linux_5_10;\n",
		"  linuxPackages_5_10 = throw \"linux 5.10 was removed because it has reached its end of life upstream\"; # Added 2026-07-20\n")
	sameBytes(t, al+" (alias_throws)", files[al], want)
}

// An init of 6.18 on the tree before it gives nixpkgs' linux-kernels.nix
// and aliases.nix back.
func TestReplayInit(t *testing.T) {
	real := loadReal(t)
	before := real
	before.lk = cut(t, real.lk, `        linux_6_18 = callPackage ./kernel/mainline.nix {
          branch = "6.18";
          kernelPatches = [
            kernelPatches.bridge_stp_helper
            kernelPatches.request_key_helper
          ];
        };

`)
	before.lk = cut(t, before.lk, "      linux_6_18 = recurseIntoAttrs (packagesFor kernels.linux_6_18);\n")
	before.lk = swap(t, before.lk, "linux_latest = packages.linux_6_18;", "linux_latest = packages.linux_6_17;")
	before.al = cut(t, real.al, "  linux_6_18 = linuxKernel.kernels.linux_6_18;\n")
	before.al = cut(t, before.al, "  linuxPackages_6_18 = linuxKernel.packages.linux_6_18;\n")
	entry := `    "6.18": {
        "version": "6.18.5",
        "hash": "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q",
        "lts": false
    }
`
	before.json = swap(t, real.json, "    },\n"+entry, "    }\n")

	c := vanilla.Made(family.Change{Kind: vanilla.Init, Branch: "6.18", To: "6.18.5", Hash: "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q"})
	files, err := vanilla.New(nil).Apply(before.tree("2025-12-01"), c)
	if err != nil {
		t.Fatal(err)
	}
	sameBytes(t, kj, files[kj], real.json)
	sameBytes(t, lk, files[lk], real.lk)
	sameBytes(t, al, files[al], real.al)
}

// with54 is the real Dec 2025 tree with 5.4 put back as it was before
// nixpkgs removed it (Oct 2025): its kernels entry before 5.10's, its
// vanillaPackages entry, its kernels-org.json entry (nixpkgs' 5.4.288),
// and without its two throws.
func with54(t *testing.T, real realTree) realTree {
	b := real
	b.lk = cut(t, real.lk, "        linux_5_4 = throw \"linux 5.4 was removed because it will reach its end of life within 25.11\";\n")
	b.lk = cut(t, b.lk, "      linux_5_4 = throw \"linux 5.4 was removed because it will reach its end of life within 25.11\"; # Added 2025-10-22\n")
	b.lk = swap(t, b.lk, "        linux_5_10 = callPackage", `        linux_5_4 = callPackage ./kernel/mainline.nix {
          branch = "5.4";
          kernelPatches = [
            kernelPatches.bridge_stp_helper
            kernelPatches.request_key_helper
          ];
        };

        linux_5_10 = callPackage`)
	b.lk = swap(t, b.lk, "      linux_5_10 = recurseIntoAttrs", "      linux_5_4 = recurseIntoAttrs (packagesFor kernels.linux_5_4);\n      linux_5_10 = recurseIntoAttrs")
	b.json = swap(t, real.json, `    "6.6": {`, `    "5.4": {
        "version": "5.4.288",
        "hash": "sha256:1zhsb6gwhb6cvijzh7s8rnm4b06klyhb2mxb06gcyfvj0givlvw7",
        "lts": true
    },
    "6.6": {`)
	return b
}

// propose remove linux_5_4 --eol-within 25.11, dated the day nixpkgs
// removed it, gives nixpkgs' linux-kernels.nix back: the same words in
// kernels (undated, as that section is) and vanillaPackages (dated).
func TestReplayProposeRemove54(t *testing.T) {
	real := loadReal(t)
	before := with54(t, real)
	plan, err := (&updater.Planner{Families: family.Registry{vanilla.New(nil)}}).Propose(context.Background(), before.tree("2025-10-22"),
		[]family.Request{{Kind: family.RequestRemove, Attr: "linux_5_4", EOLWithin: "25.11"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 1 {
		t.Fatalf("%d changes, want 1", len(plan.Changes))
	}
	c := plan.Changes[0]
	if c.Title != "linux_5_4: remove" || c.Own != "remove" || c.Key != (family.Key{Family: vanilla.Name, Attr: "linux_5_4", Target: "removed"}) ||
		!cmp.Equal(c.Files, []string{kj, lk}) {
		t.Errorf("change: title %q own %q key %+v files %v", c.Title, c.Own, c.Key, c.Files)
	}
	files, err := vanilla.New(nil).Apply(before.tree("2025-10-22"), c)
	if err != nil {
		t.Fatal(err)
	}
	sameBytes(t, lk, files[lk], real.lk)
	sameBytes(t, kj, files[kj], real.json)

	// The 2025 convention turns the aliases into throws worded the same and
	// dated, as nixpkgs' aliases.nix of Nov 2025 has them (index file id
	// 19239915: `linux_5_4 = throw "..."; # Added 2025-10-26`).
	before.al = swap(t, before.al, "  linux_5_10 = linuxKernel", "  linux_5_4 = linuxKernel.kernels.linux_5_4;\n  linux_5_10 = linuxKernel")
	before.al = swap(t, before.al, "  linuxPackages_5_10 = linuxKernel", "  linuxPackages_5_4 = linuxKernel.packages.linux_5_4;\n  linuxPackages_5_10 = linuxKernel")
	files, err = vanilla.New(nil).AliasThrows(true).Apply(before.tree("2025-10-26"), c)
	if err != nil {
		t.Fatal(err)
	}
	want := swap(t, real.al, "  linux_5_10 = linuxKernel", "  linux_5_4 = throw \"linux 5.4 was removed because it will reach its end of life within 25.11\"; # Added 2025-10-26\n  linux_5_10 = linuxKernel")
	want = swap(t, want, "  linuxPackages_5_10 = linuxKernel", "  linuxPackages_5_4 = throw \"linux 5.4 was removed because it will reach its end of life within 25.11\"; # Added 2025-10-26\n  linuxPackages_5_10 = linuxKernel")
	sameBytes(t, al+" (alias_throws)", files[al], want)
}
