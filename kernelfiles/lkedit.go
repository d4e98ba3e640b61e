package kernelfiles

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
)

// Edits of pkgs/top-level/linux-kernels.nix. Entries are copied from their
// neighbours (renamed), so a new one is in the tree's own formatting.

// mainlineEntries lists the kernels entries `linux_X_Y = callPackage
// .../mainline.nix { branch = "X.Y"; ... };` with their branches.
func mainlineEntries(t *nixText, s nixSet) map[string]binding {
	return seriesBindings(s, "linux", func(br string, b binding) bool {
		text := b.text(t)
		return strings.Contains(text, "mainline.nix") && strings.Contains(text, `branch = "`+br+`";`)
	})
}

// seriesBindings indexes by branch the bindings of s named kind_X_Y (kind
// "linux", "linuxPackages", "linux_hardened", ...) that keep (nil: all)
// accepts.
func seriesBindings(s nixSet, kind string, keep func(branch string, b binding) bool) map[string]binding {
	out := map[string]binding{}
	for _, b := range s.bindings {
		if br, k, ok := nameSeries(b.name); ok && k == kind && (keep == nil || keep(br, b)) {
			out[br] = b
		}
	}
	return out
}

// neighbours is the nearest branch below branch and the nearest above it
// among the keys of m ("" when there is none).
func neighbours[V any](m map[string]V, branch string) (below, above string) {
	for br := range m {
		c := kernelorg.CompareSeries(br, branch)
		if c < 0 && (below == "" || kernelorg.CompareSeries(br, below) > 0) {
			below = br
		}
		if c > 0 && (above == "" || kernelorg.CompareSeries(br, above) < 0) {
			above = br
		}
	}
	return below, above
}

// sectionWithout finds section in the file as it is now, and fails when its
// main set already binds name: an init never overwrites an entry.
func (e *nixEditor) sectionWithout(section, name string) (*nixText, nixSection, error) {
	t, s, err := e.section(section)
	if err != nil {
		return nil, s, err
	}
	if b, ok := findBinding(s.main.bindings, name); ok {
		return nil, s, fmt.Errorf("%s:%d: %s already exists", e.name, t.line(b.start), name)
	}
	return t, s, nil
}

// copyNeighbour inserts a copy of the entry of branch's nearest neighbour
// among entries, renamed to branch: after the one below, else before the
// one above. It reports false when entries is empty.
func (e *nixEditor) copyNeighbour(t *nixText, entries map[string]binding, branch string) bool {
	switch below, above := neighbours(entries, branch); {
	case below != "":
		e.replace(entries[below].end, entries[below].end, renameSeries(entries[below].text(t), below, branch))
	case above != "":
		e.replace(entries[above].start, entries[above].start, renameSeries(entries[above].text(t), above, branch))
	default:
		return false
	}
	return true
}

// initKernel adds the kernels entry of branch, a copy of its predecessor's
// (same kernelPatches), after the predecessor's branch block and before
// linux_testing.
func (e *nixEditor) initKernel(branch string) error {
	attr := Attr(branch)
	t, s, err := e.sectionWithout("kernels", attr)
	if err != nil {
		return err
	}
	entries := mainlineEntries(t, s.main)
	below, above := neighbours(entries, branch)
	if below == "" {
		return fmt.Errorf("%s: no `linux_X_Y = callPackage ../os-specific/linux/kernel/mainline.nix { branch = \"X.Y\"; ... };` entry older than %s to copy", s.where(e.name), branch)
	}
	pred := entries[below]
	text := renameSeries(pred.text(t), below, branch)
	text = strings.Replace(text, `branch = "`+below+`";`, `branch = "`+branch+`";`, 1)
	switch testing, hasTesting := findBinding(s.main.bindings, "linux_testing"); {
	case above != "":
		e.replace(entries[above].start, entries[above].start, text+"\n")
	case hasTesting && testing.start > pred.start:
		e.replace(testing.start, testing.start, text+"\n")
	default:
		e.replace(pred.end, pred.end, "\n"+text)
	}
	return nil
}

// initVanilla adds `linux_X_Y = recurseIntoAttrs (packagesFor
// kernels.linux_X_Y);` after its predecessor in vanillaPackages.
func (e *nixEditor) initVanilla(branch string) error {
	attr := Attr(branch)
	t, s, err := e.sectionWithout("vanillaPackages", attr)
	if err != nil {
		return err
	}
	if !e.copyNeighbour(t, seriesBindings(s.main, "linux", nil), branch) {
		return fmt.Errorf("%s: no `linux_X_Y = recurseIntoAttrs (packagesFor kernels.linux_X_Y);` entry to place %s by", s.where(e.name), attr)
	}
	return nil
}

// dropBinding deletes section's main-set binding name and says whether
// there was one; a missing one is an error when required (a removal expects
// the entries an init writes, but not every tree has a packages entry).
func (e *nixEditor) dropBinding(section, name string, required bool) (bool, error) {
	t, s, err := e.section(section)
	if err != nil {
		return false, err
	}
	b, ok := findBinding(s.main.bindings, name)
	switch {
	case ok:
		e.deleteBinding(t, b)
	case required:
		return false, fmt.Errorf("%s: no entry %s to remove", s.where(e.name), name)
	}
	return ok, nil
}

var hardenedValueRE = map[string]*regexp.Regexp{
	"kernels":  regexp.MustCompile(`^hardenedKernelFor\s+kernels\.linux_\d+_\d+\s`),
	"packages": regexp.MustCompile(`^recurseIntoAttrs\s*\(\s*packagesFor\s+kernels\.linux_\d+_\d+_hardened\s*\)$`),
}

// addHardened adds linux_X_Y_hardened to the kernels and packages sections,
// copied from an existing hardened entry when there is one.
func (e *nixEditor) addHardened(branch string) error {
	name := Attr(branch) + "_hardened"
	std := map[string]string{
		"kernels":  name + " = hardenedKernelFor kernels." + Attr(branch) + " { };\n",
		"packages": name + " = recurseIntoAttrs (packagesFor kernels." + name + ");\n",
	}
	for _, sec := range []string{"packages", "kernels"} { // bottom-up
		t, s, err := e.sectionWithout(sec, name)
		if err != nil {
			return err
		}
		entries := seriesBindings(s.main, "linux_hardened", func(_ string, b binding) bool {
			return hardenedValueRE[sec].MatchString(b.value(t))
		})
		if !e.copyNeighbour(t, entries, branch) {
			pos := t.lineStart(s.main.close)
			if b, ok := findBinding(s.main.bindings, "linux_hardened"); ok {
				pos = b.start
			}
			e.replace(pos, pos, t.innerIndent(s.main)+std[sec])
		}
	}
	return nil
}

// initAliases adds the aliases of a new kernel (linux_X_Y and
// linuxPackages_X_Y, or their _hardened forms) to aliases.nix, shaped like
// the aliases of the nearest active kernel of the same kind. Hardened
// aliases are added only when the tree has some for other branches.
func (e *nixEditor) initAliases(branch string, hardened bool) error {
	suffix := ""
	if hardened {
		suffix = "_hardened"
	}
	for _, kind := range []string{"linux", "linuxPackages"} {
		t, s, _, err := e.aliasesSet()
		if err != nil {
			return err
		}
		name := kind + "_" + strings.ReplaceAll(branch, ".", "_") + suffix
		active := seriesBindings(s, kind+suffix, func(_ string, b binding) bool {
			return !strings.HasPrefix(b.value(t), "throw")
		})
		below, above := neighbours(active, branch)
		src := below
		if src == "" {
			src = above
		}
		var value string
		switch {
		case src != "":
			value = renameSeries(active[src].value(t), src, branch)
		case hardened:
			continue
		case kind == "linux":
			value = "linuxKernel.kernels." + Attr(branch)
		default:
			value = "linuxKernel.packages." + Attr(branch)
		}
		if err := e.addAlias(name, value); err != nil {
			return err
		}
	}
	return nil
}
