package check

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
)

// The PR title of kupdate's rolling update branch (and of nixpkgs' weekly
// batches): a fine pull request title, never a commit title.
const batchTitlePrefix = "Kernel updates for"

// titles checks each commit that changes a kernel entry: its title must be
// the one nixpkgs' convention (the updater's Title) gives what it changes,
// one branch per commit.
func (r *run) titles(commits []Commit) error {
	for _, c := range commits {
		if len(c.Parents) != 1 {
			continue // merges carry no title of their own
		}
		if !touchesJSON(c.Files) {
			r.claimsVersionChange(c)
			continue
		}
		ks, hs, err := r.commitChanges(c)
		if err != nil {
			return err
		}
		r.commitTitle(c, ks, hs)
	}
	return nil
}

// versionTitleRE matches the titles that name a change of a JSON entry:
// a bump, an init, a removal, a hardened bump.
var versionTitleRE = regexp.MustCompile(`^(linux_(?:[0-9]+_[0-9]+|testing)(?:_hardened)?: (?:\S+ -> \S+|init at \S+|remove)|linux/hardened/patches/\S+: \S+ -> \S+)$`)

// claimsVersionChange reports a commit that changes linux-kernels.nix or
// aliases.nix but no JSON entry while its title names a version change:
// the title does not say what the commit does. (Other titles of such
// commits, "linux_6_12: enable FOO", follow nixpkgs' free-form convention.)
func (r *run) claimsVersionChange(c Commit) {
	var touched []string
	for _, f := range []string{LinuxKernelsNix, AliasesNix} {
		if slices.Contains(c.Files, f) {
			touched = append(touched, f)
		}
	}
	if len(touched) == 0 || !versionTitleRE.MatchString(c.Title) {
		return
	}
	r.report.Findings = append(r.report.Findings, Finding{
		File: touched[0], Line: 0, Commit: c.SHA, Rule: RuleTitle,
		Message: fmt.Sprintf("commit %s %q: the title names a version change, but the commit changes no entry of %s or %s (only %s); squash it into the commit that does, or title it after what it changes", short(c.SHA), c.Title, KernelsOrgJSON, HardenedPatches, strings.Join(touched, " and ")),
	})
}

func touchesJSON(files []string) bool {
	return slices.Contains(files, KernelsOrgJSON) || slices.Contains(files, HardenedPatches)
}

// commitChanges diffs kernels-org.json and patches.json between a commit and
// its parent. A file that does not parse on either side contributes nothing
// (the diff of the whole pull request reports it).
func (r *run) commitChanges(c Commit) ([]entryChange, []hardenedChange, error) {
	var ks []entryChange
	var hs []hardenedChange
	read := func(rev, path string) ([]byte, error) {
		b, err := r.c.Repo.ReadFile(r.ctx, rev, path)
		if err != nil && isNotExist(err) {
			return nil, nil
		}
		return b, err
	}
	if slices.Contains(c.Files, KernelsOrgJSON) {
		before, err := read(c.Parents[0], KernelsOrgJSON)
		if err != nil {
			return nil, nil, err
		}
		after, err := read(c.SHA, KernelsOrgJSON)
		if err != nil {
			return nil, nil, err
		}
		be, err1 := kernelEntries(before)
		ae, err2 := kernelEntries(after)
		if (before == nil || err1 == nil) && (after == nil || err2 == nil) {
			ks = diffEntries(be, ae)
		}
	}
	if slices.Contains(c.Files, HardenedPatches) {
		before, err := read(c.Parents[0], HardenedPatches)
		if err != nil {
			return nil, nil, err
		}
		after, err := read(c.SHA, HardenedPatches)
		if err != nil {
			return nil, nil, err
		}
		be, err1 := hardenedEntries(before)
		ae, err2 := hardenedEntries(after)
		if (before == nil || err1 == nil) && (after == nil || err2 == nil) {
			hs = diffHardened(be, ae)
		}
	}
	return ks, hs, nil
}

// commitTitle compares one commit's title with what it changes.
func (r *run) commitTitle(c Commit, ks []entryChange, hs []hardenedChange) {
	file, line := KernelsOrgJSON, 0
	switch {
	case len(ks) > 0:
		line = r.headLine(ks[0])
	case len(hs) > 0:
		file, line = HardenedPatches, r.headHardenedLine(hs[0].Branch)
	default:
		return
	}
	report := func(format string, args ...any) {
		r.report.Findings = append(r.report.Findings, Finding{
			File: file, Line: line, Commit: c.SHA, Rule: RuleTitle,
			Message: fmt.Sprintf("commit %s %q: ", short(c.SHA), c.Title) + fmt.Sprintf(format, args...),
		})
	}

	want, what := expectedTitles(ks, hs)
	switch {
	case len(want) == 0:
		return
	case len(want) > 1:
		report("%s; nixpkgs wants one commit per branch: split it into %s", what, quoteAll(want))
		return
	}
	w := want[0]
	if w.matches(c.Title) {
		if len(ks) == 1 && ks[0].Old == nil && !r.incompleteInit[ks[0].Branch] && !r.rejected[ks[0].Branch] &&
			(!slices.Contains(c.Files, LinuxKernelsNix) || !slices.Contains(c.Files, AliasesNix)) {
			report("adds %q to kernels-org.json without the %s and %s parts of the init; nixpkgs squashes them into this commit", ks[0].Branch, LinuxKernelsNix, AliasesNix)
		}
		return
	}
	if strings.HasPrefix(c.Title, batchTitlePrefix) {
		report("%q is a pull request title; each commit is titled after the one branch it changes: %s", batchTitlePrefix+" ...", w)
		return
	}
	report("the title does not say what the commit does; it %s: title it %s", what, w)
}

// title is a conventional commit title, or the prefix of one when no exact
// title is conventional (a hash fix).
type title struct {
	text   string
	prefix bool
}

func (t title) matches(s string) bool {
	if t.prefix {
		return strings.HasPrefix(s, t.text) && len(s) > len(t.text)
	}
	return s == t.text
}

func (t title) String() string {
	if t.prefix {
		return fmt.Sprintf("%q", t.text+"...")
	}
	return fmt.Sprintf("%q", t.text)
}

// expectedTitles are the titles nixpkgs' convention (the updater's Title)
// gives a commit's changes, one per independent change: more than one means
// the commit should be split. what describes the changes for messages.
func expectedTitles(ks []entryChange, hs []hardenedChange) (want []title, what string) {
	var whats []string
	add := func(t title, w string) {
		want = append(want, t)
		whats = append(whats, w)
	}
	removed := map[string]bool{}
	for _, ch := range ks {
		attr := kernelfiles.Attr(ch.Branch)
		switch {
		case ch.Old == nil:
			add(title{text: vanilla.Title(family.Change{Kind: vanilla.Init, Attr: attr, Branch: ch.Branch, To: ch.New.Version})},
				fmt.Sprintf("adds %q at %s", ch.Branch, ch.New.Version))
		case ch.New == nil:
			removed[ch.Branch] = true
			add(title{text: vanilla.Title(family.Change{Kind: vanilla.Remove, Attr: attr, Branch: ch.Branch})},
				fmt.Sprintf("removes %q", ch.Branch))
		case ch.Old.Version != ch.New.Version:
			add(title{text: vanilla.Title(family.Change{Kind: vanilla.Bump, Attr: attr, Branch: ch.Branch, From: ch.Old.Version, To: ch.New.Version})},
				fmt.Sprintf("changes %q from %s to %s", ch.Branch, ch.Old.Version, ch.New.Version))
		case !eqBool(ch.Old.LTS, ch.New.LTS) && ch.Old.Hash == ch.New.Hash && ch.New.LTS != nil:
			add(title{text: vanilla.Title(family.Change{Kind: vanilla.Bump, Attr: attr, Branch: ch.Branch, From: ch.Old.Version, To: ch.New.Version, LTS: *ch.New.LTS})},
				fmt.Sprintf("flips the lts flag of %q", ch.Branch))
		default:
			add(title{text: attr + ": ", prefix: true}, fmt.Sprintf("changes the entry of %q at %s", ch.Branch, ch.New.Version))
		}
	}
	var dropped []hardenedChange
	inits := 0
	for _, h := range hs {
		switch {
		case h.Old == nil:
			inits++
			attr := kernelfiles.Attr(h.Branch) + "_hardened"
			add(title{text: hardened.Title(family.Change{Kind: hardened.Init, Attr: attr, Branch: h.Branch, To: h.New.tag()})},
				fmt.Sprintf("adds hardened %q at %s", h.Branch, h.New.tag()))
		case h.New == nil:
			dropped = append(dropped, h)
		case h.Old.tag() == h.New.tag():
			add(title{text: "linux/hardened/patches/" + h.Branch + ": ", prefix: true}, fmt.Sprintf("changes the hardened entry of %q", h.Branch))
		default:
			add(title{text: hardened.Title(family.Change{Kind: hardened.Bump, Branch: h.Branch, From: h.Old.tag(), To: h.New.tag()})},
				fmt.Sprintf("changes hardened %q from %s to %s", h.Branch, h.Old.tag(), h.New.tag()))
		}
	}
	// Dropping a hardened branch belongs to the commit that makes it go: a
	// hardened init (nixpkgs keeps the latest stable and LTS) or the removal
	// of its branch. Alone, it has no fixed title.
	for _, h := range dropped {
		if inits == 0 && !removed[h.Branch] {
			attr := kernelfiles.Attr(h.Branch) + "_hardened"
			add(title{text: attr + ": ", prefix: true}, fmt.Sprintf("drops hardened %q", h.Branch))
		}
	}
	return want, strings.Join(whats, ", ")
}

func quoteAll(ts []title) string {
	q := make([]string, len(ts))
	for i, t := range ts {
		q[i] = t.String()
	}
	return strings.Join(q, " and ")
}

// headLine is the line of a changed entry in the head file (where it was,
// for a removal).
func (r *run) headLine(ch entryChange) int {
	for _, e := range r.headEntries {
		if e.Branch == ch.Branch {
			return e.Line
		}
	}
	return r.removedLine(ch.Branch)
}
