package vanilla

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// Plan lists the changes kernel.org's releases call for, each with its
// verified hash. releases.json that cannot be read stops the cycle; a hash
// that cannot be had holds only its change.
func (f *Family) Plan(ctx context.Context, t *family.Tree) (*family.Plan, error) {
	m, err := kernelfiles.Read(t)
	if err != nil {
		return nil, err
	}
	rels, err := f.src.Releases(ctx)
	if err != nil {
		return nil, err
	}
	up := upstream(rels)
	p := &family.Plan{Offers: offers(up)}
	cands := candidates(up, m, p)
	slices.SortStableFunc(cands, func(a, b family.Change) int {
		if c := cmp.Compare(order(a), order(b)); c != 0 {
			return c
		}
		return kernelorg.CompareSeries(b.Branch, a.Branch)
	})
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.Hash == "" && c.Kind != Remove {
			v := kernelorg.MustParseVersion(c.To)
			h, err := f.src.Hash(ctx, v)
			if err != nil {
				p.Held = append(p.Held, Held(c.Branch, c.Attr, v, err))
				meanwhile, ok := f.meanwhile(ctx, c, v, err)
				if !ok {
					continue
				}
				c, h = meanwhile, meanwhile.Hash
				p.Held[len(p.Held)-1].Reason += "; proposing " + c.To + " meanwhile"
			}
			c.Hash = h
		}
		p.Changes = append(p.Changes, c)
	}
	return p, nil
}

// signedLister is a Source that can name the newest release of a series
// its signed checksums list (kernelorg.Client).
type signedLister interface {
	NewestSigned(ctx context.Context, v kernelorg.Version) (kernelorg.Version, string, error)
}

// meanwhile is the bump of c to the newest signed point release below v,
// while v waits for its line in sha256sums.asc: without it a release
// kernel.org has not signed yet would hold the branch at the tree's
// version, and (by the kept rule) keep the whole rolling branch as it was,
// other kernels' bumps included, until kernel.org signs. Only for a point
// release that is not yet listed, and only forward of the tree.
func (f *Family) meanwhile(ctx context.Context, c family.Change, v kernelorg.Version, err error) (family.Change, bool) {
	sl, ok := f.src.(signedLister)
	if !ok || c.Kind != Bump || v.IsRC() || !errors.Is(err, kernelorg.ErrNotYet) {
		return family.Change{}, false
	}
	w, h, err := sl.NewestSigned(ctx, v)
	if err != nil || w.Compare(kernelorg.MustParseVersion(c.From)) <= 0 {
		return family.Change{}, false
	}
	c.To, c.Hash = w.String(), h
	if i := strings.LastIndexByte(c.ChangeLog, '/'); i >= 0 {
		// kernel.org's ChangeLogs sit side by side: …/v6.x/ChangeLog-<version>.
		c.ChangeLog = c.ChangeLog[:i+1] + "ChangeLog-" + w.String()
	}
	return finish(c), true
}

// order is a change's place in the plan, so that every run plans the same
// commits in the same order: removals first (they may move linux_latest
// and linux_default), then testing and the bumps of the branches, then new
// branches; within each, newest branch first. The bumps are so in nixpkgs'
// order: update-mainline.py walks kernel.org's release table (mainline,
// stable, then longterm from newest to oldest) and commits as it goes, so
// a batch of 2026 lists linux_testing, linux_7_0, linux_6_18, …
// linux_5_10, and the rolling branch and its PR body follow the plan.
func order(c family.Change) int {
	switch {
	case c.Kind == Remove:
		return 0
	case c.Branch == "testing":
		return 1
	case c.Kind == Init:
		return 3
	}
	return 2
}

// Held is the note of a change whose hash could not be had for v. What is
// missing when kernel.org has not published it differs: a release waits
// for its line in the signed sha256sums.asc, an rc for git.kernel.org to
// make its snapshot. Other families that need kernel.org's hash of a
// release (linux-hardened) hold their changes with it too.
func Held(branch, attr string, v kernelorg.Version, err error) family.Note {
	n := family.Note{Family: Name, Branch: branch, Attr: attr}
	if errors.Is(err, kernelorg.ErrNotYet) {
		n.Reason = v.String() + " not yet signed on kernel.org"
		if v.IsRC() {
			n.Reason = "the " + v.String() + " snapshot is not on git.kernel.org yet"
		}
		return n
	}
	n.Reason, n.Err = "no verified hash for "+v.String()+": "+err.Error(), err
	return n
}

func skip(p *family.Plan, branch, format string, args ...any) {
	p.Skipped = append(p.Skipped, family.Note{Family: Name, Branch: branch, Reason: fmt.Sprintf(format, args...)})
}

// upstream picks, per branch, the newest release kernel.org lists (only
// mainline, stable and longterm: linux-next is not a nixpkgs branch).
func upstream(releases []kernelorg.Release) map[string]kernelorg.Release {
	out := map[string]kernelorg.Release{}
	for _, r := range releases {
		switch r.Moniker {
		case "mainline", "stable", "longterm":
		default:
			continue
		}
		if r.Version.IsZero() {
			continue
		}
		b := r.Version.Branch()
		if cur, ok := out[b]; !ok || cur.Version.Less(r.Version) {
			out[b] = r
		}
	}
	return out
}

func sortedBranches(up map[string]kernelorg.Release) []string {
	return slices.SortedFunc(maps.Keys(up), kernelorg.CompareSeries)
}

// candidates are the changes the releases call for, without hashes yet.
func candidates(up map[string]kernelorg.Release, m *kernelfiles.Model, p *family.Plan) []family.Change {
	out := treeBranches(up, m, p)
	out = append(out, newBranches(up, m, p)...)
	if c, ok := testingBump(up, m, p); ok {
		out = append(out, c)
	}
	return out
}

// treeBranches are the bumps, lts flips and removals of the branches the
// tree has.
func treeBranches(up map[string]kernelorg.Release, m *kernelfiles.Model, p *family.Plan) []family.Change {
	var out []family.Change
	for _, b := range m.Series() {
		e, _ := m.Entry(b)
		attr := kernelfiles.Attr(b)
		r, ok := up[b]
		switch {
		case !ok:
			skip(p, b, "not listed on kernel.org; %s left at %s", attr, e.Version)
		case r.EOL:
			out = append(out, finish(family.Change{Kind: Remove, Attr: attr, Branch: b, From: e.Version.String(), LTS: e.LTS}))
		case r.Version.Less(e.Version):
			skip(p, b, "tree has %s, newer than kernel.org's %s; never going backwards", e.Version, r.Version)
		case e.Version.Less(r.Version):
			lts := e.LTS
			if e.HasLTS {
				lts = r.LTS
			}
			out = append(out, finish(family.Change{Kind: Bump, Attr: attr, Branch: b, From: e.Version.String(), To: r.Version.String(),
				LTS: lts, ChangeLog: r.ChangeLog, Build: []string{attr}}))
		case e.HasLTS && e.LTS != r.LTS:
			// Same version, but kernel.org moved the series between stable
			// and longterm: the flip is a change of its own.
			out = append(out, finish(family.Change{Kind: Bump, Attr: attr, Branch: b, From: e.Version.String(), To: e.Version.String(),
				Hash: e.Hash, LTS: r.LTS, Build: []string{attr}}))
		}
	}
	return out
}

// newBranches are the inits of new majors.
func newBranches(up map[string]kernelorg.Release, m *kernelfiles.Model, p *family.Plan) []family.Change {
	series := m.Series()
	var newest, oldest string
	if len(series) > 0 {
		oldest, newest = series[0], series[len(series)-1]
	}
	var out []family.Change
	for _, b := range sortedBranches(up) {
		if b == "testing" || m.Has(b) {
			continue
		}
		r, attr := up[b], kernelfiles.Attr(b)
		if w, removed := m.Removed(attr); removed {
			skip(p, b, "removed from the tree (%s); never added back", w)
			continue
		}
		switch {
		case r.EOL:
			skip(p, b, "EOL upstream, not in tree")
		case oldest != "" && kernelorg.CompareSeries(b, oldest) < 0:
			skip(p, b, "older than the tree's oldest branch %s", oldest)
		case newest != "" && kernelorg.CompareSeries(b, newest) < 0:
			skip(p, b, "not in the tree and older than its newest branch %s; kupdate adds only new majors", newest)
		default:
			out = append(out, finish(family.Change{Kind: Init, Attr: attr, Branch: b, To: r.Version.String(), LTS: r.LTS,
				ChangeLog: r.ChangeLog, Build: []string{attr}}))
		}
	}
	return out
}

// testingBump is linux_testing's bump to a newer rc, if any.
func testingBump(up map[string]kernelorg.Release, m *kernelfiles.Model, p *family.Plan) (family.Change, bool) {
	series := m.Series()
	newest := ""
	if len(series) > 0 {
		newest = series[len(series)-1]
	}
	te, hasTesting := m.Entry("testing")
	r, rc := up["testing"]
	switch {
	case !hasTesting:
		if rc {
			skip(p, "testing", "not in the tree; %s not added", r.Version)
		}
	case !rc:
		// Between a final release X.Y and X.(Y+1)-rc1 kernel.org lists no rc.
		// nixpkgs keeps the last rc meanwhile (linux_testing evaluates to
		// linux_latest once that is at least as new), and so does kupdate.
		skip(p, "testing", "kernel.org lists no rc; linux_testing stays at %s until the next rc1", te.Version)
	case newest != "" && kernelorg.CompareSeries(r.Version.Series(), newest) <= 0:
		skip(p, "testing", "kernel.org's %s is not ahead of the tree's newest branch %s", r.Version, newest)
	case r.Version.Less(te.Version):
		skip(p, "testing", "tree has %s, newer than kernel.org's %s; never going backwards", te.Version, r.Version)
	case te.Version.Less(r.Version):
		return finish(family.Change{Kind: Bump, Attr: "linux_testing", Branch: "testing", From: te.Version.String(), To: r.Version.String(),
			Build: []string{"linux_testing"}}), true
	}
	return family.Change{}, false
}

// newestSeries is the newest branch key of kernels-org.json (not
// "testing"), "" when there is none.
func newestSeries(data []byte) string {
	var entries map[string]json.RawMessage
	if json.Unmarshal(data, &entries) != nil {
		return ""
	}
	newest := ""
	for k := range entries {
		if k == "testing" {
			continue
		}
		if _, _, err := kernelorg.ParseSeries(k); err != nil {
			continue
		}
		if newest == "" || kernelorg.CompareSeries(k, newest) > 0 {
			newest = k
		}
	}
	return newest
}
