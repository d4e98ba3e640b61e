package hardened

import (
	"fmt"
	"slices"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
)

// Titles are the titles Title gives each patches.json entry c changes. A
// hardened kernel dropped belongs to the commit that makes it go: a
// hardened init (nixpkgs keeps the latest stable and LTS) or the removal of
// its kernel.org branch; alone, it has no fixed title.
func (v *verification) Titles(c family.Commit) family.CommitTitles {
	if !slices.Contains(c.Files, patchesJSON) {
		return family.CommitTitles{}
	}
	hs := commitChanges(c.Parent, c.Tree)
	if len(hs) == 0 {
		return family.CommitTitles{}
	}
	ct := family.CommitTitles{File: patchesJSON, Line: v.headLine(hs[0].Branch)}
	var dropped []hardenedChange
	inits := 0
	for _, h := range hs {
		switch {
		case h.Old == nil:
			inits++
			ct.Want = append(ct.Want, family.Title{Text: Title(family.Change{Kind: Init, Attr: Attr(h.Branch), Branch: h.Branch, To: h.New.tag()}),
				What: fmt.Sprintf("adds hardened %q at %s", h.Branch, h.New.tag())})
		case h.New == nil:
			dropped = append(dropped, h)
		case h.Old.tag() == h.New.tag():
			ct.Want = append(ct.Want, family.Title{Text: "linux/hardened/patches/" + h.Branch + ": ", Prefix: true,
				What: fmt.Sprintf("changes the hardened entry of %q", h.Branch)})
		default:
			ct.Want = append(ct.Want, family.Title{Text: Title(family.Change{Kind: Bump, Branch: h.Branch, From: h.Old.tag(), To: h.New.tag()}),
				What: fmt.Sprintf("changes hardened %q from %s to %s", h.Branch, h.Old.tag(), h.New.tag())})
		}
	}
	removed := vanilla.RemovedBranches(c.Parent, c.Tree)
	for _, h := range dropped {
		if inits == 0 && !removed[h.Branch] {
			ct.Want = append(ct.Want, family.Title{Text: Attr(h.Branch) + ": ", Prefix: true,
				What: fmt.Sprintf("drops hardened %q", h.Branch)})
		}
	}
	return ct
}

// commitChanges diffs patches.json between two trees, a missing file
// counting as empty. A file that does not parse on either side contributes
// nothing (the diff of the whole pull request reports it).
func commitChanges(before, after *family.Tree) []hardenedChange {
	be, err1 := hardenedEntries(before.File(patchesJSON))
	ae, err2 := hardenedEntries(after.File(patchesJSON))
	if err1 != nil || err2 != nil {
		return nil
	}
	return diffHardened(be, ae)
}

// headLine is the line of branch in the head's patches.json, 0 if it has
// none.
func (v *verification) headLine(branch string) int {
	hs, _ := hardenedEntries(v.head.File(patchesJSON))
	for _, h := range hs {
		if h.Branch == branch {
			return h.Line
		}
	}
	return 0
}
