package vanilla_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/updater"
)

func propose(t *testing.T, tr *family.Tree, r family.Request) (*family.Plan, error) {
	t.Helper()
	return (&updater.Planner{Families: family.Registry{vanilla.New(nil)}}).Propose(context.Background(), tr, []family.Request{r})
}

// A request that makes no sense is refused with the reason, and no change
// comes of it. The tree is nixpkgs' of Dec 2025 with 5.4 back (with54) and
// kernels-org.json of Jan 2026: linux_default 6.12, linux_latest 6.18
// (not longterm then), 6.16 a throw.
func TestProposeRefuses(t *testing.T) {
	real := loadReal(t)
	tr := with54(t, real).tree("2026-07-20")
	rm := func(attr, within string) family.Request {
		return family.Request{Kind: family.RequestRemove, Attr: attr, EOLWithin: within}
	}
	def := func(attr string) family.Request { return family.Request{Kind: family.RequestDefault, Attr: attr} }
	for _, tc := range []struct {
		req  family.Request
		want string
	}{
		{rm("linux_4_14", "25.11"), "propose remove linux_4_14 --eol-within 25.11: linux_4_14 is not a kernel this tree keeps (kupdate status lists them)"},
		{rm("linuxx", "25.11"), `propose remove linuxx --eol-within 25.11: "linuxx" is not a kernel attribute (want e.g. linux_6_12)`},
		{rm("linux_testing", "25.11"), "propose remove linux_testing --eol-within 25.11: linux_testing follows mainline's release candidates; it is neither removed nor made the default"},
		{rm("linux_6_16", "25.11"), "propose remove linux_6_16 --eol-within 25.11: linux_6_16 is already a throw (pkgs/top-level/linux-kernels.nix:291): there is nothing to remove"},
		{rm("linux_6_18", "26.05"), `propose remove linux_6_18 --eol-within 26.05: linux_6_18 is not a longterm branch (pkgs/os-specific/linux/kernel/kernels-org.json:37: "lts": false); a stable branch is removed when kernel.org marks it end of life, which kupdate does by itself`},
		{rm("linux_5_10", "25.13"), `propose remove linux_5_10 --eol-within 25.13: --eol-within "25.13" is not a NixOS release: want YY.05 or YY.11, e.g. 25.11`},
		{rm("linux_5_10", ""), `propose remove linux_5_10: --eol-within "" is not a NixOS release: want YY.05 or YY.11, e.g. 25.11`},
		{rm("linux_6_12", "26.11"), "propose remove linux_6_12 --eol-within 26.11: linux_6_12 is linux_default: move linux_default first (kupdate propose default linux_X_Y)"},
		{def("linux_6_12"), "propose default linux_6_12: linux_6_12 is already linux_default"},
		{def("linux_6_6"), "propose default linux_6_6: linux_6_6 is older than linux_default (linux_6_12): linux_default only moves forward"},
		{def("linux_6_18"), `propose default linux_6_18: linux_6_18 is not a longterm branch (pkgs/os-specific/linux/kernel/kernels-org.json:37: "lts": false); linux_default is a longterm branch`},
		{def("linux_6_16"), "propose default linux_6_16: linux_6_16 is already a throw (pkgs/top-level/linux-kernels.nix:291): it cannot be the default"},
	} {
		t.Run(tc.req.String(), func(t *testing.T) {
			p, err := propose(t, tr, tc.req)
			var refused *family.RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("err = %v (plan %v), want a refusal", err, p)
			}
			if err.Error() != tc.want {
				t.Errorf("err:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

// propose default moves linux_default alone, titled as nixpkgs titled the
// move to 6.18 (#485549).
func TestProposeDefault(t *testing.T) {
	real := loadReal(t)
	real.json = swap(t, real.json, `"version": "6.18.5",
        "hash": "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q",
        "lts": false`, `"version": "6.18.5",
        "hash": "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q",
        "lts": true`)
	tr := real.tree("2026-01-31")
	p, err := propose(t, tr, family.Request{Kind: family.RequestDefault, Attr: "linux_6_18"})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Changes[0]
	got := []any{c.Kind, c.Attr, c.Title, c.Own, c.Key, c.Files, c.Build}
	want := []any{vanilla.Default, "linux_default", "linuxPackages: 6.12 -> 6.18", "linux_6_18",
		family.Key{Family: vanilla.Name, Attr: "linux_default", Target: "linux_6_18"}, []string{lk}, []string{"linux_6_18"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("change (-want +got):\n%s", d)
	}
	files, err := vanilla.New(nil).Apply(tr, c)
	if err != nil {
		t.Fatal(err)
	}
	sameBytes(t, lk, files[lk], swap(t, real.lk, "linux_default = packages.linux_6_12;", "linux_default = packages.linux_6_18;"))

	// Once merged, the base has it: the change withdraws nothing, and a
	// second request is refused.
	after := family.NewTree(map[string][]byte{kj: []byte(real.json), lk: files[lk], al: []byte(real.al)})
	f := vanilla.New(nil)
	if f.Ahead(after, c.Key) || !f.Ahead(tr, c.Key) {
		t.Errorf("Ahead: after the move %v, before %v; want false, true", f.Ahead(after, c.Key), f.Ahead(tr, c.Key))
	}
	if _, err := propose(t, after, family.Request{Kind: family.RequestDefault, Attr: "linux_6_18"}); err == nil || err.Error() != "propose default linux_6_18: linux_6_18 is already linux_default" {
		t.Errorf("second request: %v", err)
	}
}

// Suggest advises moving linux_default once a newer branch is longterm,
// with the command that does it; not before.
func TestSuggestDefault(t *testing.T) {
	real := loadReal(t)
	f := vanilla.New(nil)
	if got := f.Suggest(real.tree("2026-01-10")); len(got) != 0 {
		t.Errorf("6.18 not longterm yet: %+v", got)
	}
	real.json = swap(t, real.json, "\"6.18.5\",\n        \"hash\": \"sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q\",\n        \"lts\": false",
		"\"6.18.5\",\n        \"hash\": \"sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q\",\n        \"lts\": true")
	got := f.Suggest(real.tree("2026-01-10"))
	if len(got) != 1 || got[0].Reason != "linux_6_18 is a newer longterm branch than linux_default (linux_6_12)" || got[0].Command() != "kupdate propose default linux_6_18" {
		t.Errorf("suggestions: %+v", got)
	}
}
