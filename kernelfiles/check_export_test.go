package kernelfiles

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
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
	ks, err := ReadKernelSections(files)
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
