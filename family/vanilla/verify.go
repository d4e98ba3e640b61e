package vanilla

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// What kupdate check verifies of a pull request that changes the family's
// files: each added or changed kernels-org.json entry against kernel.org
// (a real release of its branch, never older than at the base, kernel.org's
// signed hash, kernel.org's lts flag in the tree's shape), the file's bytes
// and order as kupdate writes them, no branch added that the base removed or
// kernel.org ended, and each init and removal complete in linux-kernels.nix
// and aliases.nix (verify_structure.go); and the titles of its commits
// (verify_titles.go).

var _ family.Verifier = (*Family)(nil)

// Sources: kernel.org's releases.json, signed checksums and snapshots.
func (*Family) Sources() []string { return []string{"kernel.org"} }

// EntryFiles: titles name kernels-org.json's entries.
func (*Family) EntryFiles() []string { return []string{kernelsJSON} }

// claimRE matches the titles Title gives a change of an entry: a bump, an
// init, a removal (not an lts flip, which names no version).
var claimRE = regexp.MustCompile(`^linux_(?:[0-9]+_[0-9]+|testing): (?:\S+ -> \S+|init at \S+|remove)$`)

// ClaimsChange: `linux_6_12: 6.12.63 -> 6.12.64`, `linux_6_19: init at
// 6.19`, `linux_5_10: remove`.
func (*Family) ClaimsChange(title string) bool { return claimRE.MatchString(title) }

// Verify checks kernels-org.json's changed entries and the structure of
// added and removed branches. A tree with linux-kernels.nix but no
// kernels-org.json on either side is not one kupdate can check.
func (f *Family) Verify(ctx context.Context, pr family.PR, out *family.Results) (family.Titler, error) {
	if !pr.Base.Has(kernelsJSON) && !pr.Head.Has(kernelsJSON) {
		return nil, fmt.Errorf("%s is in neither the merge base nor the head: not a nixpkgs tree with kernels-org.json (check --nixpkgs and the revisions)", kernelsJSON)
	}
	v := &verification{
		up: UpstreamOf(pr.Head, f.src), base: pr.Base, head: pr.Head, log: pr.Log, out: out,
		incompleteInit: map[string]bool{}, rejected: map[string]bool{},
	}
	v.kernelsOrg(ctx)
	v.structure()
	return v, nil
}

// verification is one check of the family's files in a pull request.
type verification struct {
	up         *Upstream
	base, head *family.Tree
	log        *slog.Logger
	out        *family.Results

	// kernels-org.json as parsed, nil when it does not parse.
	baseEntries, headEntries []entry
	changes                  []entryChange

	incompleteInit map[string]bool // added branches already reported as incomplete
	rejected       map[string]bool // added branches that must not be added at all
}

// kernelsOrg checks every changed entry of kernels-org.json.
func (v *verification) kernelsOrg(ctx context.Context) {
	baseB, headB := v.base.File(kernelsJSON), v.head.File(kernelsJSON)
	if headB == nil {
		v.out.Findingf(kernelsJSON, 0, family.RuleSyntax, "the file is deleted; every nixpkgs kernel branch is read from it: restore it")
		return
	}
	headEs, err := kernelEntries(headB)
	if err != nil {
		if se := (*kernelfiles.SyntaxError)(nil); errors.As(err, &se) {
			v.out.Findingf(kernelsJSON, se.Line, family.RuleSyntax, "not valid JSON: %s; fix the file (kupdate update writes it correctly)", se.Msg)
		}
		return
	}
	if baseB != nil {
		if v.baseEntries, err = kernelEntries(baseB); err != nil {
			// A broken base is not the pull request's fault: compare against nothing.
			v.log.Warn("base kernels-org.json does not parse", "error", err)
			v.baseEntries = nil
		}
	}
	v.headEntries = headEs
	v.changes = diffEntries(v.baseEntries, headEs)
	v.duplicates(headEs)
	if string(baseB) != string(headB) {
		v.format(kernelsJSON, headB)
		v.order(v.baseEntries, headEs)
	}
	withLTS := usesLTS(v.baseEntries, headEs)
	for _, ch := range v.changes {
		if ch.New == nil {
			continue // removals are checked with linux-kernels.nix and aliases.nix
		}
		v.entry(ctx, ch, withLTS)
	}
}

// duplicates reports keys that appear twice: Python's json.load, which
// nixpkgs' tooling uses, keeps only the last, silently.
func (v *verification) duplicates(es []entry) {
	first := map[string]int{}
	for _, e := range es {
		if l, dup := first[e.Branch]; dup {
			v.out.Findingf(kernelsJSON, e.Line, family.RuleEntry, "%q appears twice (lines %d and %d); JSON readers keep only the last: remove one", e.Branch, l, e.Line)
			continue
		}
		first[e.Branch] = e.Line
	}
}

// usesLTS reports whether the tree's kernels-org.json has the lts key: the
// base decides when it has entries (a pull request must keep its shape).
func usesLTS(base, head []entry) bool {
	es := base
	if len(es) == 0 {
		es = head
	}
	for _, e := range es {
		if e.LTS != nil {
			return true
		}
	}
	return false
}

// entry checks one added or changed entry against kernel.org.
func (v *verification) entry(ctx context.Context, ch entryChange, withLTS bool) {
	e := ch.New
	f, line, br := kernelsJSON, e.Line, e.Branch
	if e.err != "" {
		v.out.Findingf(f, line, family.RuleEntry, "%q is not a valid entry: %s", br, e.err)
		return
	}
	ver, ok := v.version(e)
	if !ok {
		return
	}
	if ch.Old != nil && ch.Old.err == "" {
		if old, err := kernelorg.ParseVersion(ch.Old.Version); err == nil && ver.Less(old) {
			v.out.Findingf(f, line, family.RuleDowngrade, "%q goes backwards: %s is older than %s at the base; a kernel update never downgrades (a typo in the version?)", br, ver, old)
			ok = false
		}
	}
	if ch.Old == nil && !v.addable(ctx, e) {
		ok = false
	}
	if v.rejected[br] {
		return // its hash and lts do not matter: the entry must go
	}
	if !v.upstreamEntry(ctx, e, ver, withLTS) {
		ok = false
	}
	if ok {
		vf := family.Verified{File: f, Line: line, Branch: br, To: e.Version, Hash: e.Hash}
		if ch.Old != nil {
			vf.From = ch.Old.Version
		}
		v.out.Verify(vf)
	}
}

// version checks that an entry's key is a branch and its version a version
// of that branch.
func (v *verification) version(e *entry) (kernelorg.Version, bool) {
	f, line, br := kernelsJSON, e.Line, e.Branch
	if br != "testing" {
		if _, _, err := kernelorg.ParseSeries(br); err != nil {
			v.out.Findingf(f, line, family.RuleEntry, "%q is not a branch: keys are MAJOR.MINOR (e.g. \"6.12\") or \"testing\"", br)
			return kernelorg.Version{}, false
		}
	}
	ver, err := kernelorg.ParseVersion(e.Version)
	if err != nil {
		v.out.Findingf(f, line, family.RuleVersion, "%q: %v; fix the version", br, err)
		return kernelorg.Version{}, false
	}
	if ver.Branch() != br {
		if br == "testing" {
			v.out.Findingf(f, line, family.RuleVersion, "%q holds %s, which is not a release candidate; \"testing\" holds the current rc (a release goes under %q)", br, ver, ver.Branch())
		} else {
			v.out.Findingf(f, line, family.RuleVersion, "%q holds %s, which belongs under %q; fix the version", br, ver, ver.Branch())
		}
		return kernelorg.Version{}, false
	}
	return ver, true
}

// addable checks that an added branch is one kernel.org still maintains.
func (v *verification) addable(ctx context.Context, e *entry) bool {
	if e.Branch == "testing" {
		return true
	}
	w, ok, err := v.removedInBase(kernelfiles.Attr(e.Branch))
	if err != nil {
		v.out.Unverifiedf(kernelsJSON, e.Line, "%q: could not tell whether the base removed it: kupdate cannot read the base tree: %v", e.Branch, err)
	}
	if ok {
		v.out.Findingf(kernelsJSON, e.Line, family.RuleReadded, "%q was removed from this tree before (its throw is at %s); kupdate never adds a removed branch back (nixpkgs#258569): drop the entry", e.Branch, w)
		v.rejected[e.Branch] = true
		return false
	}
	idx, err := v.up.index(ctx)
	if err != nil {
		return false // reported as unverified by upstreamEntry
	}
	if rel, ok := idx.series[e.Branch]; ok {
		if rel.EOL {
			v.out.Findingf(kernelsJSON, e.Line, family.RuleEOL, "%q is end of life on kernel.org (its last release is %s); nixpkgs removes EOL branches, never adds them: drop the entry", e.Branch, rel.Version)
			v.rejected[e.Branch] = true
			return false
		}
		return true
	}
	if kernelorg.CompareSeries(e.Branch, idx.newestSeries) < 0 {
		v.out.Findingf(kernelsJSON, e.Line, family.RuleEOL, "%q is no longer listed on kernel.org (end of life); nixpkgs never adds an EOL branch: drop the entry", e.Branch)
		v.rejected[e.Branch] = true
		return false
	}
	return true // newer than anything listed: the version check says whether it is real
}

// removedInBase says where the base turned attr into a throw, if it did: a
// removed kernel is never added back (nixpkgs #258569). The error is for a
// base kupdate cannot read.
func (v *verification) removedInBase(attr string) (string, bool, error) {
	m, err := kernelfiles.Read(v.base)
	if err != nil {
		return "", false, err
	}
	w, ok := m.Removed(attr)
	return w, ok, nil
}

// upstreamEntry checks that the entry's version is a kernel.org release, its
// hash kernel.org's and its lts flag kernel.org's. It reports whether all of
// that was verified.
func (v *verification) upstreamEntry(ctx context.Context, e *entry, ver kernelorg.Version, withLTS bool) bool {
	f, line, br := kernelsJSON, e.Line, e.Branch
	idx, err := v.up.index(ctx)
	if err != nil {
		v.out.Unverifiedf(f, line, "%q %s: could not verify against kernel.org: %v", br, ver, err)
		return false
	}
	rel, listed := idx.versions[ver]
	if !listed && ver.IsRC() && !idx.newest.IsZero() && idx.newest.Less(ver) {
		// No snapshot can exist for an rc newer than anything kernel.org
		// lists; do not download to find out (git.kernel.org answers 404).
		v.out.Findingf(f, line, family.RuleVersion, "%q %s is not a kernel.org release: it is newer than anything kernel.org lists (the newest is %s); fix the version", br, ver, idx.newest)
		return false
	}
	want, notRelease, err := v.up.Hash(ctx, ver)
	switch {
	case notRelease:
		v.out.Findingf(f, line, family.RuleVersion, "%q %s is not a kernel.org release: releases.json does not list it and %s; fix the version", br, ver, NotPublished(ver))
		return false
	case err != nil:
		v.out.Unverifiedf(f, line, "%q %s: %v", br, ver, err)
		return false
	}
	ok := true
	if e.Hash != want {
		v.out.Findingf(f, line, family.RuleHash, "%q hash %s does not match %s (%s); run kupdate update or fix the hash", br, e.Hash, HashSource(ver), want)
		ok = false
	}
	if !v.lts(e, idx, rel, listed, withLTS) {
		ok = false
	}
	return ok
}

// lts checks the entry's lts key against kernel.org's flag and the tree's
// shape. It reports whether all is well.
func (v *verification) lts(e *entry, idx *releaseIndex, rel kernelorg.Release, listed, withLTS bool) bool {
	f, line, br := kernelsJSON, e.Line, e.Branch
	lts, known := knownLTS(idx, br, rel, listed)
	switch {
	case !withLTS && e.LTS != nil:
		v.out.Findingf(f, line, family.RuleLTS, "%q has an \"lts\" key, which this tree's kernels-org.json does not use; remove it (kupdate keeps the tree's shape)", br)
		return false
	case withLTS && e.LTS == nil:
		v.out.Findingf(f, line, family.RuleLTS, "%q has no \"lts\" key while the tree's other entries do; add \"lts\": %t", br, lts)
		return false
	case withLTS && known && lts != *e.LTS:
		switch {
		case lts:
			v.out.Findingf(f, line, family.RuleLTS, "%q has \"lts\": false but kernel.org lists %s as longterm; set \"lts\": true", br, br)
		case br == "testing":
			v.out.Findingf(f, line, family.RuleLTS, "%q has \"lts\": true but a release candidate is never longterm; set \"lts\": false", br)
		default:
			v.out.Findingf(f, line, family.RuleLTS, "%q has \"lts\": true but kernel.org does not list %s as longterm; set \"lts\": false", br, br)
		}
		return false
	}
	return true
}

// knownLTS is kernel.org's lts flag for a branch, when kernel.org still
// lists the series.
func knownLTS(idx *releaseIndex, branch string, rel kernelorg.Release, listed bool) (lts, known bool) {
	if branch == "testing" {
		return false, true
	}
	if s, ok := idx.series[branch]; ok {
		return s.LTS, true
	}
	if listed {
		return rel.LTS, true
	}
	return false, false
}
