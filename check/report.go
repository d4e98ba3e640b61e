package check

import (
	"fmt"
	"io"
	"strings"
)

// Rule names the kind of a finding; the names are part of `check --json`.
type Rule string

const (
	RuleSyntax    Rule = "syntax"    // a kernel file does not parse
	RuleEntry     Rule = "entry"     // a kernels-org.json entry is malformed or duplicated
	RuleVersion   Rule = "version"   // not a kernel.org release of that branch
	RuleDowngrade Rule = "downgrade" // older than at the base
	RuleHash      Rule = "hash"      // not kernel.org's signed checksum (NAR hash for testing)
	RuleLTS       Rule = "lts"       // lts disagrees with kernel.org, or the tree's shape
	RuleFormat    Rule = "format"    // bytes differ from what kupdate writes
	RuleOrder     Rule = "order"     // entries moved
	RuleEOL       Rule = "eol"       // a branch added that kernel.org marks end of life
	RuleReadded   Rule = "readded"   // a branch added that the base had removed
	RuleInit      Rule = "init"      // an added branch lacks part of its init
	RuleRemove    Rule = "remove"    // a removed branch lacks its throws
	RuleHardened  Rule = "hardened"  // hardened/patches.json disagrees with upstream or the kept set
	RuleTitle     Rule = "title"     // a commit title breaks nixpkgs' conventions or misstates the commit
)

// Finding is one problem a reviewer can act on.
type Finding struct {
	File    string `json:"file"`             // slash path relative to the nixpkgs root
	Line    int    `json:"line"`             // 1-based line in the head revision; 0 for the whole file
	Commit  string `json:"commit,omitempty"` // the commit at fault, for title findings
	Rule    Rule   `json:"rule"`
	Message string `json:"message"`
}

// String is the finding as compilers print errors: "file:line: message".
func (f Finding) String() string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Message)
	}
	return fmt.Sprintf("%s: %s", f.File, f.Message)
}

// Verified is one changed entry that matched kernel.org in every respect
// (and, for a hardened/patches.json entry, linux-hardened's release too).
type Verified struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Branch string `json:"branch"`
	// Hardened marks an entry of hardened/patches.json: From and To are
	// then linux-hardened releases (6.12.64-hardened1), Hash the patch's.
	Hardened bool   `json:"hardened,omitempty"`
	From     string `json:"from"` // empty for an added branch
	To       string `json:"to"`   // empty for a removed branch
	Hash     string `json:"hash,omitempty"`
}

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
		return fmt.Sprintf("could not verify %s against kernel.org", plural(len(r.Unverified), "item"))
	default:
		if len(r.Verified) == 0 {
			return "no kernel entries changed"
		}
		return fmt.Sprintf("%s verified against %s", plural(len(r.Verified), "kernel change"), r.verifiedAgainst())
	}
}

// verifiedAgainst names the sources the verified changes were checked with.
func (r *Report) verifiedAgainst() string {
	for _, v := range r.Verified {
		if v.Hardened {
			return "kernel.org and linux-hardened"
		}
	}
	return "kernel.org"
}

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
		fmt.Fprintf(&b, "ok %s: %s %s\n", v.where(), v.label(), v.change())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// where is file:line, or the file for an entry the head no longer has.
func (v Verified) where() string {
	if v.Line > 0 {
		return fmt.Sprintf("%s:%d", v.File, v.Line)
	}
	return v.File
}

// label names the entry as findings do: "6.12", hardened "6.12".
func (v Verified) label() string {
	if v.Hardened {
		return fmt.Sprintf("hardened %q", v.Branch)
	}
	return fmt.Sprintf("%q", v.Branch)
}

// change says what happened to the entry.
func (v Verified) change() string {
	switch {
	case v.From == "":
		return "added at " + v.To
	case v.To == "":
		return "removed (was " + v.From + ")"
	case v.From == v.To:
		return v.To
	default:
		return v.From + " -> " + v.To
	}
}

// Markdown is the report for a check run's summary.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** — kupdate check of %s..%s (%s)\n", r.Summary(), short(r.MergeBase), short(r.Head), plural(r.Commits, "commit"))
	if len(r.Findings) > 0 {
		b.WriteString("\n### Findings\n\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- `%s`: %s\n", f.where(), f.Message)
		}
	}
	if len(r.Unverified) > 0 {
		b.WriteString("\n### Could not verify\n\nThese were not checked: the check is not a pass until they are.\n\n")
		for _, f := range r.Unverified {
			fmt.Fprintf(&b, "- `%s`: %s\n", f.where(), f.Message)
		}
	}
	if len(r.Verified) > 0 {
		fmt.Fprintf(&b, "\n### Verified against %s\n\n| branch | change | hash |\n|---|---|---|\n", r.verifiedAgainst())
		for _, v := range r.Verified {
			br := v.Branch
			if v.Hardened {
				br += " hardened"
			}
			hash := ""
			if v.Hash != "" {
				hash = "`" + v.Hash + "`"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", br, v.change(), hash)
		}
	}
	return b.String()
}

func (f Finding) where() string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return f.File
}
