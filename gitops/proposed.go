package gitops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/redact"
)

// Proposal is what one of kupdate's branches on the fork holds now: the
// commits kupdate proposed there, which a cycle must not withdraw for a
// reason that is no fault of theirs (a source that failed this cycle).
type Proposal struct {
	Branch string
	Head   plumbing.Hash // zero: the fork has no such branch
	// Commits are kupdate's commits on the branch, oldest first: the walk
	// from Head stops at the first commit kupdate did not make (the base). A
	// branch deeper than what was fetched lists the newest commits only.
	Commits []Proposed
}

// Proposed is one of kupdate's commits on a fork's branch: what it proposes
// (its Key, read from its trailers, or for a commit of an earlier kupdate
// from its title) and its title, for people.
type Proposed struct {
	Key   family.Key // zero when the commit says nothing kupdate can read
	Title string
}

// Proposed reads what the fork's branch holds: one listing of the fork's
// refs and, when the branch's head is not here yet, a fetch of at most
// maxCommits of its commits (the most kupdate could have proposed there;
// the walk stops at the base anyway, which is here).
func (r *Repo) Proposed(ctx context.Context, fork Remote, branch string, maxCommits int) (Proposal, error) {
	p := Proposal{Branch: branch}
	remote := redact.URL(fork.URL)
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
	p.Commits = r.ours(p.Head)
	return p, nil
}

// ours walks from tip through kupdate's own commits (isOurs) and returns
// them, oldest first. It stops at the first commit kupdate did not make, a
// merge, or the shallow end of what is here.
func (r *Repo) ours(tip plumbing.Hash) []Proposed {
	var out []Proposed
	for h := tip; !h.IsZero(); {
		c, err := object.GetCommit(r.storage, h)
		if err != nil || !isOurs(c, r.id) || len(c.ParentHashes) != 1 {
			break
		}
		out = append(out, proposed(c.Message))
		h = c.ParentHashes[0]
	}
	slices.Reverse(out)
	return out
}

// proposed reads what a commit of kupdate's proposes: its Key trailers, or,
// for a commit an earlier kupdate pushed without them, its title.
func proposed(msg string) Proposed {
	title, _, _ := strings.Cut(msg, "\n")
	k, ok := family.KeyOf(msg)
	if !ok {
		k, _ = family.LegacyKey(title)
	}
	return Proposed{Key: k, Title: title}
}
