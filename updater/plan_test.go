package updater

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// golden compares got with the file testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

// The scenario of the golden tests: the tree at kernels-org-2026-01.json and
// an upstream a few months later. Bumps for 5.15, 6.1, 6.12, 6.18; 6.6 is
// not signed yet; testing moves to 7.1-rc1; 7.0 starts; 5.10 is EOL; 6.19
// came and went while the tree did not have it; 5.4 was removed long ago.
// linux-hardened has new patches for 6.12, 6.18 and 7.0.
func scenarioReleases() []kernelorg.Release {
	return []kernelorg.Release{
		rel("mainline", "7.1-rc1", false),
		rel("stable", "7.0.1", false),
		rel("stable", "6.19.12", true),
		rel("stable", "6.18.9", false),
		rel("longterm", "6.12.70", false),
		rel("longterm", "6.6.125", false),
		rel("longterm", "6.1.163", false),
		rel("longterm", "5.15.200", false),
		rel("longterm", "5.10.250", true),
		rel("longterm", "5.4.302", true),
	}
}

var scenarioHardenedTags = []string{"v6.12.63-hardened1", "v6.18.4-hardened1", "v6.12.70-hardened1", "v6.18.9-hardened1", "v7.0.1-hardened1"}

// planSummary is a plan as the status page would list it.
func planSummary(p *family.Plan) string {
	var b strings.Builder
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "%s\n    kind=%s attr=%s files=%s build=%s changelog=%s\n", c.Title, c.Kind, c.Attr, strings.Join(c.Files, ","), strings.Join(c.Build, ","), c.ChangeLog)
	}
	for _, n := range p.Held {
		fmt.Fprintf(&b, "held: %s (failed: %v)\n", n, n.Err != nil)
	}
	for _, n := range p.Skipped {
		fmt.Fprintf(&b, "skipped: %s\n", n)
	}
	return b.String()
}

// slug names a golden directory after a change's title.
func slug(i int, title string) string {
	s := regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(title, "_")
	return fmt.Sprintf("%02d-%s", i+1, strings.Trim(s, "_"))
}

func scenarioPlan(t *testing.T, dir string) (*family.Plan, *ghSim) {
	t.Helper()
	gh := newGHSim(t, scenarioHardenedTags...)
	if err := os.WriteFile(filepath.Join(dir, kernelfiles.HardenedKeyPath), gh.armoredKey(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return planWith(t, scenarioReleases(), &tableHasher{notYet: map[string]bool{"6.6.125": true}}, gh, loadTree(t, dir)), gh
}

func TestPlanGolden(t *testing.T) {
	dir := copyTree(t)
	plan, _ := scenarioPlan(t, dir)
	golden(t, "scenario/plan.txt", []byte(planSummary(plan)))
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Base    string          `json:"base"`
		Changes []family.Change `json:"changes"`
	}{"", plan.Changes}); err != nil {
		t.Fatal(err)
	}
	golden(t, "scenario/plan.json", js.Bytes())

	// Every change, applied in order, gives exactly the golden bytes of each
	// file it touches.
	tr := loadTree(t, dir)
	reg := kernels(scenarioReleases(), &tableHasher{}, newGHSim(t))
	for i, c := range plan.Changes {
		files, next, err := Apply(reg, tr, c)
		tr = next
		if err != nil {
			t.Fatalf("Apply(%s): %v", c.Title, err)
		}
		if got := ChangedFiles(files); !cmp.Equal(got, c.Files) {
			t.Errorf("Apply(%s) wrote %v, the change lists %v", c.Title, got, c.Files)
		}
		for _, p := range c.Files {
			golden(t, "scenario/"+slug(i, c.Title)+"/"+p, files[p])
		}
	}

	// Idempotent: planning again against the result plans nothing new.
	again := planWith(t, scenarioReleases(), &tableHasher{notYet: map[string]bool{"6.6.125": true}}, newGHSim(t, scenarioHardenedTags...), tr)
	if len(again.Changes) != 0 {
		t.Errorf("second plan: %s", planSummary(again))
	}
}

func TestPlanNotYetHoldsOnlyThatChange(t *testing.T) {
	dir := copyTree(t)
	h := &tableHasher{notYet: map[string]bool{"6.12.70": true, "7.1-rc1": true}, fail: map[string]error{"6.1.163": errors.New("sha256sums.asc: signature does not verify")}}
	plan := planWith(t, scenarioReleases(), h, nil, loadTree(t, dir))
	var titles []string
	for _, c := range plan.Changes {
		titles = append(titles, c.Title)
	}
	want := []string{
		"linux_5_10: remove",
		"linux_6_18: 6.18.5 -> 6.18.9",
		"linux_6_6: 6.6.119 -> 6.6.125",
		"linux_5_15: 5.15.197 -> 5.15.200",
		"linux_7_0: init at 7.0.1",
	}
	if d := cmp.Diff(want, titles); d != "" {
		t.Errorf("titles (-want +got):\n%s", d)
	}
	var held []string
	for _, n := range plan.Held {
		held = append(held, n.String())
	}
	wantHeld := []string{
		"testing: the 7.1-rc1 snapshot is not on git.kernel.org yet",
		"6.12: 6.12.70 not yet signed on kernel.org",
		"6.1: no verified hash for 6.1.163: sha256sums.asc: signature does not verify",
	}
	if d := cmp.Diff(wantHeld, held); d != "" {
		t.Errorf("held (-want +got):\n%s", d)
	}
	if f := plan.Failed(); len(f) != 1 || f[0].Branch != "6.1" {
		t.Errorf("Failed() = %v, want the 6.1 note", f)
	}
}

// TestPlanNotYetProposesTheNewestSigned: while kernel.org has not signed
// a point release, its branch moves to the newest release the signed file
// lists, when that is ahead of the tree, and the held note says so.
func TestPlanNotYetProposesTheNewestSigned(t *testing.T) {
	for _, tc := range []struct {
		name   string
		signed []string
		change string // the 6.12 change planned, "" for none
		held   string
	}{
		{"an older release is signed", []string{"6.12.63", "6.12.64", "6.12.68", "6.18.9"}, "linux_6_12: 6.12.64 -> 6.12.68",
			"6.12: 6.12.70 not yet signed on kernel.org; proposing 6.12.68 meanwhile"},
		{"only the tree's own release", []string{"6.12.63", "6.12.64"}, "", "6.12: 6.12.70 not yet signed on kernel.org"},
		{"none", nil, "", "6.12: 6.12.70 not yet signed on kernel.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &tableHasher{notYet: map[string]bool{"6.12.70": true}, signed: tc.signed}
			plan := planWith(t, scenarioReleases(), h, nil, loadTree(t, copyTree(t)))
			var got family.Change
			for _, c := range plan.Changes {
				if c.Attr == "linux_6_12" {
					got = c
				}
			}
			if got.Title != tc.change {
				t.Errorf("6.12 change %q, want %q", got.Title, tc.change)
			}
			if tc.change != "" {
				if got.Hash != kernelorgtest.FlatHash("6.12.68") || got.ChangeLog != "https://cdn.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.12.68" || got.Key.Target != "6.12.68" {
					t.Errorf("hash %s, ChangeLog %s, key %v", got.Hash, got.ChangeLog, got.Key)
				}
			}
			var held []string
			for _, n := range plan.Held {
				held = append(held, n.String())
			}
			if d := cmp.Diff([]string{tc.held}, held); d != "" {
				t.Errorf("held (-want +got):\n%s", d)
			}
		})
	}
}

func TestPlanRules(t *testing.T) {
	type tc struct {
		name     string
		json     string // kernels-org.json of the tree; "" = the sample's
		releases []kernelorg.Release
		want     []string // titles
		skipped  []string
	}
	for _, c := range []tc{{
		name:     "final mainline release keeps testing at its rc",
		releases: []kernelorg.Release{rel("mainline", "6.19", false), rel("stable", "6.18.6", false)},
		want:     []string{"linux_6_18: 6.18.5 -> 6.18.6", "linux_6_19: init at 6.19"},
		skipped: []string{
			"5.10: not listed on kernel.org; linux_5_10 left at 5.10.247",
			"5.15: not listed on kernel.org; linux_5_15 left at 5.15.197",
			"6.1: not listed on kernel.org; linux_6_1 left at 6.1.159",
			"6.6: not listed on kernel.org; linux_6_6 left at 6.6.119",
			"6.12: not listed on kernel.org; linux_6_12 left at 6.12.64",
			"testing: kernel.org lists no rc; linux_testing stays at 6.19-rc4 until the next rc1",
		},
	}, {
		name:     "never backwards",
		releases: []kernelorg.Release{rel("longterm", "6.12.60", false), rel("mainline", "6.19-rc2", false)},
		skipped: []string{
			"5.10: not listed on kernel.org; linux_5_10 left at 5.10.247",
			"5.15: not listed on kernel.org; linux_5_15 left at 5.15.197",
			"6.1: not listed on kernel.org; linux_6_1 left at 6.1.159",
			"6.6: not listed on kernel.org; linux_6_6 left at 6.6.119",
			"6.12: tree has 6.12.64, newer than kernel.org's 6.12.60; never going backwards",
			"6.18: not listed on kernel.org; linux_6_18 left at 6.18.5",
			"testing: tree has 6.19-rc4, newer than kernel.org's 6.19-rc2; never going backwards",
		},
	}, {
		name: "lts flips with a bump and on its own",
		json: `{
    "6.12": {
        "version": "6.12.64",
        "hash": "sha256:18j9ivimvlm1afzfiw03n3r35qv91nbjhh2gi3z8w5416sir9bfi",
        "lts": false
    },
    "6.18": {
        "version": "6.18.5",
        "hash": "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q",
        "lts": false
    }
}
`,
		releases: []kernelorg.Release{rel("longterm", "6.12.64", false), rel("longterm", "6.18.6", false)},
		want:     []string{"linux_6_18: 6.18.5 -> 6.18.6", "linux_6_12: mark as longterm"},
		skipped:  []string{"testing: kernel.org lists no rc; linux_testing stays at 6.19-rc4 until the next rc1"},
	}, {
		name: "old shape without lts stays without lts; older branches and the removed are skipped",
		json: `{
    "6.12": {
        "version": "6.12.64",
        "hash": "sha256:18j9ivimvlm1afzfiw03n3r35qv91nbjhh2gi3z8w5416sir9bfi"
    },
    "6.18": {
        "version": "6.18.5",
        "hash": "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q"
    }
}
`,
		releases: []kernelorg.Release{rel("longterm", "6.12.65", false), rel("longterm", "6.6.120", false), rel("stable", "6.17.13", false), rel("stable", "6.18.6", false), rel("mainline", "6.19", false)},
		want:     []string{"linux_6_18: 6.18.5 -> 6.18.6", "linux_6_12: 6.12.64 -> 6.12.65", "linux_6_19: init at 6.19"},
		skipped: []string{
			"6.6: older than the tree's oldest branch 6.12",
			"6.17: removed from the tree (pkgs/top-level/linux-kernels.nix:133); never added back",
			"testing: kernel.org lists no rc; linux_testing stays at 6.19-rc4 until the next rc1",
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyTree(t)
			if c.json != "" {
				writeJSONTree(t, dir, c.json)
			}
			plan := planWith(t, c.releases, &tableHasher{}, nil, loadTree(t, dir))
			var titles, skipped []string
			for _, ch := range plan.Changes {
				titles = append(titles, ch.Title)
			}
			for _, n := range plan.Skipped {
				skipped = append(skipped, n.String())
			}
			if d := cmp.Diff(c.want, titles); d != "" {
				t.Errorf("titles (-want +got):\n%s", d)
			}
			if d := cmp.Diff(c.skipped, skipped); d != "" {
				t.Errorf("skipped (-want +got):\n%s", d)
			}
			if len(plan.Held) > 0 {
				t.Errorf("held: %v", plan.Held)
			}
		})
	}
}

// writeJSONTree makes the sample tree carry only the branches of js: the
// kernels and vanillaPackages entries of the others are dropped so the
// tree stays consistent.
func writeJSONTree(t *testing.T, dir, js string) {
	t.Helper()
	tr := loadTree(t, dir)
	m, err := kernelfiles.Read(tr)
	if err != nil {
		t.Fatal(err)
	}
	root, err := kernelfiles.ParseJSON(kernelfiles.KernelsJSONPath, []byte(js))
	if err != nil {
		t.Fatal(err)
	}
	lk := kernelfiles.NewEditor(kernelfiles.LinuxKernelsPath, tr.File(kernelfiles.LinuxKernelsPath))
	for _, e := range m.Kernels() {
		if root.Member(e.Branch) != nil || e.Branch == "testing" {
			continue
		}
		for _, sec := range []string{"kernels", "vanillaPackages"} {
			if _, err := lk.DropBinding(sec, kernelfiles.Attr(e.Branch), true); err != nil {
				t.Fatal(err)
			}
		}
	}
	// keep testing so linux_testing keeps its entry, first
	te, _ := m.Entry("testing")
	members := []kernelfiles.Member{{Key: "version", Val: kernelfiles.String(te.Version.String())}, {Key: "hash", Val: kernelfiles.String(te.Hash)}}
	if strings.Contains(js, `"lts"`) {
		members = append(members, kernelfiles.Member{Key: "lts", Val: kernelfiles.Bool(false)})
	}
	root.Prepend("testing", kernelfiles.Object(members...))
	if err := WriteFiles(dir, map[string][]byte{kernelfiles.KernelsJSONPath: root.Dump(false), kernelfiles.LinuxKernelsPath: lk.Bytes()}); err != nil {
		t.Fatal(err)
	}
}

// titleOf is nixpkgs' title for c, by the function of its family.
func titleOf(c family.Change) string {
	if c.Family() == hardened.Name {
		return hardened.Title(c)
	}
	return vanilla.Title(c)
}

// Title is nixpkgs' title for each kind of change; the planner titles every
// change with it and kupdate check compares commit titles with it. Every
// change also carries its Key, what it is as data.
func TestTitleAndKey(t *testing.T) {
	k := func(fam, attr, target string) family.Key { return family.Key{Family: fam, Attr: attr, Target: target} }
	for _, tc := range []struct {
		c    family.Change
		want string
	}{
		{family.Change{Kind: vanilla.Bump, Attr: "linux_6_12", Branch: "6.12", From: "6.12.63", To: "6.12.64", Key: k("kernel.org", "", "")}, "linux_6_12: 6.12.63 -> 6.12.64"},
		{family.Change{Kind: vanilla.Bump, Attr: "linux_testing", Branch: "testing", From: "6.19-rc3", To: "6.19-rc4"}, "linux_testing: 6.19-rc3 -> 6.19-rc4"},
		{family.Change{Kind: vanilla.Bump, Attr: "linux_6_12", From: "6.12.64", To: "6.12.64", LTS: true}, "linux_6_12: mark as longterm"},
		{family.Change{Kind: vanilla.Bump, Attr: "linux_6_12", From: "6.12.64", To: "6.12.64"}, "linux_6_12: mark as not longterm"},
		{family.Change{Kind: vanilla.Init, Attr: "linux_6_19", Branch: "6.19", To: "6.19"}, "linux_6_19: init at 6.19"},
		{family.Change{Kind: vanilla.Remove, Attr: "linux_6_17", Branch: "6.17", From: "6.17.13"}, "linux_6_17: remove"},
		{family.Change{Kind: hardened.Bump, Attr: "linux_6_12_hardened", Branch: "6.12", From: "6.12.63-hardened1", To: "6.12.64-hardened1", Key: k("hardened", "", "")},
			"linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.64-hardened1"},
		{family.Change{Kind: hardened.Init, Attr: "linux_6_19_hardened", Branch: "6.19", To: "6.19.1-hardened1", Key: k("hardened", "", "")}, "linux_6_19_hardened: init at 6.19.1-hardened1"},
	} {
		if got := titleOf(tc.c); got != tc.want {
			t.Errorf("Title(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}

	// Every kind the planner makes carries that title, and a key of its
	// attribute, which reads back from a commit's trailers.
	dir := copyTree(t)
	plan, _ := scenarioPlan(t, dir)
	kinds := map[family.Kind]bool{}
	keys := map[string]string{}
	for _, c := range plan.Changes {
		kinds[c.Kind] = true
		if got := titleOf(c); got != c.Title {
			t.Errorf("Title(%+v) = %q, the planner wrote %q", c, got, c.Title)
		}
		if c.Key.Attr != c.Attr || c.Key.Valid() != nil {
			t.Errorf("%s: key %v", c.Title, c.Key)
		}
		keys[c.Title] = c.Key.String()
		msg := c.Title + "\n\nbody\n\n" + strings.Join(c.Key.Trailers(), "\n") + "\n"
		if got, ok := family.KeyOf(msg); !ok || got != c.Key {
			t.Errorf("%s: KeyOf(its message) = %v, %t", c.Title, got, ok)
		}
		// A commit of an earlier kupdate, without trailers, reads the same
		// from its title.
		if got, ok := family.LegacyKey(c.Title); !ok || got != c.Key {
			t.Errorf("LegacyKey(%q) = %v, %t; want %v", c.Title, got, ok, c.Key)
		}
	}
	for _, k := range []family.Kind{vanilla.Bump, vanilla.Init, vanilla.Remove, hardened.Bump, hardened.Init} {
		if !kinds[k] {
			t.Errorf("the scenario plans no %s change: its title is not checked in a plan", k)
		}
	}
	want := map[string]string{
		"linux_5_10: remove":                                                    "kernel.org:linux_5_10@removed",
		"linux_5_15: 5.15.197 -> 5.15.200":                                      "kernel.org:linux_5_15@5.15.200",
		"linux_6_1: 6.1.159 -> 6.1.163":                                         "kernel.org:linux_6_1@6.1.163",
		"linux_6_12: 6.12.64 -> 6.12.70":                                        "kernel.org:linux_6_12@6.12.70",
		"linux_6_18: 6.18.5 -> 6.18.9":                                          "kernel.org:linux_6_18@6.18.9",
		"linux_testing: 6.19-rc4 -> 7.1-rc1":                                    "kernel.org:linux_testing@7.1-rc1",
		"linux_7_0: init at 7.0.1":                                              "kernel.org:linux_7_0@7.0.1",
		"linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.70-hardened1": "hardened:linux_6_12_hardened@6.12.70-hardened1",
		"linux_7_0_hardened: init at 7.0.1-hardened1":                           "hardened:linux_7_0_hardened@7.0.1-hardened1",
	}
	if d := cmp.Diff(want, keys); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
}
