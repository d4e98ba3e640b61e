package vanilla

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// Apply makes a bump, an init, a removal or a move of linux_default to the
// files of t.
func (f *Family) Apply(t *family.Tree, c family.Change) (map[string][]byte, error) {
	m, err := kernelfiles.Read(t)
	if err != nil {
		return nil, err
	}
	switch c.Kind {
	case Bump:
		return applyBump(m, c)
	case Init:
		return applyInit(m, c)
	case Remove:
		return applyRemove(m, c, f.aliasThrows)
	case Default:
		return applyDefault(m, c)
	}
	return nil, fmt.Errorf("unknown change kind %q", c.Kind)
}

func applyBump(m *kernelfiles.Model, c family.Change) (map[string][]byte, error) {
	e, ok := m.Entry(c.Branch)
	if !ok {
		return nil, fmt.Errorf("%s has no branch %q", kernelfiles.KernelsJSONPath, c.Branch)
	}
	if e.Version.String() != c.From {
		return nil, fmt.Errorf("%s:%d: branch %q is at %s, not %s: the change is stale", kernelfiles.KernelsJSONPath, e.Line, c.Branch, e.Version, c.From)
	}
	if _, err := kernelorg.ParseVersion(c.To); err != nil {
		return nil, err
	}
	if !kernelfiles.ValidHash(c.Hash) {
		return nil, fmt.Errorf("hash %q is not sha256:<52 nix32 characters>", c.Hash)
	}
	root := m.KernelsJSON()
	obj := root.Member(c.Branch)
	obj.Set("version", kernelfiles.String(c.To))
	obj.Set("hash", kernelfiles.String(c.Hash))
	if e.HasLTS {
		obj.Set("lts", kernelfiles.Bool(c.LTS))
	}
	return map[string][]byte{kernelfiles.KernelsJSONPath: root.Dump(false)}, nil
}

func applyInit(m *kernelfiles.Model, c family.Change) (map[string][]byte, error) {
	if m.Has(c.Branch) {
		return nil, fmt.Errorf("%s already has branch %q", kernelfiles.KernelsJSONPath, c.Branch)
	}
	if _, _, err := kernelorg.ParseSeries(c.Branch); err != nil {
		return nil, err
	}
	attr := kernelfiles.Attr(c.Branch)
	if w, ok := m.Removed(attr); ok {
		return nil, fmt.Errorf("%s was removed from the tree (%s): kupdate never adds it back", attr, w)
	}
	if !kernelfiles.ValidHash(c.Hash) {
		return nil, fmt.Errorf("hash %q is not sha256:<52 nix32 characters>", c.Hash)
	}
	root := m.KernelsJSON()
	members := []kernelfiles.Member{{Key: "version", Val: kernelfiles.String(c.To)}, {Key: "hash", Val: kernelfiles.String(c.Hash)}}
	if m.HasLTS() {
		members = append(members, kernelfiles.Member{Key: "lts", Val: kernelfiles.Bool(c.LTS)})
	}
	root.Set(c.Branch, kernelfiles.Object(members...))
	files := map[string][]byte{kernelfiles.KernelsJSONPath: root.Dump(false)}

	// Sections are edited bottom-up, so that the line an error names is the
	// line in the file as it was.
	lk := kernelfiles.NewEditor(kernelfiles.LinuxKernelsPath, m.File(kernelfiles.LinuxKernelsPath))
	if latest := strings.ReplaceAll(strings.TrimPrefix(m.Latest(), "linux_"), "_", "."); kernelorg.CompareSeries(latest, c.Branch) < 0 {
		if err := lk.SetAlias("linux_latest", attr); err != nil {
			return nil, err
		}
	}
	if err := lk.InitVanilla(c.Branch); err != nil {
		return nil, err
	}
	if err := lk.InitKernel(c.Branch); err != nil {
		return nil, err
	}
	files[kernelfiles.LinuxKernelsPath] = lk.Bytes()

	al := kernelfiles.NewEditor(kernelfiles.AliasesPath, m.File(kernelfiles.AliasesPath))
	if err := al.InitAliases(c.Branch, false); err != nil {
		return nil, err
	}
	files[kernelfiles.AliasesPath] = al.Bytes()
	return files, nil
}

// Removal is the Payload of a removal a maintainer asked for
// (`kupdate propose remove`): its wording.
type Removal struct {
	// EOLWithin is the NixOS release within whose support window the
	// branch reaches its end of life ("25.11"); every throw then says
	// "linux X.Y was removed because it will reach its end of life within
	// 25.11", as nixpkgs worded 4.19's and 5.4's removals.
	EOLWithin string
}

// applyRemove turns the branch's entries into throws; aliases.nix changes
// only with aliasThrows (nixpkgs' 2025 convention): since Dec 2025 nixpkgs
// leaves `linux_X_Y = linuxKernel.kernels.linux_X_Y;` in place, resolving
// to the throw in linux-kernels.nix (the 6.17 and 6.19 removals).
func applyRemove(m *kernelfiles.Model, c family.Change, aliasThrows bool) (map[string][]byte, error) {
	e, ok := m.Entry(c.Branch)
	if !ok || c.Branch == "testing" {
		return nil, fmt.Errorf("%s has no branch %q to remove", kernelfiles.KernelsJSONPath, c.Branch)
	}
	root := m.KernelsJSON()
	root.Del(c.Branch)
	files := map[string][]byte{kernelfiles.KernelsJSONPath: root.Dump(false)}

	attr, date := kernelfiles.Attr(c.Branch), m.Today()
	lk := kernelfiles.NewEditor(kernelfiles.LinuxKernelsPath, m.File(kernelfiles.LinuxKernelsPath))
	throw := throwWriter(lk, c, date)
	names := []string{attr}
	if m.HasHardenedVariant(c.Branch) {
		names = append(names, attr+"_hardened") // its hardened variant goes with it
	}
	// bottom-up, as in applyInit
	if err := moveAliases(m, lk, e, attr); err != nil {
		return nil, err
	}
	for _, n := range names {
		dropped, err := lk.DropBinding("packages", n, false)
		if err != nil {
			return nil, err
		}
		if dropped {
			if err := throw("packages", n, eolMsg(c.Branch), false); err != nil {
				return nil, err
			}
		}
	}
	if _, err := lk.DropBinding("vanillaPackages", attr, true); err != nil {
		return nil, err
	}
	if err := throw("vanillaPackages", attr, "linux "+c.Branch+" was removed because it reached its end of life upstream", true); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := lk.DropBinding("kernels", n, true); err != nil {
			return nil, err
		}
		if err := throw("kernels", n, eolMsg(c.Branch), false); err != nil {
			return nil, err
		}
	}
	files[kernelfiles.LinuxKernelsPath] = lk.Bytes()

	if aliasThrows {
		al := kernelfiles.NewEditor(kernelfiles.AliasesPath, m.File(kernelfiles.AliasesPath))
		for _, n := range names {
			for _, a := range []string{n, strings.Replace(n, "linux_", "linuxPackages_", 1)} {
				if err := aliasThrow(al, c, a, date); err != nil {
					return nil, err
				}
			}
		}
		files[kernelfiles.AliasesPath] = al.Bytes()
	}

	if _, ok := m.HardenedEntry(c.Branch); ok {
		proot := m.PatchesJSON()
		proot.Del(c.Branch)
		files[kernelfiles.PatchesJSONPath] = proot.Dump(true)
	}
	return files, nil
}

func eolMsg(branch string) string {
	return "linux " + branch + " was removed because it has reached its end of life upstream"
}

// withinMsg is the wording of a removal a maintainer asked for, "" for one
// kernel.org's EOL flag called for.
func withinMsg(c family.Change) string {
	if r, ok := c.Payload.(Removal); ok && r.EOLWithin != "" {
		return "linux " + c.Branch + " was removed because it will reach its end of life within " + r.EOLWithin
	}
	return ""
}

// throwWriter adds a removal's throw to a section of linux-kernels.nix:
// worded as the section words its throws (msg and dated when it has none),
// or, for a removal a maintainer asked for, in the maintainer's words,
// dated where the section dates.
func throwWriter(lk *kernelfiles.Editor, c family.Change, date string) func(section, name, msg string, dated bool) error {
	within := withinMsg(c)
	return func(section, name, msg string, dated bool) error {
		if within != "" {
			return lk.AddThrowWorded(section, name, c.Branch, date, within, dated)
		}
		return lk.AddThrow(section, name, c.Branch, date, true, msg, dated)
	}
}

func aliasThrow(al *kernelfiles.Editor, c family.Change, name, date string) error {
	if within := withinMsg(c); within != "" {
		return al.AliasThrowWorded(name, c.Branch, date, within)
	}
	return al.AliasThrow(name, c.Branch, date, true, eolMsg(c.Branch))
}

// moveAliases points linux_latest at the newest remaining branch and
// linux_default at the newest remaining longterm one, when the removed
// branch (entry e, attribute attr) was theirs.
func moveAliases(m *kernelfiles.Model, lk *kernelfiles.Editor, e kernelfiles.Entry, attr string) error {
	rest := slices.DeleteFunc(m.Series(), func(s string) bool { return s == e.Branch })
	if m.Latest() == attr {
		if len(rest) == 0 {
			return fmt.Errorf("removing the last branch would leave linux_latest pointing nowhere")
		}
		if err := lk.SetAlias("linux_latest", kernelfiles.Attr(rest[len(rest)-1])); err != nil {
			return err
		}
	}
	if m.Default() != attr {
		return nil
	}
	target := ""
	for _, s := range rest {
		if se, _ := m.Entry(s); se.LTS {
			target = s
		}
	}
	if target == "" {
		return fmt.Errorf("%s:%d: linux_default points at %s and kernels-org.json marks no other branch as longterm to take its place: move linux_default first", kernelfiles.KernelsJSONPath, e.Line, attr)
	}
	return lk.SetAlias("linux_default", kernelfiles.Attr(target))
}
