package kernelfiles

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/family"
)

func TestCanonicalJSON(t *testing.T) {
	for _, p := range []string{KernelsJSONPath, PatchesJSONPath} {
		b, err := os.ReadFile(filepath.Join(sampleTree, p))
		if err != nil {
			t.Fatal(err)
		}
		got, err := CanonicalJSON(p, b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("CanonicalJSON(%s) changed the sample file:\n%s", p, cmp.Diff(string(b), string(got)))
		}
	}
	in := "{\"6.12\": {\"version\": \"6.12.64\", \"hash\": \"sha256:x\", \"lts\": true},\n  \"5.4\": {\"version\": \"5.4.1\", \"hash\": \"sha256:y\"}}"
	want := "{\n    \"6.12\": {\n        \"version\": \"6.12.64\",\n        \"hash\": \"sha256:x\",\n        \"lts\": true\n    },\n    \"5.4\": {\n        \"version\": \"5.4.1\",\n        \"hash\": \"sha256:y\"\n    }\n}\n"
	if got, err := CanonicalJSON(KernelsJSONPath, []byte(in)); err != nil || string(got) != want {
		t.Errorf("CanonicalJSON(kernels-org.json) = %q, %v; want %q", got, err, want)
	}
	wantSorted := "{\n    \"5.4\": {\n        \"hash\": \"sha256:y\",\n        \"version\": \"5.4.1\"\n    },\n    \"6.12\": {\n        \"hash\": \"sha256:x\",\n        \"lts\": true,\n        \"version\": \"6.12.64\"\n    }\n}\n"
	if got, err := CanonicalJSON(PatchesJSONPath, []byte(in)); err != nil || string(got) != wantSorted {
		t.Errorf("CanonicalJSON(patches.json) = %q, %v; want %q", got, err, wantSorted)
	}
	if _, err := CanonicalJSON(KernelsJSONPath, []byte("{\"a\": 1,}")); err == nil {
		t.Error("CanonicalJSON accepted invalid JSON")
	}
}

func TestReadKernelSections(t *testing.T) {
	files := map[string][]byte{}
	for _, p := range []string{LinuxKernelsPath, AliasesPath} {
		b, err := os.ReadFile(filepath.Join(sampleTree, p))
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	ks, err := ReadKernelSections(family.NewTree(files))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]NixBinding{
		"kernels.linux_6_18":               ks.Kernels["linux_6_18"],
		"kernelThrows.linux_6_17":          ks.KernelThrows["linux_6_17"],
		"vanilla.linux_6_18":               ks.Vanilla["linux_6_18"],
		"vanillaThrows.linux_6_17":         ks.VanillaThrows["linux_6_17"],
		"packages.linux_6_18_hardened":     ks.Packages["linux_6_18_hardened"],
		"packageThrows.linux_6_6_hardened": ks.PackageThrows["linux_6_6_hardened"],
		"packageAliases.linux_latest":      ks.PackageAliases["linux_latest"],
		"aliases.linuxPackages_6_18":       ks.Aliases["linuxPackages_6_18"],
	}
	want := map[string]NixBinding{
		"kernels.linux_6_18":               {LinuxKernelsPath, 101, "callPackage ../os-specific/linux/kernel/mainline.nix {\n          branch = \"6.18\";\n          kernelPatches = [\n            kernelPatches.bridge_stp_helper\n            kernelPatches.request_key_helper\n          ];\n        }"},
		"kernelThrows.linux_6_17":          {LinuxKernelsPath, 165, `throw "linux 6.17 was removed because it has reached its end of life upstream"`},
		"vanilla.linux_6_18":               {LinuxKernelsPath, 203, "recurseIntoAttrs (packagesFor kernels.linux_6_18)"},
		"vanillaThrows.linux_6_17":         {LinuxKernelsPath, 215, `throw "linux 6.17 was removed because it reached its end of life upstream"`},
		"packages.linux_6_18_hardened":     {LinuxKernelsPath, 228, "recurseIntoAttrs (packagesFor kernels.linux_6_18_hardened)"},
		"packageThrows.linux_6_6_hardened": {LinuxKernelsPath, 240, `throw "linux_hardened on nixpkgs only contains latest stable and latest LTS"`},
		"packageAliases.linux_latest":      {LinuxKernelsPath, 253, "packages.linux_6_18"},
		"aliases.linuxPackages_6_18":       {AliasesPath, 91, "linuxKernel.packages.linux_6_18"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ReadKernelSections (-want +got):\n%s", d)
	}
	if _, ok := ks.Aliases["autoReconfHook"]; ok {
		t.Error("Aliases has a binding from outside the keep-sorted block")
	}
}

func TestMembersSyntaxError(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"{\n  \"a\": 1,\n  \"b\": 2,\n}\n", "line 4: invalid character '}' looking for beginning of object key string"},
		{"{\n  \"a\": 1\n", "line 2: unexpected end of file"},
		{"[1]\n", "line 1: want a JSON object"},
		{"{}\n{}\n", "line 2: invalid character '{' after top-level value"},
	} {
		_, err := Members([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Members(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestMembers(t *testing.T) {
	in := "{\n    \"6.12\": {\"version\": \"6.12.64\"},\n    \"5.4\": 1,\n    \"6.12\": 2\n}\n"
	ms, err := Members([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%d %s %s", m.Line, m.Key, m.Raw))
	}
	want := []string{`2 6.12 {"version": "6.12.64"}`, "3 5.4 1", "4 6.12 2"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Members (-want +got):\n%s", d)
	}
}

func TestMisformatted(t *testing.T) {
	const ok = "{\n    \"a\": 1\n}\n"
	const how = "not formatted as kupdate writes it (Python's json.dump(indent=4) and a final newline): "
	for _, tc := range []struct {
		path, in string
		line     int
		msg      string
	}{
		{KernelsJSONPath, ok, 0, ""},
		{KernelsJSONPath, "{\n  \"a\": 1\n}\n", 2, how + `line 2 is "  \"a\": 1", want "    \"a\": 1"; run kupdate update or reformat`},
		{KernelsJSONPath, strings.TrimSuffix(ok, "\n"), 3, how + "the file must end with exactly one newline; run kupdate update or reformat"},
		{KernelsJSONPath, ok + "\n", 4, how + "unexpected text after the end; run kupdate update or reformat"},
		{PatchesJSONPath, "{\"b\": 1, \"a\": 2}\n", 1, `not formatted as kupdate writes it (Python's json.dump(indent=4, sort_keys=True) and a final newline): line 1 is "{\"b\": 1, \"a\": 2}", want "{"; run kupdate update or reformat`},
	} {
		line, msg, err := Misformatted(tc.path, []byte(tc.in))
		if err != nil || line != tc.line || msg != tc.msg {
			t.Errorf("Misformatted(%s, %q) = %d, %q, %v; want %d, %q", tc.path, tc.in, line, msg, err, tc.line, tc.msg)
		}
	}
	if _, _, err := Misformatted(KernelsJSONPath, []byte("{")); err == nil {
		t.Error("Misformatted accepted invalid JSON")
	}
}
