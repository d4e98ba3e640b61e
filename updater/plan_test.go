package updater

import (
	"bytes"
	"context"
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
	"github.com/kupdate/kupdate/kernelorg"
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
func planSummary(p *Plan) string {
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

func scenarioPlan(t *testing.T, dir string) (*Plan, *ghSim) {
	t.Helper()
	gh := newGHSim(t, scenarioHardenedTags...)
	if err := os.WriteFile(filepath.Join(dir, HardenedKeyPath), gh.armoredKey(t), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &Planner{Hasher: &tableHasher{notYet: map[string]bool{"6.6.125": true}}, Hardened: gh.source()}
	plan, err := p.Plan(context.Background(), scenarioReleases(), loadTree(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return plan, gh
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
		Base    string   `json:"base"`
		Changes []Change `json:"changes"`
	}{"", plan.Changes}); err != nil {
		t.Fatal(err)
	}
	golden(t, "scenario/plan.json", js.Bytes())

	// Every change, applied in order, gives exactly the golden bytes of each
	// file it touches.
	tr := loadTree(t, dir)
	for i, c := range plan.Changes {
		files, err := tr.Apply(c)
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
	again, err := (&Planner{Hasher: &tableHasher{notYet: map[string]bool{"6.6.125": true}}, Hardened: newGHSim(t, scenarioHardenedTags...).source()}).
		Plan(context.Background(), scenarioReleases(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Changes) != 0 {
		t.Errorf("second plan: %s", planSummary(again))
	}
}

func TestPlanNotYetHoldsOnlyThatChange(t *testing.T) {
	dir := copyTree(t)
	h := &tableHasher{notYet: map[string]bool{"6.12.70": true, "7.1-rc1": true}, fail: map[string]error{"6.1.163": errors.New("sha256sums.asc: signature does not verify")}}
	plan, err := (&Planner{Hasher: h}).Plan(context.Background(), scenarioReleases(), loadTree(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, c := range plan.Changes {
		titles = append(titles, c.Title)
	}
	want := []string{
		"linux_5_10: remove",
		"linux_5_15: 5.15.197 -> 5.15.200",
		"linux_6_6: 6.6.119 -> 6.6.125",
		"linux_6_18: 6.18.5 -> 6.18.9",
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
		"6.1: no verified hash for 6.1.163: sha256sums.asc: signature does not verify",
		"6.12: 6.12.70 not yet signed on kernel.org",
		"testing: the 7.1-rc1 snapshot is not on git.kernel.org yet",
	}
	if d := cmp.Diff(wantHeld, held); d != "" {
		t.Errorf("held (-want +got):\n%s", d)
	}
	if f := plan.Failed(); len(f) != 1 || f[0].Branch != "6.1" {
		t.Errorf("Failed() = %v, want the 6.1 note", f)
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
		want:     []string{"linux_6_12: mark as longterm", "linux_6_18: 6.18.5 -> 6.18.6"},
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
		want:     []string{"linux_6_12: 6.12.64 -> 6.12.65", "linux_6_18: 6.18.5 -> 6.18.6", "linux_6_19: init at 6.19"},
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
			plan, err := (&Planner{Hasher: &tableHasher{}}).Plan(context.Background(), c.releases, loadTree(t, dir))
			if err != nil {
				t.Fatal(err)
			}
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
	_, entries, err := parseKernels([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{}
	for _, e := range entries {
		keep[e.Branch] = true
	}
	lk := &nixEditor{name: LinuxKernelsPath, src: tr.File(LinuxKernelsPath)}
	for _, e := range tr.Kernels() {
		if keep[e.Branch] || e.Branch == "testing" {
			continue
		}
		for _, sec := range []string{"kernels", "vanillaPackages"} {
			if _, err := lk.dropBinding(sec, Attr(e.Branch), true); err != nil {
				t.Fatal(err)
			}
		}
	}
	// keep testing so linux_testing keeps its entry
	root, _, _ := parseKernels([]byte(js))
	te, _ := tr.Entry("testing")
	root.members = append([]jsonMember{{key: "testing", val: jobj(
		jsonMember{key: "version", val: jstr(te.Version.String())},
		jsonMember{key: "hash", val: jstr(te.Hash)},
	)}}, root.members...)
	if strings.Contains(js, `"lts"`) {
		root.members[0].val.set("lts", jbool(false))
	}
	if err := WriteFiles(dir, map[string][]byte{KernelsJSONPath: dumpJSON(root, false), LinuxKernelsPath: lk.src}); err != nil {
		t.Fatal(err)
	}
}
