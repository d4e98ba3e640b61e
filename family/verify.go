package family

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Verifier is a family whose changes `kupdate check` verifies: what a pull
// request changes in the family's files, against the family's own sources,
// and whether each commit is titled as nixpkgs titles the family's changes.
// It is optional: kupdate check reports a change to the files of a family
// that is not a Verifier as unverified, never as verified.
type Verifier interface {
	// Sources name what Verify checks against, for the report's summary
	// ("verified against kernel.org and linux-hardened").
	Sources() []string
	// Verify checks what pr changes in the family's files and reports it
	// to out: findings, what could not be verified (a source unreachable),
	// and each entry verified in every respect. It returns what the title
	// rule needs of the family for this pull request. An error means the
	// trees cannot be checked at all (they are not trees the family can
	// read); a source failure is an Unverified item, never an error.
	Verify(ctx context.Context, pr PR, out *Results) (Titler, error)
	// EntryFiles are the files whose entries the family's commit titles
	// name (kernels-org.json): a commit that changes one of them is titled
	// after what it changes there (Titler.Titles); any other commit is
	// titled freely, except that ClaimsChange must not hold.
	EntryFiles() []string
	// ClaimsChange reports whether title names a change of one of the
	// family's entries (`linux_6_12: 6.12.63 -> 6.12.64`, `linux_5_10:
	// remove`): a commit that changes none of EntryFiles must not be titled
	// so. Free-form titles (`linux_6_12: enable FOO`) do not claim one.
	ClaimsChange(title string) bool
}

// PR is a pull request as a family's verifier sees it.
type PR struct {
	// Base is the tree where the pull request branched off (the merge
	// base), Head its head; both hold every registered family's files.
	// Either may lack the family's files (a pull request that adds or
	// deletes them).
	Base, Head *Tree
	// Log takes what is worth knowing but not a finding (a base that does
	// not parse). Never nil.
	Log *slog.Logger
}

// Titler says which titles nixpkgs expects of one pull request's commits,
// for one family.
type Titler interface {
	// Titles are the titles of the family's changes in c, a commit that
	// changes at least one file of the verifying families' EntryFiles.
	Titles(c Commit) CommitTitles
}

// Commit is one commit of a pull request with a single parent.
type Commit struct {
	SHA   string
	Title string   // the subject line
	Files []string // the paths it changes
	// Parent and Tree are the family files before and after the commit.
	Parent, Tree *Tree
}

// CommitTitles are the changes one commit makes to a family's entries, as
// nixpkgs titles them.
type CommitTitles struct {
	// File and Line locate the first entry the commit changes, in the
	// pull request's head (where it was, when the head no longer has it):
	// where a title finding points. File is "" when the commit changes no
	// entry of the family.
	File string
	Line int
	// Want holds one title per change that nixpkgs commits on its own, in
	// the family's order. A commit is titled after its one change; more
	// than one, across families, means it must be split.
	Want []Title
}

// Title is the commit title nixpkgs gives one change: exactly Text, or,
// when no exact title is conventional (a hash fixed in place), Text and
// something after it.
type Title struct {
	Text   string
	Prefix bool
	// What says what the change does, for messages: `changes "6.12" from
	// 6.12.63 to 6.12.64`.
	What string
	// Partial says what the commit lacks of the change when part of it is
	// in another commit (an init whose linux-kernels.nix part comes
	// later): reported on a commit titled as this, its only change.
	Partial string
}

// Matches reports whether s is the title t wants.
func (t Title) Matches(s string) bool {
	if t.Prefix {
		return strings.HasPrefix(s, t.Text) && len(s) > len(t.Text)
	}
	return s == t.Text
}

// String quotes the title for messages; a prefix ends in "...".
func (t Title) String() string {
	if t.Prefix {
		return fmt.Sprintf("%q", t.Text+"...")
	}
	return fmt.Sprintf("%q", t.Text)
}
