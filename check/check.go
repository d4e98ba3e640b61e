package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strings"

	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// Upstream is what the check needs from kernel.org; *kernelorg.Client
// provides it.
type Upstream interface {
	// Releases is releases.json.
	Releases(ctx context.Context) ([]kernelorg.Release, error)
	// Hash is "sha256:<nix32>" of v's tarball from the signed checksum list
	// (the NAR hash of the snapshot for an rc); an error wrapping
	// kernelorg.ErrNotYet when kernel.org has none (no checksum line, or
	// git.kernel.org answers 404 for the snapshot): see upstreamHash.
	Hash(ctx context.Context, v kernelorg.Version) (string, error)
}

// Checker verifies the kernel changes between two revisions of a nixpkgs
// repository.
type Checker struct {
	Repo     *Repo
	Upstream Upstream
	// Hardened is where linux-hardened releases come from; nil leaves the
	// patch hashes of a hardened/patches.json change unverified (and the
	// check incomplete).
	Hardened hardened.Source
	Log      *slog.Logger // nil: discard
}

// Check verifies head against the point where it branched off base, as a
// pull request's diff does. The error is for a check that could not run at
// all (a revision missing, a broken repository); anything else, kernel.org
// being unreachable included, is in the report.
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
		ctx: ctx, log: log, c: c, incompleteInit: map[string]bool{}, rejected: map[string]bool{},
		report: &Report{Base: baseSHA, MergeBase: mb, Head: headSHA, Commits: len(commits)},
	}
	log.Info("checking kernel changes", "merge_base", short(mb), "head", short(headSHA), "commits", len(commits))
	if r.base, err = r.load(mb); err != nil {
		return nil, err
	}
	if r.head, err = r.load(headSHA); err != nil {
		return nil, err
	}
	if r.base[KernelsOrgJSON] == nil && r.head[KernelsOrgJSON] == nil {
		return nil, fmt.Errorf("%s is in neither %s nor %s: not a nixpkgs tree with kernels-org.json (check --nixpkgs and the revisions)", KernelsOrgJSON, short(mb), short(headSHA))
	}
	r.kernelsOrg()
	r.structure()
	r.hardened()
	if err := r.titles(commits); err != nil {
		return nil, err
	}
	sortFindings(r.report.Findings)
	sortFindings(r.report.Unverified)
	r.report.conclude()
	return r.report, nil
}

// kernelFiles are the files the check reads at each revision.
func kernelFiles() []string {
	return []string{KernelsOrgJSON, LinuxKernelsNix, AliasesNix, HardenedPatches, HardenedKey}
}

// load reads the kernel files at rev; a file rev lacks is absent from the map.
func (r *run) load(rev string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, p := range kernelFiles() {
		b, err := r.c.Repo.ReadFile(r.ctx, rev, p)
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

// run is the state of one Check.
type run struct {
	ctx    context.Context
	log    *slog.Logger
	c      *Checker
	report *Report

	base, head map[string][]byte // the kernel files at the merge base and at head

	// kernels-org.json as parsed, nil when it does not parse.
	baseEntries, headEntries []entry
	changes                  []entryChange

	releases    *releaseIndex // nil until fetched
	releasesErr error

	baseTree    *kernelfiles.Model // the base as the updater reads it, loaded on demand
	baseTreeErr error

	incompleteInit map[string]bool // added branches already reported as incomplete
	rejected       map[string]bool // added branches that must not be added at all

	hardenedRels []hardened.Release // linux-hardened's releases, fetched on demand
}

func (r *run) finding(file string, line int, rule Rule, format string, args ...any) {
	r.report.Findings = append(r.report.Findings, Finding{File: file, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (r *run) unverified(file string, line int, format string, args ...any) {
	msg := checkWords(fmt.Sprintf(format, args...))
	r.report.Unverified = append(r.report.Unverified, Finding{File: file, Line: line, Message: msg})
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

// kernelsOrg checks every changed entry of kernels-org.json.
func (r *run) kernelsOrg() {
	baseB, headB := r.base[KernelsOrgJSON], r.head[KernelsOrgJSON]
	if headB == nil {
		r.finding(KernelsOrgJSON, 0, RuleSyntax, "the file is deleted; every nixpkgs kernel branch is read from it: restore it")
		return
	}
	headEs, err := kernelEntries(headB)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			r.finding(KernelsOrgJSON, se.Line, RuleSyntax, "not valid JSON: %s; fix the file (kupdate update writes it correctly)", se.Msg)
		}
		return
	}
	if baseB != nil {
		if r.baseEntries, err = kernelEntries(baseB); err != nil {
			// A broken base is not the pull request's fault: compare against nothing.
			r.log.Warn("base kernels-org.json does not parse", "err", err)
			r.baseEntries = nil
		}
	}
	r.headEntries = headEs
	r.changes = diffEntries(r.baseEntries, headEs)
	r.duplicates(headEs)
	if !bytes.Equal(baseB, headB) {
		r.format(KernelsOrgJSON, headB)
		r.order(r.baseEntries, headEs)
	}
	withLTS := usesLTS(r.baseEntries, headEs)
	for _, ch := range r.changes {
		if ch.New == nil {
			continue // removals are checked with linux-kernels.nix and aliases.nix
		}
		r.entry(ch, withLTS)
	}
}

// duplicates reports keys that appear twice: Python's json.load, which
// nixpkgs' tooling uses, keeps only the last, silently.
func (r *run) duplicates(es []entry) {
	first := map[string]int{}
	for _, e := range es {
		if l, dup := first[e.Branch]; dup {
			r.finding(KernelsOrgJSON, e.Line, RuleEntry, "%q appears twice (lines %d and %d); JSON readers keep only the last: remove one", e.Branch, l, e.Line)
			continue
		}
		first[e.Branch] = e.Line
	}
}

// usesLTS reports whether the tree's kernels-org.json has the lts key: the
// base decides when it has entries (a pull request must keep its shape).
func usesLTS(base, head []entry) bool {
	es := base
	if len(es) == 0 {
		es = head
	}
	for _, e := range es {
		if e.LTS != nil {
			return true
		}
	}
	return false
}

// entry checks one added or changed entry against kernel.org.
func (r *run) entry(ch entryChange, withLTS bool) {
	e := ch.New
	f, line, br := KernelsOrgJSON, e.Line, e.Branch
	if e.err != "" {
		r.finding(f, line, RuleEntry, "%q is not a valid entry: %s", br, e.err)
		return
	}
	if br != "testing" {
		if _, _, err := kernelorg.ParseSeries(br); err != nil {
			r.finding(f, line, RuleEntry, "%q is not a branch: keys are MAJOR.MINOR (e.g. \"6.12\") or \"testing\"", br)
			return
		}
	}
	v, err := kernelorg.ParseVersion(e.Version)
	if err != nil {
		r.finding(f, line, RuleVersion, "%q: %v; fix the version", br, err)
		return
	}
	if v.Branch() != br {
		if br == "testing" {
			r.finding(f, line, RuleVersion, "%q holds %s, which is not a release candidate; \"testing\" holds the current rc (a release goes under %q)", br, v, v.Branch())
		} else {
			r.finding(f, line, RuleVersion, "%q holds %s, which belongs under %q; fix the version", br, v, v.Branch())
		}
		return
	}
	ok := true
	if ch.Old != nil && ch.Old.err == "" {
		if old, err := kernelorg.ParseVersion(ch.Old.Version); err == nil && v.Less(old) {
			r.finding(f, line, RuleDowngrade, "%q goes backwards: %s is older than %s at the base; a kernel update never downgrades (a typo in the version?)", br, v, old)
			ok = false
		}
	}
	if ch.Old == nil && !r.addable(e, v) {
		ok = false
	}
	if r.rejected[br] {
		return // its hash and lts do not matter: the entry must go
	}
	if !r.upstreamEntry(e, v, withLTS) {
		ok = false
	}
	if ok {
		vf := Verified{File: f, Line: line, Branch: br, To: e.Version, Hash: e.Hash}
		if ch.Old != nil {
			vf.From = ch.Old.Version
		}
		r.report.Verified = append(r.report.Verified, vf)
	}
}

// addable checks that an added branch is one kernel.org still maintains.
func (r *run) addable(e *entry, v kernelorg.Version) bool {
	if e.Branch == "testing" {
		return true
	}
	w, ok := r.removedInBase(kernelfiles.Attr(e.Branch))
	if r.baseTreeErr != nil {
		r.unverified(KernelsOrgJSON, e.Line, "%q: could not tell whether the base removed it: kupdate cannot read the base tree: %v", e.Branch, r.baseTreeErr)
	}
	if ok {
		r.finding(KernelsOrgJSON, e.Line, RuleReadded, "%q was removed from this tree before (its throw is at %s); kupdate never adds a removed branch back (nixpkgs#258569): drop the entry", e.Branch, w)
		r.rejected[e.Branch] = true
		return false
	}
	idx := r.index()
	if idx == nil {
		return false // reported as unverified by upstreamEntry
	}
	if rel, ok := idx.series[e.Branch]; ok {
		if rel.EOL {
			r.finding(KernelsOrgJSON, e.Line, RuleEOL, "%q is end of life on kernel.org (its last release is %s); nixpkgs removes EOL branches, never adds them: drop the entry", e.Branch, rel.Version)
			r.rejected[e.Branch] = true
			return false
		}
		return true
	}
	if kernelorg.CompareSeries(e.Branch, idx.newestSeries) < 0 {
		r.finding(KernelsOrgJSON, e.Line, RuleEOL, "%q is no longer listed on kernel.org (end of life); nixpkgs never adds an EOL branch: drop the entry", e.Branch)
		r.rejected[e.Branch] = true
		return false
	}
	return true // newer than anything listed: the version check says whether it is real
}

// upstreamEntry checks that the entry's version is a kernel.org release, its
// hash kernel.org's and its lts flag kernel.org's. It reports whether all of
// that was verified.
func (r *run) upstreamEntry(e *entry, v kernelorg.Version, withLTS bool) bool {
	f, line, br := KernelsOrgJSON, e.Line, e.Branch
	idx := r.index()
	if idx == nil {
		r.unverified(f, line, "%q %s: could not verify against kernel.org: %v", br, v, r.releasesErr)
		return false
	}
	rel, listed := idx.versions[v]
	if !listed && v.IsRC() && !idx.newest.IsZero() && idx.newest.Less(v) {
		// No snapshot can exist for an rc newer than anything kernel.org
		// lists; do not download to find out (git.kernel.org answers 404).
		r.finding(f, line, RuleVersion, "%q %s is not a kernel.org release: it is newer than anything kernel.org lists (the newest is %s); fix the version", br, v, idx.newest)
		return false
	}
	want, notRelease, err := r.upstreamHash(v)
	switch {
	case notRelease:
		r.finding(f, line, RuleVersion, "%q %s is not a kernel.org release: releases.json does not list it and %s; fix the version", br, v, notPublished(v))
		return false
	case err != nil:
		r.unverified(f, line, "%q %s: %v", br, v, err)
		return false
	}
	ok := true
	if e.Hash != want {
		r.finding(f, line, RuleHash, "%q hash %s does not match %s (%s); run kupdate update or fix the hash", br, e.Hash, hashSource(v), want)
		ok = false
	}
	switch {
	case !withLTS && e.LTS != nil:
		r.finding(f, line, RuleLTS, "%q has an \"lts\" key, which this tree's kernels-org.json does not use; remove it (kupdate keeps the tree's shape)", br)
		ok = false
	case withLTS && e.LTS == nil:
		r.finding(f, line, RuleLTS, "%q has no \"lts\" key while the tree's other entries do; add \"lts\": %t", br, r.wantLTS(br, rel, listed))
		ok = false
	case withLTS:
		if lts, known := r.knownLTS(br, rel, listed); known && lts != *e.LTS {
			if lts {
				r.finding(f, line, RuleLTS, "%q has \"lts\": false but kernel.org lists %s as longterm; set \"lts\": true", br, br)
			} else if br == "testing" {
				r.finding(f, line, RuleLTS, "%q has \"lts\": true but a release candidate is never longterm; set \"lts\": false", br)
			} else {
				r.finding(f, line, RuleLTS, "%q has \"lts\": true but kernel.org does not list %s as longterm; set \"lts\": false", br, br)
			}
			ok = false
		}
	}
	return ok
}

// upstreamHash is kernel.org's hash of v. kernelorg.ErrNotYet (no signed
// checksum, or git.kernel.org answers 404 for an rc's snapshot) means what
// releases.json says: for a version it lists, kernel.org has not published
// the hash yet, and err says so (the check is incomplete, never failed);
// for a version it does not list, v is not a kernel.org release
// (notRelease, a finding the caller words). Any other failure, and a
// releases.json that could not be read, leave v unverified.
func (r *run) upstreamHash(v kernelorg.Version) (hash string, notRelease bool, err error) {
	hash, err = r.c.Upstream.Hash(r.ctx, v)
	switch {
	case err == nil:
		return hash, false, nil
	case !errors.Is(err, kernelorg.ErrNotYet):
		return "", false, fmt.Errorf("could not get kernel.org's hash: %w", err)
	}
	idx := r.index()
	if idx == nil {
		return "", false, fmt.Errorf("%s, and kernel.org's releases could not be read to tell whether it is a release: %w", notPublished(v), r.releasesErr)
	}
	if _, listed := idx.versions[v]; listed {
		return "", false, fmt.Errorf("kernel.org lists the release but %s yet; re-run the check later", notPublished(v))
	}
	return "", true, nil
}

// knownLTS is kernel.org's lts flag for a branch, when kernel.org still
// lists the series.
func (r *run) knownLTS(branch string, rel kernelorg.Release, listed bool) (lts, known bool) {
	if branch == "testing" {
		return false, true
	}
	if s, ok := r.releases.series[branch]; ok {
		return s.LTS, true
	}
	if listed {
		return rel.LTS, true
	}
	return false, false
}

func (r *run) wantLTS(branch string, rel kernelorg.Release, listed bool) bool {
	lts, _ := r.knownLTS(branch, rel, listed)
	return lts
}

// hashSource names what a version's hash is checked against, for messages.
func hashSource(v kernelorg.Version) string {
	if v.IsRC() {
		return fmt.Sprintf("the NAR hash of kernel.org's snapshot linux-%s.tar.gz", v)
	}
	return fmt.Sprintf("kernel.org's signed checksum for linux-%s.tar.xz", v)
}

// notPublished says what kernel.org lacks for v, for messages.
func notPublished(v kernelorg.Version) string {
	if v.IsRC() {
		return fmt.Sprintf("git.kernel.org has no snapshot linux-%s.tar.gz", v)
	}
	return fmt.Sprintf("kernel.org's signed checksum list has no linux-%s.tar.xz", v)
}

// releaseIndex is releases.json arranged for lookups.
type releaseIndex struct {
	versions     map[kernelorg.Version]kernelorg.Release
	series       map[string]kernelorg.Release // newest release of each listed series (not testing)
	newestSeries string
	newest       kernelorg.Version // the newest version listed, rc or not
}

// index fetches releases.json once per check; nil when that failed.
func (r *run) index() *releaseIndex {
	if r.releases != nil || r.releasesErr != nil {
		return r.releases
	}
	rels, err := r.c.Upstream.Releases(r.ctx)
	if err != nil {
		r.releasesErr = fmt.Errorf("kernel.org releases: %w", err)
		r.log.Error("kernel.org unreachable: the check cannot verify", "err", err)
		return nil
	}
	idx := &releaseIndex{versions: map[kernelorg.Version]kernelorg.Release{}, series: map[string]kernelorg.Release{}}
	for _, rel := range rels {
		idx.versions[rel.Version] = rel
		if idx.newest.Less(rel.Version) {
			idx.newest = rel.Version
		}
		if rel.Version.IsRC() {
			continue
		}
		s := rel.Version.Series()
		if old, ok := idx.series[s]; !ok || old.Version.Less(rel.Version) {
			idx.series[s] = rel
		}
		if idx.newestSeries == "" || kernelorg.CompareSeries(idx.newestSeries, s) < 0 {
			idx.newestSeries = s
		}
	}
	r.releases = idx
	return idx
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
