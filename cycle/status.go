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
	"github.com/kupdate/kupdate/server"
	"github.com/kupdate/kupdate/workflow"
)

// Sources of live values in Status, as State.Stale names them.
const (
	SourceKernelOrg = "kernel.org"
	SourceNixpkgs   = "nixpkgs"
	SourceGitHub    = "github"
)

// Status is the last finished cycle's state (ReadState) brought up to date
// with what can be read now, without writing anything: the versions
// kernel.org offers, the versions in the tree at the base (the checkout's
// HEAD, or the managed clone's base as last fetched: no fetch), and the
// state of each kupdate PR on GitHub. The three are read at once; bound them
// with ctx and the clients' own timeouts and retries. What could not be read
// is returned as errors beside the state, which then holds the last cycle's
// values there, State.Stale naming the sources; a row the last cycle had is
// kept even when what would show it live (kernel.org's branch, say) could
// not be read. After the first failure GitHub is not asked again.
func (c *Cycle) Status(ctx context.Context) (*State, []error) {
	var errs []error
	st, err := ReadState(c.stateDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st = &State{Version: stateVersion, BaseBranch: c.cfg.Nixpkgs.Base}
	case err != nil:
		errs = append(errs, err)
		st = &State{Version: stateVersion, BaseBranch: c.cfg.Nixpkgs.Base}
	}

	var (
		wg              sync.WaitGroup
		tree            *family.Tree
		base            string
		treeErr, offErr error
		offers          []family.Offer
		live            = map[string]bool{} // families whose sources offered versions now
		prErr           error
		livePRs         = make([]*workflow.PullRequest, len(st.PRs))
		lookedUp        = make([]bool, len(st.PRs))
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		tree, base, treeErr = c.readBase(ctx)
	}()
	go func() {
		defer wg.Done()
		offers, live, offErr = c.offers(ctx)
	}()
	go func() {
		defer wg.Done()
		for i, p := range st.PRs {
			pr, err := c.wf.FindPR(ctx, p.Branch)
			if err != nil {
				prErr = err // GitHub is failing: the rest would too
				return
			}
			livePRs[i], lookedUp[i] = pr, true
		}
	}()
	wg.Wait()
	for _, e := range []error{treeErr, offErr, prErr} {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if treeErr != nil {
		st.Stale = append(st.Stale, SourceNixpkgs)
	}
	if offErr != nil {
		st.Stale = append(st.Stale, SourceKernelOrg)
	}
	if prErr != nil {
		st.Stale = append(st.Stale, SourceGitHub)
	}

	// Each PR as GitHub has it now.
	livePR := map[int]*server.PRRef{}
	for i, p := range st.PRs {
		if !lookedUp[i] {
			continue
		}
		pr := livePRs[i]
		if pr == nil {
			st.PRs[i].PR = nil
			continue
		}
		ref := &server.PRRef{Number: pr.Number, URL: pr.URL, State: pr.State}
		switch {
		case pr.Merged:
			ref.State = "merged"
		case pr.State == "open" && pr.Draft:
			ref.State = "draft"
		}
		st.PRs[i].PR = ref
		if old := p.PR; old != nil {
			livePR[old.Number] = ref
		}
	}
	for i := range st.Changes {
		if p := st.Changes[i].PR; p != nil && livePR[p.Number] != nil {
			st.Changes[i].PR = livePR[p.Number]
		}
	}

	if tree == nil && offErr != nil {
		return st, errs // the last cycle's rows, as they were
	}
	if base != "" {
		st.Base = base
	}
	last := map[string]server.BranchStatus{}
	for _, b := range st.Branches {
		last[b.Attr] = b
	}
	rows := branchRows(c.families, tree, offers, nil, st.End)
	owner := map[string]string{}
	if tree != nil {
		for _, a := range c.families.Attrs(tree) {
			owner[a.Name] = a.Family
		}
	}
	for _, o := range offers {
		owner[o.Attr] = o.Family
	}
	seen := map[string]bool{}
	for i, r := range rows {
		seen[r.Attr] = true
		if l, ok := last[r.Attr]; ok {
			if tree == nil {
				rows[i].Nixpkgs = l.Nixpkgs
			}
			if !live[owner[r.Attr]] {
				// What its family's source offers was not read now, or
				// comes from the plan only (linux-hardened's releases):
				// the last cycle's.
				rows[i].KernelOrg = l.KernelOrg
			}
			rows[i].Build, rows[i].Reason, rows[i].CheckedAt = l.Build, l.Reason, l.CheckedAt
			rows[i].PR = l.PR
			if l.PR != nil && livePR[l.PR.Number] != nil {
				rows[i].PR = livePR[l.PR.Number]
			}
		} else {
			rows[i].Reason, rows[i].CheckedAt = "not seen by a cycle yet", st.End
		}
	}
	if tree == nil || offErr != nil {
		// What could not be read may be what shows a row (a new branch of
		// kernel.org's, with its PR): keep the last cycle's.
		for _, l := range st.Branches {
			if seen[l.Attr] {
				continue
			}
			if l.PR != nil && livePR[l.PR.Number] != nil {
				l.PR = livePR[l.PR.Number]
			}
			rows = append(rows, l)
		}
		sortRows(rows)
	}
	st.Branches = rows
	return st, errs
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
