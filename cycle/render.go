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
		r.writeTable(&b)
	}
	if notes := r.Notes(true); len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString(n)
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable writes the summary's table: a row per change, and after a
// kept branch's last change the commits it keeps.
func (r *Report) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANGE\tBRANCH\tOUTCOME\tPR\tBUILD")
	for i, ch := range r.Changes {
		branch := "-"
		if ch.Branch != nil {
			branch = ch.Branch.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ch.Change.Title, branch, ch.Outcome().column(), prColumn(ch.Branch), ch.BuildCell())
		if br := ch.Branch; br != nil && len(br.Kept) > 0 && !slices.ContainsFunc(r.Changes[i+1:], func(c *ChangeResult) bool { return c.Branch == br }) {
			pr := prColumn(&BranchResult{Found: br.Found})
			for _, w := range br.Kept {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tnot built\n", w.Title, br.Name, Kept, pr)
			}
		}
	}
	tw.Flush()
}

// prColumn is a branch's PR as the summary shows it: "#1 <url>", "new" in
// a dry run that would open it, "-" when there is none.
func prColumn(br *BranchResult) string {
	if br == nil {
		return "-"
	}
	if p := br.PR; p != nil && p.Number == 0 && p.Outcome == workflow.WouldOpen {
		return "new"
	}
	if n, url, _ := br.pr(); n != 0 {
		return fmt.Sprintf("#%d %s", n, url)
	}
	return "-"
}

// BuildCell is a change's build result as the summary shows it: "passed",
// "passed (earlier build)", "not built", "-" without a branch.
func (ch *ChangeResult) BuildCell() string {
	bs := ch.BuildStatus()
	switch {
	case ch.Branch == nil:
		return "-"
	case bs == "":
		return "not built"
	case ch.reusedBuild():
		return bs + " (earlier build)"
	}
	return bs
}

// Notes are the summary's lines after its table: what failed, waits, was
// kept, held or skipped, and the promotions, whose PRs are named with their
// URLs when prURLs is set (a table that lists the URLs once passes false).
func (r *Report) Notes(prURLs bool) []string {
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
		notes = append(notes, branchNotes(br)...)
	}
	for _, n := range r.Held {
		notes = append(notes, "held: "+n.String())
	}
	for _, n := range r.Skipped {
		notes = append(notes, "skipped: "+n.String())
	}
	for _, p := range r.Promotions {
		notes = append(notes, "promote "+PromotionLine(p, prURLs))
	}
	if r.PromoteErr != nil && !slices.ContainsFunc(r.Promotions, func(p workflow.PromoteResult) bool { return p.Err != nil }) {
		// A pair's failure is on its own line already.
		notes = append(notes, "failed: promotion: "+r.PromoteErr.Error())
	}
	return notes
}

// branchNotes are what the summary says of a branch: kept, left alone or
// failed, the merge decision, a failed build.
func branchNotes(br *BranchResult) []string {
	notes := keptNotes(br)
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
	return notes
}

// PromotionLine is one promotion result as the summary and `kupdate
// promote` say it; the PR is named by its number, and its URL when withURL
// is set.
func PromotionLine(p workflow.PromoteResult, withURL bool) string {
	s := p.From + " -> " + p.To + ": "
	switch {
	case p.Err != nil:
		return s + "failed: " + p.Err.Error()
	case p.Outcome == workflow.UpToDate:
		return s + "up to date"
	}
	pr := "no PR yet"
	if p.Number != 0 {
		pr = fmt.Sprintf("#%d", p.Number)
		if withURL {
			pr += " " + p.URL
		}
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
		if line := pushLine(br); line != "" {
			fmt.Fprintf(&b, "push: %s\n", line)
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
		if br.PR != nil {
			b.WriteString("\n")
			r.writePR(&b, br.PR)
		}
		b.WriteString("\n")
	}
	for _, p := range r.Promotions {
		fmt.Fprintf(&b, "=== promotion %s\n", PromotionLine(p, true))
		for _, a := range p.Actions {
			fmt.Fprintf(&b, "would: %s\n", a)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pushPhrases say what a dry run's push of a branch would do, by its
// outcome; an outcome without one is said as it is.
var pushPhrases = map[gitops.Outcome]func(br *BranchResult) string{
	gitops.WouldPush: func(br *BranchResult) string { return "would push " + short(br.Head) },
	gitops.Unchanged: func(br *BranchResult) string { return "none, the fork has these commits at " + short(br.Head) },
	"":               func(*BranchResult) string { return "" }, // never pushed: an error came first
}

func pushLine(br *BranchResult) string {
	if p, ok := pushPhrases[br.Push]; ok {
		return p(br)
	}
	return string(br.Push)
}

// writePR writes what a dry run would do to a branch's PR.
func (r *Report) writePR(b *strings.Builder, p *workflow.PRResult) {
	switch {
	case p.Err != nil:
		fmt.Fprintf(b, "PR: error: %v\n", p.Err)
	case p.Number == 0:
		fmt.Fprintf(b, "PR: %s (new)\n", p.Outcome)
	default:
		fmt.Fprintf(b, "PR: #%d %s: %s\n", p.Number, p.URL, p.Outcome)
	}
	fmt.Fprintf(b, "title: %s\n", p.Title)
	fmt.Fprintf(b, "labels: %s\n", strings.Join(p.Labels, ", "))
	b.WriteString(r.mergeLine(p))
	if len(p.Actions) == 0 {
		b.WriteString("GitHub: no writes\n")
	}
	for _, a := range p.Actions {
		fmt.Fprintf(b, "would: %s\n", a)
	}
	fmt.Fprintf(b, "--- body\n%s", p.Body)
	if !strings.HasSuffix(p.Body, "\n") {
		b.WriteString("\n")
	}
	b.WriteString("--- end of body\n")
}

// mergeLine is the dry run's merge decision for a PR.
func (r *Report) mergeLine(p *workflow.PRResult) string {
	switch {
	case p.Merge != "" && p.Reason != "":
		return fmt.Sprintf("merge: %s (%s)\n", p.Merge, p.Reason)
	case p.Merge != "":
		return fmt.Sprintf("merge: %s\n", p.Merge)
	case p.Reason != "":
		return fmt.Sprintf("note: %s\n", p.Reason)
	case r.merge:
		return "merge: not before the PR exists and a person approved it (github.merge)\n"
	}
	return "merge: off (github.merge = false)\n"
}
