package kernelfiles

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
)

// Model is what nixpkgs' kernel files say, as kupdate reads them: the
// branches of kernels-org.json and hardened/patches.json, the kernels
// linux-kernels.nix and aliases.nix turned into throws, the hardened
// variants, and where linux_latest and linux_default point. It is read-only:
// families edit the files through JSON and Editor and the planner reads the
// result back.
type Model struct {
	files    *family.Tree
	kroot    *jsonValue
	kernels  []Entry
	proot    *jsonValue // nil when the tree has no hardened/patches.json
	hardened []HardenedEntry

	removed       map[string]string // attr -> where its throw is ("file:line")
	hardenedAttrs map[string]int    // branch -> line of linux_X_Y_hardened in kernels
	latest, def   string            // packageAliases.linux_latest / linux_default targets
}

// Read is t's Model, parsed once per tree. It checks that the files have
// the shape kupdate edits; errors name the file and line.
func Read(t *family.Tree) (*Model, error) {
	return family.View(t, "kernelfiles", parseModel)
}

// Carried reports whether t has the files the kernel.org kernels live in.
func Carried(t *family.Tree) bool {
	return t.Has(KernelsJSONPath) || t.Has(LinuxKernelsPath) || t.Has(AliasesPath)
}

func parseModel(t *family.Tree) (*Model, error) {
	for _, p := range []string{KernelsJSONPath, LinuxKernelsPath, AliasesPath} {
		if !t.Has(p) {
			return nil, fmt.Errorf("reading the nixpkgs tree: %s: missing (is this the root of a nixpkgs checkout?)", p)
		}
	}
	m := &Model{files: t, removed: map[string]string{}, hardenedAttrs: map[string]int{}}
	var err error
	if m.kroot, m.kernels, err = parseKernels(t.File(KernelsJSONPath)); err != nil {
		return nil, err
	}
	if b := t.File(PatchesJSONPath); b != nil {
		if m.proot, m.hardened, err = parsePatches(b); err != nil {
			return nil, err
		}
	}
	if err := m.readLinuxKernels(); err != nil {
		return nil, err
	}
	if err := m.readAliases(); err != nil {
		return nil, err
	}
	return m, nil
}

var hardenedForRE = regexp.MustCompile(`^hardenedKernelFor\s+kernels\.(linux_\d+_\d+)\s`)

// readLinuxKernels checks linux-kernels.nix against kernels-org.json: every
// branch has its kernels entry calling mainline.nix with its branch, the
// sections kupdate edits exist, and it notes the throws of removed kernels.
func (m *Model) readLinuxKernels() error {
	nt, err := scanNix(LinuxKernelsPath, m.files.File(LinuxKernelsPath))
	if err != nil {
		return err
	}
	ks, err := findSection(nt, "kernels")
	if err != nil {
		return err
	}
	if ks.aliases.open < 0 {
		return fmt.Errorf("%s: no `// lib.optionalAttrs config.allowAliases { ... }` part (where removed kernels become throws)", ks.where(LinuxKernelsPath))
	}
	for _, e := range m.kernels {
		attr := Attr(e.Branch)
		b, ok := findBinding(ks.main.bindings, attr)
		if !ok {
			return fmt.Errorf("%s: no entry %s for branch %q of %s:%d", ks.where(LinuxKernelsPath), attr, e.Branch, KernelsJSONPath, e.Line)
		}
		text := b.text(nt)
		if !strings.Contains(text, "mainline.nix") || !strings.Contains(text, `branch = "`+e.Branch+`";`) {
			return fmt.Errorf("%s:%d: %s: unexpected shape: want `callPackage ../os-specific/linux/kernel/mainline.nix { branch = %q; ... }`", LinuxKernelsPath, nt.line(b.start), attr, e.Branch)
		}
	}
	for _, b := range ks.main.bindings {
		if mm := hardenedForRE.FindStringSubmatch(b.value(nt)); mm != nil && b.name == mm[1]+"_hardened" {
			br, _, _ := nameSeries(mm[1])
			m.hardenedAttrs[br] = nt.line(b.start)
		}
	}
	m.noteThrows(nt, ks.aliases)
	for _, name := range []string{"vanillaPackages", "packages"} {
		s, err := findSection(nt, name)
		if err != nil {
			return err
		}
		m.noteThrows(nt, s.aliases)
	}
	pa, err := findSection(nt, "packageAliases")
	if err != nil {
		return err
	}
	m.latest, m.def = aliasTarget(nt, pa, "linux_latest"), aliasTarget(nt, pa, "linux_default")
	if m.latest == "" {
		return fmt.Errorf("%s: no `linux_latest = packages.linux_X_Y;`", pa.where(LinuxKernelsPath))
	}
	return nil
}

func (m *Model) noteThrows(nt *nixText, s nixSet) {
	if s.open < 0 {
		return
	}
	for _, b := range s.bindings {
		if strings.HasPrefix(b.value(nt), "throw") {
			if _, seen := m.removed[b.name]; !seen {
				m.removed[b.name] = fmt.Sprintf("%s:%d", nt.name, nt.line(b.start))
			}
		}
	}
}

func (m *Model) readAliases() error {
	nt, err := scanNix(AliasesPath, m.files.File(AliasesPath))
	if err != nil {
		return err
	}
	s, _, err := mapAliasesSet(nt)
	if err != nil {
		return err
	}
	m.noteThrows(nt, s)
	return nil
}

// Kernels lists the branches of kernels-org.json in file order.
func (m *Model) Kernels() []Entry { return slices.Clone(m.kernels) }

// Entry is the kernels-org.json entry of branch.
func (m *Model) Entry(branch string) (Entry, bool) {
	i := slices.IndexFunc(m.kernels, func(e Entry) bool { return e.Branch == branch })
	if i < 0 {
		return Entry{}, false
	}
	return m.kernels[i], true
}

// Has reports whether kernels-org.json has branch.
func (m *Model) Has(branch string) bool { _, ok := m.Entry(branch); return ok }

// HasLTS reports whether the tree's kernels-org.json records "lts" (trees
// from before Aug 2025 do not, and kupdate keeps them that way).
func (m *Model) HasLTS() bool {
	return slices.ContainsFunc(m.kernels, func(e Entry) bool { return e.HasLTS })
}

// Removed reports where attr was turned into a throw (file:line), if it was:
// a removed kernel is never added again.
func (m *Model) Removed(attr string) (string, bool) {
	w, ok := m.removed[attr]
	return w, ok
}

// Series lists the tree's branches other than testing, oldest first.
func (m *Model) Series() []string {
	var out []string
	for _, e := range m.kernels {
		if e.Branch != "testing" {
			out = append(out, e.Branch)
		}
	}
	slices.SortFunc(out, kernelorg.CompareSeries)
	return out
}

// HasHardened reports whether the tree carries hardened kernels
// (hardened/patches.json exists).
func (m *Model) HasHardened() bool { return m.proot != nil }

// Hardened lists hardened/patches.json's branches, as written.
func (m *Model) Hardened() []HardenedEntry { return slices.Clone(m.hardened) }

// HardenedEntry is patches.json's entry for branch.
func (m *Model) HardenedEntry(branch string) (HardenedEntry, bool) {
	i := slices.IndexFunc(m.hardened, func(h HardenedEntry) bool { return h.Branch == branch })
	if i < 0 {
		return HardenedEntry{}, false
	}
	return m.hardened[i], true
}

// HardenedVariants lists the branches with a linux_X_Y_hardened kernel,
// oldest first.
func (m *Model) HardenedVariants() []string {
	out := slices.Collect(maps.Keys(m.hardenedAttrs))
	slices.SortFunc(out, kernelorg.CompareSeries)
	return out
}

// HasHardenedVariant reports whether linux-kernels.nix has
// linux_X_Y_hardened for branch.
func (m *Model) HasHardenedVariant(branch string) bool { _, ok := m.hardenedAttrs[branch]; return ok }

// Latest and Default are the attrs packageAliases.linux_latest and
// linux_default point at ("" when linux_default is not packages.linux_X_Y).
func (m *Model) Latest() string  { return m.latest }
func (m *Model) Default() string { return m.def }

// File is the current content of a file of the tree, nil if it has none.
func (m *Model) File(path string) []byte { return m.files.File(path) }

// HardenedKey is the armored key of hardened/anthraxx.asc, nil if absent.
func (m *Model) HardenedKey() []byte { return m.files.File(HardenedKeyPath) }

// KernelsJSON is a copy of kernels-org.json to edit.
func (m *Model) KernelsJSON() *JSON { return &JSON{v: cloneJSON(m.kroot)} }

// PatchesJSON is a copy of hardened/patches.json to edit; nil when the tree
// has none.
func (m *Model) PatchesJSON() *JSON {
	if m.proot == nil {
		return nil
	}
	return &JSON{v: cloneJSON(m.proot)}
}

// Today is the date a change made now writes.
func (m *Model) Today() string { return m.files.Today() }
