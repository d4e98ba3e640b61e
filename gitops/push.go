package gitops

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/redact"
)

// Outcome is what happened to one branch on the fork.
type Outcome string

const (
	Pushed         Outcome = "pushed"                  // the fork has kupdate's new commits
	Unchanged      Outcome = "unchanged"               // the fork already has the same commits (on the base, or kept on an older one)
	SkippedForeign Outcome = "skipped-foreign-commits" // someone else committed there; left alone
	LeaseFailed    Outcome = "lease-failed"            // the branch moved while kupdate worked; left alone
	Rejected       Outcome = "rejected"                // the server or kupdate's own guard refused it
	WouldPush      Outcome = "would-push"              // dry run: a push would happen
)

// PushResult is one branch's report, for the pull request that follows.
type PushResult struct {
	Branch  string
	Changes []family.Change
	// Built is the head kupdate built; Head is what the fork's branch points
	// at afterwards as far as kupdate knows (Built when pushed, the fork's
	// existing head otherwise, zero when the branch does not exist there).
	Built   plumbing.Hash
	Head    plumbing.Hash
	Outcome Outcome
	Err     error // why, for skipped-foreign-commits, lease-failed, rejected
	// Previous are kupdate's commits the fork's branch held before, oldest
	// first, as far as kupdate fetched it (as deep as the built branch,
	// plus one); empty for a new branch.
	Previous []Proposed
}

// Push brings each branch to the fork, one result per branch in order:
//
//   - absent there: created (the push requires it to still be absent);
//   - there with the same commits (trees and messages) on the same base:
//     unchanged, nothing sent;
//   - there with the same commits on an older base that the base descends
//     from, the files they touch the same on both (the base moved, but not
//     under kupdate's changes): unchanged too, kept where it is, so the pull
//     request and its CI are not restarted for nothing. Head is then the
//     fork's head, not Built;
//   - there with a commit kupdate did not make: left alone;
//   - otherwise replaced, with a lease: the push requires the branch to be
//     where kupdate saw it, and the server checks that atomically.
//
// Only branches under kupdate/ that are not the base are pushed. The pack
// sent holds exactly the objects kupdate wrote for these branches, so the
// cost does not grow with the repository.
func (r *Repo) Push(ctx context.Context, fork Remote, branches []BuiltBranch) []PushResult {
	return r.push(ctx, fork, branches, false)
}

// PushDryRun reports what Push would do, reading the fork but writing
// nothing to it: WouldPush where Push would push.
func (r *Repo) PushDryRun(ctx context.Context, fork Remote, branches []BuiltBranch) []PushResult {
	return r.push(ctx, fork, branches, true)
}

func (r *Repo) push(ctx context.Context, fork Remote, branches []BuiltBranch, dry bool) []PushResult {
	remote := redact.URL(fork.URL)
	res := make([]PushResult, len(branches))
	pending := make([]bool, len(branches))
	for i, b := range branches {
		res[i] = PushResult{Branch: b.Name, Changes: b.Changes(), Built: b.Head()}
		if err := checkPushable(b.Name, b.Base); err != nil {
			res[i].Outcome, res[i].Err = Rejected, err
			continue
		}
		pending[i] = true
	}
	failAll := func(err error) []PushResult {
		for i := range res {
			if pending[i] {
				res[i].Outcome, res[i].Err = Rejected, err
			}
		}
		return res
	}

	sess, seen, err := openUploadPack(ctx, fork)
	if err != nil {
		return failAll(fmt.Errorf("reading the branches of %s: %w; check nixpkgs.fork and the push token", remote, err))
	}
	var wants []plumbing.Hash
	depth := 1
	for i, b := range branches {
		old := seen[plumbing.NewBranchReferenceName(b.Name)]
		res[i].Head = old
		if pending[i] && !old.IsZero() && !r.hasCommit(old) {
			wants = append(wants, old)
			depth = max(depth, len(b.Commits)+1, b.Reach+1)
		}
	}
	if len(wants) > 0 {
		// Deep enough to compare a branch with the one kupdate built, and
		// its base with the current one; the thin pack holds little beyond
		// the changed files.
		if err := r.fetch(ctx, sess, wants, depth); err != nil {
			sess.Close()
			return failAll(fmt.Errorf("fetching kupdate's branches from %s: %w", remote, err))
		}
	}
	sess.Close()

	var toPush []int
	for i, b := range branches {
		if !pending[i] {
			continue
		}
		old := seen[plumbing.NewBranchReferenceName(b.Name)]
		if old.IsZero() {
			toPush = append(toPush, i)
			continue
		}
		res[i].Previous = r.ours(old)
		if why := r.foreign(old, b); why != nil {
			res[i].Outcome = SkippedForeign
			res[i].Err = fmt.Errorf("branch %s on %s: %w; kupdate left it alone: merge or close its pull request, or delete the branch, and kupdate rebuilds it on the next cycle", b.Name, remote, why)
			continue
		}
		if r.same(old, b) {
			res[i].Outcome = Unchanged
			continue
		}
		if r.keep(ctx, old, b) {
			res[i].Outcome = Unchanged
			continue
		}
		toPush = append(toPush, i)
	}
	if dry {
		for _, i := range toPush {
			res[i].Outcome = WouldPush
		}
		return res
	}
	if len(toPush) > 0 {
		r.send(ctx, fork, branches, toPush, seen, res)
	}
	// The caller logs each result: one line per push, with its own context.
	return res
}

// foreign returns why the fork's branch at tip holds work kupdate did not
// make, or nil.
func (r *Repo) foreign(tip plumbing.Hash, b BuiltBranch) error {
	if tip == b.BaseCommit {
		return nil // reset to the base: nothing there to lose
	}
	h := tip
	for {
		c, err := object.GetCommit(r.storage, h)
		if err != nil {
			if h == tip {
				return fmt.Errorf("its head %s could not be read (%v)", short(tip), err)
			}
			return nil // the shallow end of what was fetched: all kupdate's so far
		}
		if !isOurs(c, r.id) {
			if h == tip {
				title, _, _ := strings.Cut(c.Message, "\n")
				return fmt.Errorf("its head %s (%q by %s <%s>) was not made by kupdate", short(h), title, c.Author.Name, c.Author.Email)
			}
			return nil // kupdate's commits end at their base
		}
		if len(c.ParentHashes) != 1 {
			return fmt.Errorf("it has merge commit %s, which kupdate never makes", short(h))
		}
		h = c.ParentHashes[0]
	}
}

// same reports whether the fork's branch at tip has b's commits: as many,
// with the same trees and messages, on the same base. Commit hashes differ
// with the commit time, which is not a reason to push.
func (r *Repo) same(tip plumbing.Hash, b BuiltBranch) bool {
	h := tip
	for i := len(b.Hashes) - 1; i >= 0; i-- {
		theirs, err := object.GetCommit(r.storage, h)
		if err != nil || len(theirs.ParentHashes) != 1 {
			return false
		}
		ours, err := object.GetCommit(r.storage, b.Hashes[i])
		if err != nil || ours.TreeHash != theirs.TreeHash || !sameMessage(b.Commits[i].Change, theirs.Message) {
			return false
		}
		h = theirs.ParentHashes[0]
	}
	return h == b.BaseCommit
}

// keep reports whether the fork's branch at tip is b's commits on an older
// base that b's base descends from, the files they touch unchanged since
// (onOlderBase): rebuilding it would change nothing the commits introduce,
// and a force-push would only restart the pull request's CI.
func (r *Repo) keep(ctx context.Context, tip plumbing.Hash, b BuiltBranch) bool {
	old, why := r.onOlderBase(ctx, tip, b)
	if why != "" {
		r.log.Debug("branch rebuilt on the base", "branch", b.Name, "base", short(b.BaseCommit), "why", why)
		return false
	}
	yes, err := r.descends(ctx, b.BaseCommit, old)
	switch {
	case err != nil:
		r.log.Warn("branch rebuilt on the base: cannot tell whether the base descends from the branch's", "branch", b.Name, "branch_base", short(old.Hash), "base", short(b.BaseCommit), "error", err)
		return false
	case !yes:
		r.log.Info("branch rebuilt on the base: it does not descend from the branch's", "branch", b.Name, "branch_base", short(old.Hash), "base", short(b.BaseCommit))
		return false
	}
	r.log.Info("branch kept on its base: the base moved, but not the files its commits touch", "branch", b.Name, "branch_base", short(old.Hash), "base", short(b.BaseCommit))
	return true
}

// send pushes branches[toPush] in one receive-pack request, each command
// carrying the old value kupdate saw, so the server refuses a branch that
// moved since (git's --force-with-lease=<ref>:<expected>).
func (r *Repo) send(ctx context.Context, fork Remote, branches []BuiltBranch, toPush []int, seen map[plumbing.ReferenceName]plumbing.Hash, res []PushResult) {
	remote := redact.URL(fork.URL)
	sess, ar, err := openForPush(ctx, fork)
	if err != nil {
		for _, i := range toPush {
			if res[i].Outcome == "" {
				res[i].Outcome, res[i].Err = Rejected, fmt.Errorf("push of %s to %s rejected: %w; check that the push token can write to the fork and that no branch protection or hook refuses kupdate/ branches", branches[i].Name, remote, oneLine{err})
			}
		}
		return
	}
	defer sess.Close()
	req, objects, sent := r.pushCommands(ar, remote, branches, toPush, seen, res)
	if len(sent) == 0 {
		return
	}
	start := time.Now()
	status, err := r.sendPack(ctx, sess, req, objects)
	r.log.Debug("sent pack", "remote", remote, "objects", len(objects), "took", time.Since(start).Round(time.Millisecond))
	r.settlePush(ctx, fork, branches, sent, seen, status, err, res)
}

// openForPush opens a receive-pack session and reads the fork's refs (ar
// is nil for an empty repository).
func openForPush(ctx context.Context, fork Remote) (transport.ReceivePackSession, *packp.AdvRefs, error) {
	sess, err := openReceivePack(fork)
	if err != nil {
		return nil, nil, err
	}
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err == transport.ErrEmptyRemoteRepository {
		return sess, nil, nil
	}
	if err != nil {
		sess.Close()
		return nil, nil, err
	}
	return sess, ar, nil
}

// pushCommands is the update request for the branches whose ref is still
// what the lease saw, with the objects their commits introduced; a branch
// whose ref moved gets LeaseFailed in res and is left out of sent.
func (r *Repo) pushCommands(ar *packp.AdvRefs, remote string, branches []BuiltBranch, toPush []int, seen map[plumbing.ReferenceName]plumbing.Hash, res []PushResult) (*packp.ReferenceUpdateRequest, []plumbing.Hash, []int) {
	now := map[plumbing.ReferenceName]plumbing.Hash{}
	req := packp.NewReferenceUpdateRequest()
	if ar != nil {
		for n, h := range ar.References {
			now[plumbing.ReferenceName(n)] = h
		}
		req = packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	}
	objects := map[plumbing.Hash]bool{}
	var sent []int
	for _, i := range toPush {
		b := branches[i]
		ref := plumbing.NewBranchReferenceName(b.Name)
		if now[ref] != seen[ref] {
			res[i].Outcome, res[i].Head = LeaseFailed, now[ref]
			res[i].Err = leaseError(b.Name, remote, seen[ref], now[ref])
			continue
		}
		if err := r.newObjects(b, objects); err != nil {
			res[i].Outcome, res[i].Err = Rejected, fmt.Errorf("push of %s to %s: collecting its objects: %w", b.Name, remote, err)
			continue
		}
		req.Commands = append(req.Commands, &packp.Command{Name: ref, Old: seen[ref], New: b.Head()})
		sent = append(sent, i)
	}
	hashes := make([]plumbing.Hash, 0, len(objects))
	for h := range objects {
		hashes = append(hashes, h)
	}
	return req, hashes, sent
}

// sendPack streams the pack of hashes with req. With a report from the
// server each command has its own status, and err is only the unpack's
// (the transport's error is the first failure's, whichever branch);
// without one, err is the transport's.
func (r *Repo) sendPack(ctx context.Context, sess transport.ReceivePackSession, req *packp.ReferenceUpdateRequest, hashes []plumbing.Hash) (map[plumbing.ReferenceName]error, error) {
	rd, wr := io.Pipe()
	req.Packfile = rd
	done := make(chan error, 1)
	go func() {
		_, err := packfile.NewEncoder(wr, r.storage, false).Encode(hashes, 10)
		wr.CloseWithError(err)
		done <- err
	}()
	rs, err := sess.ReceivePack(ctx, req)
	rd.Close()
	if perr := <-done; err == nil && perr != nil && perr != io.ErrClosedPipe {
		err = perr
	}
	status := map[plumbing.ReferenceName]error{}
	if rs != nil && len(rs.CommandStatuses) > 0 {
		err = nil
		if rs.UnpackStatus != "ok" {
			err = fmt.Errorf("the server could not unpack what kupdate sent: %s", rs.UnpackStatus)
		}
		for _, cs := range rs.CommandStatuses {
			status[cs.ReferenceName] = cs.Error()
		}
	}
	return status, err
}

// settlePush records each sent branch's outcome. A failed one is told
// apart by reading the fork again (once): a ref that moved to someone
// else's commit is a lost lease, not a refusal.
func (r *Repo) settlePush(ctx context.Context, fork Remote, branches []BuiltBranch, sent []int, seen map[plumbing.ReferenceName]plumbing.Hash, status map[plumbing.ReferenceName]error, err error, res []PushResult) {
	remote := redact.URL(fork.URL)
	var after map[plumbing.ReferenceName]plumbing.Hash // read again only when something failed
	for _, i := range sent {
		b := branches[i]
		ref := plumbing.NewBranchReferenceName(b.Name)
		ferr := err
		if ferr == nil {
			ferr = status[ref]
		}
		if ferr == nil {
			res[i].Outcome, res[i].Head = Pushed, b.Head()
			continue
		}
		ferr = oneLine{ferr}
		if after == nil {
			if s, refs, lerr := openUploadPack(ctx, fork); lerr == nil {
				after = refs
				s.Close()
			} else {
				after = seen
			}
		}
		if cur := after[ref]; cur != seen[ref] && cur != b.Head() {
			res[i].Outcome, res[i].Head = LeaseFailed, cur
			res[i].Err = fmt.Errorf("%w (the server said: %v)", leaseError(b.Name, remote, seen[ref], cur), ferr)
			continue
		}
		res[i].Outcome = Rejected
		if strings.Contains(ferr.Error(), "missing necessary objects") {
			res[i].Err = fmt.Errorf("push of %s to %s rejected: %w; the fork lacks the base commit %s: kupdate sends only its own objects, so the fork must have %s (a GitHub fork shares upstream's objects; elsewhere, sync the fork's %s)", b.Name, remote, ferr, short(b.BaseCommit), short(b.BaseCommit), b.Base)
			continue
		}
		res[i].Err = fmt.Errorf("push of %s to %s rejected: %w; check that the push token can write to the fork and that no branch protection or hook refuses kupdate/ branches", b.Name, remote, ferr)
	}
}

func leaseError(branch, remote string, was, is plumbing.Hash) error {
	return fmt.Errorf("push of %s to %s: lease failed: the branch moved from %s to %s since kupdate read it; kupdate left it as is, and the next cycle starts from what is there", branch, remote, short(was), short(is))
}

func openReceivePack(rem Remote) (transport.ReceivePackSession, error) {
	ep, err := transport.NewEndpoint(rem.URL)
	if err != nil {
		return nil, err
	}
	c, err := client.NewClient(ep)
	if err != nil {
		return nil, err
	}
	return c.NewReceivePackSession(ep, rem.Auth)
}

// newObjects adds to set the objects b's commits introduced: each commit and
// the trees and blobs that differ from its parent's. The fork has the base,
// so that is all it can lack.
func (r *Repo) newObjects(b BuiltBranch, set map[plumbing.Hash]bool) error {
	base, err := object.GetCommit(r.storage, b.BaseCommit)
	if err != nil {
		return err
	}
	prev := base.TreeHash
	for _, h := range b.Hashes {
		c, err := object.GetCommit(r.storage, h)
		if err != nil {
			return err
		}
		set[h] = true
		if err := r.treeObjects(prev, c.TreeHash, set); err != nil {
			return err
		}
		prev = c.TreeHash
	}
	return nil
}

func (r *Repo) treeObjects(old, cur plumbing.Hash, set map[plumbing.Hash]bool) error {
	if old == cur || set[cur] {
		return nil
	}
	set[cur] = true
	t, err := object.GetTree(r.storage, cur)
	if err != nil {
		return err
	}
	had := map[string]object.TreeEntry{}
	if !old.IsZero() {
		ot, err := object.GetTree(r.storage, old)
		if err != nil {
			return err
		}
		for _, e := range ot.Entries {
			had[e.Name] = e
		}
	}
	for _, e := range t.Entries {
		o, ok := had[e.Name]
		if ok && o.Hash == e.Hash {
			continue
		}
		switch e.Mode {
		case filemode.Dir:
			var from plumbing.Hash
			if ok && o.Mode == filemode.Dir {
				from = o.Hash
			}
			if err := r.treeObjects(from, e.Hash, set); err != nil {
				return err
			}
		case filemode.Submodule:
		default:
			set[e.Hash] = true
		}
	}
	return nil
}

// oneLine shows a server's message (which may span lines) on one line.
type oneLine struct{ err error }

func (e oneLine) Error() string { return strings.Join(strings.Fields(e.err.Error()), " ") }
func (e oneLine) Unwrap() error { return e.err }
