package check

import (
	"fmt"
	"io"
	"strings"

	"github.com/kupdate/kupdate/family"
)

// The report's records are the families' (see family.Results): every
// family reports in the same shape, and `check --json` prints it.
type (
	// Rule names the kind of a finding; the names are part of `check --json`.
	Rule = family.Rule
	// Finding is one problem a reviewer can act on; an Unverified item has
	// no Rule.
	Finding = family.Finding
	// Verified is one changed entry that its family verified in every
	// respect against its sources.
	Verified = family.Verified
)

// The rules, as `check --json` names them.
const (
	RuleSyntax    = family.RuleSyntax
	RuleEntry     = family.RuleEntry
	RuleVersion   = family.RuleVersion
	RuleDowngrade = family.RuleDowngrade
	RuleHash      = family.RuleHash
	RuleLTS       = family.RuleLTS
	RuleFormat    = family.RuleFormat
	RuleOrder     = family.RuleOrder
	RuleEOL       = family.RuleEOL
	RuleReadded   = family.RuleReadded
	RuleInit      = family.RuleInit
	RuleRemove    = family.RuleRemove
	RuleHardened  = family.RuleHardened
	RuleTitle     = family.RuleTitle
)

// Conclusion is the outcome of a check.
type Conclusion string

const (
	// Pass: every change was verified and nothing is wrong.
	Pass Conclusion = "pass"
	// Fail: there are findings (whether or not everything could be verified).
	Fail Conclusion = "fail"
	// Incomplete: no findings, but something could not be verified (kernel.org
	// unreachable, a checksum not published yet). Never a pass.
	Incomplete Conclusion = "incomplete"
)

// Report is the result of one check.
type Report struct {
	Base       string     `json:"base"`       // the revision asked for
	MergeBase  string     `json:"merge_base"` // where the diff starts
	Head       string     `json:"head"`
	Commits    int        `json:"commits"` // commits in merge_base..head
	Conclusion Conclusion `json:"conclusion"`
	Findings   []Finding  `json:"findings"`
	// Unverified says what could not be checked and why; its File and Line
	// point at the entry concerned when there is one.
	Unverified []Finding  `json:"unverified"`
	Verified   []Verified `json:"verified"`

	// The sources of the families that verified something, and of those
	// that could not verify something, in registry order: for the summary.
	verifiedWith, unverifiedWith []string
}

func (r *Report) conclude() {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Unverified == nil {
		r.Unverified = []Finding{}
	}
	if r.Verified == nil {
		r.Verified = []Verified{}
	}
	switch {
	case len(r.Findings) > 0:
		r.Conclusion = Fail
	case len(r.Unverified) > 0:
		r.Conclusion = Incomplete
	default:
		r.Conclusion = Pass
	}
}

// Summary is the one-line outcome, used as the check run's title and the
// commit status' description.
func (r *Report) Summary() string {
	switch r.Conclusion {
	case Fail:
		s := plural(len(r.Findings), "finding")
		if len(r.Unverified) > 0 {
			s += fmt.Sprintf("; %s could not be verified", plural(len(r.Unverified), "item"))
		}
		return s
	case Incomplete:
		s := "could not verify " + plural(len(r.Unverified), "item")
		if len(r.unverifiedWith) > 0 {
			s += " against " + family.JoinAnd(r.unverifiedWith)
		}
		return s
	default:
		if len(r.Verified) == 0 {
			return "no kernel entries changed"
		}
		return fmt.Sprintf("%s verified against %s", plural(len(r.Verified), "kernel change"), r.verifiedAgainst())
	}
}

// verifiedAgainst names the sources the verified changes were checked with.
func (r *Report) verifiedAgainst() string { return family.JoinAnd(r.verifiedWith) }

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// WriteText writes the report for a terminal or a CI log.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "kupdate check %s..%s (%s): %s: %s\n", short(r.MergeBase), short(r.Head), plural(r.Commits, "commit"), r.Conclusion, r.Summary())
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s\n", f)
	}
	for _, f := range r.Unverified {
		fmt.Fprintf(&b, "%s (not verified)\n", f)
	}
	for _, v := range r.Verified {
		fmt.Fprintf(&b, "ok %s: %s %s\n", v.Where(), v.Label(), v.Change())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Markdown is the report for a check run's summary.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** — kupdate check of %s..%s (%s)\n", r.Summary(), short(r.MergeBase), short(r.Head), plural(r.Commits, "commit"))
	if len(r.Findings) > 0 {
		b.WriteString("\n### Findings\n\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- `%s`: %s\n", f.Where(), f.Message)
		}
	}
	if len(r.Unverified) > 0 {
		b.WriteString("\n### Could not verify\n\nThese were not checked: the check is not a pass until they are.\n\n")
		for _, f := range r.Unverified {
			fmt.Fprintf(&b, "- `%s`: %s\n", f.Where(), f.Message)
		}
	}
	if len(r.Verified) > 0 {
		fmt.Fprintf(&b, "\n### Verified against %s\n\n| branch | change | hash |\n|---|---|---|\n", r.verifiedAgainst())
		for _, v := range r.Verified {
			br := v.Branch
			if v.Variant != "" {
				br += " " + v.Variant
			}
			hash := ""
			if v.Hash != "" {
				hash = "`" + v.Hash + "`"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", br, v.Change(), hash)
		}
	}
	return b.String()
}
