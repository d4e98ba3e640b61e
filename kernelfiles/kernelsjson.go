package kernelfiles

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
)

// The files of a nixpkgs tree that kupdate reads and writes, as slash paths
// relative to the tree root.
const (
	KernelsJSONPath  = "pkgs/os-specific/linux/kernel/kernels-org.json"
	LinuxKernelsPath = "pkgs/top-level/linux-kernels.nix"
	AliasesPath      = "pkgs/top-level/aliases.nix"
	PatchesJSONPath  = "pkgs/os-specific/linux/kernel/hardened/patches.json"
	HardenedKeyPath  = "pkgs/os-specific/linux/kernel/hardened/anthraxx.asc"
)

// Entry is one branch of kernels-org.json.
type Entry struct {
	Branch  string // "6.12" or "testing"
	Version kernelorg.Version
	Hash    string // sha256:<nix32>
	LTS     bool
	HasLTS  bool // the entry carries the "lts" key (trees before Aug 2025 do not)
	Line    int
}

// Attr is the nixpkgs attribute of a kernels-org.json branch: linux_6_12,
// linux_testing.
func Attr(branch string) string { return "linux_" + strings.ReplaceAll(branch, ".", "_") }

var nix32HashRE = regexp.MustCompile(`^sha256:[0-9a-df-np-sv-z]{52}$`)

// parseKernels reads kernels-org.json and checks each entry's shape: keys
// version, hash and optionally lts, a version that belongs to its key.
func parseKernels(data []byte) (*jsonValue, []Entry, error) {
	root, err := parseJSON(KernelsJSONPath, data)
	if err != nil {
		return nil, nil, err
	}
	if root.kind != jsonObject {
		return nil, nil, fmt.Errorf("%s:%d: top level is a %s, want an object of branches", KernelsJSONPath, root.line, root.kind)
	}
	var entries []Entry
	for _, m := range root.members {
		e, err := kernelsEntry(m)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	return root, entries, nil
}

func kernelsEntry(m jsonMember) (Entry, error) {
	where := fmt.Sprintf("%s:%d: branch %q", KernelsJSONPath, m.line, m.key)
	e := Entry{Branch: m.key, Line: m.line}
	if m.key != "testing" {
		if _, _, err := kernelorg.ParseSeries(m.key); err != nil {
			return e, fmt.Errorf("%s: %w", where, err)
		}
	}
	if m.val.kind != jsonObject {
		return e, fmt.Errorf("%s: value is a %s, want {\"version\", \"hash\", \"lts\"}", where, m.val.kind)
	}
	for _, f := range m.val.members {
		switch f.key {
		case "version", "hash":
			if f.val.kind != jsonString {
				return e, fmt.Errorf("%s:%d: branch %q: %q is a %s, want a string", KernelsJSONPath, f.line, m.key, f.key, f.val.kind)
			}
		case "lts":
			if f.val.kind != jsonBool {
				return e, fmt.Errorf("%s:%d: branch %q: \"lts\" is a %s, want true or false", KernelsJSONPath, f.line, m.key, f.val.kind)
			}
			e.LTS, e.HasLTS = f.val.b, true
		default:
			return e, fmt.Errorf("%s:%d: branch %q: unexpected key %q: an entry has only \"version\", \"hash\" and \"lts\"", KernelsJSONPath, f.line, m.key, f.key)
		}
	}
	ver, hash := m.val.get("version"), m.val.get("hash")
	if ver == nil || hash == nil {
		return e, fmt.Errorf("%s: entry lacks \"version\" or \"hash\"", where)
	}
	v, err := kernelorg.ParseVersion(ver.str)
	if err != nil {
		return e, fmt.Errorf("%s:%d: branch %q: %w", KernelsJSONPath, ver.line, m.key, err)
	}
	if v.Branch() != m.key {
		return e, fmt.Errorf("%s:%d: branch %q holds version %s, which belongs to %q", KernelsJSONPath, ver.line, m.key, v, v.Branch())
	}
	if !nix32HashRE.MatchString(hash.str) {
		return e, fmt.Errorf("%s:%d: branch %q: hash %q is not sha256:<52 nix32 characters>", KernelsJSONPath, hash.line, m.key, truncate(hash.str, 70))
	}
	e.Version, e.Hash = v, hash.str
	return e, nil
}

// HardenedEntry is one branch of hardened/patches.json.
type HardenedEntry struct {
	Branch  string
	Version kernelorg.Version // the kernel version the patch applies to
	Extra   string            // "-hardened1"
	Line    int
}

// Tag is the GitHub release tag of the entry: v6.12.64-hardened1.
func (h HardenedEntry) Tag() string { return "v" + h.Version.String() + h.Extra }

var nix32BareRE = regexp.MustCompile(`^[0-9a-df-np-sv-z]{52}$`)

func parsePatches(data []byte) (*jsonValue, []HardenedEntry, error) {
	root, err := parseJSON(PatchesJSONPath, data)
	if err != nil {
		return nil, nil, err
	}
	if root.kind != jsonObject {
		return nil, nil, fmt.Errorf("%s:%d: top level is a %s, want an object of branches", PatchesJSONPath, root.line, root.kind)
	}
	var out []HardenedEntry
	for _, m := range root.members {
		where := fmt.Sprintf("%s:%d: branch %q", PatchesJSONPath, m.line, m.key)
		if _, _, err := kernelorg.ParseSeries(m.key); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		if m.val.kind != jsonObject {
			return nil, nil, fmt.Errorf("%s: value is a %s, want {\"patch\", \"sha256\", \"version\"}", where, m.val.kind)
		}
		for _, f := range m.val.members {
			if f.key != "patch" && f.key != "sha256" && f.key != "version" {
				return nil, nil, fmt.Errorf("%s:%d: branch %q: unexpected key %q: an entry has only \"patch\", \"sha256\" and \"version\"", PatchesJSONPath, f.line, m.key, f.key)
			}
		}
		patch, sha, ver := m.val.get("patch"), m.val.get("sha256"), m.val.get("version")
		if patch == nil || sha == nil || ver == nil || patch.kind != jsonObject || sha.kind != jsonString || ver.kind != jsonString {
			return nil, nil, fmt.Errorf("%s: want \"patch\" (an object), \"sha256\" and \"version\" (strings)", where)
		}
		v, err := kernelorg.ParseVersion(ver.str)
		if err != nil || v.IsRC() || v.Series() != m.key {
			return nil, nil, fmt.Errorf("%s:%d: branch %q: version %q is not a release of %s", PatchesJSONPath, ver.line, m.key, ver.str, m.key)
		}
		if !nix32BareRE.MatchString(sha.str) {
			return nil, nil, fmt.Errorf("%s:%d: branch %q: sha256 %q is not 52 nix32 characters", PatchesJSONPath, sha.line, m.key, truncate(sha.str, 70))
		}
		for _, k := range []string{"extra", "name", "sha256", "url"} {
			f := patch.get(k)
			if f == nil || f.kind != jsonString {
				return nil, nil, fmt.Errorf("%s:%d: branch %q: patch lacks the string %q", PatchesJSONPath, patch.line, m.key, k)
			}
		}
		for _, f := range patch.members {
			switch f.key {
			case "extra", "name", "sha256", "url":
			default:
				return nil, nil, fmt.Errorf("%s:%d: branch %q: patch has unexpected key %q", PatchesJSONPath, f.line, m.key, f.key)
			}
		}
		out = append(out, HardenedEntry{Branch: m.key, Version: v, Extra: patch.get("extra").str, Line: m.line})
	}
	return root, out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ValidHash reports whether s is a hash as kernels-org.json writes it:
// sha256:<52 nix32 characters>.
func ValidHash(s string) bool { return nix32HashRE.MatchString(s) }

// ValidBareHash reports whether s is 52 nix32 characters, a hash as
// patches.json writes it.
func ValidBareHash(s string) bool { return nix32BareRE.MatchString(s) }

// CheckKernelsJSON reads kernels-org.json back as the planner reads it.
func CheckKernelsJSON(data []byte) error { _, _, err := parseKernels(data); return err }

// CheckPatchesJSON reads hardened/patches.json back as the planner reads it.
func CheckPatchesJSON(data []byte) error { _, _, err := parsePatches(data); return err }
