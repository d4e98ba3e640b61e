package updater

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestKernelsJSONRoundTrip(t *testing.T) {
	for _, f := range []string{"../testdata/fixtures/kernels-org-2026-01.json", "../testdata/fixtures/kernels-org-2026-late.json", sampleTree + "/" + KernelsJSONPath} {
		data, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			t.Skipf("fixture: %v", err)
		}
		root, _, err := parseKernels(data)
		if err != nil {
			t.Fatal(err)
		}
		if got := dumpJSON(root, false); !bytes.Equal(got, data) {
			t.Errorf("%s: rewriting the unchanged file changed it:\n%s", f, cmp.Diff(string(data), string(got)))
		}
	}
	data, err := os.ReadFile(filepath.Join(sampleTree, PatchesJSONPath))
	if err != nil {
		t.Fatal(err)
	}
	root, _, err := parsePatches(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := dumpJSON(root, true); !bytes.Equal(got, data) {
		t.Errorf("patches.json: rewriting the unchanged file changed it:\n%s", cmp.Diff(string(data), string(got)))
	}
}

// Python's json.dump(indent=4, ensure_ascii=True), checked against outputs
// of CPython 3: separators, escapes, empty containers, key order.
func TestDumpJSONLikePython(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{}`, "{}\n"},
		{`{"a": [], "b": {}}`, "{\n    \"a\": [],\n    \"b\": {}\n}\n"},
		{`{"b": 1, "a": [true, null, 2.5]}`, "{\n    \"b\": 1,\n    \"a\": [\n        true,\n        null,\n        2.5\n    ]\n}\n"},
		{`{"k": "é\u0007\"\\/\n\t\u007f😀"}`, "{\n    \"k\": \"\\u00e9\\u0007\\\"\\\\/\\n\\t\\u007f\\ud83d\\ude00\"\n}\n"},
	} {
		v, err := parseJSON("in", []byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(dumpJSON(v, false)); got != c.want {
			t.Errorf("dump(%s) = %q, want %q", c.in, got, c.want)
		}
	}
	v, _ := parseJSON("in", []byte(`{"6.6": 1, "5.10": 2, "5.4": 3, "6.1": 4}`))
	if got := string(dumpJSON(v, true)); got != "{\n    \"5.10\": 2,\n    \"5.4\": 3,\n    \"6.1\": 4,\n    \"6.6\": 1\n}\n" {
		t.Errorf("sort_keys: %q", got)
	}
}

func TestKeepSortedOrder(t *testing.T) {
	names := []string{"linux-rt_5_4", "linux_5_4", "linux_5_10", "linux_5_10_hardened", "linux_6_1", "linux_6_12", "linux_6_12_hardened", "linux_6_13", "linux_7_0", "linux_ham", "linuxPackages-libre", "linuxPackages_5_10", "linuxPackages_latest-libre", "linuxstopmotion", "Literate", "lld_12"}
	for i := 1; i < len(names); i++ {
		if !keepSortedLess(names[i-1], names[i]) || keepSortedLess(names[i], names[i-1]) {
			t.Errorf("want %s < %s", names[i-1], names[i])
		}
	}
}

// badTree loads the sample tree with one file replaced by edit(content).
func badTree(t *testing.T, path string, edit func(string) string) error {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, p := range []string{KernelsJSONPath, LinuxKernelsPath, AliasesPath, PatchesJSONPath} {
		b, err := os.ReadFile(filepath.Join(sampleTree, p))
		if err != nil {
			t.Fatal(err)
		}
		if p == path {
			b = []byte(edit(string(b)))
		}
		fsys[p] = &fstest.MapFile{Data: b}
	}
	_, err := Load(fsys)
	return err
}

func TestLoadBadTrees(t *testing.T) {
	for _, c := range []struct {
		name, path string
		edit       func(string) string
		want       string
	}{{
		name: "malformed JSON", path: KernelsJSONPath,
		edit: func(s string) string {
			return strings.Replace(s, `"lts": true
    },
    "5.15"`, `"lts": true,
    },
    "5.15"`, 1)
		},
		want: "pkgs/os-specific/linux/kernel/kernels-org.json:11: unexpected '}', want a quoted key",
	}, {
		name: "duplicate key", path: KernelsJSONPath,
		edit: func(s string) string { return strings.Replace(s, `"5.15": {`, `"6.1": {`, 1) },
		want: `pkgs/os-specific/linux/kernel/kernels-org.json:12: duplicate key "6.1" (first at line 7): remove one of them`,
	}, {
		name: "unexpected key in an entry", path: KernelsJSONPath,
		edit: func(s string) string {
			return strings.Replace(s, `"version": "6.6.119",`, `"version": "6.6.119", "url": "x",`, 1)
		},
		want: `pkgs/os-specific/linux/kernel/kernels-org.json:23: branch "6.6": unexpected key "url": an entry has only "version", "hash" and "lts"`,
	}, {
		name: "version of another branch", path: KernelsJSONPath,
		edit: func(s string) string { return strings.Replace(s, `"version": "6.6.119"`, `"version": "6.7.1"`, 1) },
		want: `pkgs/os-specific/linux/kernel/kernels-org.json:23: branch "6.6" holds version 6.7.1, which belongs to "6.7"`,
	}, {
		name: "entry not an object", path: KernelsJSONPath,
		edit: func(s string) string { return strings.Replace(s, `"5.10": {`, `"5.10": "5.10.247", "x": {`, 1) },
		want: `pkgs/os-specific/linux/kernel/kernels-org.json:17: branch "5.10": value is a string, want {"version", "hash", "lts"}`,
	}, {
		name: "bad hash", path: KernelsJSONPath,
		edit: func(s string) string {
			return strings.Replace(s, `sha256:12k6c09lgs4ahmxbrg8g3q1ngldajmzyz7y2nr1l8yhhwbw8s8gx`, `sha256-abc=`, 1)
		},
		want: `pkgs/os-specific/linux/kernel/kernels-org.json:14: branch "5.15": hash "sha256-abc=" is not sha256:<52 nix32 characters>`,
	}, {
		name: "missing section", path: LinuxKernelsPath,
		edit: func(s string) string { return strings.Replace(s, "  vanillaPackages = {", "  vanillaKernels = {", 1) },
		want: "pkgs/top-level/linux-kernels.nix: no section `vanillaPackages = ...;` (searched the whole file): is this a nixpkgs tree?",
	}, {
		name: "entry of an unexpected shape", path: LinuxKernelsPath,
		edit: func(s string) string { return strings.Replace(s, `branch = "6.6";`, `version = "6.6";`, 1) },
		want: "pkgs/top-level/linux-kernels.nix:85: linux_6_6: unexpected shape: want `callPackage ../os-specific/linux/kernel/mainline.nix { branch = \"6.6\"; ... }`",
	}, {
		name: "branch without an entry", path: LinuxKernelsPath,
		edit: func(s string) string {
			return strings.Replace(s, "linux_6_12 = callPackage", "linux_6_12_old = callPackage", 1)
		},
		want: `pkgs/top-level/linux-kernels.nix:53: section kernels: no entry linux_6_12 for branch "6.12" of pkgs/os-specific/linux/kernel/kernels-org.json:27`,
	}, {
		name: "no allowAliases part", path: LinuxKernelsPath,
		edit: func(s string) string {
			return strings.Replace(s, "      // lib.optionalAttrs config.allowAliases {\n        linux_libre", "      // {\n        linux_libre", 1)
		},
		want: "pkgs/top-level/linux-kernels.nix:53: section kernels: no `// lib.optionalAttrs config.allowAliases { ... }` part (where removed kernels become throws)",
	}, {
		name: "unbalanced nix", path: AliasesPath,
		edit: func(s string) string { return strings.Replace(s, "mapAliases {", "mapAliases {{", 1) },
		want: "pkgs/top-level/aliases.nix: 1 unclosed bracket(s) at the end of the file",
	}, {
		name: "no mapAliases", path: AliasesPath,
		edit: func(s string) string { return strings.Replace(s, "mapAliases {", "lib.id {", 1) },
		want: "pkgs/top-level/aliases.nix: no `mapAliases { ... }` block (searched the whole file): is this nixpkgs' pkgs/top-level/aliases.nix?",
	}, {
		name: "patches.json entry shape", path: PatchesJSONPath,
		edit: func(s string) string { return strings.Replace(s, `"extra": "-hardened1",`, ``, 1) },
		want: `pkgs/os-specific/linux/kernel/hardened/patches.json:3: branch "6.12": patch lacks the string "extra"`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			err := badTree(t, c.path, c.edit)
			if err == nil || err.Error() != c.want {
				t.Errorf("Load:\n got %v\nwant %s", err, c.want)
			}
		})
	}
}

// A change whose anchor is missing fails as a whole: the error names the
// file, the section's line and the anchor, nothing is returned, the tree
// is unchanged, and the checkout on disk is untouched.
func TestApplyAllOrNothing(t *testing.T) {
	dir := copyTree(t)
	gitInit(t, dir)
	tr := loadTree(t, dir)
	before := tr.Clone()
	// An init whose vanillaPackages entries are gone: the kernels entry and
	// the JSON could be written, the vanillaPackages one cannot.
	lk := strings.NewReplacer(
		"    linux_5_10 = recurseIntoAttrs (packagesFor kernels.linux_5_10);\n", "",
		"    linux_5_15 = recurseIntoAttrs (packagesFor kernels.linux_5_15);\n", "",
		"    linux_6_1 = recurseIntoAttrs (packagesFor kernels.linux_6_1);\n", "",
		"    linux_6_6 = recurseIntoAttrs (packagesFor kernels.linux_6_6);\n", "",
		"    linux_6_12 = recurseIntoAttrs (packagesFor kernels.linux_6_12);\n", "",
		"    linux_6_18 = recurseIntoAttrs (packagesFor kernels.linux_6_18);\n", "",
	).Replace(string(tr.File(LinuxKernelsPath)))
	files := map[string][]byte{}
	for _, p := range []string{KernelsJSONPath, LinuxKernelsPath, AliasesPath, PatchesJSONPath} {
		files[p] = tr.File(p)
	}
	files[LinuxKernelsPath] = []byte(lk)
	tr2, err := LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr2.Apply(Change{Kind: Init, Branch: "7.0", To: "7.0", Hash: "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q", Title: "linux_7_0: init at 7.0"})
	want := "linux_7_0: init at 7.0: pkgs/top-level/linux-kernels.nix:196: section vanillaPackages: no `linux_X_Y = recurseIntoAttrs (packagesFor kernels.linux_X_Y);` entry to place linux_7_0 by"
	if err == nil || err.Error() != want {
		t.Errorf("Apply:\n got %v\nwant %s", err, want)
	}
	if got != nil || tr2.Has("7.0") || string(tr2.File(LinuxKernelsPath)) != lk {
		t.Errorf("the failed Apply changed the tree")
	}
	// A stale change (the tree moved on) is refused too.
	if _, err := tr.Apply(Change{Kind: Bump, Branch: "6.12", From: "6.12.63", To: "6.12.65", Hash: "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q", Title: "t"}); err == nil ||
		err.Error() != `t: pkgs/os-specific/linux/kernel/kernels-org.json:27: branch "6.12" is at 6.12.64, not 6.12.63: the change is stale` {
		t.Errorf("stale bump: %v", err)
	}
	// Re-adding a removed kernel is refused by the editor as well.
	if _, err := tr.Apply(Change{Kind: Init, Branch: "6.17", To: "6.17.13", Hash: "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q", Title: "t"}); err == nil ||
		!strings.Contains(err.Error(), "linux_6_17 was removed from the tree (pkgs/top-level/linux-kernels.nix:165): kupdate never adds it back") {
		t.Errorf("re-adding 6.17: %v", err)
	}
	for _, p := range []string{KernelsJSONPath, LinuxKernelsPath, AliasesPath} {
		if !bytes.Equal(tr.File(p), before.File(p)) {
			t.Errorf("%s changed", p)
		}
	}
	if st := gitStatus(t, dir); len(st) != 0 {
		t.Errorf("git status: %v", st)
	}
}

func TestWriteFilesAtomic(t *testing.T) {
	dir := copyTree(t)
	gitInit(t, dir)
	// One path cannot be written (its directory is a file): nothing is.
	err := WriteFiles(dir, map[string][]byte{
		KernelsJSONPath:           []byte("{}\n"),
		"default.nix/cannot-be":   []byte("x"),
		"pkgs/top-level/../../..": []byte("x"),
	})
	if err == nil {
		t.Fatal("WriteFiles succeeded")
	}
	if st := gitStatus(t, dir); len(st) != 0 {
		t.Errorf("git status after a failed write: %v", st)
	}
	if err := WriteFiles(dir, map[string][]byte{KernelsJSONPath: []byte("{}\n")}); err != nil {
		t.Fatal(err)
	}
	if st := gitStatus(t, dir); !cmp.Equal(st, []string{" M " + KernelsJSONPath}) {
		t.Errorf("git status: %v", st)
	}
}

func TestParseNixFromMemory(t *testing.T) {
	needNix(t)
	if err := ParseNix(context.Background(), "x.nix", []byte("{ a = 1; }")); err != nil {
		t.Error(err)
	}
	tr := loadTree(t, copyTree(t))
	files, err := tr.Apply(Change{Kind: Init, Branch: "7.0", To: "7.0", Hash: "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q", Title: "linux_7_0: init at 7.0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFiles(context.Background(), files); err != nil {
		t.Error(err)
	}
	files[AliasesPath] = append(files[AliasesPath], "}"...)
	if err := CheckFiles(context.Background(), files); err == nil || !strings.Contains(err.Error(), "pkgs/top-level/aliases.nix does not parse") {
		t.Errorf("CheckFiles with a broken aliases.nix: %v", err)
	}
	err = ParseNix(context.Background(), "pkgs/top-level/x.nix", []byte("{ a = 1; "))
	if err == nil || !strings.Contains(err.Error(), "pkgs/top-level/x.nix does not parse") || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("ParseNix: %v", err)
	}
}

func TestApplyToDirRollsBackAFailedChange(t *testing.T) {
	needNix(t)
	dir := copyTree(t)
	gitInit(t, dir)
	tr := loadTree(t, dir)
	h := "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q"
	changes := []Change{
		// evaluates fine
		{Kind: Bump, Attr: "linux_6_1", Branch: "6.1", From: "6.1.159", To: "6.1.160", Hash: h, LTS: true, Title: "linux_6_1: 6.1.159 -> 6.1.160", Build: []string{"linux_6_1"}},
		// applies, but names an attribute that does not evaluate: rolled back
		{Kind: Bump, Attr: "linux_6_6", Branch: "6.6", From: "6.6.119", To: "6.6.120", Hash: h, LTS: true, Title: "linux_6_6: 6.6.119 -> 6.6.120", Build: []string{"linux_6_6_missing"}},
		// builds on the tree without the rolled-back change
		{Kind: Bump, Attr: "linux_6_12", Branch: "6.12", From: "6.12.64", To: "6.12.65", Hash: h, LTS: true, Title: "linux_6_12: 6.12.64 -> 6.12.65", Build: []string{"linux_6_12"}},
	}
	var committed []string
	outs := ApplyToDir(context.Background(), dir, tr, changes, ApplyOptions{After: func(ctx context.Context, c Change, files map[string][]byte) error {
		committed = append(committed, c.Title)
		return nil
	}})
	var errs []string
	for _, o := range outs {
		if o.Err != nil {
			errs = append(errs, o.Change.Title)
			if !strings.Contains(o.Err.Error(), "linux_6_6_missing") {
				t.Errorf("error does not name the attribute: %v", o.Err)
			}
		}
	}
	if d := cmp.Diff([]string{"linux_6_6: 6.6.119 -> 6.6.120"}, errs); d != "" {
		t.Errorf("failed (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"linux_6_1: 6.1.159 -> 6.1.160", "linux_6_12: 6.12.64 -> 6.12.65"}, committed); d != "" {
		t.Errorf("committed (-want +got):\n%s", d)
	}
	disk, err := Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for branch, want := range map[string]string{"6.1": "6.1.160", "6.6": "6.6.119", "6.12": "6.12.65"} {
		if e, _ := disk.Entry(branch); e.Version.String() != want {
			t.Errorf("on disk %s = %s, want %s", branch, e.Version, want)
		}
		if e, _ := tr.Entry(branch); e.Version.String() != want {
			t.Errorf("in the tree %s = %s, want %s", branch, e.Version, want)
		}
	}
	if st := gitStatus(t, dir); !cmp.Equal(st, []string{" M " + KernelsJSONPath}) {
		t.Errorf("git status: %v", st)
	}
}
