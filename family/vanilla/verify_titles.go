package vanilla

import (
	"fmt"
	"slices"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
)

// Titles are the titles Title gives each kernels-org.json entry c changes,
// one per branch (nixpkgs commits each on its own); a hash fixed in place
// has no fixed title beyond its attribute. An init titled right but whose
// linux-kernels.nix or aliases.nix part is in another commit is Partial.
func (v *verification) Titles(c family.Commit) family.CommitTitles {
	if !slices.Contains(c.Files, kernelsJSON) {
		return family.CommitTitles{}
	}
	ks := commitChanges(c.Parent, c.Tree)
	if len(ks) == 0 {
		return family.CommitTitles{}
	}
	ct := family.CommitTitles{File: kernelsJSON, Line: v.headLine(ks[0])}
	for _, ch := range ks {
		t := entryTitle(ch)
		if ch.Old == nil && !v.incompleteInit[ch.Branch] && !v.rejected[ch.Branch] &&
			(!slices.Contains(c.Files, linuxKernels) || !slices.Contains(c.Files, aliasesNix)) {
			t.Partial = fmt.Sprintf("adds %q to kernels-org.json without the %s and %s parts of the init; nixpkgs squashes them into this commit", ch.Branch, linuxKernels, aliasesNix)
		}
		ct.Want = append(ct.Want, t)
	}
	return ct
}

// entryTitle is the title nixpkgs' convention (Title) gives a change of one
// entry.
func entryTitle(ch entryChange) family.Title {
	attr := kernelfiles.Attr(ch.Branch)
	title := func(c family.Change) string {
		c.Attr, c.Branch = attr, ch.Branch
		return Title(c)
	}
	switch {
	case ch.Old == nil:
		return family.Title{Text: title(family.Change{Kind: Init, To: ch.New.Version}),
			What: fmt.Sprintf("adds %q at %s", ch.Branch, ch.New.Version)}
	case ch.New == nil:
		return family.Title{Text: title(family.Change{Kind: Remove}),
			What: fmt.Sprintf("removes %q", ch.Branch)}
	case ch.Old.Version != ch.New.Version:
		return family.Title{Text: title(family.Change{Kind: Bump, From: ch.Old.Version, To: ch.New.Version}),
			What: fmt.Sprintf("changes %q from %s to %s", ch.Branch, ch.Old.Version, ch.New.Version)}
	case !eqBool(ch.Old.LTS, ch.New.LTS) && ch.Old.Hash == ch.New.Hash && ch.New.LTS != nil:
		return family.Title{Text: title(family.Change{Kind: Bump, From: ch.Old.Version, To: ch.New.Version, LTS: *ch.New.LTS}),
			What: fmt.Sprintf("flips the lts flag of %q", ch.Branch)}
	default:
		return family.Title{Text: attr + ": ", Prefix: true,
			What: fmt.Sprintf("changes the entry of %q at %s", ch.Branch, ch.New.Version)}
	}
}

// headLine is the line of a changed entry in the head file (where it was,
// for a removal).
func (v *verification) headLine(ch entryChange) int {
	for _, e := range v.headEntries {
		if e.Branch == ch.Branch {
			return e.Line
		}
	}
	return v.removedLine(ch.Branch)
}
