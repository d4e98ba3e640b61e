package vanilla

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// format reports the first line where a JSON file differs from the bytes
// kupdate would write for the same content (the updater's own writer).
func (v *verification) format(path string, b []byte) { kernelfiles.CheckFormat(v.out, path, b) }

// order reports entries that moved: kernels-org.json keeps insertion order
// (a bump rewrites in place, a new branch is appended, a removal deletes),
// so a pull request never reorders it.
func (v *verification) order(base, head []entry) {
	pos := map[string]int{}
	for i, e := range base {
		if _, dup := pos[e.Branch]; !dup {
			pos[e.Branch] = i
		}
	}
	last, lastBranch := -1, ""
	var added *entry
	for i := range head {
		e := &head[i]
		p, kept := pos[e.Branch]
		if !kept {
			if added == nil {
				added = e
			}
			continue
		}
		if added != nil {
			v.out.Findingf(kernelsJSON, added.Line, family.RuleOrder, "%q is added before %q; a new branch goes at the end of kernels-org.json (it keeps insertion order)", added.Branch, e.Branch)
			return
		}
		if p < last {
			v.out.Findingf(kernelsJSON, e.Line, family.RuleOrder, "%q now comes after %q, unlike at the base; kernels-org.json keeps insertion order (a bump rewrites an entry in place): restore the base's order", e.Branch, lastBranch)
			return
		}
		last, lastBranch = p, e.Branch
	}
}

// structure checks that each added branch comes with everything an init
// needs and each removed branch with its throws.
func (v *verification) structure() {
	var added, removed []entryChange
	for _, ch := range v.changes {
		switch {
		case ch.Branch == "testing":
		case ch.Old == nil && ch.New.err == "":
			added = append(added, ch)
		case ch.New == nil:
			removed = append(removed, ch)
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	if !v.head.Has(linuxKernels) || !v.head.Has(aliasesNix) {
		v.out.Findingf(kernelsJSON, 0, family.RuleSyntax, "%s or %s is missing at the head; branches cannot be added or removed without them", linuxKernels, aliasesNix)
		return
	}
	ks, err := kernelfiles.ReadKernelSections(v.head)
	if err != nil {
		file, line, msg := splitPos(err.Error())
		v.out.Findingf(file, line, family.RuleSyntax, "kupdate cannot read it: %s", msg)
		return
	}
	newest := ""
	for _, e := range v.headEntries {
		if e.Branch != "testing" && (newest == "" || kernelorg.CompareSeries(newest, e.Branch) < 0) {
			newest = e.Branch
		}
	}
	for _, ch := range added {
		if !v.rejected[ch.Branch] {
			v.initComplete(ch.New, ks, ch.Branch == newest)
		}
	}
	for _, ch := range removed {
		if v.removalComplete(ch.Old, ks) {
			v.out.Verify(family.Verified{File: kernelsJSON, Line: v.removedLine(ch.Branch), Branch: ch.Branch, From: ch.Old.Version})
		}
	}
}

// initComplete checks an added branch: its kernels entry, its
// vanillaPackages entry, linux_latest when it is the newest branch, and both
// aliases (nixpkgs-kernel-files.md, "What each change touches").
func (v *verification) initComplete(e *entry, ks *kernelfiles.KernelSections, newest bool) {
	attr := kernelfiles.Attr(e.Branch)
	var m family.Missing
	if b, ok := ks.Kernels[attr]; !ok || !strings.Contains(b.Value, "mainline.nix") || !strings.Contains(b.Value, `branch = "`+e.Branch+`";`) {
		m.Add(linuxKernels, fmt.Sprintf("kernels.%s = callPackage ../os-specific/linux/kernel/mainline.nix { branch = %q; kernelPatches = [ ... ]; };", attr, e.Branch))
	}
	if b, ok := ks.Vanilla[attr]; !ok || b.Value != fmt.Sprintf("recurseIntoAttrs (packagesFor kernels.%s)", attr) {
		m.Add(linuxKernels, fmt.Sprintf("vanillaPackages.%s = recurseIntoAttrs (packagesFor kernels.%s);", attr, attr))
	}
	if newest {
		if b := ks.PackageAliases["linux_latest"]; b.Value != "packages."+attr {
			m.Add(linuxKernels, fmt.Sprintf("packageAliases.linux_latest = packages.%s;", attr))
		}
	}
	pkgs := strings.Replace(attr, "linux_", "linuxPackages_", 1)
	if b := ks.Aliases[attr]; b.Value != "linuxKernel.kernels."+attr {
		m.Add(aliasesNix, fmt.Sprintf("%s = linuxKernel.kernels.%s;", attr, attr))
	}
	if b := ks.Aliases[pkgs]; b.Value != "linuxKernel.packages."+attr {
		m.Add(aliasesNix, fmt.Sprintf("%s = linuxKernel.packages.%s;", pkgs, attr))
	}
	if !m.Empty() {
		v.incompleteInit[e.Branch] = true
		v.out.Findingf(kernelsJSON, e.Line, family.RuleInit, "%q is added without everything its init needs: %s (kupdate update writes them; nixpkgs squashes them into the `%s: init at ...` commit)", e.Branch, m.String(), attr)
	}
}

// removalComplete checks a removed branch: its entries gone from kernels and
// vanillaPackages, throws in their allowAliases parts, its aliases in
// aliases.nix either kept or throws, and no packageAlias still pointing at
// it. It reports whether all is well.
func (v *verification) removalComplete(e *entry, ks *kernelfiles.KernelSections) bool {
	n := len(v.out.Findings)
	attr := kernelfiles.Attr(e.Branch)
	pkgs := strings.Replace(attr, "linux_", "linuxPackages_", 1)
	line := v.removedLine(e.Branch)
	var m family.Missing
	isThrow := func(b kernelfiles.NixBinding, ok bool) bool { return ok && strings.HasPrefix(b.Value, "throw") }
	for _, s := range []struct {
		name         string
		main, throws map[string]kernelfiles.NixBinding
	}{
		{"kernels", ks.Kernels, ks.KernelThrows},
		{"vanillaPackages", ks.Vanilla, ks.VanillaThrows},
	} {
		if b, ok := s.main[attr]; ok {
			v.out.Findingf(b.File, b.Line, family.RuleRemove, "%s.%s is still here while %q is removed from %s; delete it (the throw goes in the allowAliases part)", s.name, attr, e.Branch, kernelsJSON)
		}
		if b, ok := s.throws[attr]; !isThrow(b, ok) {
			m.Add(linuxKernels, fmt.Sprintf("%s.%s = throw \"linux %s was removed ...\";", s.name, attr, e.Branch))
		}
	}
	// aliases.nix may keep the kernel's aliases, which then resolve to the
	// throws above (nixpkgs since Dec 2025), or turn them into throws of
	// their own (2025); an alias pointing anywhere else is wrong.
	for _, a := range []struct{ name, keep string }{{attr, "linuxKernel.kernels." + attr}, {pkgs, "linuxKernel.packages." + attr}} {
		if b, ok := ks.Aliases[a.name]; ok && !isThrow(b, ok) && b.Value != a.keep {
			m.Add(aliasesNix, fmt.Sprintf("%s = %s; (or a throw)", a.name, a.keep))
		}
	}
	if !m.Empty() {
		v.out.Findingf(kernelsJSON, line, family.RuleRemove, "%q is removed without its throws: %s (those of linux-kernels.nix go in the allowAliases parts; kupdate update writes them all in the `%s: remove` commit)", e.Branch, m.String(), attr)
	}
	for _, name := range []string{"linux_latest", "linux_default"} {
		if b, ok := ks.PackageAliases[name]; ok && b.Value == "packages."+attr {
			v.out.Findingf(b.File, b.Line, family.RuleRemove, "packageAliases.%s still points at packages.%s, which is removed; point it at another branch", name, attr)
		}
	}
	return len(v.out.Findings) == n
}

// removedLine is where a removed entry was, in the head file: the line of
// the entry that now follows it, or the file's last line.
func (v *verification) removedLine(branch string) int {
	at := map[string]int{}
	for _, e := range v.headEntries {
		at[e.Branch] = e.Line
	}
	seen := false
	for _, e := range v.baseEntries {
		if e.Branch == branch {
			seen = true
			continue
		}
		if l, ok := at[e.Branch]; seen && ok {
			return l
		}
	}
	return bytes.Count(v.head.File(kernelsJSON), []byte("\n"))
}

// splitPos splits "file:line: message" as the updater formats its errors.
func splitPos(s string) (file string, line int, msg string) {
	f, rest, ok := strings.Cut(s, ":")
	if !ok {
		return linuxKernels, 0, s
	}
	var n int
	if l, m, ok := strings.Cut(rest, ": "); ok {
		if _, err := fmt.Sscanf(l, "%d", &n); err == nil {
			return f, n, m
		}
	}
	return f, 0, strings.TrimPrefix(rest, " ")
}
