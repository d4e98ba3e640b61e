package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// hEntry is one branch of hardened/patches.json.
type hEntry struct {
	Branch  string
	Line    int
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Patch   struct {
		Extra  string `json:"extra"`
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
		URL    string `json:"url"`
	} `json:"patch"`
	err string
}

// tag is the entry's release as the updater's titles name it, without the
// "v" of the GitHub tag: 6.12.64-hardened1.
func (h *hEntry) tag() string { return h.Version + h.Patch.Extra }

type hardenedChange struct {
	Branch   string
	Old, New *hEntry
}

func hardenedEntries(b []byte) ([]hEntry, error) {
	if b == nil {
		return nil, nil
	}
	ms, err := members(b)
	if err != nil {
		return nil, err
	}
	out := make([]hEntry, 0, len(ms))
	for _, m := range ms {
		h := hEntry{Branch: m.Key, Line: m.Line}
		dec := json.NewDecoder(bytes.NewReader(m.Raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			h.err = fmt.Sprintf("want {\"patch\": {\"extra\", \"name\", \"sha256\", \"url\"}, \"sha256\", \"version\"}: %v", err)
		}
		h.Branch, h.Line = m.Key, m.Line
		out = append(out, h)
	}
	return out, nil
}

func diffHardened(base, head []hEntry) []hardenedChange {
	bm := map[string]*hEntry{}
	for i := range base {
		bm[base[i].Branch] = &base[i]
	}
	var out []hardenedChange
	seen := map[string]bool{}
	for i := range head {
		h := &head[i]
		seen[h.Branch] = true
		b := bm[h.Branch]
		if b != nil && b.Version == h.Version && b.SHA256 == h.SHA256 && b.Patch == h.Patch && b.err == h.err {
			continue
		}
		out = append(out, hardenedChange{Branch: h.Branch, Old: b, New: h})
	}
	for i := range base {
		if !seen[base[i].Branch] {
			out = append(out, hardenedChange{Branch: base[i].Branch, Old: &base[i]})
		}
	}
	return out
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// headHardenedLine is the line of branch in the head's patches.json, 0 if
// it has none.
func (r *run) headHardenedLine(branch string) int {
	hs, _ := hardenedEntries(r.head[HardenedPatches])
	for _, h := range hs {
		if h.Branch == branch {
			return h.Line
		}
	}
	return 0
}

// hardened checks a change to hardened/patches.json: every changed entry
// names a real linux-hardened release whose patch has the recorded hash, for
// a kernel whose tarball has the recorded hash; only the latest stable and
// latest LTS hardened kernels are kept; added and dropped variants come with
// their linux-kernels.nix and aliases.nix parts.
func (r *run) hardened() {
	baseB, headB := r.base[HardenedPatches], r.head[HardenedPatches]
	if bytes.Equal(baseB, headB) || headB == nil {
		return
	}
	head, err := hardenedEntries(headB)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			r.finding(HardenedPatches, se.Line, RuleSyntax, "not valid JSON: %s; fix the file (kupdate update writes it correctly)", se.Msg)
		}
		return
	}
	base, _ := hardenedEntries(baseB)
	r.format(HardenedPatches, headB)
	changes := diffHardened(base, head)
	for _, ch := range changes {
		attr := kernelfiles.Attr(ch.Branch) + "_hardened"
		if ch.Old == nil {
			if w, ok := r.removedInBase(attr); ok {
				r.finding(HardenedPatches, ch.New.Line, RuleReadded, "hardened %q was removed from this tree before (%s is a throw at %s); kupdate never adds a removed kernel back: drop the entry", ch.Branch, attr, w)
				r.rejected[attr] = true
			}
		}
	}
	ok := map[string]bool{}
	for _, ch := range changes {
		if ch.New != nil && !r.rejected[kernelfiles.Attr(ch.Branch)+"_hardened"] {
			ok[ch.Branch] = r.hardenedEntry(ch.New)
		}
	}
	faulted := r.hardenedKept(head, changes)
	// A change is verified when nothing was found wrong with it and
	// everything about it could be checked: its release and hashes, the kept
	// set, and the nix parts of an added or dropped variant.
	for _, ch := range changes {
		if faulted[ch.Branch] || r.rejected[kernelfiles.Attr(ch.Branch)+"_hardened"] || (ch.New != nil && !ok[ch.Branch]) {
			continue
		}
		v := Verified{File: HardenedPatches, Branch: ch.Branch, Hardened: true}
		if ch.Old != nil {
			v.From = ch.Old.tag()
		}
		if ch.New != nil {
			v.Line, v.To, v.Hash = ch.New.Line, ch.New.tag(), ch.New.Patch.SHA256
		}
		r.report.Verified = append(r.report.Verified, v)
	}
}

// hardenedEntry checks one added or changed patches.json entry. It reports
// whether all of it was verified.
func (r *run) hardenedEntry(h *hEntry) bool {
	f, line, br := HardenedPatches, h.Line, h.Branch
	if h.err != "" {
		r.finding(f, line, RuleEntry, "hardened %q is not a valid entry: %s", br, h.err)
		return false
	}
	v, err := kernelorg.ParseVersion(h.Version)
	if err != nil || v.IsRC() || v.Series() != br {
		r.finding(f, line, RuleVersion, "hardened %q: version %q is not a release of %s; fix the version", br, h.Version, br)
		return false
	}
	// The kernel tarball: kernel.org's signed checksum, written bare (no "sha256:").
	ok := false
	switch want, notRelease, err := r.upstreamHash(v); {
	case notRelease:
		r.finding(f, line, RuleVersion, "hardened %q: %s is not a kernel.org release: releases.json does not list it and %s; fix the version", br, v, notPublished(v))
	case err != nil:
		r.unverified(f, line, "hardened %q %s: %v", br, v, err)
	case "sha256:"+h.SHA256 != want:
		r.finding(f, line, RuleHash, "hardened %q sha256 %s does not match %s (%s); run kupdate update or fix the hash", br, h.SHA256, hashSource(v), strings.TrimPrefix(want, "sha256:"))
	default:
		ok = true
	}
	tag := "v" + h.tag()
	wantName := "linux-hardened-" + tag + ".patch"
	if h.Patch.Name != wantName {
		r.finding(f, line, RuleHardened, "hardened %q: patch name %q, want %q for %s and extra %q", br, h.Patch.Name, wantName, h.Version, h.Patch.Extra)
		return false
	}
	if r.c.Hardened == nil {
		r.unverified(f, line, "hardened %q %s: the patch hash is not verified: no linux-hardened source is configured", br, tag)
		return false
	}
	rel, err := r.hardenedRelease(tag)
	if err != nil {
		r.unverified(f, line, "hardened %q %s: could not list linux-hardened releases: %v", br, tag, err)
		return false
	}
	if rel == nil {
		r.finding(f, line, RuleHardened, "hardened %q: linux-hardened has no release %s; fix the version or extra", br, tag)
		return false
	}
	if h.Patch.URL != rel.URL {
		r.finding(f, line, RuleHardened, "hardened %q: patch url %q, want the release asset %q", br, h.Patch.URL, rel.URL)
		ok = false
	}
	sum, err := hardened.VerifyPatch(r.ctx, r.c.Hardened, *rel, r.head[HardenedKey])
	if err != nil {
		r.unverified(f, line, "hardened %q %s: could not verify the patch: %v", br, tag, err)
		return false
	}
	if h.Patch.SHA256 != sum {
		r.finding(f, line, RuleHash, "hardened %q patch sha256 %s does not match the release asset %s (%s); run kupdate update or fix the hash", br, h.Patch.SHA256, rel.PatchName, sum)
		return false
	}
	return ok
}

// hardenedRelease finds the linux-hardened release tagged tag (old tags
// have no "v"); nil when there is none.
func (r *run) hardenedRelease(tag string) (*hardened.Release, error) {
	if r.hardenedRels == nil {
		rels, err := r.c.Hardened.Releases(r.ctx)
		if err != nil {
			return nil, err
		}
		r.hardenedRels = rels
	}
	for i, rel := range r.hardenedRels {
		if rel.Tag == tag || "v"+rel.Tag == tag {
			return &r.hardenedRels[i], nil
		}
	}
	return nil, nil
}

// hardenedKept checks the kept set: nixpkgs carries only the latest stable
// and the latest LTS hardened kernel, and each variant has its nix parts.
// It returns the branches it found something wrong with.
func (r *run) hardenedKept(head []hEntry, changes []hardenedChange) map[string]bool {
	faulted := map[string]bool{}
	lts := func(branch string) bool {
		if idx := r.index(); idx != nil {
			if rel, ok := idx.series[branch]; ok {
				return rel.LTS
			}
		}
		for _, e := range r.headEntries {
			if e.Branch == branch && e.LTS != nil {
				return *e.LTS
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
	added := map[string]bool{}
	for _, ch := range changes {
		if ch.Old == nil {
			added[ch.Branch] = true
		}
	}
	inTree := map[string]bool{}
	for _, e := range r.headEntries {
		inTree[e.Branch] = true
	}
	for _, h := range head {
		switch {
		case !inTree[h.Branch]:
			r.finding(HardenedPatches, h.Line, RuleHardened, "hardened %q has no %q in %s; a hardened kernel goes with its branch", h.Branch, h.Branch, KernelsOrgJSON)
			faulted[h.Branch] = true
		case r.rejected[kernelfiles.Attr(h.Branch)+"_hardened"]:
		case h.Branch == newest || h.Branch == newestLTS:
		case added[h.Branch] || !lts(h.Branch):
			r.finding(HardenedPatches, h.Line, RuleHardened, "hardened %q is neither the latest stable (%s) nor the latest LTS (%s) hardened kernel; nixpkgs keeps only those two: drop it (%s_hardened becomes a throw)", h.Branch, newest, orNone(newestLTS), kernelfiles.Attr(h.Branch))
			faulted[h.Branch] = true
		}
	}
	ks, err := kernelfiles.ReadKernelSections(family.NewTree(r.head))
	if err != nil {
		// Reported by structure() when it matters; the nix parts of the
		// changes could not be checked.
		for _, ch := range changes {
			faulted[ch.Branch] = true
		}
		return faulted
	}
	for _, ch := range changes {
		attr := kernelfiles.Attr(ch.Branch) + "_hardened"
		pkgs := strings.Replace(attr, "linux_", "linuxPackages_", 1)
		var m missing
		switch {
		case ch.Old == nil && r.rejected[attr]:
		case ch.Old == nil:
			if b := ks.Kernels[attr]; !strings.HasPrefix(b.Value, "hardenedKernelFor kernels."+kernelfiles.Attr(ch.Branch)+" ") {
				m.add(LinuxKernelsNix, fmt.Sprintf("kernels.%s = hardenedKernelFor kernels.%s { };", attr, kernelfiles.Attr(ch.Branch)))
			}
			if b := ks.Packages[attr]; b.Value != fmt.Sprintf("recurseIntoAttrs (packagesFor kernels.%s)", attr) {
				m.add(LinuxKernelsNix, fmt.Sprintf("packages.%s = recurseIntoAttrs (packagesFor kernels.%s);", attr, attr))
			}
			if b := ks.Aliases[attr]; b.Value != "linuxKernel.kernels."+attr {
				m.add(AliasesNix, fmt.Sprintf("%s = linuxKernel.kernels.%s;", attr, attr))
			}
			if b := ks.Aliases[pkgs]; b.Value != "linuxKernel.packages."+attr {
				m.add(AliasesNix, fmt.Sprintf("%s = linuxKernel.packages.%s;", pkgs, attr))
			}
			if len(m.files) > 0 {
				r.finding(HardenedPatches, ch.New.Line, RuleInit, "hardened %q is added without everything its init needs: %s (kupdate update writes them)", ch.Branch, m.String())
				faulted[ch.Branch] = true
			}
		case ch.New == nil:
			if b, ok := ks.Kernels[attr]; ok {
				r.finding(b.File, b.Line, RuleRemove, "kernels.%s is still here while hardened %q is dropped from %s; replace it with a throw", attr, ch.Branch, HardenedPatches)
				faulted[ch.Branch] = true
			}
			if b, ok := ks.Packages[attr]; ok {
				r.finding(b.File, b.Line, RuleRemove, "packages.%s is still here while hardened %q is dropped from %s; replace it with a throw", attr, ch.Branch, HardenedPatches)
				faulted[ch.Branch] = true
			}
			for _, name := range []string{attr, pkgs} {
				if b, ok := ks.Aliases[name]; !ok || !strings.HasPrefix(b.Value, "throw") {
					m.add(AliasesNix, fmt.Sprintf("%s = throw \"...\"; # Added YYYY-MM-DD", name))
				}
			}
			if len(m.files) > 0 {
				r.finding(HardenedPatches, 0, RuleRemove, "hardened %q is dropped without its throws: %s", ch.Branch, m.String())
				faulted[ch.Branch] = true
			}
		}
	}
	return faulted
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
