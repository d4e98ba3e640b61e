package cycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/server"
	"github.com/kupdate/kupdate/workflow"
)

// stateVersion is the layout of state.json; a file of another version is
// ignored (the next cycle rewrites it).
const stateVersion = 1

// State is what the last finished cycle left in the state directory
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
	// Promotions are the cycle's promotions (promote.enabled), with their
	// PRs.
	Promotions []server.PromotionStatus `json:"promotions,omitempty"`
	// Stale names the sources Status could not read live ("kernel.org",
	// "nixpkgs", "github"): their values are the last cycle's. A cycle
	// never writes it.
	Stale []string `json:"stale,omitempty"`
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

// ReadState reads the state the last finished cycle wrote in stateDir
// (config.StateDir). An error wrapping fs.ErrNotExist means no cycle has
// finished there yet.
func ReadState(stateDir string) (*State, error) {
	path := filepath.Join(stateDir, stateFile)
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

func writeState(stateDir string, st *State) error {
	b, err := MarshalState(st)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(stateDir, stateFile), b)
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

// prRef is the branch's PR as the cycle left it.
func prRef(r *BranchResult) *server.PRRef {
	if r == nil {
		return nil
	}
	n, url, state := r.pr()
	if n == 0 {
		return nil
	}
	if r.PR == nil || r.PR.Number == 0 {
		return &server.PRRef{Number: n, URL: url, State: state} // looked up, as GitHub has it
	}
	state = "open"
	switch {
	case r.PR.Merge == workflow.Merged:
		state = "merged" // merged by this cycle
	case r.PR.Outcome == workflow.AlreadyMerged:
		state = "merged"
	case r.PR.Outcome == workflow.Declined:
		state = "closed"
	case r.PR.Outcome == workflow.Opened && r.draft:
		state = "draft"
	case len(r.Build.Results) > 0 && !r.Build.OK():
		state = "draft" // the workflow makes a PR whose build failed a draft
	}
	return &server.PRRef{Number: n, URL: url, State: state}
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
	st.Branches = branchRows(rep.families, rep.tree, rep.offers, rep, rep.End)
	for _, p := range rep.Promotions {
		ps := server.PromotionStatus{From: p.From, To: p.To, Ahead: p.Ahead, Outcome: string(p.Outcome), Reason: p.Reason}
		if p.Err != nil {
			ps.Outcome, ps.Reason = "failed", concise(p.Err.Error())
		}
		if p.Number != 0 {
			state := "open"
			switch p.Outcome {
			case workflow.Merged:
				state = "merged"
			case workflow.Declined:
				state = "closed"
			}
			ps.PR = &server.PRRef{Number: p.Number, URL: p.URL, State: state}
		}
		st.Promotions = append(st.Promotions, ps)
	}
	return st
}

// branchRows is one row per kernel attribute: the attributes the tree's
// families keep, and what their sources offer beyond them (a new branch).
func branchRows(reg family.Registry, tree *family.Tree, offers []family.Offer, rep *Report, at time.Time) []server.BranchStatus {
	up := map[string]string{}
	for _, o := range offers {
		up[o.Attr] = o.Version
	}
	rows := map[string]*server.BranchStatus{}
	owner := map[string]string{}
	var order []string
	add := func(fam, branch, attr, nixpkgs, upstream string) *server.BranchStatus {
		if r, ok := rows[attr]; ok {
			return r
		}
		r := &server.BranchStatus{Branch: branch, Attr: attr, Nixpkgs: nixpkgs, KernelOrg: upstream, CheckedAt: at}
		rows[attr], owner[attr] = r, fam
		order = append(order, attr)
		return r
	}
	if tree != nil {
		for _, a := range reg.Attrs(tree) {
			add(a.Family, a.Branch, a.Name, a.Version, up[a.Name])
		}
	}
	for _, o := range offers {
		// An offer only a tree that has the attribute cares about
		// (testing) is shown without a tree (none read yet), or with one
		// that has it.
		if _, ok := rows[o.Attr]; !ok && (!o.IfCarried || tree == nil) {
			add(o.Family, o.Branch, o.Attr, "", o.Version)
		}
	}
	if rep != nil {
		for _, ch := range rep.Changes {
			r := add(ch.Change.Family(), ch.Change.Branch, ch.Change.Attr, "", "")
			if r.KernelOrg == "" {
				r.KernelOrg = ch.Change.To
			}
			r.PR = prRef(ch.Branch)
			r.Build = ch.BuildStatus()
			r.Reason = ch.Change.Title + ": " + describe(ch, rep.DryRun)
		}
		// A note explains the rows of its family's branch that no change
		// explains.
		for _, n := range append(slices.Clone(rep.Held), rep.Skipped...) {
			for _, attr := range order {
				if r := rows[attr]; r.Branch == n.Branch && r.Reason == "" && owner[attr] == n.Family && (n.Attr == "" || n.Attr == attr) {
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
	sortRows(out)
	return out
}

// sortRows orders rows by branch (5.10 < 6.1 < 6.12, testing last), then
// attribute.
func sortRows(rows []server.BranchStatus) {
	sort.SliceStable(rows, func(i, j int) bool {
		if c := kernelorg.CompareSeries(rows[i].Branch, rows[j].Branch); c != 0 {
			return c < 0
		}
		return rows[i].Attr < rows[j].Attr
	})
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
	case "added":
		return fmt.Sprintf("added to PR #%d", ch.Branch.PR.Number)
	case "would-add":
		return fmt.Sprintf("would be added to PR #%d", ch.Branch.PR.Number)
	case "kept":
		return "kept as proposed: " + keptReason(ch.Branch)
	case "unchanged":
		if ch.Branch.PR.Merge == workflow.Merged {
			return fmt.Sprintf("merged in #%d", ch.Branch.PR.Number)
		}
		return fmt.Sprintf("PR #%d up to date", ch.Branch.PR.Number)
	case "declined":
		return ch.Branch.PR.Reason
	case "already-merged":
		return fmt.Sprintf("merged in #%d", ch.Branch.PR.Number)
	default:
		return o
	}
}

// notChecked marks a row's reason carried from an earlier cycle: "<its
// last result> (not checked this cycle: <why>)".
const notChecked = " (not checked this cycle: "

// carry fills st in from the previous cycle's state where this cycle did
// not look: an attribute --only left out, a commit of a branch kept as
// proposed, a change its failed source held. Such a row keeps its PR, build
// and kernel.org version and when it was last checked, its last result
// saying once why it was not checked now; a branch none of whose changes
// was looked at keeps its PR. Without it a partial cycle would overwrite
// state.json with "up to date" and no PR for everything it skipped.
func carry(prev, st *State, rep *Report) {
	if prev == nil {
		return
	}
	why := unlooked(prev, rep)
	draftState(prev, st, rep)
	last := map[string]server.BranchStatus{}
	for _, b := range prev.Branches {
		last[b.Attr] = b
	}
	for i := range st.Branches {
		r := &st.Branches[i]
		l, ok := last[r.Attr]
		w, skipped := why[r.Attr]
		if !ok || !skipped {
			continue
		}
		if r.PR == nil {
			r.PR = l.PR
		}
		if r.Build == "" {
			r.Build = l.Build
		}
		if r.KernelOrg == "" {
			r.KernelOrg = l.KernelOrg
		}
		if w != "" {
			r.CheckedAt = l.CheckedAt
			res, _, _ := strings.Cut(l.Reason, notChecked)
			r.Reason = res + notChecked + w + ")"
		}
	}

	inCycle := map[string]bool{}
	for _, ch := range rep.Changes {
		inCycle[ch.Change.Attr] = true
	}
	hasPR := map[string]bool{}
	for _, p := range st.PRs {
		hasPR[p.Branch] = true
	}
	carried := map[string]bool{} // branches whose PR is carried
	for _, p := range prev.PRs {
		if hasPR[p.Branch] {
			continue
		}
		keep := false
		for _, ch := range prev.Changes {
			if ch.Branch == p.Branch && !inCycle[ch.Attr] && why[ch.Attr] != "" {
				keep = true
			}
		}
		if keep {
			st.PRs = append(st.PRs, p)
			carried[p.Branch] = true
		}
	}
	for _, ch := range prev.Changes {
		if !inCycle[ch.Attr] && why[ch.Attr] != "" && (ch.Branch == "" || carried[ch.Branch] || hasPR[ch.Branch]) {
			st.Changes = append(st.Changes, ch)
		}
	}
}

// unlooked is, per attribute, why this cycle did not look at it: "" when
// it did look at its change but neither built nor proposed it (its branch
// was kept as proposed or left alone), so only its build and PR are the
// earlier ones.
func unlooked(prev *State, rep *Report) map[string]string {
	why := map[string]string{}
	set := func(attr, w string) {
		if _, ok := why[attr]; !ok {
			why[attr] = w
		}
	}
	for _, br := range rep.Branches {
		for _, w := range br.Kept {
			if w.Only {
				set(w.Attr, notSelected)
			} else {
				set(w.Attr, "kept as proposed: "+concise(w.Reason))
			}
		}
	}
	inCycle := map[string]bool{}
	for _, ch := range rep.Changes {
		inCycle[ch.Change.Attr] = true
		if b := ch.Branch; b != nil && (len(b.Kept) > 0 || b.Push == gitops.SkippedForeign) {
			set(ch.Change.Attr, "")
		}
	}
	for _, n := range rep.Held {
		if n.Err == nil {
			continue
		}
		for _, b := range prev.Branches {
			if !inCycle[b.Attr] && (b.Attr == n.Attr || n.SourceFailure() && rep.owner[b.Attr] == n.Family) {
				set(b.Attr, "held: "+concise(n.Err.Error()))
			}
		}
	}
	if len(rep.Only) > 0 {
		for _, b := range prev.Branches {
			if !slices.Contains(rep.Only, b.Attr) {
				set(b.Attr, notSelected)
			}
		}
	}
	return why
}

// notSelected is why an attribute --only left out was not looked at, in
// the log, the summary and the state alike.
const notSelected = "not selected by --only"

// concise is the first line of a reason, at most 120 bytes: the full text
// is in the cycle's summary and log once.
func concise(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:120], "") + "…"
	}
	return s
}

// draftState corrects "open" for a PR this cycle synced without making it a
// draft or ready (updated, unchanged): the workflow does not say which it
// is, so it stays what the previous cycle recorded, and a PR kupdate opens
// as a draft (github.draft) is taken to be one until then. `kupdate status`
// reads it live.
func draftState(prev *State, st *State, rep *Report) {
	was := map[int]string{}
	for _, p := range prev.PRs {
		if p.PR != nil {
			was[p.PR.Number] = p.PR.State
		}
	}
	draft := map[int]bool{}
	for _, b := range rep.Branches {
		if b.PR == nil || b.PR.Number == 0 || b.PR.Outcome == workflow.Opened {
			continue
		}
		if w, ok := was[b.PR.Number]; w == "draft" || !ok && b.draft {
			draft[b.PR.Number] = true
		}
	}
	fix := func(r *server.PRRef) {
		if r != nil && r.State == "open" && draft[r.Number] {
			r.State = "draft"
		}
	}
	for i := range st.PRs {
		fix(st.PRs[i].PR)
	}
	for i := range st.Changes {
		fix(st.Changes[i].PR)
	}
	for i := range st.Branches {
		fix(st.Branches[i].PR)
	}
}
