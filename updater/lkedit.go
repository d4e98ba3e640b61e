package updater

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
	out := map[string]binding{}
	for _, b := range s.bindings {
		br, kind, ok := nameSeries(b.name)
		if !ok || kind != "linux" {
			continue
		}
		text := b.text(t)
		if strings.Contains(text, "mainline.nix") && strings.Contains(text, `branch = "`+br+`";`) {
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

// initKernel adds the kernels entry of branch, a copy of its predecessor's
// (same kernelPatches), after the predecessor's branch block and before
// linux_testing.
func (e *nixEditor) initKernel(branch string) error {
	t, err := e.scan()
	if err != nil {
		return err
	}
	s, err := findSection(t, "kernels")
	if err != nil {
		return err
	}
	attr := Attr(branch)
	if b, ok := findBinding(s.main.bindings, attr); ok {
		return fmt.Errorf("%s:%d: %s already exists", e.name, t.line(b.start), attr)
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
	t, err := e.scan()
	if err != nil {
		return err
	}
	s, err := findSection(t, "vanillaPackages")
	if err != nil {
		return err
	}
	attr := Attr(branch)
	if b, ok := findBinding(s.main.bindings, attr); ok {
		return fmt.Errorf("%s:%d: %s already exists", e.name, t.line(b.start), attr)
	}
	entries := map[string]binding{}
	for _, b := range s.main.bindings {
		if br, kind, ok := nameSeries(b.name); ok && kind == "linux" {
			entries[br] = b
		}
	}
	below, above := neighbours(entries, branch)
	switch {
	case below != "":
		e.replace(entries[below].end, entries[below].end, renameSeries(entries[below].text(t), below, branch))
	case above != "":
		e.replace(entries[above].start, entries[above].start, renameSeries(entries[above].text(t), above, branch))
	default:
		return fmt.Errorf("%s: no `linux_X_Y = recurseIntoAttrs (packagesFor kernels.linux_X_Y);` entry to place %s by", s.where(e.name), attr)
	}
	return nil
}

// dropBinding deletes section's main-set binding name; a missing one is an
// error when required.
func (e *nixEditor) dropBinding(section, name string, required bool) error {
	t, err := e.scan()
	if err != nil {
		return err
	}
	s, err := findSection(t, section)
	if err != nil {
		return err
	}
	b, ok := findBinding(s.main.bindings, name)
	if !ok {
		if required {
			return fmt.Errorf("%s: no entry %s to remove", s.where(e.name), name)
		}
		return nil
	}
	e.deleteBinding(t, b)
	return nil
}

func (e *nixEditor) dropBindingIfAny(section, name string) (bool, error) {
	t, err := e.scan()
	if err != nil {
		return false, err
	}
	s, err := findSection(t, section)
	if err != nil {
		return false, err
	}
	b, ok := findBinding(s.main.bindings, name)
	if ok {
		e.deleteBinding(t, b)
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
		t, err := e.scan()
		if err != nil {
			return err
		}
		s, err := findSection(t, sec)
		if err != nil {
			return err
		}
		if b, ok := findBinding(s.main.bindings, name); ok {
			return fmt.Errorf("%s:%d: %s already exists", e.name, t.line(b.start), name)
		}
		entries := map[string]binding{}
		for _, b := range s.main.bindings {
			if br, kind, ok := nameSeries(b.name); ok && kind == "linux_hardened" && hardenedValueRE[sec].MatchString(b.value(t)) {
				entries[br] = b
			}
		}
		below, above := neighbours(entries, branch)
		switch {
		case below != "":
			e.replace(entries[below].end, entries[below].end, renameSeries(entries[below].text(t), below, branch))
		case above != "":
			e.replace(entries[above].start, entries[above].start, renameSeries(entries[above].text(t), above, branch))
		default:
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
		t, err := e.scan()
		if err != nil {
			return err
		}
		s, _, err := mapAliasesSet(t)
		if err != nil {
			return err
		}
		name := kind + "_" + strings.ReplaceAll(branch, ".", "_") + suffix
		active := map[string]binding{}
		for _, b := range s.bindings {
			if br, k, ok := nameSeries(b.name); ok && k == kind+suffix && !strings.HasPrefix(b.value(t), "throw") {
				active[br] = b
			}
		}
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
