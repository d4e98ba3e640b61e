package kernelfiles

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
)

// nixEditor applies anchored text edits to one .nix file. Every edit
// rescans the file, so offsets never go stale; every anchor that is not
// found is an error naming the file, the line of the section searched and
// the anchor.
type nixEditor struct {
	name string
	src  []byte
}

func (e *nixEditor) scan() (*nixText, error) { return scanNix(e.name, e.src) }

// section scans the file as it is now and finds the section name in it.
func (e *nixEditor) section(name string) (*nixText, nixSection, error) {
	t, err := e.scan()
	if err != nil {
		return nil, nixSection{}, err
	}
	s, err := findSection(t, name)
	return t, s, err
}

func (e *nixEditor) replace(start, end int, text string) {
	var b bytes.Buffer
	b.Grow(len(e.src) + len(text))
	b.Write(e.src[:start])
	b.WriteString(text)
	b.Write(e.src[end:])
	e.src = b.Bytes()
}

// nixSet is an attribute set inside a section: its braces and bindings.
type nixSet struct {
	open, close int
	bindings    []binding
}

// nixSection is a top binding of linux-kernels.nix such as `kernels = ...;`:
// its main attribute set (the first in its value) and the set after
// `lib.optionalAttrs config.allowAliases` (absent: aliases.open == -1).
type nixSection struct {
	name    string
	line    int
	main    nixSet
	aliases nixSet
}

func (s nixSection) where(file string) string {
	return fmt.Sprintf("%s:%d: section %s", file, s.line, s.name)
}

var allowAliasesRE = regexp.MustCompile(`lib\.optionalAttrs\s*\(?\s*config\.allowAliases(?:\s+or\s+false)?\s*\)?\s*\{`)

func findSection(t *nixText, name string) (nixSection, error) {
	re := regexp.MustCompile(`^[ \t]*(` + regexp.QuoteMeta(name) + `)[ \t]*=[^=]`)
	for off := 0; off < len(t.src); off = t.lineEnd(off) {
		m := re.FindSubmatchIndex(t.src[off:t.lineEnd(off)])
		if m == nil || !t.code[off+m[2]] {
			continue
		}
		s := nixSection{name: name, line: t.line(off), aliases: nixSet{open: -1, close: -1}}
		eq := off + m[1] - 2
		semi, err := t.bindingEnd(eq)
		if err != nil {
			return s, err
		}
		open := bytes.IndexByte(t.src[eq:semi], '{')
		for open >= 0 && !t.code[eq+open] {
			next := bytes.IndexByte(t.src[eq+open+1:semi], '{')
			if next < 0 {
				open = -1
				break
			}
			open += next + 1
		}
		if open < 0 {
			return s, fmt.Errorf("%s: no attribute set { ... } in its value", s.where(t.name))
		}
		if s.main, err = t.set(eq + open); err != nil {
			return s, err
		}
		if _, end := t.firstCode(allowAliasesRE, s.main.close, semi); end >= 0 {
			if s.aliases, err = t.set(end - 1); err != nil {
				return s, err
			}
		}
		return s, nil
	}
	return nixSection{}, fmt.Errorf("%s: no section `%s = ...;` (searched the whole file): is this a nixpkgs tree?", t.name, name)
}

func (t *nixText) set(open int) (nixSet, error) {
	close, err := t.matchClose(open)
	if err != nil {
		return nixSet{}, err
	}
	bs, err := t.bindings(open, close)
	if err != nil {
		return nixSet{}, err
	}
	return nixSet{open: open, close: close, bindings: bs}, nil
}

// innerIndent is the indentation of the set's bindings: that of its first
// binding, or its opening line's plus two spaces (nixfmt).
func (t *nixText) innerIndent(s nixSet) string {
	if len(s.bindings) > 0 {
		return t.indentAt(s.bindings[0].start)
	}
	return t.indentAt(s.open) + "  "
}

// seriesName matches attribute names of kernel branches and their variants:
// linux_6_12, linux_6_12_hardened, linuxPackages_6_12.
var seriesNameRE = regexp.MustCompile(`^(linux|linuxPackages)_(\d+)_(\d+)(_hardened)?$`)

// nameSeries is the branch of a series attribute ("6.12") and its kind
// ("linux", "linuxPackages", with "_hardened" appended for hardened).
func nameSeries(name string) (branch, kind string, ok bool) {
	m := seriesNameRE.FindStringSubmatch(name)
	if m == nil {
		return "", "", false
	}
	return m[2] + "." + m[3], m[1] + m[4], true
}

func seriesKind(name string) string {
	_, k, _ := nameSeries(name)
	return k
}

// renameSeries replaces whole-word attribute names of branch from in text
// with those of branch to (linux_6_18 -> linux_6_19, also inside
// linux_6_18_hardened).
func renameSeries(text, from, to string) string {
	fa, ta := strings.ReplaceAll(from, ".", "_"), strings.ReplaceAll(to, ".", "_")
	re := regexp.MustCompile(`\b(linux|linuxPackages)_` + regexp.QuoteMeta(fa) + `(_hardened)?\b`)
	return re.ReplaceAllString(text, "${1}_"+ta+"${2}")
}

// deleteBinding removes b's lines, and a blank line next to it when b stood
// alone between blank lines (or between a blank line and the set's brace),
// so the blank-line rhythm of the section stays as it was.
func (e *nixEditor) deleteBinding(t *nixText, b binding) {
	start, end := b.start, b.end
	prevStart := -1
	if start > 0 {
		prevStart = t.lineStart(start - 1)
	}
	prev := []byte("{")
	if prevStart >= 0 {
		prev = bytes.TrimSpace(t.src[prevStart:start])
	}
	next := bytes.TrimSpace(t.src[end:t.lineEnd(end)])
	prevOpen := bytes.HasSuffix(prev, []byte("{")) || bytes.HasSuffix(prev, []byte("("))
	nextClose := bytes.HasPrefix(next, []byte("}")) || bytes.HasPrefix(next, []byte(")"))
	switch {
	case len(next) == 0 && end < len(t.src) && (len(prev) == 0 || prevOpen):
		end = t.lineEnd(end)
	case len(prev) == 0 && prevStart >= 0 && nextClose:
		start = prevStart
	}
	e.replace(start, end, "")
}

// throwLine is `name = throw "msg";` with an `# Added` comment when dated.
func throwLine(indent, name, msg, date string) string {
	s := indent + name + " = throw " + strconv.Quote(msg) + ";"
	if date != "" {
		s += " # Added " + date
	}
	return s + "\n"
}

var (
	throwValueRE = regexp.MustCompile(`^throw\s+"((?:[^"\\$]|\\.)*)"$`)
	addedRE      = regexp.MustCompile(`#\s*Added \d{4}-\d{2}-\d{2}`)
)

// throwWording finds how a set words the throw for a removed kernel, by
// the existing throws of the same kind (linux_X_Y, linux_X_Y_hardened,
// linuxPackages_X_Y): it prefers an end-of-life throw that names its own
// version, rewritten for branch. ok is false when the set has none; dated
// says whether that section's throws carry `# Added YYYY-MM-DD`.
func throwWording(t *nixText, s nixSet, kind, branch string, eol bool) (msg string, dated, ok bool) {
	best, bestScore := "", -1
	for _, b := range s.bindings {
		bb, k, isSeries := nameSeries(b.name)
		if !isSeries {
			continue
		}
		m := throwValueRE.FindStringSubmatch(b.value(t))
		if m == nil {
			continue
		}
		text, err := strconv.Unquote(`"` + m[1] + `"`)
		if err != nil {
			continue
		}
		score := 0
		if k == kind {
			score += 4
		}
		names := strings.Contains(text, bb)
		if eol && names && strings.Contains(text, "end of life upstream") {
			score += 2
		}
		if !eol && !names {
			score += 2
		}
		if eol && !names {
			continue // a throw without a version cannot be reworded for another
		}
		if score >= bestScore {
			if names {
				text = strings.ReplaceAll(text, bb, branch)
				text = renameSeries(text, bb, branch)
			}
			best, bestScore = text, score
			dated = addedRE.Match(t.src[b.semi:t.lineEnd(b.semi)])
		}
	}
	return best, dated, bestScore >= 0
}

// addThrow adds `name = throw "..."` to the allowAliases part of section,
// in numeric order among the throws of the same kind. A name already there
// is left as it is.
func (e *nixEditor) addThrow(section, name, branch, date string, eol bool, defaultMsg string, defaultDated bool) error {
	return e.addThrowAs(section, name, branch, date, eol, defaultMsg, defaultDated, "")
}

// addThrowAs is addThrow; a fixed message other than "" is written as it
// is, dated as the section dates its throws.
func (e *nixEditor) addThrowAs(section, name, branch, date string, eol bool, defaultMsg string, defaultDated bool, fixed string) error {
	t, s, err := e.section(section)
	if err != nil {
		return err
	}
	if s.aliases.open < 0 {
		return fmt.Errorf("%s: no `// lib.optionalAttrs config.allowAliases { ... }` part to add the throw for %s to", s.where(e.name), name)
	}
	if _, ok := findBinding(s.aliases.bindings, name); ok {
		return nil
	}
	msg, dated, ok := throwWording(t, s.aliases, seriesKind(name), branch, eol)
	if !ok {
		msg, dated = defaultMsg, defaultDated
	}
	if fixed != "" {
		msg = fixed
	}
	if !dated {
		date = ""
	}
	line := throwLine(t.innerIndent(s.aliases), name, msg, date)
	e.replace(sortedInsertPos(t, s.aliases, name, true), sortedInsertPos(t, s.aliases, name, true), line)
	return nil
}

// sortedInsertPos is where a binding called name goes among the set's
// bindings of the same kind, in numeric branch order: after the last smaller
// one, else before the first larger one, else at the end of the set.
// throwsOnly restricts the neighbours to throws.
func sortedInsertPos(t *nixText, s nixSet, name string, throwsOnly bool) int {
	branch, kind, _ := nameSeries(name)
	after, before := -1, -1
	for _, b := range s.bindings {
		bb, k, ok := nameSeries(b.name)
		if !ok || k != kind {
			continue
		}
		if throwsOnly && !strings.HasPrefix(b.value(t), "throw") {
			continue
		}
		if kernelorg.CompareSeries(bb, branch) < 0 {
			after = b.end
		} else if before < 0 {
			before = b.start
		}
	}
	switch {
	case after >= 0:
		return after
	case before >= 0:
		return before
	default:
		return t.lineStart(s.close)
	}
}

// setAlias points `name = packages.linux_X_Y;` of packageAliases at attr.
func (e *nixEditor) setAlias(name, attr string) error {
	t, s, err := e.section("packageAliases")
	if err != nil {
		return err
	}
	b, ok := findBinding(s.main.bindings, name)
	if !ok {
		return fmt.Errorf("%s: no `%s = packages.linux_X_Y;`", s.where(e.name), name)
	}
	v := b.value(t)
	if !aliasTargetRE.MatchString(v) {
		return fmt.Errorf("%s:%d: %s = %s: want packages.linux_X_Y", e.name, t.line(b.start), name, v)
	}
	nv := aliasTargetRE.ReplaceAllString(v, "${1}"+attr)
	vs := bytes.Index(t.src[b.eq:b.semi], []byte(v))
	e.replace(b.eq+vs, b.eq+vs+len(v), nv)
	return nil
}

var aliasTargetRE = regexp.MustCompile(`^(packages\.)(linux_\d+_\d+)$`)

// aliasTarget reads packageAliases.name: the attr it points at, or "".
func aliasTarget(t *nixText, s nixSection, name string) string {
	b, ok := findBinding(s.main.bindings, name)
	if !ok {
		return ""
	}
	if m := aliasTargetRE.FindStringSubmatch(b.value(t)); m != nil {
		return m[2]
	}
	return ""
}
