package gitops

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/kupdate/kupdate/redact"
)

// A base branch like staging-nixos moves many times a day. Rebuilding every
// kupdate branch on each new base would force-push every open pull request
// and restart its CI (a kernel bump rebuilds every NixOS VM test) for
// nothing: a branch whose commits change only files the base did not touch
// since is kept where it is. These are the checks behind that.

// ancestrySlack is how far before the older base's commit time the history
// walks go: a commit between the two bases is younger than the older one,
// give or take its committer's clock.
const ancestrySlack = 24 * time.Hour

// maxWalk bounds a walk of the base's history, in commits.
const maxWalk = 200_000

// onOlderBase checks whether the fork's branch at tip holds b's commits on
// another base than b's: as many, with the same messages in the same order,
// each changing exactly the paths of b's commit to the same content (blob and
// mode), and every path they touch the same at that base as at b's. It
// returns that base's commit, and why not ("" when it does). Whether the
// older base is an ancestor of b's is for descends to say.
func (r *Repo) onOlderBase(ctx context.Context, tip plumbing.Hash, b BuiltBranch) (*object.Commit, string) {
	theirs := make([]*object.Commit, len(b.Hashes))
	ours := make([]*object.Commit, len(b.Hashes))
	h := tip
	for i := len(b.Hashes) - 1; i >= 0; i-- {
		c, err := object.GetCommit(r.storage, h)
		if err != nil {
			return nil, fmt.Sprintf("commit %s could not be read (%v)", short(h), err)
		}
		o, err := object.GetCommit(r.storage, b.Hashes[i])
		if err != nil {
			return nil, fmt.Sprintf("commit %s could not be read (%v)", short(b.Hashes[i]), err)
		}
		if len(c.ParentHashes) != 1 || !sameMessage(b.Commits[i].Change, c.Message) {
			return nil, "its commits are not the planned ones"
		}
		theirs[i], ours[i] = c, o
		h = c.ParentHashes[0]
	}
	if h == b.BaseCommit {
		return nil, "its commits change other content than planned"
	}
	old, err := object.GetCommit(r.storage, h)
	if err != nil {
		return nil, fmt.Sprintf("its base %s could not be read (%v)", short(h), err)
	}
	oldTree, err := old.Tree()
	if err != nil {
		return nil, fmt.Sprintf("its base %s could not be read (%v)", short(h), err)
	}
	baseCommit, err := object.GetCommit(r.storage, b.BaseCommit)
	if err != nil {
		return nil, fmt.Sprintf("the base %s could not be read (%v)", short(b.BaseCommit), err)
	}
	baseTree, err := baseCommit.Tree()
	if err != nil {
		return nil, fmt.Sprintf("the base %s could not be read (%v)", short(b.BaseCommit), err)
	}

	touched := map[string]bool{}
	prev := oldTree
	for i, c := range theirs {
		title := b.Commits[i].Change.Title
		t, err := c.Tree()
		if err != nil {
			return nil, fmt.Sprintf("commit %q could not be read (%v)", title, err)
		}
		ot, err := ours[i].Tree()
		if err != nil {
			return nil, fmt.Sprintf("commit %q could not be read (%v)", title, err)
		}
		changes, err := object.DiffTreeWithOptions(ctx, prev, t, &object.DiffTreeOptions{})
		if err != nil {
			return nil, fmt.Sprintf("commit %q could not be compared with its parent (%v)", title, err)
		}
		for _, ch := range changes {
			for _, p := range []string{ch.From.Name, ch.To.Name} {
				if _, ok := b.Commits[i].Files[p]; p != "" && !ok {
					return nil, fmt.Sprintf("commit %q changes %s, which the planned commit does not", title, p)
				}
			}
		}
		for _, p := range sortedKeys(b.Commits[i].Files) {
			touched[p] = true
			if same, err := sameEntry(t, ot, p); err != nil || !same {
				return nil, fmt.Sprintf("commit %q has other content at %s", title, p)
			}
		}
		prev = t
	}
	paths := make([]string, 0, len(touched))
	for p := range touched {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		same, err := sameEntry(oldTree, baseTree, p)
		if err != nil {
			return nil, fmt.Sprintf("%s could not be compared between the bases (%v)", p, err)
		}
		if !same {
			return nil, fmt.Sprintf("%s changed on the base between %s and %s", p, short(old.Hash), short(b.BaseCommit))
		}
	}
	return old, ""
}

// sameEntry reports whether path is the same file (blob and mode) in a and
// b, or absent from both.
func sameEntry(a, b *object.Tree, path string) (bool, error) {
	ea, erra := findEntry(a, path)
	eb, errb := findEntry(b, path)
	if erra != nil || errb != nil {
		return false, errors.Join(erra, errb)
	}
	if ea == nil || eb == nil {
		return ea == nil && eb == nil, nil
	}
	return ea.Hash == eb.Hash && ea.Mode == eb.Mode, nil
}

// findEntry is path's entry in t, nil when there is none.
func findEntry(t *object.Tree, path string) (*object.TreeEntry, error) {
	e, err := t.FindEntry(path)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, nil
	}
	return e, err
}

// descends reports whether old is an ancestor of tip. The history at hand
// answers when it reaches that far (a maintainer's full checkout); a managed
// clone is shallow, so upstream is asked, for the commits only: tip's history
// back to old's commit time (less ancestrySlack), without what old already
// has. Answers are remembered for the life of r.
func (r *Repo) descends(ctx context.Context, tip plumbing.Hash, old *object.Commit) (bool, error) {
	key := [2]plumbing.Hash{tip, old.Hash}
	if yes, ok := r.ancestry[key]; ok {
		return yes, nil
	}
	since := old.Committer.When.Add(-ancestrySlack)
	found, complete := reaches(r.storage, tip, old.Hash, since)
	if !found && !complete {
		if r.upstream.URL == "" {
			return false, fmt.Errorf("the history of %s in %s does not reach back to %s (a shallow clone?)", short(tip), r.dir, short(old.Hash))
		}
		var err error
		if found, err = r.reachesUpstream(ctx, tip, old.Hash, since); err != nil {
			return false, fmt.Errorf("asking %s whether %s descends from %s: %w", redact.URL(r.upstream.URL), short(tip), short(old.Hash), err)
		}
	}
	r.ancestry[key] = found
	return found, nil
}

// reaches walks tip's history (every parent) for old, not past commits older
// than since. complete is false when the walk met a commit that s does not
// have (a shallow end) or grew past maxWalk: then not finding old says
// nothing.
func reaches(s storer.EncodedObjectStorer, tip, old plumbing.Hash, since time.Time) (found, complete bool) {
	complete = true
	seen := map[plumbing.Hash]bool{tip: true}
	queue := []plumbing.Hash{tip}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if h == old {
			return true, true
		}
		if len(seen) > maxWalk {
			return false, false
		}
		c, err := object.GetCommit(s, h)
		if err != nil {
			complete = false
			continue
		}
		if c.Committer.When.Before(since) {
			continue
		}
		for _, p := range c.ParentHashes {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return false, complete
}

// reachesUpstream asks upstream for tip's history since the given time, less
// what old reaches, as commit objects only where the server can leave the
// trees and blobs out (filter tree:0; GitHub can), into memory, and walks it
// for old. If old is an ancestor of tip, the commits just after it name it as
// their parent.
func (r *Repo) reachesUpstream(ctx context.Context, tip, old plumbing.Hash, since time.Time) (bool, error) {
	sess, _, err := openUploadPack(ctx, r.upstream)
	if err != nil {
		return false, err
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx) // cached by the session
	if err != nil {
		return false, err
	}
	if !ar.Capabilities.Supports(capability.DeepenSince) {
		return false, errors.New("the server does not offer deepen-since")
	}
	req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
	req.Wants = []plumbing.Hash{tip}
	req.Haves = []plumbing.Hash{old}
	req.Depth = packp.DepthSince(since)
	for _, c := range []capability.Capability{capability.Shallow, capability.DeepenSince} {
		if err := req.Capabilities.Set(c); err != nil {
			return false, err
		}
	}
	if ar.Capabilities.Supports(capability.Filter) {
		if err := req.Capabilities.Set(capability.Filter); err != nil {
			return false, err
		}
		req.Filter = packp.FilterTreeDepth(0)
	}
	if ar.Capabilities.Supports(capability.NoProgress) {
		_ = req.Capabilities.Set(capability.NoProgress)
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return false, err
	}
	defer resp.Close()
	mem := memory.NewStorage()
	if err := packfile.UpdateObjectStorage(mem, packStream(req, resp)); err != nil && !errors.Is(err, packfile.ErrEmptyPackfile) {
		return false, fmt.Errorf("reading the commits: %w", err)
	}
	found, _ := reaches(mem, tip, old, time.Time{})
	return found, nil
}
