package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/kupdate/kupdate/cycle"
)

// demoWidth is the widest line the demo prints of its own: its story reads
// in a terminal of 120 columns.
const demoWidth = 120

// writeDemoSummary is the demo's summary of a cycle: the facts of `kupdate
// run`'s summary laid out for 120 columns — a PR is "#3" in the table and
// its branch and URL are listed once below it; CHANGE comes last, so no
// column is padded for the longest title; long notes wrap.
func writeDemoSummary(w io.Writer, rep *cycle.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "base %s at %s, %s\n", rep.BaseBranch, shortID(rep.Base), rep.Source)
	if len(rep.Changes) == 0 {
		b.WriteString("nothing to do\n")
	} else {
		b.WriteString("\n")
		writeDemoTable(&b, rep)
		b.WriteString("\n")
		writeDemoPRs(&b, rep)
	}
	if notes := rep.Notes(false); len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			wrapLine(&b, "", n, "    ", demoWidth-2) // the story indents the summary by two
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDemoTable(w io.Writer, rep *cycle.Report) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PR\tOUTCOME\tBUILD\tCHANGE")
	for _, ch := range rep.Changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", demoPRRef(ch.Branch), ch.Outcome(), ch.BuildCell(), ch.Change.Title)
	}
	tw.Flush()
}

// writeDemoPRs lists, once, each PR the table refers to: its number, the
// fork's branch that carries it and its URL.
func writeDemoPRs(w io.Writer, rep *cycle.Report) {
	type row struct {
		n           int
		branch, url string
	}
	var rows []row
	for _, ch := range rep.Changes {
		n, url := demoPR(ch.Branch)
		if n != 0 && !slices.ContainsFunc(rows, func(r row) bool { return r.n == n }) {
			rows = append(rows, row{n, ch.Branch.Name, url})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return a.n - b.n })
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "#%d\t%s\t%s\n", r.n, r.branch, r.url)
	}
	tw.Flush()
}

// demoPR is the number and URL of a branch's PR: the one the cycle synced,
// else the one it found (a branch kept or left alone); 0 when none.
func demoPR(br *cycle.BranchResult) (int, string) {
	switch {
	case br == nil:
		return 0, ""
	case br.PR != nil && br.PR.Number != 0:
		return br.PR.Number, br.PR.URL
	case br.Found != nil:
		return br.Found.Number, br.Found.URL
	}
	return 0, ""
}

func demoPRRef(br *cycle.BranchResult) string {
	if n, _ := demoPR(br); n != 0 {
		return fmt.Sprintf("#%d", n)
	}
	return "-"
}

// wrapLine writes s in lines of at most width columns, broken at spaces;
// the first line starts with first, the others with cont. A word longer
// than a line (a URL) is never broken.
func wrapLine(b *strings.Builder, first, s, cont string, width int) {
	line, fresh := first, true
	for _, word := range strings.Fields(s) {
		if !fresh && columns(line)+1+columns(word) > width {
			b.WriteString(line + "\n")
			line, fresh = cont, true
		}
		if !fresh {
			line += " "
		}
		line, fresh = line+word, false
	}
	b.WriteString(line + "\n")
}

// wrapText wraps each line of text wider than width at spaces, its
// continuation indented two more than the line: what a terminal cannot show
// whole.
func wrapText(text string, width int) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if columns(strings.TrimSuffix(l, "\n")) <= width {
			b.WriteString(l)
			continue
		}
		lead := l[:len(l)-len(strings.TrimLeft(l, " "))]
		wrapLine(&b, lead, l, lead+"  ", width)
	}
	return b.String()
}

// columns is how many terminal columns s takes: a rune each, two for the
// emoji PR bodies use (✅ ❌ ⏭️).
func columns(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == 0xFE0F: // variation selector: no width of its own
		case r >= 0x2600 && r <= 0x27BF || r >= 0x1F000:
			n += 2
		default:
			n++
		}
	}
	return n
}

// shortID is a commit id as the summary shows it.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
