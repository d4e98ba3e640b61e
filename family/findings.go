package family

import (
	"fmt"
	"strings"
)

// Rule names the kind of a finding of kupdate check. The names are part of
// `check --json`: keep them stable, and add rules rather than reuse one for
// something else.
type Rule string

const (
	RuleSyntax    Rule = "syntax"    // a kernel file does not parse
	RuleEntry     Rule = "entry"     // an entry is malformed or duplicated
	RuleVersion   Rule = "version"   // not an upstream release of that branch
	RuleDowngrade Rule = "downgrade" // older than at the base
	RuleHash      Rule = "hash"      // not upstream's verified hash
	RuleLTS       Rule = "lts"       // lts disagrees with upstream, or the tree's shape
	RuleFormat    Rule = "format"    // bytes differ from what kupdate writes
	RuleOrder     Rule = "order"     // entries moved
	RuleEOL       Rule = "eol"       // a branch added that upstream marks end of life
	RuleReadded   Rule = "readded"   // a kernel added that the base had removed
	RuleInit      Rule = "init"      // an added kernel lacks part of its init
	RuleRemove    Rule = "remove"    // a removed kernel lacks its throws
	RuleHardened  Rule = "hardened"  // hardened/patches.json disagrees with upstream or the kept set
	RuleTitle     Rule = "title"     // a commit title breaks nixpkgs' conventions or misstates the commit
)

// Finding is one problem a reviewer can act on. Its JSON is part of
// `check --json`.
type Finding struct {
	File    string `json:"file"`             // slash path relative to the nixpkgs root
	Line    int    `json:"line"`             // 1-based line in the head revision; 0 for the whole file
	Commit  string `json:"commit,omitempty"` // the commit at fault, for title findings
	Rule    Rule   `json:"rule"`             // empty for what could not be verified
	Message string `json:"message"`
}

// String is the finding as compilers print errors: "file:line: message".
func (f Finding) String() string { return f.Where() + ": " + f.Message }

// Where is "file:line", or the file when the finding is about all of it.
func (f Finding) Where() string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return f.File
}

// Verified is one changed entry that its family verified in every respect
// against its sources. Its JSON is part of `check --json`.
type Verified struct {
	File   string `json:"file"`
	Line   int    `json:"line"` // 0 for an entry the head no longer has
	Branch string `json:"branch"`
	// Variant qualifies Branch in what is printed, as Note.Variant does:
	// "hardened" prints hardened "6.12". "" for a family's plain kernels.
	Variant string `json:"-"`
	// Hardened is check --json's mark of a hardened/patches.json entry,
	// whose From and To are then linux-hardened releases
	// (6.12.64-hardened1) and Hash the patch's. The hardened family sets it;
	// it stays because readers of check --json rely on it.
	Hardened bool   `json:"hardened,omitempty"`
	From     string `json:"from"` // empty for an added entry
	To       string `json:"to"`   // empty for a removed entry
	Hash     string `json:"hash,omitempty"`
}

// Where is "file:line", or the file for an entry the head no longer has.
func (v Verified) Where() string {
	if v.Line > 0 {
		return fmt.Sprintf("%s:%d", v.File, v.Line)
	}
	return v.File
}

// Label names the entry as findings do: "6.12", hardened "6.12".
func (v Verified) Label() string {
	if v.Variant != "" {
		return fmt.Sprintf("%s %q", v.Variant, v.Branch)
	}
	return fmt.Sprintf("%q", v.Branch)
}

// Change says what happened to the entry: "6.12.63 -> 6.12.64", "added at
// 6.19", "removed (was 5.10.247)".
func (v Verified) Change() string {
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

// Results are what a family's verifier reports of a pull request: kupdate
// check merges every family's into its report.
type Results struct {
	Findings []Finding
	// Unverified says what could not be checked and why (a source
	// unreachable, a hash not published yet): never a pass. Rule is empty.
	Unverified []Finding
	Verified   []Verified
}

// Findingf reports a problem at file:line (line 0: the whole file).
func (r *Results) Findingf(file string, line int, rule Rule, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{File: file, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Unverifiedf reports what could not be verified at file:line, and why.
func (r *Results) Unverifiedf(file string, line int, format string, args ...any) {
	r.Unverified = append(r.Unverified, Finding{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// Verify records an entry verified in every respect.
func (r *Results) Verify(v Verified) { r.Verified = append(r.Verified, v) }

// Missing collects what a change lacks, per file, for one message:
// "a.nix lacks `x` and `y`; b.nix lacks `z`".
type Missing struct {
	files []string
	items map[string][]string
}

// Add notes that file lacks item (a binding, as it would be written).
func (m *Missing) Add(file, item string) {
	if m.items == nil {
		m.items = map[string][]string{}
	}
	if _, ok := m.items[file]; !ok {
		m.files = append(m.files, file)
	}
	m.items[file] = append(m.items[file], item)
}

// Empty reports whether nothing is missing.
func (m *Missing) Empty() bool { return len(m.files) == 0 }

func (m *Missing) String() string {
	var parts []string
	for _, f := range m.files {
		items := make([]string, len(m.items[f]))
		for i, it := range m.items[f] {
			items[i] = "`" + it + "`"
		}
		parts = append(parts, fmt.Sprintf("%s lacks %s", f, JoinAnd(items)))
	}
	return strings.Join(parts, "; ")
}

// JoinAnd joins "a", "b", "c" as "a, b and c".
func JoinAnd(ss []string) string {
	if len(ss) <= 1 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " and " + ss[len(ss)-1]
}
