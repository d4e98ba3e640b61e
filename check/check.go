package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kupdate/kupdate/family"
)

// Checker verifies the kernel changes between two revisions of a nixpkgs
// repository.
type Checker struct {
	Repo *Repo
	// Families are the kernel families to verify (families.New): each one
	// the revisions carry verifies its own files against its own sources
	// (family.Verifier). A change to the files of a family that cannot
	// verify is reported as unverified.
	Families family.Registry
	Log      *slog.Logger // nil: discard
}

// Check verifies head against the point where it branched off base, as a
// pull request's diff does. The error is for a check that could not run at
// all (a revision missing, a broken repository, no kernel files); anything
// else, a source being unreachable included, is in the report.
func (c *Checker) Check(ctx context.Context, base, head string) (*Report, error) {
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	baseSHA, err := c.Repo.Resolve(ctx, base)
	if err != nil {
		return nil, err
	}
	headSHA, err := c.Repo.Resolve(ctx, head)
	if err != nil {
		return nil, err
	}
	mb, err := c.Repo.MergeBase(ctx, baseSHA, headSHA)
	if err != nil {
		return nil, err
	}
	commits, err := c.Repo.Commits(ctx, mb, headSHA)
	if err != nil {
		return nil, err
	}
	r := &run{
		log: log, c: c, paths: c.Families.Paths(), trees: map[string]*family.Tree{}, commits: map[string]Commit{},
		report: &Report{Base: baseSHA, MergeBase: mb, Head: headSHA, Commits: len(commits)},
	}
	log.Info("checking kernel changes", "merge_base", short(mb), "head", short(headSHA), "commits", len(commits))
	if err := r.verify(ctx); err != nil {
		return nil, err
	}
	if err := r.titles(ctx, commits); err != nil {
		return nil, err
	}
	sortFindings(r.report.Findings)
	sortFindings(r.report.Unverified)
	r.report.conclude()
	return r.report, nil
}

// run is the state of one Check.
type run struct {
	log    *slog.Logger
	c      *Checker
	report *Report

	paths   []string                // every family's files
	trees   map[string]*family.Tree // the family files at a commit, by id
	commits map[string]Commit       // the commits of merge_base..head, by id
	titlers []titler                // the verifying families, in registry order
}

// titler is a verifying family and its verification of the pull request.
type titler struct {
	v family.Verifier
	t family.Titler
}

// verify runs the verifier of each family the merge base or the head
// carries, and merges what they report.
func (r *run) verify(ctx context.Context) error {
	mb, head := r.report.MergeBase, r.report.Head
	base, err := r.treeOf(ctx, mb)
	if err != nil {
		return err
	}
	ht, err := r.treeOf(ctx, head)
	if err != nil {
		return err
	}
	pr := family.PR{Base: base, Head: ht, Log: r.log}
	present := 0
	for _, f := range r.c.Families {
		if !f.Present(base) && !f.Present(ht) {
			continue
		}
		present++
		v, ok := f.(family.Verifier)
		if !ok {
			r.unverifiable(f, base, ht)
			continue
		}
		var out family.Results
		t, err := v.Verify(ctx, pr, &out)
		if err != nil {
			return fmt.Errorf("checking %s..%s: %w", short(mb), short(head), err)
		}
		r.log.Info("family checked", "family", f.Name(), "findings", len(out.Findings), "unverified", len(out.Unverified), "verified", len(out.Verified))
		r.merge(v, &out)
		r.titlers = append(r.titlers, titler{v: v, t: t})
	}
	if present == 0 {
		return fmt.Errorf("none of %s is in %s or %s: not a nixpkgs tree with kernel files (check --nixpkgs and the revisions)", strings.Join(r.paths, ", "), short(mb), short(head))
	}
	return nil
}

// merge adds a family's results to the report, with what they were
// verified against.
func (r *run) merge(v family.Verifier, out *family.Results) {
	rep := r.report
	rep.Findings = append(rep.Findings, out.Findings...)
	for _, u := range out.Unverified {
		u.Message = checkWords(u.Message)
		rep.Unverified = append(rep.Unverified, u)
	}
	rep.Verified = append(rep.Verified, out.Verified...)
	if len(out.Verified) > 0 {
		rep.verifiedWith = addSources(rep.verifiedWith, v.Sources())
	}
	if len(out.Unverified) > 0 {
		rep.unverifiedWith = addSources(rep.unverifiedWith, v.Sources())
	}
}

func addSources(to, srcs []string) []string {
	for _, s := range srcs {
		if !slices.Contains(to, s) {
			to = append(to, s)
		}
	}
	return to
}

// unverifiable reports each file of a family that cannot verify (it is no
// family.Verifier) that the pull request changes: unverified, so the check
// is never a pass on changes nobody looked at.
func (r *run) unverifiable(f family.Family, base, head *family.Tree) {
	for _, p := range f.Paths() {
		if string(base.File(p)) != string(head.File(p)) || base.Has(p) != head.Has(p) {
			r.report.Unverified = append(r.report.Unverified, family.Finding{File: p, Message: fmt.Sprintf(
				"changed, but kupdate check cannot verify the %s kernels (the family has no verifier): review the change by hand", f.Name())})
		}
	}
}

// checkWords turns what the sources' errors (fetch.Error's hints) say
// happens next in kupdate's cycle ("the next cycle tries again") into what
// happens next for a check, which nothing re-runs by itself: a person or a
// push re-runs it.
func checkWords(msg string) string {
	return cycleWords.Replace(serverDown.ReplaceAllString(msg, "$1 $2: re-run the check once $1 answers"))
}

// serverDown is fetch's hint for a server that failed, whichever it is:
// "kernel.org is failing, …", "GitHub could not be reached, …".
var serverDown = regexp.MustCompile(`([\w.-]+) (is failing|could not be reached), the next cycle tries again`)

var cycleWords = strings.NewReplacer(
	"the answer was cut short, the next cycle tries again", "the answer was cut short: re-run the check",
	"the next cycle lists the releases again", "re-run the check",
	"the next cycle tries again", "re-run the check later",
)

// treeOf is the family files at commit sha. A commit of the pull request is
// its parent's tree with the family files it changes read again, so a
// commit costs one read per family file it changes; any other commit (the
// merge base, a merge, a parent outside the pull request) is read in full.
func (r *run) treeOf(ctx context.Context, sha string) (*family.Tree, error) {
	if t, ok := r.trees[sha]; ok {
		return t, nil
	}
	c, ok := r.commits[sha]
	if !ok || len(c.Parents) != 1 {
		t, err := r.load(ctx, sha, r.paths)
		if err != nil {
			return nil, err
		}
		r.trees[sha] = family.NewTree(t)
		return r.trees[sha], nil
	}
	parent, err := r.treeOf(ctx, c.Parents[0])
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, p := range r.paths {
		if slices.Contains(c.Files, p) {
			changed = append(changed, p)
		}
	}
	t := parent
	if len(changed) > 0 {
		files, err := r.load(ctx, sha, changed)
		if err != nil {
			return nil, err
		}
		for _, p := range changed {
			if _, ok := files[p]; !ok {
				files[p] = nil // deleted by the commit
			}
		}
		t = parent.With(files)
	}
	r.trees[sha] = t
	return t, nil
}

// load reads paths at rev; a file rev lacks is absent from the map.
func (r *run) load(ctx context.Context, rev string, paths []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := r.c.Repo.ReadFile(ctx, rev, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			files[p] = b
		}
	}
	return files, nil
}

// sortFindings orders findings by file, line, then message, so output and
// annotations are stable.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].File != fs[j].File {
			return fs[i].File < fs[j].File
		}
		return fs[i].Line < fs[j].Line
	})
}
