package updater

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kupdate/kupdate/kernelorg"
)

// Tree is what kupdate knows of a nixpkgs tree: the bytes of the files it
// reads and writes, and what they say. It is built from file contents only
// (Load takes an fs.FS), so the same code edits a checkout on disk and a git
// tree without a worktree.
type Tree struct {
	// Now dates the `# Added YYYY-MM-DD` comments of removals (in UTC).
	// nil means time.Now.
	Now func() time.Time

	files    map[string][]byte // path -> content, for the files kupdate knows
	kroot    *jsonValue
	kernels  []Entry
	proot    *jsonValue // nil when the tree has no hardened/patches.json
	hardened []HardenedEntry

	removed       map[string]string // attr -> where its throw is ("file:line")
	hardenedAttrs map[string]int    // branch -> line of linux_X_Y_hardened in kernels
	latest, def   string            // packageAliases.linux_latest / linux_default targets
}

// Load reads the files kupdate knows from fsys (rooted at the nixpkgs tree)
// and checks that they have the shape kupdate edits. Errors name the file
// and line.
func Load(fsys fs.FS) (*Tree, error) {
	files := map[string][]byte{}
	for _, p := range []string{KernelsJSONPath, LinuxKernelsPath, AliasesPath} {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("reading the nixpkgs tree: %w (is this the root of a nixpkgs checkout?)", err)
		}
		files[p] = b
	}
	for _, p := range []string{PatchesJSONPath, HardenedKeyPath} {
		b, err := fs.ReadFile(fsys, p)
		switch {
		case err == nil:
			files[p] = b
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, fmt.Errorf("reading the nixpkgs tree: %w", err)
		}
	}
	return parseTree(files)
}

// LoadFiles is Load over file contents already in memory (path -> bytes),
// e.g. blobs read from a git tree.
func LoadFiles(files map[string][]byte) (*Tree, error) {
	for _, p := range []string{KernelsJSONPath, LinuxKernelsPath, AliasesPath} {
		if _, ok := files[p]; !ok {
			return nil, fmt.Errorf("reading the nixpkgs tree: %s: missing", p)
		}
	}
	return parseTree(maps.Clone(files))
}

func parseTree(files map[string][]byte) (*Tree, error) {
	t := &Tree{files: files, removed: map[string]string{}, hardenedAttrs: map[string]int{}}
	var err error
	if t.kroot, t.kernels, err = parseKernels(files[KernelsJSONPath]); err != nil {
		return nil, err
	}
	if b, ok := files[PatchesJSONPath]; ok {
		if t.proot, t.hardened, err = parsePatches(b); err != nil {
			return nil, err
		}
	}
	if err := t.readLinuxKernels(); err != nil {
		return nil, err
	}
	if err := t.readAliases(); err != nil {
		return nil, err
	}
	return t, nil
}

var hardenedForRE = regexp.MustCompile(`^hardenedKernelFor\s+kernels\.(linux_\d+_\d+)\s`)

// readLinuxKernels checks linux-kernels.nix against kernels-org.json: every
// branch has its kernels entry calling mainline.nix with its branch, the
// sections kupdate edits exist, and it notes the throws of removed kernels.
func (t *Tree) readLinuxKernels() error {
	nt, err := scanNix(LinuxKernelsPath, t.files[LinuxKernelsPath])
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
	for _, e := range t.kernels {
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
		if m := hardenedForRE.FindStringSubmatch(b.value(nt)); m != nil && b.name == m[1]+"_hardened" {
			br, _, _ := nameSeries(m[1])
			t.hardenedAttrs[br] = nt.line(b.start)
		}
	}
	t.noteThrows(nt, ks.aliases)
	vs, err := findSection(nt, "vanillaPackages")
	if err != nil {
		return err
	}
	t.noteThrows(nt, vs.aliases)
	ps, err := findSection(nt, "packages")
	if err != nil {
		return err
	}
	t.noteThrows(nt, ps.aliases)
	pa, err := findSection(nt, "packageAliases")
	if err != nil {
		return err
	}
	t.latest, t.def = aliasTarget(nt, pa, "linux_latest"), aliasTarget(nt, pa, "linux_default")
	if t.latest == "" {
		return fmt.Errorf("%s: no `linux_latest = packages.linux_X_Y;`", pa.where(LinuxKernelsPath))
	}
	return nil
}

func (t *Tree) noteThrows(nt *nixText, s nixSet) {
	if s.open < 0 {
		return
	}
	for _, b := range s.bindings {
		if strings.HasPrefix(b.value(nt), "throw") {
			if _, seen := t.removed[b.name]; !seen {
				t.removed[b.name] = fmt.Sprintf("%s:%d", nt.name, nt.line(b.start))
			}
		}
	}
}

func (t *Tree) readAliases() error {
	nt, err := scanNix(AliasesPath, t.files[AliasesPath])
	if err != nil {
		return err
	}
	s, _, err := mapAliasesSet(nt)
	if err != nil {
		return err
	}
	t.noteThrows(nt, s)
	return nil
}

// Kernels lists the branches of kernels-org.json in file order.
func (t *Tree) Kernels() []Entry { return slices.Clone(t.kernels) }

// Entry is the kernels-org.json entry of branch.
func (t *Tree) Entry(branch string) (Entry, bool) {
	i := slices.IndexFunc(t.kernels, func(e Entry) bool { return e.Branch == branch })
	if i < 0 {
		return Entry{}, false
	}
	return t.kernels[i], true
}

// Has reports whether kernels-org.json has branch.
func (t *Tree) Has(branch string) bool { _, ok := t.Entry(branch); return ok }

// HasLTS reports whether the tree's kernels-org.json records "lts" (trees
// from before Aug 2025 do not, and kupdate keeps them that way).
func (t *Tree) HasLTS() bool {
	return slices.ContainsFunc(t.kernels, func(e Entry) bool { return e.HasLTS })
}

// Removed reports where attr was turned into a throw (file:line), if it was:
// a removed kernel is never added again.
func (t *Tree) Removed(attr string) (string, bool) {
	w, ok := t.removed[attr]
	return w, ok
}

// Series lists the tree's branches other than testing, oldest first.
func (t *Tree) Series() []string {
	var out []string
	for _, e := range t.kernels {
		if e.Branch != "testing" {
			out = append(out, e.Branch)
		}
	}
	slices.SortFunc(out, kernelorg.CompareSeries)
	return out
}

// HasHardened reports whether the tree carries hardened kernels
// (hardened/patches.json exists).
func (t *Tree) HasHardened() bool { return t.proot != nil }

// Hardened lists hardened/patches.json's branches, as written.
func (t *Tree) Hardened() []HardenedEntry { return slices.Clone(t.hardened) }

// HardenedEntry is patches.json's entry for branch.
func (t *Tree) HardenedEntry(branch string) (HardenedEntry, bool) {
	i := slices.IndexFunc(t.hardened, func(h HardenedEntry) bool { return h.Branch == branch })
	if i < 0 {
		return HardenedEntry{}, false
	}
	return t.hardened[i], true
}

// HardenedVariants lists the branches with a linux_X_Y_hardened kernel,
// oldest first.
func (t *Tree) HardenedVariants() []string {
	out := slices.Collect(maps.Keys(t.hardenedAttrs))
	slices.SortFunc(out, kernelorg.CompareSeries)
	return out
}

// Latest and Default are the attrs packageAliases.linux_latest and
// linux_default point at ("" when linux_default is not packages.linux_X_Y).
func (t *Tree) Latest() string  { return t.latest }
func (t *Tree) Default() string { return t.def }

// File is the current content of a file kupdate knows, nil if the tree has
// none.
func (t *Tree) File(path string) []byte { return t.files[path] }

// HardenedKey is the armored key of hardened/anthraxx.asc, nil if absent.
func (t *Tree) HardenedKey() []byte { return t.files[HardenedKeyPath] }

// Clone is an independent copy of t (file contents are never mutated in
// place, so they are shared).
func (t *Tree) Clone() *Tree {
	c, err := parseTree(maps.Clone(t.files))
	if err != nil {
		panic("updater: a loaded tree failed to parse again: " + err.Error())
	}
	c.Now = t.Now
	return c
}

func (t *Tree) today() string {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	return now().UTC().Format("2006-01-02")
}
