package check

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/family"
)

// The PR title of kupdate's rolling update branch (and of nixpkgs' weekly
// batches): a fine pull request title, never a commit title. nixpkgs
// writes it in lower case since 2026 and capitalised before, so either
// counts.
const batchTitlePrefix = "kernel updates for"

// titles checks each commit that changes a family's files. One that
// changes a family's entries must be titled as nixpkgs' convention (the
// families' titles) names what it changes, one branch per commit, across
// families; any other may be titled freely, except as a change of an entry
// (the families say which titles claim one).
func (r *run) titles(ctx context.Context, commits []Commit) error {
	for _, c := range commits {
		r.commits[c.SHA] = c
	}
	for _, c := range commits {
		if len(c.Parents) != 1 {
			continue // merges carry no title of their own
		}
		touched := r.touched(c)
		if len(touched) == 0 {
			continue
		}
		if !r.changesEntries(c) {
			r.claimsChange(c, touched)
			continue
		}
		parent, err := r.treeOf(ctx, c.Parents[0])
		if err != nil {
			return err
		}
		tree, err := r.treeOf(ctx, c.SHA)
		if err != nil {
			return err
		}
		fc := family.Commit{SHA: c.SHA, Title: c.Title, Files: c.Files, Parent: parent, Tree: tree}
		var cts []family.CommitTitles
		for _, t := range r.titlers {
			cts = append(cts, t.t.Titles(fc))
		}
		r.commitTitle(c, cts)
	}
	return nil
}

// touched are the family files c changes, in registry order.
func (r *run) touched(c Commit) []string {
	var out []string
	for _, p := range r.paths {
		if slices.Contains(c.Files, p) {
			out = append(out, p)
		}
	}
	return out
}

// changesEntries reports whether c changes a file whose entries a
// verifying family's titles name.
func (r *run) changesEntries(c Commit) bool {
	for _, t := range r.titlers {
		for _, f := range t.v.EntryFiles() {
			if slices.Contains(c.Files, f) {
				return true
			}
		}
	}
	return false
}

// claimsChange reports a commit that changes family files but no entry
// while its title names a change of one: the title does not say what the
// commit does. (Other titles of such commits, "linux_6_12: enable FOO",
// follow nixpkgs' free-form convention.)
func (r *run) claimsChange(c Commit, touched []string) {
	claimed := false
	var entries []string
	for _, t := range r.titlers {
		claimed = claimed || t.v.ClaimsChange(c.Title)
		entries = append(entries, t.v.EntryFiles()...)
	}
	if !claimed {
		return
	}
	r.report.Findings = append(r.report.Findings, Finding{
		File: touched[0], Line: 0, Commit: c.SHA, Rule: family.RuleTitle,
		Message: fmt.Sprintf("commit %s %q: the title names a version change, but the commit changes no entry of %s (only %s); squash it into the commit that does, or title it after what it changes", short(c.SHA), c.Title, strings.Join(entries, " or "), strings.Join(touched, " and ")),
	})
}

// commitTitle compares one commit's title with what it changes, as each
// family titles its part.
func (r *run) commitTitle(c Commit, cts []family.CommitTitles) {
	file, line := "", 0
	var want []family.Title
	for _, ct := range cts {
		if file == "" && ct.File != "" {
			file, line = ct.File, ct.Line
		}
		want = append(want, ct.Want...)
	}
	if file == "" || len(want) == 0 {
		return
	}
	report := func(format string, args ...any) {
		r.report.Findings = append(r.report.Findings, Finding{
			File: file, Line: line, Commit: c.SHA, Rule: family.RuleTitle,
			Message: fmt.Sprintf("commit %s %q: ", short(c.SHA), c.Title) + fmt.Sprintf(format, args...),
		})
	}
	if len(want) > 1 {
		whats, quoted := make([]string, len(want)), make([]string, len(want))
		for i, w := range want {
			whats[i], quoted[i] = w.What, w.String()
		}
		report("%s; nixpkgs wants one commit per branch: split it into %s", strings.Join(whats, ", "), strings.Join(quoted, " and "))
		return
	}
	w := want[0]
	switch {
	case w.Matches(c.Title):
		if w.Partial != "" {
			report("%s", w.Partial)
		}
	case len(c.Title) >= len(batchTitlePrefix) && strings.EqualFold(c.Title[:len(batchTitlePrefix)], batchTitlePrefix):
		report("%q is a pull request title; each commit is titled after the one branch it changes: %s", c.Title[:len(batchTitlePrefix)]+" ...", w)
	default:
		report("the title does not say what the commit does; it %s: title it %s", w.What, w)
	}
}
