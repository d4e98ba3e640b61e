package cycle

import (
	"time"

	"github.com/kupdate/kupdate/state"
	"github.com/kupdate/kupdate/workflow"
)

// Stages of a version's way into nixpkgs, as the lag histograms label them:
// from kernel.org's release to kupdate's PR, to the base branch, to the
// promotion target.
const (
	StageProposed = "proposed"
	StageMerged   = "merged"
	StagePromoted = "promoted"
)

// history completes each attribute's History (carried over from the last
// state by state.Merge) with what this cycle saw at now: the release time
// of a version the base lacks, the PR that carries it, its arrival at the
// base. A version already at the base when kupdate first saw it gets no
// times: when it got there is not known.
func (c *Cycle) history(st *state.State, rep *Report, now time.Time) {
	released, offered := map[string]time.Time{}, map[string]string{}
	for _, o := range rep.offers {
		offered[o.Attr], released[o.Attr] = o.Version, o.Released
	}
	carried := map[string]*ChangeResult{}
	for _, ch := range rep.Changes {
		if b := ch.Branch; b != nil && b.PR != nil && b.PR.Number != 0 && b.PR.Err == nil && ch.Err == nil && ch.Wait == "" {
			carried[ch.Change.Attr] = ch
		}
	}
	for i := range st.Attrs {
		a := &st.Attrs[i]
		if v := offered[a.Attr]; v != "" && v != a.Nixpkgs {
			a.Note(v, func(r *state.Release) {
				if r.Released.IsZero() {
					r.Released = released[a.Attr]
				}
			})
		}
		if ch := carried[a.Attr]; ch != nil {
			a.Note(ch.Change.To, func(r *state.Release) {
				if r.Proposed.IsZero() {
					r.Proposed = now
					c.observeLag(StageProposed, r.Released, now)
				}
				r.PR = prRef(ch.Branch)
				// The cycle merged it (github.merge): it is at the base now.
				if r.PR.State == state.Merged && r.Merged.IsZero() {
					r.Merged = now
					c.observeLag(StageMerged, r.Released, now)
				}
			})
		}
		if r := a.Find(a.Nixpkgs); r != nil && a.Nixpkgs != "" && r.Merged.IsZero() {
			r.Merged = now
			if r.PR != nil {
				r.PR = &state.PR{Number: r.PR.Number, URL: r.PR.URL, State: state.Merged}
			}
			c.observeLag(StageMerged, r.Released, now)
		}
	}
}

// promoted marks, after promotion step results res at now, the versions
// at the base that the target now has too: a promotion from the base that
// merged, or found nothing to promote.
func (c *Cycle) promoted(st *state.State, res []workflow.PromoteResult, now time.Time) {
	reached := false
	for _, p := range res {
		if p.Err == nil && p.From == c.cfg.Nixpkgs.Base && (p.Outcome == workflow.Merged || p.Outcome == workflow.UpToDate) {
			reached = true
		}
	}
	if !reached {
		return
	}
	for i := range st.Attrs {
		for j := range st.Attrs[i].History {
			r := &st.Attrs[i].History[j]
			if !r.Merged.IsZero() && r.Promoted.IsZero() {
				r.Promoted = now
				c.observeLag(StagePromoted, r.Released, now)
			}
		}
	}
}

func (c *Cycle) observeLag(stage string, released, at time.Time) {
	if c.o.Metrics != nil && !released.IsZero() {
		c.o.Metrics.ObserveLag(stage, at.Sub(released))
	}
}

// cloneAttrs is as, with histories of their own.
func cloneAttrs(as []state.Attr) []state.Attr {
	out := make([]state.Attr, len(as))
	for i, a := range as {
		a.History = append([]state.Release(nil), a.History...)
		out[i] = a
	}
	return out
}
