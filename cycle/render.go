package cycle

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/workflow"
)

// WriteSummary writes the end-of-cycle summary for a terminal: one line per
// change (its branch, outcome, PR and build result), then what failed,
// waits, was held back or skipped, and the promotion.
func (r *Report) WriteSummary(w io.Writer) error {
	var b strings.Builder
	mode := ""
	if r.DryRun {
		mode = " (dry run: nothing was written)"
	}
	fmt.Fprintf(&b, "base %s at %s, %s%s\n", r.BaseBranch, short(r.Base), r.Source, mode)
	if len(r.Only) > 0 {
		fmt.Fprintf(&b, "only %s\n", strings.Join(r.Only, ", "))
	}
	if len(r.Changes) == 0 {
		b.WriteString("nothing to do\n")
	} else {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "CHANGE\tBRANCH\tOUTCOME\tPR\tBUILD")
		// The commits a kept branch holds beyond this cycle's changes are
		// rows too, after the branch's last change.
		withheld := func(i int) {
			br := r.Changes[i].Branch
			if br == nil || len(br.Kept) == 0 || i+1 < len(r.Changes) && slices.ContainsFunc(r.Changes[i+1:], func(c *ChangeResult) bool { return c.Branch == br }) {
				return
			}
			pr := "-"
			if n, url, _ := br.pr(); n != 0 {
				pr = fmt.Sprintf("#%d %s", n, url)
			}
			for _, w := range br.Kept {
				fmt.Fprintf(tw, "%s\t%s\tkept\t%s\tnot built\n", w.Title, br.Name, pr)
			}
		}
		for i, ch := range r.Changes {
			branch, pr, bs := "-", "-", ch.BuildStatus()
			if ch.Branch != nil {
				branch = ch.Branch.Name
				if p := ch.Branch.PR; p != nil && p.Number != 0 {
					pr = fmt.Sprintf("#%d %s", p.Number, p.URL)
				} else if p != nil && p.Outcome == workflow.WouldOpen {
					pr = "new"
				} else if n, url, _ := ch.Branch.pr(); n != 0 {
					pr = fmt.Sprintf("#%d %s", n, url)
				}
			}
			switch {
			case ch.Branch == nil:
				bs = "-"
			case bs == "":
				bs = "not built"
			}
			if ch.reusedBuild() && bs != "not built" {
				bs += " (earlier build)"
			}
			outcome := ch.Outcome()
			switch workflow.Outcome(outcome) {
			case workflow.WouldOpen:
				outcome = "would be opened"
			case workflow.WouldUpdate:
				outcome = "would be updated"
			case "would-add":
				outcome = "would be added"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ch.Change.Title, branch, outcome, pr, bs)
			withheld(i)
		}
		tw.Flush()
	}
	var notes []string
	for _, ch := range r.Changes {
		switch {
		case ch.Err != nil:
			notes = append(notes, "failed: "+ch.Err.Error())
		case ch.Wait != "":
			notes = append(notes, "waiting: "+ch.Change.Title+": "+ch.Wait)
		}
	}
	for _, br := range r.Branches {
		notes = append(notes, keptNotes(br)...)
		switch {
		case br.Push == gitops.SkippedForeign:
			notes = append(notes, "left alone: "+br.Err.Error())
		case br.Err != nil:
			notes = append(notes, fmt.Sprintf("failed: %s: %v", br.Name, br.Err))
		case br.PR != nil && br.PR.Err != nil:
			notes = append(notes, fmt.Sprintf("failed: %s: %v", br.Name, br.PR.Err))
		}
		if br.PR != nil && br.PR.Merge != "" {
			m := fmt.Sprintf("merge %s: %s", br.Name, br.PR.Merge)
			if br.PR.Reason != "" {
				m += " (" + br.PR.Reason + ")"
			}
			notes = append(notes, m)
		} else if br.PR != nil && br.PR.Reason != "" {
			notes = append(notes, fmt.Sprintf("%s: %s", br.Name, br.PR.Reason))
		}
		if len(br.Build.Results) > 0 && !br.Build.OK() {
			notes = append(notes, fmt.Sprintf("build failed: %s: %s", br.Name, br.Build.Summary()))
		}
	}
	for _, n := range r.Held {
		notes = append(notes, "held: "+n.String())
	}
	for _, n := range r.Skipped {
		notes = append(notes, "skipped: "+n.String())
	}
	for _, p := range r.Promotions {
		notes = append(notes, "promote "+promotionLine(p))
	}
	if r.PromoteErr != nil && !slices.ContainsFunc(r.Promotions, func(p workflow.PromoteResult) bool { return p.Err != nil }) {
		// A pair's failure is on its own line already.
		notes = append(notes, "failed: promotion: "+r.PromoteErr.Error())
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString(n)
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func promotionLine(p workflow.PromoteResult) string {
	s := p.From + " -> " + p.To + ": "
	switch {
	case p.Err != nil:
		return s + "failed: " + p.Err.Error()
	case p.Outcome == workflow.UpToDate:
		return s + "up to date"
	}
	pr := "no PR yet"
	if p.Number != 0 {
		pr = fmt.Sprintf("#%d %s", p.Number, p.URL)
	}
	// As `kupdate promote` says it: GitHub's count of the commits From has
	// that To lacks (merge commits included).
	commits := "commits"
	if p.Ahead == 1 {
		commits = "commit"
	}
	s += fmt.Sprintf("%d %s ahead, %s: %s", p.Ahead, commits, pr, p.Outcome)
	if p.Reason != "" {
		s += " (" + p.Reason + ")"
	}
	return s
}

// WriteDryRun writes, for every branch, exactly what a cycle would do:
// the push, each commit with its diff, the PR's title, labels, body and
// every write to GitHub, and the merge decision; then the promotion's.
func (r *Report) WriteDryRun(w io.Writer) error {
	var b strings.Builder
	for _, br := range r.Branches {
		fmt.Fprintf(&b, "=== branch %s (on %s at %s)\n", br.Name, r.BaseBranch, short(r.Base))
		switch br.Push {
		case gitops.WouldPush:
			fmt.Fprintf(&b, "push: would push %s\n", short(br.Head))
		case gitops.Unchanged:
			fmt.Fprintf(&b, "push: none, the fork has these commits at %s\n", short(br.Head))
		case "":
		default:
			fmt.Fprintf(&b, "push: %s\n", br.Push)
		}
		if br.Err != nil {
			fmt.Fprintf(&b, "error: %v\n", br.Err)
		}
		for i, ch := range br.Changes {
			fmt.Fprintf(&b, "\n--- commit %d/%d: %s\n", i+1, len(br.Changes), ch.Title)
			if i < len(br.Diffs) {
				b.WriteString(br.Diffs[i])
			}
		}
		if p := br.PR; p != nil {
			b.WriteString("\n")
			switch {
			case p.Err != nil:
				fmt.Fprintf(&b, "PR: error: %v\n", p.Err)
			case p.Number == 0:
				fmt.Fprintf(&b, "PR: %s (new)\n", p.Outcome)
			default:
				fmt.Fprintf(&b, "PR: #%d %s: %s\n", p.Number, p.URL, p.Outcome)
			}
			fmt.Fprintf(&b, "title: %s\n", p.Title)
			fmt.Fprintf(&b, "labels: %s\n", strings.Join(p.Labels, ", "))
			switch {
			case p.Merge != "":
				fmt.Fprintf(&b, "merge: %s", p.Merge)
				if p.Reason != "" {
					fmt.Fprintf(&b, " (%s)", p.Reason)
				}
				b.WriteString("\n")
			case p.Reason != "":
				fmt.Fprintf(&b, "note: %s\n", p.Reason)
			case r.merge:
				b.WriteString("merge: not before the PR exists and a person approved it (github.merge)\n")
			default:
				b.WriteString("merge: off (github.merge = false)\n")
			}
			if len(p.Actions) == 0 {
				b.WriteString("GitHub: no writes\n")
			}
			for _, a := range p.Actions {
				fmt.Fprintf(&b, "would: %s\n", a)
			}
			fmt.Fprintf(&b, "--- body\n%s", p.Body)
			if !strings.HasSuffix(p.Body, "\n") {
				b.WriteString("\n")
			}
			b.WriteString("--- end of body\n")
		}
		b.WriteString("\n")
	}
	for _, p := range r.Promotions {
		fmt.Fprintf(&b, "=== promotion %s\n", promotionLine(p))
		for _, a := range p.Actions {
			fmt.Fprintf(&b, "would: %s\n", a)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
