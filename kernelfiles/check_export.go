package kernelfiles

// Read-only views of what the updater knows, for `kupdate check` (package
// check), which verifies a pull request against what kupdate would write.
// They reuse the updater's own parser, writer and scanners so that the
// check and the editor can never disagree.

import (
	"fmt"
)

// CanonicalJSON is data re-encoded exactly as kupdate writes the JSON file
// at path: Python's json.dump(indent=4) plus a newline, keys in file order
// for kernels-org.json and sorted for hardened/patches.json. A file kupdate
// wrote is its own canonical form.
func CanonicalJSON(path string, data []byte) ([]byte, error) {
	v, err := parseJSON(path, data)
	if err != nil {
		return nil, err
	}
	return dumpJSON(v, path == PatchesJSONPath), nil
}

// NixBinding is one `name = value;` of a kernel section.
type NixBinding struct {
	File  string
	Line  int
	Value string // the source between `=` and `;`, trimmed
}

// KernelSections are the bindings, by name, of the parts of linux-kernels.nix
// and aliases.nix that kupdate edits.
type KernelSections struct {
	Kernels        map[string]NixBinding // kernels = { ... }
	KernelThrows   map[string]NixBinding // its `lib.optionalAttrs config.allowAliases { ... }` part
	Vanilla        map[string]NixBinding // vanillaPackages = { ... }
	VanillaThrows  map[string]NixBinding
	Packages       map[string]NixBinding // packages = ... // { ... }
	PackageThrows  map[string]NixBinding
	PackageAliases map[string]NixBinding // packageAliases = { ... }
	Aliases        map[string]NixBinding // aliases.nix, the keep-sorted part of mapAliases { ... }
}

// ReadKernelSections scans linux-kernels.nix and aliases.nix in files
// (path -> content) without requiring them to agree with kernels-org.json,
// so a tree that lacks part of an init can be described rather than refused.
func ReadKernelSections(files map[string][]byte) (*KernelSections, error) {
	ks := &KernelSections{}
	lk, ok := files[LinuxKernelsPath]
	if !ok {
		return nil, fmt.Errorf("%s: missing", LinuxKernelsPath)
	}
	nt, err := scanNix(LinuxKernelsPath, lk)
	if err != nil {
		return nil, err
	}
	collect := func(s nixSet) map[string]NixBinding {
		m := map[string]NixBinding{}
		if s.open < 0 {
			return m
		}
		for _, b := range s.bindings {
			if _, dup := m[b.name]; !dup {
				m[b.name] = NixBinding{File: nt.name, Line: nt.line(b.start), Value: b.value(nt)}
			}
		}
		return m
	}
	for _, sec := range []struct {
		name          string
		main, aliases *map[string]NixBinding
	}{
		{"kernels", &ks.Kernels, &ks.KernelThrows},
		{"vanillaPackages", &ks.Vanilla, &ks.VanillaThrows},
		{"packages", &ks.Packages, &ks.PackageThrows},
		{"packageAliases", &ks.PackageAliases, nil},
	} {
		s, err := findSection(nt, sec.name)
		if err != nil {
			return nil, err
		}
		*sec.main = collect(s.main)
		if sec.aliases != nil {
			*sec.aliases = collect(s.aliases)
		}
	}
	al, ok := files[AliasesPath]
	if !ok {
		return nil, fmt.Errorf("%s: missing", AliasesPath)
	}
	if nt, err = scanNix(AliasesPath, al); err != nil {
		return nil, err
	}
	s, _, err := mapAliasesSet(nt)
	if err != nil {
		return nil, err
	}
	ks.Aliases = collect(s)
	return ks, nil
}
