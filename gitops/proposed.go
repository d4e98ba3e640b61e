package gitops

import (
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/kupdate/kupdate/family"
)

// Proposed is one of kupdate's commits on a fork's branch: what it proposes
// (its Key, read from its trailers, or for a commit of an earlier kupdate
// from its title) and its title, for people.
type Proposed struct {
	Key   family.Key // zero when the commit says nothing kupdate can read
	Title string
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
