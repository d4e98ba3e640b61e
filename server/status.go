package server

import (
	"context"
	"time"

	"github.com/kupdate/kupdate/state"
)

// Steps the server runs.
const (
	StepCycle   = "cycle"   // the whole cycle, on the schedule
	StepPromote = "promote" // the promotion step alone, on a webhook
)

// Cycler is what the server drives: the cycle and the promotion step, and the
// per-branch state they leave behind. The cycle's package implements it.
//
// The server holds the state-directory lock (package lock) around every
// Cycle and Promote call and never calls them concurrently, so an
// implementation must not take that lock itself: a second flock from the
// same process conflicts with the first.
type Cycler interface {
	// Cycle runs one whole cycle. When ctx is cancelled (shutdown, after
	// serve.shutdown_timeout) it should stop at the next safe point and
	// return ctx's error.
	Cycle(ctx context.Context) error
	// Promote runs the staging -> target promotion step alone.
	Promote(ctx context.Context) error
	// State is the last finished cycle's state (package state), nil
	// before any: the status page shows its records, and a restarted
	// server the persisted last cycle and promotions. It is called on
	// every page view, also while Cycle runs, so it must be safe for
	// concurrent use and must not do I/O; the server does not modify it.
	State() *state.State
}

// PromotionStatus is one staging -> target promotion: a row of the status
// page's promotions.
type PromotionStatus struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Ahead   int    `json:"ahead"` // commits From has that To lacks
	PR      *PRRef `json:"pr"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// BranchStatus is one kernel branch: one row of the status page.
type BranchStatus struct {
	Branch    string    `json:"branch"`     // kernels-org.json key: "6.12", "testing"
	Attr      string    `json:"attr"`       // linux_6_12
	Nixpkgs   string    `json:"nixpkgs"`    // version at the base branch of nixpkgs; empty = not packaged
	KernelOrg string    `json:"kernel_org"` // version kernel.org offers; empty = gone (EOL)
	PR        *PRRef    `json:"pr"`         // the open (or last) PR carrying the update; nil = none
	Build     string    `json:"build"`      // last build result, e.g. "passed", "configfile failed"
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Reason says why the branch did or did not update in the last cycle,
	// e.g. "up to date", "sha256sums.asc has no line for 6.12.64 yet".
	Reason string `json:"reason"`
	// Standing is state.Standing: "current", "work" (kupdate has work to
	// do), "removing", "left" (left alone by a rule); "" from an older
	// state file.
	Standing string `json:"standing,omitempty"`
	// BehindSeconds is how long the base has lacked the newest version
	// (since kernel.org released it), 0 when it has it; nil when not
	// known (see Behind).
	BehindSeconds *float64 `json:"behind_seconds,omitempty"`
	// Tiers are its last build tier by tier, each with its log (served at
	// /logs/<name>) when one was kept.
	Tiers []state.Tier `json:"tiers,omitempty"`
	// History is the branch's last versions: released, proposed in which
	// PR, merged, promoted.
	History []state.Release `json:"history,omitempty"`
}

// PRRef is a pull request on GitHub.
type PRRef struct {
	Number int    `json:"number"`
	URL    string `json:"url"`
	State  string `json:"state"` // "open", "draft", "merged", "closed"
}

// StepStatus is one run of a step: the one in progress, or the last finished.
type StepStatus struct {
	Step    string    `json:"step"`    // StepCycle or StepPromote
	Trigger string    `json:"trigger"` // "schedule", or the webhook delivery that asked for it
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`      // zero while running
	Outcome string    `json:"outcome,omitempty"` // an Outcome* constant; empty while running
	Error   string    `json:"error,omitempty"`
}

// Took is how long the step ran (zero while it runs).
func (s StepStatus) Took() time.Duration {
	if s.End.IsZero() {
		return 0
	}
	return s.End.Sub(s.Start)
}

// Pending is a step waiting for the one in progress.
type Pending struct {
	Step    string `json:"step"`
	Trigger string `json:"trigger"`
}

// Status is everything the status page and /status.json show.
type Status struct {
	Now           time.Time      `json:"now"`
	Branches      []BranchStatus `json:"branches"`
	Running       *StepStatus    `json:"running"`        // nil when idle
	Queued        []Pending      `json:"queued"`         // promotion first, then the cycle
	LastCycle     *StepStatus    `json:"last_cycle"`     // nil before the first
	LastPromotion *StepStatus    `json:"last_promotion"` // nil before the first
	// Promotions are the last cycle's, when the Cycler lists them.
	Promotions []PromotionStatus `json:"promotions,omitempty"`
	// Suggestions are the requests the last cycle's families advise a
	// maintainer to make (kupdate propose), with the command.
	Suggestions  []state.Suggestion `json:"suggestions,omitempty"`
	NextRun      time.Time          `json:"next_run,omitzero"`
	ShuttingDown bool               `json:"shutting_down"`
	Schedule     string             `json:"schedule"`
	// Build is the kupdate serving the page; nil when not named.
	Build *BuildInfo `json:"build,omitempty"`
	// Repository is the nixpkgs repository served (owner/repo), Base its
	// branch the PRs target, Fork where kupdate pushes ("" = Repository).
	Repository string `json:"repository"`
	Base       string `json:"base"`
	Fork       string `json:"fork,omitempty"`
}

// Status is the current state, as the status page shows it.
func (s *Server) Status() Status {
	last := s.cycler.State()
	now := s.clock.Now()
	branches, earlier, promotions := branchRows(last, now), lastCycle(last), promotionRows(last)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Now:           now,
		Repository:    s.repo,
		Base:          s.base,
		Fork:          s.fork,
		Branches:      branches,
		Running:       clone(s.running),
		Queued:        []Pending{},
		LastCycle:     clone(s.lastCycle),
		LastPromotion: clone(s.lastPromotion),
		Promotions:    promotions,
		Suggestions:   suggestionsOf(last),
		NextRun:       s.nextRun,
		ShuttingDown:  s.draining,
		Schedule:      s.cfg.Schedule,
		Build:         clone(s.build),
	}
	if st.LastCycle == nil {
		st.LastCycle = earlier
	}
	for _, p := range []*Pending{s.pendingPromote, s.pendingCycle} {
		if p != nil {
			st.Queued = append(st.Queued, *p)
		}
	}
	return st
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// branchRows are st's records as the status page's rows.
func branchRows(st *state.State, now time.Time) []BranchStatus {
	out := []BranchStatus{}
	if st == nil {
		return out
	}
	for _, a := range st.Attrs {
		b := BranchStatus{Branch: a.Branch, Attr: a.Attr, Nixpkgs: a.Nixpkgs, KernelOrg: a.Upstream,
			PR: prRef(a.PR), Build: a.Build, CheckedAt: a.Checked, Reason: a.Reason(), Standing: string(a.Standing), Tiers: a.Tiers, History: a.History}
		if d, ok := Behind(a, now); ok {
			secs := d.Seconds()
			b.BehindSeconds = &secs
		}
		out = append(out, b)
	}
	return out
}

// lastCycle is the last finished cycle as st has it, for a server that has
// not finished one itself (a restart must not say "none yet" over a state
// file that says otherwise); nil when there is none.
func lastCycle(st *state.State) *StepStatus {
	if st == nil || st.End.IsZero() {
		return nil
	}
	s := &StepStatus{Step: StepCycle, Trigger: "an earlier kupdate run (state.json)", Start: st.Start, End: st.End, Outcome: OutcomeSuccess}
	if !st.OK {
		s.Outcome, s.Error = OutcomeFailure, st.Error
	}
	return s
}

// promotionRows are st's promotions, each with its PR.
func promotionRows(st *state.State) []PromotionStatus {
	if st == nil {
		return nil
	}
	var out []PromotionStatus
	for _, p := range st.Promotions {
		out = append(out, PromotionStatus{From: p.From, To: p.To, Ahead: p.Ahead, PR: prRef(p.PR), Outcome: p.Outcome, Reason: p.Reason})
	}
	return out
}

func prRef(p *state.PR) *PRRef {
	if p == nil {
		return nil
	}
	return &PRRef{Number: p.Number, URL: p.URL, State: string(p.State)}
}

// suggestionsOf are the last cycle's suggestions, nil before any.
func suggestionsOf(last *state.State) []state.Suggestion {
	if last == nil {
		return nil
	}
	return last.Suggestions
}
