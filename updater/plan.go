package updater

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
)

// Hasher gives the verified Nix hash of a kernel release: "sha256:<nix32>",
// the flat hash of linux-V.tar.xz for a release, the NAR hash of the
// unpacked snapshot for an rc. An error wrapping kernelorg.ErrNotYet means
// kernel.org has not published it yet: no signed checksum line for a
// release, no git.kernel.org snapshot for an rc. (*kernelorg.Client
// satisfies it.)
type Hasher interface {
	Hash(ctx context.Context, v kernelorg.Version) (string, error)
}

// Planner turns what upstream released into the changes a tree needs.
type Planner struct {
	Hasher Hasher
	// Hardened is where linux-hardened releases come from; nil plans no
	// hardened changes (neither does a tree without hardened/patches.json).
	Hardened HardenedSource
	Log      *slog.Logger // nil: no logging
}

// Plan is an ordered list of changes, each one commit, and the reasons for
// what was not done (they feed `kupdate status` and the status page).
type Plan struct {
	Changes []Change
	// Held are changes upstream calls for that wait: a hash kernel.org has
	// not published yet (retried next cycle), or one that failed (Err set).
	Held []Note
	// Skipped are upstream releases and tree branches left alone on
	// purpose, with the rule that applies.
	Skipped []Note
}

// Note says why a branch was held back or skipped.
type Note struct {
	Branch string // "6.18", "testing", "6.12"; "hardened" when the linux-hardened source itself failed
	// Attr is the attribute a held change would have changed (linux_6_12,
	// linux_6_12_hardened); "" for skipped branches and for a failure of the
	// linux-hardened source, which holds back every hardened kernel.
	Attr   string
	Reason string // "6.18.6 not yet signed on kernel.org", "the 6.19-rc5 snapshot is not on git.kernel.org yet"
	// Err is the failure behind a held change; nil when it merely waits.
	Err error
}

// String is the note as kupdate prints it: "6.18: 6.18.6 not yet signed on
// kernel.org". A hardened kernel's note says so ("6.12 (hardened): ..."), so
// that it is not mistaken for the plain kernel of the same branch.
func (n Note) String() string { return n.Label() + ": " + n.Reason }

// Label is what the note is about: "6.18", or "6.12 (hardened)".
func (n Note) Label() string {
	if IsHardenedAttr(n.Attr) && n.Branch != "hardened" {
		return n.Branch + " (hardened)"
	}
	return n.Branch
}

// IsHardenedAttr reports whether attr is a hardened kernel
// (linux_6_12_hardened, or linux_hardened, the hardened linux_default).
func IsHardenedAttr(attr string) bool {
	return attr == "linux_hardened" || strings.HasSuffix(attr, "_hardened")
}

// Failed lists the held changes that failed (rather than wait): a cycle
// reports them and exits non-zero after doing everything else.
func (p *Plan) Failed() []Note {
	var out []Note
	for _, n := range p.Held {
		if n.Err != nil {
			out = append(out, n)
		}
	}
	return out
}

// The order of a plan, so that every run plans the same commits in the same
// order: removals first (they may move linux_latest/linux_default), then
// bumps of the branches (ascending), testing, new branches (ascending),
// hardened bumps (ascending), and a hardened init last (it may build on a
// new branch of the same plan).
var kindOrder = map[Kind]int{Remove: 0, Bump: 1, Init: 3, HardenedBump: 4, HardenedInit: 5}

func orderOf(c Change) int {
	if c.Branch == "testing" {
		return 2
	}
	return kindOrder[c.Kind]
}

// Plan decides the changes for t given upstream's releases. It applies each
// change to a copy of t as it goes, so every change's Files are exact and a
// change that cannot be applied is held (with the editor's error) instead of
// failing later. t itself is not modified. One failing change never blocks
// the others.
func (p *Planner) Plan(ctx context.Context, releases []kernelorg.Release, t *Tree) (*Plan, error) {
	if p.Hasher == nil {
		return nil, errors.New("updater: Planner.Hasher is nil: give it a kernel.org client")
	}
	plan := &Plan{}
	cands := p.candidates(releases, t, plan)
	slices.SortStableFunc(cands, func(a, b Change) int {
		if c := cmp.Compare(orderOf(a), orderOf(b)); c != 0 {
			return c
		}
		return kernelorg.CompareSeries(a.Branch, b.Branch)
	})
	work := t.Clone()
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.Hash == "" && c.Kind != Remove {
			v := kernelorg.MustParseVersion(c.To)
			h, err := p.Hasher.Hash(ctx, v)
			if err != nil {
				plan.hold(c.Branch, c.Attr, v, err)
				continue
			}
			c.Hash = h
		}
		p.apply(work, c, plan)
	}
	if work.HasHardened() && p.Hardened != nil {
		if err := p.planHardened(ctx, work, plan); err != nil {
			plan.Held = append(plan.Held, Note{Branch: "hardened", Reason: err.Error(), Err: err})
		}
	}
	return plan, nil
}

// apply adds c to the plan if it applies to work.
func (p *Planner) apply(work *Tree, c Change, plan *Plan) {
	files, err := work.Apply(c)
	if err != nil {
		plan.Held = append(plan.Held, Note{Branch: c.Branch, Attr: c.Attr, Reason: "cannot apply: " + err.Error(), Err: err})
		return
	}
	c.Files = ChangedFiles(files)
	plan.Changes = append(plan.Changes, c)
	if p.Log != nil {
		p.Log.Debug("planned", "title", c.Title, "files", c.Files)
	}
}

// titled gives c its commit title; every planned change is titled here, by
// the same function kupdate check compares commit titles with.
func titled(c Change) Change {
	c.Title = Title(c)
	return c
}

func (plan *Plan) hold(branch, attr string, v kernelorg.Version, err error) {
	if errors.Is(err, kernelorg.ErrNotYet) {
		// What is missing differs: a release waits for its line in the signed
		// sha256sums.asc, an rc for git.kernel.org to make its snapshot.
		reason := v.String() + " not yet signed on kernel.org"
		if v.IsRC() {
			reason = "the " + v.String() + " snapshot is not on git.kernel.org yet"
		}
		plan.Held = append(plan.Held, Note{Branch: branch, Attr: attr, Reason: reason})
		return
	}
	plan.Held = append(plan.Held, Note{Branch: branch, Attr: attr, Reason: "no verified hash for " + v.String() + ": " + err.Error(), Err: err})
}

func (plan *Plan) skip(branch, format string, args ...any) {
	plan.Skipped = append(plan.Skipped, Note{Branch: branch, Reason: fmt.Sprintf(format, args...)})
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

// candidates are the changes the releases call for, without hashes yet.
func (p *Planner) candidates(releases []kernelorg.Release, t *Tree, plan *Plan) []Change {
	up := upstream(releases)
	var out []Change
	series := t.Series()
	for _, b := range series {
		e, _ := t.Entry(b)
		attr := Attr(b)
		r, ok := up[b]
		switch {
		case !ok:
			plan.skip(b, "not listed on kernel.org; %s left at %s", attr, e.Version)
		case r.EOL:
			out = append(out, titled(Change{Kind: Remove, Attr: attr, Branch: b, From: e.Version.String(), LTS: e.LTS}))
		case r.Version.Less(e.Version):
			plan.skip(b, "tree has %s, newer than kernel.org's %s; never going backwards", e.Version, r.Version)
		case e.Version.Less(r.Version):
			lts := e.LTS
			if e.HasLTS {
				lts = r.LTS
			}
			out = append(out, titled(Change{Kind: Bump, Attr: attr, Branch: b, From: e.Version.String(), To: r.Version.String(),
				LTS: lts, ChangeLog: r.ChangeLog, Build: []string{attr}}))
		case e.HasLTS && e.LTS != r.LTS:
			// Same version, but kernel.org moved the series between stable
			// and longterm: the flip is a change of its own.
			out = append(out, titled(Change{Kind: Bump, Attr: attr, Branch: b, From: e.Version.String(), To: e.Version.String(),
				Hash: e.Hash, LTS: r.LTS, Build: []string{attr}}))
		}
	}

	var newest, oldest string
	if len(series) > 0 {
		oldest, newest = series[0], series[len(series)-1]
	}
	var fresh []string
	for b := range up {
		if b != "testing" && !t.Has(b) {
			fresh = append(fresh, b)
		}
	}
	slices.SortFunc(fresh, kernelorg.CompareSeries)
	for _, b := range fresh {
		r, attr := up[b], Attr(b)
		if w, removed := t.Removed(attr); removed {
			plan.skip(b, "removed from the tree (%s); never added back", w)
			continue
		}
		switch {
		case r.EOL:
			plan.skip(b, "EOL upstream, not in tree")
		case oldest != "" && kernelorg.CompareSeries(b, oldest) < 0:
			plan.skip(b, "older than the tree's oldest branch %s", oldest)
		case newest != "" && kernelorg.CompareSeries(b, newest) < 0:
			plan.skip(b, "not in the tree and older than its newest branch %s; kupdate adds only new majors", newest)
		default:
			out = append(out, titled(Change{Kind: Init, Attr: attr, Branch: b, To: r.Version.String(), LTS: r.LTS,
				ChangeLog: r.ChangeLog, Build: []string{attr}}))
		}
	}

	te, hasTesting := t.Entry("testing")
	r, rc := up["testing"]
	switch {
	case !hasTesting:
		if rc {
			plan.skip("testing", "not in the tree; %s not added", r.Version)
		}
	case !rc:
		// Between a final release X.Y and X.(Y+1)-rc1 kernel.org lists no rc.
		// nixpkgs keeps the last rc meanwhile (linux_testing evaluates to
		// linux_latest once that is at least as new), and so does kupdate.
		plan.skip("testing", "kernel.org lists no rc; linux_testing stays at %s until the next rc1", te.Version)
	case newest != "" && kernelorg.CompareSeries(r.Version.Series(), newest) <= 0:
		plan.skip("testing", "kernel.org's %s is not ahead of the tree's newest branch %s", r.Version, newest)
	case r.Version.Less(te.Version):
		plan.skip("testing", "tree has %s, newer than kernel.org's %s; never going backwards", te.Version, r.Version)
	case te.Version.Less(r.Version):
		out = append(out, titled(Change{Kind: Bump, Attr: "linux_testing", Branch: "testing", From: te.Version.String(), To: r.Version.String(),
			Build: []string{"linux_testing"}}))
	}
	return out
}
