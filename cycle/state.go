package cycle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/server"
	"github.com/kupdate/kupdate/updater"
)

// stateVersion is the layout of state.json; a file of another version is
// ignored (the next cycle rewrites it).
const stateVersion = 1

// State is what the last finished cycle left in the cache directory
// (state.json, written atomically at its end): `kupdate status` and the
// status page read it.
type State struct {
	Version    int                   `json:"version"`
	Start      time.Time             `json:"start"`
	End        time.Time             `json:"end"`
	BaseBranch string                `json:"base_branch"`
	Base       string                `json:"base"` // the commit the branches started from
	Source     string                `json:"source"`
	OK         bool                  `json:"ok"`
	Error      string                `json:"error,omitempty"`
	Branches   []server.BranchStatus `json:"branches"` // one per kernel attribute
	Changes    []ChangeState         `json:"changes"`
	PRs        []PRState             `json:"prs"` // one per kupdate branch
}

// ChangeState is one change of the last cycle.
type ChangeState struct {
	Title   string        `json:"title"`
	Kind    string        `json:"kind"`
	Attr    string        `json:"attr"`
	Branch  string        `json:"branch"` // the git branch; "" when in none
	Outcome string        `json:"outcome"`
	Build   string        `json:"build"`
	Error   string        `json:"error,omitempty"`
	PR      *server.PRRef `json:"pr"`
}

// PRState is the pull request of one kupdate branch.
type PRState struct {
	Branch string        `json:"branch"`
	Head   string        `json:"head"`
	Push   string        `json:"push"`
	PR     *server.PRRef `json:"pr"`
}

// ReadState reads the state the last finished cycle wrote in cacheDir. An
// error wrapping fs.ErrNotExist means no cycle has finished there yet.
func ReadState(cacheDir string) (*State, error) {
	path := filepath.Join(cacheDir, stateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w (delete it; the next cycle writes it again)", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%s: version %d, want %d (the next cycle writes it again)", path, st.Version, stateVersion)
	}
	return &st, nil
}

func writeState(cacheDir string, st *State) error {
	b, err := MarshalState(st)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(cacheDir, stateFile), b)
}

// MarshalState is st as state.json holds it (and `kupdate status --json`
// prints it): indented, with "<" and ">" as they are.
func MarshalState(st *State) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeAtomic writes path through a temporary file beside it, synced and
// renamed over it: a reader sees the old file or the new one, never half.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func prRef(r *BranchResult) *server.PRRef {
	if r == nil || r.PR == nil || r.PR.Number == 0 {
		return nil
	}
	state := "open"
	switch r.PR.Outcome {
	case "opened":
		if r.draft {
			state = "draft"
		}
	case "already-merged":
		state = "merged"
	case "declined":
		state = "closed"
	}
	return &server.PRRef{Number: r.PR.Number, URL: r.PR.URL, State: state}
}

// stateOf sums up a finished cycle.
func stateOf(rep *Report) *State {
	st := &State{Version: stateVersion, Start: rep.Start, End: rep.End, BaseBranch: rep.BaseBranch, Base: rep.Base, Source: rep.Source, OK: true}
	if err := rep.Err(); err != nil {
		st.OK, st.Error = false, err.Error()
	}
	for _, ch := range rep.Changes {
		cs := ChangeState{Title: ch.Change.Title, Kind: string(ch.Change.Kind), Attr: ch.Change.Attr, Outcome: ch.Outcome(), Build: ch.BuildStatus(), PR: prRef(ch.Branch)}
		if ch.Branch != nil {
			cs.Branch = ch.Branch.Name
		}
		switch {
		case ch.Err != nil:
			cs.Error = ch.Err.Error()
		case ch.Wait != "":
			cs.Error = ch.Wait
		case ch.Branch != nil && ch.Branch.Err != nil:
			cs.Error = ch.Branch.Err.Error()
		case ch.Branch != nil && ch.Branch.PR != nil && ch.Branch.PR.Err != nil:
			cs.Error = ch.Branch.PR.Err.Error()
		}
		st.Changes = append(st.Changes, cs)
	}
	for _, b := range rep.Branches {
		st.PRs = append(st.PRs, PRState{Branch: b.Name, Head: b.Head, Push: string(b.Push), PR: prRef(b)})
	}
	st.Branches = branchRows(rep.tree, rep.releases, rep, rep.End)
	return st
}

// branchRows is one row per kernel attribute: the tree's kernels, new
// branches kernel.org offers, and hardened variants.
func branchRows(tree *updater.Tree, releases []kernelorg.Release, rep *Report, at time.Time) []server.BranchStatus {
	up := map[string]string{}
	for _, r := range releases {
		switch r.Moniker {
		case "mainline", "stable", "longterm":
		default:
			continue
		}
		b := r.Version.Branch()
		if cur, ok := up[b]; !ok || kernelorg.MustParseVersion(cur).Less(r.Version) {
			up[b] = r.Version.String()
		}
	}
	rows := map[string]*server.BranchStatus{}
	var order []string
	add := func(branch, attr, nixpkgs, upstream string) *server.BranchStatus {
		if r, ok := rows[attr]; ok {
			return r
		}
		r := &server.BranchStatus{Branch: branch, Attr: attr, Nixpkgs: nixpkgs, KernelOrg: upstream, CheckedAt: at}
		rows[attr] = r
		order = append(order, attr)
		return r
	}
	if tree != nil {
		for _, e := range tree.Kernels() {
			add(e.Branch, updater.Attr(e.Branch), e.Version.String(), up[e.Branch])
		}
		for _, h := range tree.Hardened() {
			add(h.Branch, updater.Attr(h.Branch)+"_hardened", h.Version.String()+h.Extra, "")
		}
	}
	for b, v := range up {
		if _, ok := rows[updater.Attr(b)]; !ok && b != "testing" {
			add(b, updater.Attr(b), "", v)
		}
	}
	if rep != nil {
		for _, ch := range rep.Changes {
			r := add(ch.Change.Branch, ch.Change.Attr, "", "")
			if ch.Change.Kind == updater.HardenedBump || ch.Change.Kind == updater.HardenedInit {
				r.KernelOrg = ch.Change.To
			}
			r.PR = prRef(ch.Branch)
			r.Build = ch.BuildStatus()
			r.Reason = ch.Change.Title + ": " + describe(ch, rep.DryRun)
		}
		for _, n := range rep.Held {
			for _, attr := range order {
				if r := rows[attr]; r.Branch == n.Branch && r.Reason == "" && !strings.HasSuffix(attr, "_hardened") {
					r.Reason = n.Reason
				}
			}
		}
		for _, n := range rep.Skipped {
			for _, attr := range order {
				if r := rows[attr]; r.Branch == n.Branch && r.Reason == "" && !strings.HasSuffix(attr, "_hardened") {
					r.Reason = n.Reason
				}
			}
		}
	}
	out := make([]server.BranchStatus, 0, len(order))
	for _, attr := range order {
		r := rows[attr]
		if r.Reason == "" {
			r.Reason = "up to date"
		}
		out = append(out, *r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := kernelorg.CompareSeries(out[i].Branch, out[j].Branch); c != 0 {
			return c < 0
		}
		return out[i].Attr < out[j].Attr
	})
	return out
}

// describe is what became of a change, in words.
func describe(ch *ChangeResult, dry bool) string {
	would := ""
	if dry {
		would = "would be "
	}
	switch o := ch.Outcome(); o {
	case "failed":
		if ch.Err != nil {
			return "failed: " + ch.Err.Error()
		}
		return "failed"
	case "waiting":
		return "waits: " + ch.Wait
	case "skipped":
		return "left alone: " + ch.Branch.Err.Error()
	case "push-failed":
		return "not pushed: " + ch.Branch.Err.Error()
	case "pr-failed":
		return "PR not synced: " + ch.Branch.PR.Err.Error()
	case "stopped":
		return "the cycle stopped before its PR"
	case "opened", "would-open": // a dry run's outcomes say "would"
		if ch.Branch.PR.Number == 0 {
			return "PR " + would + "opened"
		}
		return fmt.Sprintf("PR #%d %sopened", ch.Branch.PR.Number, would)
	case "updated", "would-update":
		return fmt.Sprintf("PR #%d %supdated", ch.Branch.PR.Number, would)
	case "unchanged":
		return fmt.Sprintf("PR #%d up to date", ch.Branch.PR.Number)
	case "declined":
		return ch.Branch.PR.Reason
	case "already-merged":
		return fmt.Sprintf("merged in #%d", ch.Branch.PR.Number)
	default:
		return o
	}
}

// buildCache keeps build results by content: the tiers and commands, Nix's
// settings, and each commit's attributes and files (paths and bytes). A
// branch whose content was built before (a cycle cut short after its build,
// a second cycle with nothing new, a branch kept on its older base when the
// base moved elsewhere) reuses the result instead of building again. The
// base commit is not part of the key: a base that moved without touching
// the branch's files leaves the branch where it was built (gitops keeps it),
// and when it did touch them the files' content differs.
type buildCache struct {
	Entries map[string]buildEntry `json:"entries"`
	used    map[string]bool
}

type buildEntry struct {
	Built  time.Time    `json:"built"`
	Report build.Report `json:"report"`
}

func (c *Cycle) loadBuilds() (*buildCache, error) {
	bc := &buildCache{Entries: map[string]buildEntry{}, used: map[string]bool{}}
	b, err := os.ReadFile(filepath.Join(c.cacheDir, buildsFile))
	if os.IsNotExist(err) {
		return bc, nil
	}
	if err != nil {
		return bc, err
	}
	if err := json.Unmarshal(b, bc); err != nil {
		bc.Entries = map[string]buildEntry{}
		return bc, fmt.Errorf("%s: %w", filepath.Join(c.cacheDir, buildsFile), err)
	}
	if bc.Entries == nil {
		bc.Entries = map[string]buildEntry{}
	}
	return bc, nil
}

func (c *Cycle) saveBuilds(bc *buildCache) error {
	if c.o.DryRun {
		return nil
	}
	b, err := json.MarshalIndent(bc, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(c.cacheDir, buildsFile), append(b, '\n'))
}

func (bc *buildCache) key(cfg config.Build, b gitops.BuiltBranch) string {
	h := sha256.New()
	for _, t := range cfg.Tiers {
		fmt.Fprintf(h, "tier %s %q\n", t, cfg.Commands[t])
	}
	opts := make([]string, 0, len(cfg.Options))
	for k, v := range cfg.Options {
		opts = append(opts, k+"="+v)
	}
	slices.Sort(opts)
	fmt.Fprintf(h, "options %q builders %q\n", opts, cfg.Builders)
	for _, cm := range b.Commits {
		fmt.Fprintf(h, "commit attrs %q\n", cm.Change.Build)
		paths := make([]string, 0, len(cm.Files))
		for p := range cm.Files {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		for _, p := range paths {
			sum := sha256.Sum256(cm.Files[p])
			fmt.Fprintf(h, "file %q %x %t\n", p, sum, cm.Files[p] == nil)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (bc *buildCache) get(key string) (build.Report, bool) {
	if bc == nil {
		return build.Report{}, false
	}
	e, ok := bc.Entries[key]
	return e.Report, ok
}

func (bc *buildCache) use(key string) { bc.used[key] = true }

// put keeps a finished build. A timed-out tier is not kept: the next cycle
// tries again (it may have been a slow builder, not the kernel).
func (bc *buildCache) put(key string, r build.Report) {
	for _, res := range r.Results {
		if res.Status == build.TimedOut || res.Status == build.Cancelled {
			return
		}
	}
	bc.Entries[key] = buildEntry{Built: time.Now().UTC(), Report: r}
	bc.used[key] = true
}

// prune keeps only the results the cycle used: the content of every other
// branch has changed since.
func (bc *buildCache) prune() {
	for k := range bc.Entries {
		if !bc.used[k] {
			delete(bc.Entries, k)
		}
	}
}
