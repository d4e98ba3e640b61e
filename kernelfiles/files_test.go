package kernelfiles

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/family"
)

// sampleTree is the sample nixpkgs tree of the repository.
const sampleTree = "../testdata/nixpkgs"

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
	files := map[string][]byte{}
	for p, f := range fsys {
		files[p] = f.Data
	}
	_, err := Read(family.NewTree(files))
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
