package cycle

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/state"
	"github.com/kupdate/kupdate/workflow"
)

// Sources of live values in Status, as State.Stale names them.
const (
	SourceKernelOrg = "kernel.org"
	SourceNixpkgs   = "nixpkgs"
	SourceGitHub    = "github"
)

// Status is the last finished cycle's state (state.json) brought up to
// date with what can be read now, without writing anything: what the
// families' sources offer, the versions in the tree at the base (the
// checkout's HEAD, or the managed clone's base as last fetched: no fetch),
// and the state of each kupdate PR on GitHub. The three are read at once;
// bound them with ctx and the clients' own timeouts and retries. What could
// not be read is returned as errors beside the state, which then holds the
// last cycle's values there, State.Stale naming the sources; a record the
// last cycle had is kept even when what would show it live (kernel.org's
// branch, say) could not be read. After the first failure GitHub is not
// asked again.
func (c *Cycle) Status(ctx context.Context) (*state.State, []error) {
	var errs []error
	st, err := state.Read(c.stateDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st = &state.State{Version: state.Version, BaseBranch: c.cfg.Nixpkgs.Base}
	case err != nil:
		errs = append(errs, err)
		st = &state.State{Version: state.Version, BaseBranch: c.cfg.Nixpkgs.Base}
	}
	lv := c.readLive(ctx, st)
	for _, r := range []struct {
		err    error
		source string
	}{{lv.treeErr, SourceNixpkgs}, {lv.offErr, SourceKernelOrg}, {lv.prErr, SourceGitHub}} {
		if r.err != nil {
			errs = append(errs, r.err)
			st.Stale = append(st.Stale, r.source)
		}
	}
	prs := livePRs(st, lv)
	if lv.tree == nil && lv.offErr != nil {
		return st, errs // the last cycle's records, as they were
	}
	if lv.base != "" {
		st.Base = lv.base
	}
	st.Attrs = c.liveAttrs(st, lv, prs)
	if lv.tree != nil {
		st.Suggestions = suggestions(c.families, lv.tree)
	}
	return st, errs
}

// live is what Status reads now.
type live struct {
	tree            *family.Tree
	base            string
	treeErr, offErr error
	offers          []family.Offer
	offered         map[string]bool // families whose sources offered versions
	prErr           error
	prs             []*workflow.PullRequest // by st.Branches; nil: none, or not looked up
	lookedUp        []bool
}

// readLive reads the tree, the sources' offers and the PRs of st's
// branches, at once.
func (c *Cycle) readLive(ctx context.Context, st *state.State) *live {
	lv := &live{prs: make([]*workflow.PullRequest, len(st.Branches)), lookedUp: make([]bool, len(st.Branches))}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		lv.tree, lv.base, lv.treeErr = c.readBase(ctx)
	}()
	go func() {
		defer wg.Done()
		lv.offers, lv.offered, lv.offErr = c.offers(ctx)
	}()
	go func() {
		defer wg.Done()
		for i, b := range st.Branches {
			pr, err := c.wf.FindPR(ctx, b.Name)
			if err != nil {
				lv.prErr = err // GitHub is failing: the rest would too
				return
			}
			lv.prs[i], lv.lookedUp[i] = pr, true
		}
	}()
	wg.Wait()
	return lv
}

// livePRs puts each PR of st's branches as GitHub has it now into st, and
// returns them by the number the last cycle recorded.
func livePRs(st *state.State, lv *live) map[int]*state.PR {
	byNumber := map[int]*state.PR{}
	for i, b := range st.Branches {
		if !lv.lookedUp[i] {
			continue
		}
		pr := lv.prs[i]
		if pr == nil {
			st.Branches[i].PR = nil
			continue
		}
		ref := &state.PR{Number: pr.Number, URL: pr.URL, State: foundState(pr)}
		st.Branches[i].PR = ref
		if old := b.PR; old != nil {
			byNumber[old.Number] = ref
		}
	}
	return byNumber
}

// liveAttrs are the records as the tree and the sources have them now,
// with the last cycle's results, builds and PRs (as GitHub has those now).
func (c *Cycle) liveAttrs(st *state.State, lv *live, prs map[int]*state.PR) []state.Attr {
	last := map[string]state.Attr{}
	for _, a := range st.Attrs {
		last[a.Attr] = a
	}
	owner := map[string]string{}
	if lv.tree != nil {
		for _, a := range c.families.Attrs(lv.tree) {
			owner[a.Name] = a.Family
		}
	}
	for _, o := range lv.offers {
		owner[o.Attr] = o.Family
	}
	rows := attrRecords(c.families, lv.tree, lv.offers, nil, st.End)
	seen := map[string]bool{}
	for i, r := range rows {
		seen[r.Attr] = true
		l, ok := last[r.Attr]
		if !ok {
			rows[i].Result, rows[i].Checked = "not seen by a cycle yet", st.End
			continue
		}
		rows[i] = withLast(rows[i], l, lv.tree == nil, !lv.offered[owner[r.Attr]])
		if l.PR != nil && prs[l.PR.Number] != nil {
			rows[i].PR = prs[l.PR.Number]
		}
	}
	if lv.tree != nil && lv.offErr == nil {
		return rows
	}
	// What could not be read may be what shows a record (a new branch of
	// kernel.org's, with its PR): keep the last cycle's.
	for _, l := range st.Attrs {
		if seen[l.Attr] {
			continue
		}
		if l.PR != nil && prs[l.PR.Number] != nil {
			l.PR = prs[l.PR.Number]
		}
		rows = append(rows, l)
	}
	sortAttrs(rows)
	return rows
}

// withLast is a live record with what only a cycle knows from l, the last
// cycle's: its result, build, PR, history and when it was checked; its versions too
// where they were not read now (noTree: the tree's; noOffer: its source's,
// not read, or offered through the plan only, as linux-hardened's
// releases).
func withLast(r, l state.Attr, noTree, noOffer bool) state.Attr {
	if noTree {
		r.Nixpkgs = l.Nixpkgs
	}
	if noOffer {
		r.Upstream = l.Upstream
	}
	r.Build, r.Result, r.NotChecked, r.Checked, r.Change, r.PR = l.Build, l.Result, l.NotChecked, l.Checked, l.Change, l.PR
	r.History, r.Standing = l.History, l.Standing
	return r
}

// readBase reads the tree at the base without fetching: the checkout's
// HEAD, or the base branch of the managed clone as the last cycle left it.
func (c *Cycle) readBase(ctx context.Context) (*family.Tree, string, error) {
	if c.local != "" {
		repo, err := gitops.OpenLocal(ctx, c.local, gitops.Options{Identity: gitops.Identity{Name: c.cfg.Git.AuthorName, Email: c.cfg.Git.AuthorEmail}, Logger: c.log})
		if err != nil {
			return nil, "", err
		}
		defer repo.Close()
		t, err := loadTree(ctx, c.families, repo, repo.Base())
		return t, repo.Base().String(), err
	}
	dir := filepath.Join(c.cacheDir, cloneDir)
	if _, err := os.Stat(dir); err != nil {
		return nil, "", fmt.Errorf("no managed clone at %s yet: run a cycle first (kupdate run)", dir)
	}
	r, err := git.PlainOpen(dir)
	if err != nil {
		return nil, "", fmt.Errorf("managed clone %s: %w", dir, err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(c.cfg.Nixpkgs.Base), true)
	if err != nil {
		return nil, "", fmt.Errorf("managed clone %s: branch %s: %w", dir, c.cfg.Nixpkgs.Base, err)
	}
	commit, err := r.CommitObject(ref.Hash())
	if err != nil {
		return nil, "", fmt.Errorf("managed clone %s: %w", dir, err)
	}
	files := map[string][]byte{}
	for _, p := range c.families.Paths() {
		f, err := commit.File(p)
		if errors.Is(err, object.ErrFileNotFound) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("managed clone %s: %s: %w", dir, p, err)
		}
		s, err := f.Contents()
		if err != nil {
			return nil, "", fmt.Errorf("managed clone %s: %s: %w", dir, p, err)
		}
		files[p] = []byte(s)
	}
	t, err := c.families.Load(files)
	if err != nil {
		return nil, "", fmt.Errorf("managed clone %s at %s: %w", dir, short(ref.Hash().String()), err)
	}
	return t, ref.Hash().String(), nil
}

// offers is what every family's source offers now, and which families
// offered something (a family whose versions come from its plan alone
// offers nothing here).
func (c *Cycle) offers(ctx context.Context) ([]family.Offer, map[string]bool, error) {
	var out []family.Offer
	live := map[string]bool{}
	for _, f := range c.families {
		o, err := f.Offers(ctx)
		if err != nil {
			return nil, nil, err
		}
		live[f.Name()] = len(o) > 0
		out = append(out, o...)
	}
	return out, live, nil
}
