// Package gitops turns a plan of changes into git commits and branches, and
// pushes them to a fork with a lease.
//
// It works on the object store only: the files of each change are written as
// blobs, the trees along their paths are rebuilt, and commit objects are
// written directly. Nothing scans a worktree; at nixpkgs scale (40,000 files)
// go-git's Worktree.Add/Status is the slow path. A managed clone is bare,
// shallow and single-branch; a maintainer's checkout is touched only at the
// paths kupdate changes.
package gitops

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/kupdate/kupdate/family"
)

// Identity is the author and committer of kupdate's commits ([git]
// author_name, author_email).
type Identity struct{ Name, Email string }

// Commit is one change and the full new content of every file it touches
// (slash paths relative to the repository root). A nil content deletes the
// file.
type Commit struct {
	Change family.Change
	Files  map[string][]byte
}

// Branch is a planned branch: its name, the base branch it starts from (never
// pushed to), and its commits in order.
type Branch struct {
	Name    string
	Base    string
	Commits []Commit
	// Reach is how many of kupdate's commits the fork's branch may hold at
	// most (one per attribute kupdate keeps): a push reads that deep, so
	// PushResult.Previous lists all of them. 0 means as many as Commits.
	Reach int
}

// Changes lists the changes of b's commits, in order.
func (b Branch) Changes() []family.Change {
	cs := make([]family.Change, len(b.Commits))
	for i, c := range b.Commits {
		cs[i] = c.Change
	}
	return cs
}

// BranchPrefix starts every branch kupdate pushes; nothing else is pushed.
const BranchPrefix = "kupdate/"

// RollingBranch is the branch of the point releases for base. It is
// kupdate/<base>/updates rather than kupdate/<base>: git cannot hold a ref
// kupdate/<base> next to kupdate/<base>/<attr>-init (the first is a file
// where the second needs a directory), and every git server refuses the
// second push.
func RollingBranch(base string) string { return BranchPrefix + base + "/updates" }

// ChangeBranch is the branch of a change that gets its own pull request,
// named by its family's Own suffix: kupdate/staging-nixos/linux_7_0-init.
func ChangeBranch(base string, c family.Change) string {
	return BranchPrefix + base + "/" + c.Attr + "-" + c.Own
}

// PlanBranches groups commits into branches: every Rolling() change into the
// rolling branch (first, in plan order), every other change into a branch of
// its own (in plan order). The same plan always gives the same branches.
func PlanBranches(base string, commits []Commit) []Branch {
	var rolling []Commit
	var own []Branch
	for _, c := range commits {
		if c.Change.Rolling() {
			rolling = append(rolling, c)
			continue
		}
		own = append(own, Branch{Name: ChangeBranch(base, c.Change), Base: base, Commits: []Commit{c}})
	}
	var bs []Branch
	if len(rolling) > 0 {
		bs = append(bs, Branch{Name: RollingBranch(base), Base: base, Commits: rolling})
	}
	return append(bs, own...)
}

// Trailer marks kupdate's commits. A commit on a kupdate branch without it,
// or not authored and committed by kupdate's identity, was made by someone
// else, and kupdate never force-pushes it away.
const Trailer = family.PreparedBy

// Message is the commit message of c as nixpkgs' kernel commits are
// written: the title alone, then the trailers (the one that marks
// kupdate's commits and the change's Key). The ChangeLog link and the
// disclosure of automation are the pull request's to carry (nixpkgs'
// automation policy asks for the disclosure on the PR).
func Message(c family.Change) string {
	if c.Key.IsZero() {
		return c.Title + "\n\n" + Trailer + "\n"
	}
	return c.Title + "\n\n" + strings.Join(c.Key.Trailers(), "\n") + "\n"
}

// formerDisclosure is the line an earlier kupdate wrote into every commit
// body, before the disclosure moved to the PR.
const formerDisclosure = "This commit was prepared by kupdate, an automated tool; a person reviews it before merge."

// formerMessages are c's message in the shapes earlier kupdates wrote: the
// title, the ChangeLog link when there is one, the disclosure, and the
// trailers, with the Key's (from when commits carried it) and without.
func formerMessages(c family.Change) []string {
	var b strings.Builder
	b.WriteString(c.Title)
	b.WriteString("\n\n")
	if c.ChangeLog != "" {
		b.WriteString(c.ChangeLog)
		b.WriteString("\n\n")
	}
	b.WriteString(formerDisclosure)
	b.WriteString("\n\n")
	b.WriteString(Trailer)
	b.WriteString("\n")
	unkeyed := b.String()
	if c.Key.IsZero() {
		return []string{unkeyed}
	}
	return []string{unkeyed + strings.Join(c.Key.Trailers()[1:], "\n") + "\n", unkeyed}
}

// sameMessage reports whether a commit message on the fork (theirs) is one
// kupdate writes for c: Message(c), or c's message as an earlier kupdate
// wrote it. Each is rendered from c and compared whole, so nothing is read
// back out of a message, and an upgrade does not force-push every open
// branch only because the shape of its messages changed.
func sameMessage(c family.Change, theirs string) bool {
	return theirs == Message(c) || slices.Contains(formerMessages(c), theirs)
}

// isOurs reports whether c was made by kupdate with identity id: the trailer
// in its last paragraph, and author and committer both id. An amended or
// rebased commit has another committer, so it counts as someone else's.
func isOurs(c *object.Commit, id Identity) bool {
	if !strings.EqualFold(c.Author.Email, id.Email) || !strings.EqualFold(c.Committer.Email, id.Email) {
		return false
	}
	msg := strings.TrimRight(c.Message, "\n")
	last := msg[strings.LastIndex(msg, "\n\n")+1:]
	for _, line := range strings.Split(last, "\n") {
		if strings.TrimSpace(line) == Trailer {
			return true
		}
	}
	return false
}

// checkPushable refuses any destination but a kupdate/ branch that is not the
// base branch itself.
func checkPushable(name, base string) error {
	if !strings.HasPrefix(name, BranchPrefix) || name == BranchPrefix {
		return fmt.Errorf("refusing to push %q: kupdate pushes only to branches under %s", name, BranchPrefix)
	}
	if name == base || name == strings.TrimPrefix(base, "refs/heads/") {
		return fmt.Errorf("refusing to push %q: it is the base branch, which kupdate never pushes to", name)
	}
	if err := plumbing.NewBranchReferenceName(name).Validate(); err != nil {
		return fmt.Errorf("refusing to push %q: not a valid branch name: %w", name, err)
	}
	return nil
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "(absent)"
	}
	return h.String()[:12]
}
