package hardened

import (
	"context"
	"fmt"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// kept checks the kept set (see keptSet) and that each added or dropped
// variant has its nix parts. It returns the branches it found something
// wrong with.
func (v *verification) kept(ctx context.Context, head []hEntry, changes []hardenedChange) map[string]bool {
	faulted := v.keptSet(ctx, head, changes)
	ks, err := kernelfiles.ReadKernelSections(v.head)
	if err != nil {
		// kernel.org's kernels report it when it matters; the nix parts of
		// the changes could not be checked.
		for _, ch := range changes {
			faulted[ch.Branch] = true
		}
		return faulted
	}
	for _, ch := range changes {
		switch {
		case ch.Old == nil && v.rejected[Attr(ch.Branch)]:
		case ch.Old == nil:
			if v.initParts(ch, ks) {
				faulted[ch.Branch] = true
			}
		case ch.New == nil:
			if v.dropParts(ch, ks) {
				faulted[ch.Branch] = true
			}
		}
	}
	return faulted
}

// keptSet checks that nixpkgs would keep every hardened kernel of the head:
// each goes with its kernel.org branch, and only the latest stable and the
// latest LTS are kept (an older LTS the base had may stay). It returns the
// branches it found something wrong with.
func (v *verification) keptSet(ctx context.Context, head []hEntry, changes []hardenedChange) map[string]bool {
	listed := vanilla.Listed(v.head)
	lts := func(branch string) bool {
		if lts, ok := v.up.SeriesLTS(ctx, branch); ok {
			return lts
		}
		for _, b := range listed {
			if b.Name == branch && b.LTS != nil {
				return *b.LTS
			}
		}
		return false
	}
	newest, newestLTS := "", ""
	for _, h := range head {
		if newest == "" || kernelorg.CompareSeries(newest, h.Branch) < 0 {
			newest = h.Branch
		}
		if lts(h.Branch) && (newestLTS == "" || kernelorg.CompareSeries(newestLTS, h.Branch) < 0) {
			newestLTS = h.Branch
		}
	}
	added, inTree := map[string]bool{}, map[string]bool{}
	for _, ch := range changes {
		added[ch.Branch] = ch.Old == nil
	}
	for _, b := range listed {
		inTree[b.Name] = true
	}
	faulted := map[string]bool{}
	for _, h := range head {
		switch {
		case !inTree[h.Branch]:
			v.out.Findingf(patchesJSON, h.Line, family.RuleHardened, "hardened %q has no %q in %s; a hardened kernel goes with its branch", h.Branch, h.Branch, kernelsJSON)
			faulted[h.Branch] = true
		case v.rejected[Attr(h.Branch)]:
		case h.Branch == newest || h.Branch == newestLTS:
		case added[h.Branch] || !lts(h.Branch):
			v.out.Findingf(patchesJSON, h.Line, family.RuleHardened, "hardened %q is neither the latest stable (%s) nor the latest LTS (%s) hardened kernel; nixpkgs keeps only those two: drop it (%s_hardened becomes a throw)", h.Branch, newest, orNone(newestLTS), kernelfiles.Attr(h.Branch))
			faulted[h.Branch] = true
		}
	}
	return faulted
}

// initParts checks the linux-kernels.nix and aliases.nix parts of an added
// hardened kernel; it reports whether some are missing.
func (v *verification) initParts(ch hardenedChange, ks *kernelfiles.KernelSections) bool {
	attr, base := Attr(ch.Branch), kernelfiles.Attr(ch.Branch)
	pkgs := strings.Replace(attr, "linux_", "linuxPackages_", 1)
	var m family.Missing
	if b := ks.Kernels[attr]; !strings.HasPrefix(b.Value, "hardenedKernelFor kernels."+base+" ") {
		m.Add(linuxKernels, fmt.Sprintf("kernels.%s = hardenedKernelFor kernels.%s { };", attr, base))
	}
	if b := ks.Packages[attr]; b.Value != fmt.Sprintf("recurseIntoAttrs (packagesFor kernels.%s)", attr) {
		m.Add(linuxKernels, fmt.Sprintf("packages.%s = recurseIntoAttrs (packagesFor kernels.%s);", attr, attr))
	}
	if b := ks.Aliases[attr]; b.Value != "linuxKernel.kernels."+attr {
		m.Add(aliasesNix, fmt.Sprintf("%s = linuxKernel.kernels.%s;", attr, attr))
	}
	if b := ks.Aliases[pkgs]; b.Value != "linuxKernel.packages."+attr {
		m.Add(aliasesNix, fmt.Sprintf("%s = linuxKernel.packages.%s;", pkgs, attr))
	}
	if m.Empty() {
		return false
	}
	v.out.Findingf(patchesJSON, ch.New.Line, family.RuleInit, "hardened %q is added without everything its init needs: %s (kupdate update writes them)", ch.Branch, m.String())
	return true
}

// dropParts checks that a dropped hardened kernel is gone from
// linux-kernels.nix and a throw in aliases.nix; it reports whether it is
// not.
func (v *verification) dropParts(ch hardenedChange, ks *kernelfiles.KernelSections) bool {
	attr := Attr(ch.Branch)
	pkgs := strings.Replace(attr, "linux_", "linuxPackages_", 1)
	faulted := false
	if b, ok := ks.Kernels[attr]; ok {
		v.out.Findingf(b.File, b.Line, family.RuleRemove, "kernels.%s is still here while hardened %q is dropped from %s; replace it with a throw", attr, ch.Branch, patchesJSON)
		faulted = true
	}
	if b, ok := ks.Packages[attr]; ok {
		v.out.Findingf(b.File, b.Line, family.RuleRemove, "packages.%s is still here while hardened %q is dropped from %s; replace it with a throw", attr, ch.Branch, patchesJSON)
		faulted = true
	}
	var m family.Missing
	for _, name := range []string{attr, pkgs} {
		if b, ok := ks.Aliases[name]; !ok || !strings.HasPrefix(b.Value, "throw") {
			m.Add(aliasesNix, fmt.Sprintf("%s = throw \"...\"; # Added YYYY-MM-DD", name))
		}
	}
	if !m.Empty() {
		v.out.Findingf(patchesJSON, 0, family.RuleRemove, "hardened %q is dropped without its throws: %s", ch.Branch, m.String())
		faulted = true
	}
	return faulted
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
