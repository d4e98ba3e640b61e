package cycle_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/families"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// toyFamily is a kernel family that exists only in this file: one JSON
// file (toy.json, {"version": "1.0"}) and linux_toy, a kernel built from
// it, with a source that is a table. It implements kupdate's family
// contract from outside kupdate's packages; the cycle, gitops, workflow and
// the state take it in through the registry alone.
type toyFamily struct {
	mu      sync.Mutex
	offered string // the version its source offers
	down    error  // its source fails
}

const (
	toyJSON = "pkgs/os-specific/linux/kernel/toy.json"
	toyName = "toy"
	toyAttr = "linux_toy"
)

var _ family.Family = (*toyFamily)(nil)

func (*toyFamily) Name() string                { return toyName }
func (*toyFamily) Paths() []string             { return []string{toyJSON} }
func (*toyFamily) Present(t *family.Tree) bool { return t.Has(toyJSON) }

func (*toyFamily) Load(t *family.Tree) error { _, err := toyVersion(t.File(toyJSON)); return err }

func toyVersion(b []byte) (string, error) {
	var v struct{ Version string }
	if err := json.Unmarshal(b, &v); err != nil || v.Version == "" {
		return "", fmt.Errorf("%s: want {\"version\": \"X.Y\"} (%v)", toyJSON, err)
	}
	return v.Version, nil
}

func (*toyFamily) Attrs(t *family.Tree) []family.Attr {
	v, _ := toyVersion(t.File(toyJSON))
	return []family.Attr{{Name: toyAttr, Branch: toyName, Version: v}}
}

func (f *toyFamily) source() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.offered, f.down
}

func (f *toyFamily) Offers(context.Context) ([]family.Offer, error) {
	v, err := f.source()
	if err != nil {
		return nil, err
	}
	return []family.Offer{{Family: toyName, Attr: toyAttr, Branch: toyName, Version: v}}, nil
}

func (f *toyFamily) Plan(ctx context.Context, t *family.Tree) (*family.Plan, error) {
	v, err := f.source()
	if err != nil {
		return &family.Plan{Held: []family.Note{{Family: toyName, Branch: toyName, Reason: err.Error(), Err: err}}}, nil
	}
	cur, err := toyVersion(t.File(toyJSON))
	if err != nil {
		return nil, err
	}
	p := &family.Plan{Offers: []family.Offer{{Family: toyName, Attr: toyAttr, Branch: toyName, Version: v}}}
	if cur != v {
		p.Changes = append(p.Changes, family.Change{Kind: "toy-bump", Attr: toyAttr, Branch: toyName, From: cur, To: v,
			Title: toyAttr + ": " + cur + " -> " + v, Key: family.Key{Family: toyName, Attr: toyAttr, Target: v}, Build: []string{toyAttr}})
	}
	return p, nil
}

func (*toyFamily) Apply(t *family.Tree, c family.Change) (map[string][]byte, error) {
	if cur, err := toyVersion(t.File(toyJSON)); err != nil || cur != c.From {
		return nil, fmt.Errorf("%s is at %s, not %s", toyJSON, cur, c.From)
	}
	return map[string][]byte{toyJSON: fmt.Appendf(nil, "{\n    \"version\": %q\n}\n", c.To)}, nil
}

func (*toyFamily) CheckFile(path string, data []byte) (bool, error) {
	if path != toyJSON {
		return false, nil
	}
	_, err := toyVersion(data)
	return true, err
}

func (*toyFamily) EvalChecks(c family.Change) []string {
	return []string{"p.linuxKernel.kernels." + toyAttr + ".drvPath"}
}

func (*toyFamily) Entries(path string, _ []byte, _ family.Change, _ string) ([]string, bool) {
	return []string{"version"}, path == toyJSON
}

func (*toyFamily) Ahead(base *family.Tree, k family.Key) bool {
	v, err := toyVersion(base.File(toyJSON))
	return err != nil || v < k.Target
}

// toyTree adds the toy kernel to the fixture's staging-nixos: toy.json, a
// derivation reading it, and linux_toy in linux-kernels.nix.
func (f *fixture) toyTree() {
	f.t.Helper()
	lk := gitOut(f.t, f.gh.RepoDir("NixOS", "nixpkgs"), "show", "staging-nixos:pkgs/top-level/linux-kernels.nix")
	anchor := "        linux_latest = packageAliases.linux_latest.kernel;\n"
	if !strings.Contains(lk+"\n", anchor) {
		f.t.Fatalf("linux-kernels.nix has no %q", anchor)
	}
	lk = strings.Replace(lk+"\n", anchor, anchor+"\n        linux_toy = callPackage ../os-specific/linux/kernel/toy.nix { };\n", 1)
	_, err := f.gh.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{
		"pkgs/top-level/linux-kernels.nix": lk,
		toyJSON:                            "{\n    \"version\": \"1.0\"\n}\n",
		"pkgs/os-specific/linux/kernel/toy.nix": `{ lib, buildLinux, ... }:
let
  toy = lib.importJSON ./toy.json;
in
buildLinux {
  pname = "linux-toy";
  inherit (toy) version;
  modDirVersion = "${toy.version}.0-toy";
  src = builtins.toFile "linux-toy-${toy.version}-src" "toy kernel source ${toy.version}";
  extraMeta.branch = "toy";
}
`}, "add the toy kernel")
	must(f.t, err)
}

// withToy makes the cycle's registry kupdate's families and toy.
func (f *fixture) withToy(toy *toyFamily) func(*cycle.Options) {
	f.t.Helper()
	opts, err := kernelorg.OptionsFromConfig(f.cfg)
	must(f.t, err)
	opts.CacheDir = f.t.TempDir()
	ko, err := kernelorg.New(opts)
	must(f.t, err)
	return func(o *cycle.Options) {
		o.KernelOrg = ko
		o.Families = append(families.New(families.Sources{Config: f.cfg, KernelOrg: ko, GitHubTransport: f.gh.Client().Transport,
			Getenv: o.Getenv, Log: o.Log}), toy)
	}
}

// A family kupdate does not know is planned, applied, committed (its Key
// in the trailers), validated and built with Nix, proposed in the rolling
// PR, recorded in the state, and kept as proposed when its source fails,
// like the kernel.org kernels: nothing outside the registry names it.
func TestToyFamily(t *testing.T) {
	f := newFixture(t, kernelorgtest.Spec{Version: "6.12.65", Moniker: "longterm"}, kernelorgtest.Spec{Version: "6.18.5"})
	f.toyTree()
	toy := &toyFamily{offered: "1.1"}
	rep := f.run(f.withToy(toy))

	var got []string
	for _, ch := range rep.Changes {
		got = append(got, fmt.Sprintf("%s: %s %s, build %s", ch.Change.Title, ch.Outcome(), ch.Branch.Name, ch.BuildStatus()))
	}
	want := []string{
		"linux_6_12: 6.12.64 -> 6.12.65: opened kupdate/staging-nixos/updates, build passed",
		"linux_toy: 1.0 -> 1.1: opened kupdate/staging-nixos/updates, build passed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	fork := f.gh.RepoDir("kupdate-bot", "nixpkgs")
	if msg := gitOut(t, fork, "log", "-1", "--format=%B", rolling); !strings.HasSuffix(msg, "Prepared-by: kupdate\nKupdate-Family: toy\nKupdate-Attr: linux_toy\nKupdate-Target: 1.1") {
		t.Errorf("the toy commit's message:\n%s", msg)
	}
	if b := gitOut(t, fork, "show", rolling+":"+toyJSON); b != "{\n    \"version\": \"1.1\"\n}" {
		t.Errorf("toy.json on the branch: %q", b)
	}
	pr, err := f.gh.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	if !strings.Contains(pr.Body, "- **linux_toy: 1.0 -> 1.1**\n") || !strings.Contains(pr.Body, "nix-build -A linuxKernel.kernels.linux_toy") {
		t.Errorf("the rolling PR does not show the toy change:\n%s", pr.Body)
	}
	var rec string
	for _, a := range f.cycle(f.withToy(toy)).State().Attrs {
		if a.Attr == toyAttr {
			rec = fmt.Sprintf("%s %s %s %s #%d %s", a.Family, a.Nixpkgs, a.Upstream, a.Build, a.PR.Number, a.Result)
		}
	}
	if want := "toy 1.0 1.1 passed #1 linux_toy: 1.0 -> 1.1: PR #1 opened"; rec != want {
		t.Errorf("state record of linux_toy: %q, want %q", rec, want)
	}

	// kernel.org moves on, the toy source fails: the rolling branch would
	// withdraw the proposed toy commit, so it stays as proposed.
	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}))
	toy.mu.Lock()
	toy.down = errors.New("the toy source is down")
	toy.mu.Unlock()
	before := f.forkBranches()
	rep, err = f.cycle(f.withToy(toy)).Run(context.Background())
	must(t, err)
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "toy: the toy source is down") {
		t.Errorf("a failed source is a failure of the cycle: %v", err)
	}
	br := rep.Branches[0]
	if len(br.Kept) != 1 || br.Kept[0].Attr != toyAttr || br.Kept[0].Title != "linux_toy: 1.0 -> 1.1" {
		t.Errorf("kept: %+v", br.Kept)
	}
	if diff := cmp.Diff(before, f.forkBranches()); diff != "" {
		t.Errorf("the fork's branches moved (-before +after):\n%s", diff)
	}
}
