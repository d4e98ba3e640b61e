package gitops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Proposal is what one of kupdate's branches on the fork holds now: the
// commits kupdate proposed there, which a cycle must not withdraw for a
// reason that is no fault of theirs (a source that failed this cycle).
type Proposal struct {
	Branch string
	Head   plumbing.Hash // zero: the fork has no such branch
	// Titles are the titles of kupdate's commits on the branch, oldest
	// first: the walk from Head stops at the first commit kupdate did not
	// make (the base). A branch deeper than what was fetched lists the
	// newest commits only.
	Titles []string
}

// Proposed reads what the fork's branch holds: one listing of the fork's
// refs and, when the branch's head is not here yet, a fetch of at most
// maxCommits of its commits (the most kupdate could have proposed there;
// the walk stops at the base anyway, which is here).
func (r *Repo) Proposed(ctx context.Context, fork Remote, branch string, maxCommits int) (Proposal, error) {
	p := Proposal{Branch: branch}
	remote := redact(fork.URL)
	sess, seen, err := openUploadPack(ctx, fork)
	if err != nil {
		return p, fmt.Errorf("reading the branches of %s: %w; check nixpkgs.fork and the push token", remote, err)
	}
	defer sess.Close()
	p.Head = seen[plumbing.NewBranchReferenceName(branch)]
	if p.Head.IsZero() {
		return p, nil
	}
	if !r.hasCommit(p.Head) {
		if err := r.fetch(ctx, sess, []plumbing.Hash{p.Head}, max(maxCommits, 1)+1); err != nil {
			return p, fmt.Errorf("fetching %s from %s: %w", branch, remote, err)
		}
	}
	p.Titles = r.ourTitles(p.Head)
	return p, nil
}

// ourTitles walks from tip through kupdate's own commits (isOurs) and
// returns their titles, oldest first. It stops at the first commit kupdate
// did not make, a merge, or the shallow end of what is here.
func (r *Repo) ourTitles(tip plumbing.Hash) []string {
	var titles []string
	for h := tip; !h.IsZero(); {
		c, err := object.GetCommit(r.storage, h)
		if err != nil || !isOurs(c, r.id) || len(c.ParentHashes) != 1 {
			break
		}
		title, _, _ := strings.Cut(c.Message, "\n")
		titles = append(titles, title)
		h = c.ParentHashes[0]
	}
	slices.Reverse(titles)
	return titles
}
