package server

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/kupdate/kupdate/state"
)

// rowClass is a branch row's class, from where it stands: amber only where
// kupdate has work to do. A row of an older state file (no standing) is
// amber when kernel.org offers a newer version than nixpkgs packages.
func rowClass(b BranchStatus) string {
	switch state.Standing(b.Standing) {
	case state.Work:
		return "behind"
	case state.Removing:
		return "removing"
	case state.Left:
		return "left"
	case state.Current:
		return ""
	}
	if b.Nixpkgs != "" && behind(b) {
		return "behind"
	}
	return ""
}

// standingWord says in a word what the row's colour says.
func standingWord(b BranchStatus) string {
	switch state.Standing(b.Standing) {
	case state.Work:
		return "work to do"
	case state.Removing:
		return "removal pending"
	case state.Left:
		if b.Nixpkgs == "" {
			return "not packaged"
		}
		return "left alone"
	case state.Current:
		return "current"
	}
	return ""
}

// behindAge is how long the base has lacked the branch's newest version, as
// the page shows it: "—" when it is not known, "current" when it has it.
func behindAge(b BranchStatus) string {
	switch {
	case b.BehindSeconds == nil:
		return "—"
	case *b.BehindSeconds == 0:
		return "0"
	}
	return humanDuration(time.Duration(*b.BehindSeconds * float64(time.Second)))
}

// after is t as time since kernel.org's release ("+5h12m"), "—" when either
// is not known.
func after(released, t time.Time) string {
	if released.IsZero() || t.IsZero() {
		return "—"
	}
	return "+" + humanDuration(max(t.Sub(released), 0))
}

// historyRow is one version of one branch in the page's history table.
type historyRow struct {
	Branch, Attr string
	state.Release
}

// historyRows are every branch's versions, newest release first (a version
// without a release time last).
func historyRows(bs []BranchStatus) []historyRow {
	var out []historyRow
	for _, b := range bs {
		for _, r := range b.History {
			out = append(out, historyRow{b.Branch, b.Attr, r})
		}
	}
	slices.SortStableFunc(out, func(a, b historyRow) int { return b.Released.Compare(a.Released) })
	return out
}

// chartWeeks is how far back the lag chart looks.
const chartWeeks = 8

// lagChart is an inline SVG of the last chartWeeks weeks: one bar per
// version released then, placed at its release, as tall as the time it took
// to reach the base (solid) and the target (light, behind it); a version
// still on its way reaches up to now, hatched. Nothing when there is no
// version to show. The bars' titles say the numbers (no script needed).
func lagChart(bs []BranchStatus, now time.Time) template.HTML {
	const w, h, pad = 640.0, 140.0, 24.0
	from := now.Add(-chartWeeks * 7 * 24 * time.Hour)
	var rows []historyRow
	for _, r := range historyRows(bs) {
		if !r.Released.IsZero() && r.Released.After(from) && !r.Released.After(now) {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return ""
	}
	top := 24 * time.Hour // the y scale: at least a day
	for _, r := range rows {
		top = max(top, reached(r.Release, now))
	}
	x := func(t time.Time) float64 { return pad + (w-2*pad)*float64(t.Sub(from))/float64(now.Sub(from)) }
	y := func(d time.Duration) float64 { return (h - pad) * float64(d) / float64(top) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="lag-chart" role="img" viewBox="0 0 %.0f %.0f" width="100%%" style="max-width:%.0fpx" xmlns="http://www.w3.org/2000/svg">`, w, h, w)
	fmt.Fprintf(&b, `<title>Time from kernel.org's release to the base branch, last %d weeks</title>`, chartWeeks)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#d1d9e0"/>`, pad, h-pad, w-pad, h-pad)
	for i := 0; i <= chartWeeks; i += 2 {
		t := from.Add(time.Duration(i) * 7 * 24 * time.Hour)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="10" fill="#59636e" text-anchor="middle">%s</text>`, x(t), h-8, t.UTC().Format("Jan 2"))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="12" font-size="10" fill="#59636e">%s</text>`, pad, template.HTMLEscapeString(humanDuration(top)))
	for _, r := range rows {
		bx := x(r.Released) - 3
		if !r.Promoted.IsZero() {
			d := r.Promoted.Sub(r.Released)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="6" height="%.1f" fill="#8cc5ff"><title>%s %s: %s to the target</title></rect>`,
				bx, h-pad-y(d), y(d), template.HTMLEscapeString(r.Attr), template.HTMLEscapeString(r.Version), humanDuration(d))
		}
		fill, what, d := "#0969da", "to the base", r.Merged.Sub(r.Released)
		if r.Merged.IsZero() {
			fill, what, d = "#d4a72c", "on its way", now.Sub(r.Released)
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="6" height="%.1f" fill="%s"><title>%s %s: %s %s</title></rect>`,
			bx, h-pad-y(d), y(d), fill, template.HTMLEscapeString(r.Attr), template.HTMLEscapeString(r.Version), humanDuration(d), what)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text in it is escaped above
}

// reached is how long r took to get as far as it got: to the target, the
// base, or (on its way) until now.
func reached(r state.Release, now time.Time) time.Duration {
	switch {
	case !r.Promoted.IsZero():
		return r.Promoted.Sub(r.Released)
	case !r.Merged.IsZero():
		return r.Merged.Sub(r.Released)
	}
	return now.Sub(r.Released)
}
