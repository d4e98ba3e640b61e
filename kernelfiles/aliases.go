package kernelfiles

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// aliases.nix keeps its entries in one `mapAliases { ... }` block, sorted by
// keep-sorted with numeric=yes case=no (linux_5_10 < linux_6_1 < linux_6_12 <
// linux_ham < linuxPackages_5_10). New entries go to their sorted place; a
// removed kernel's entries become throws in place.

var mapAliasesRE = regexp.MustCompile(`mapAliases\s*\{`)

// aliasesSet scans the file as it is now and finds its mapAliasesSet and
// the line that opens it.
func (e *nixEditor) aliasesSet() (*nixText, nixSet, int, error) {
	t, err := e.scan()
	if err != nil {
		return nil, nixSet{}, 0, err
	}
	s, line, err := mapAliasesSet(t)
	return t, s, line, err
}

// mapAliasesSet is the set passed to the last `mapAliases {` call, narrowed
// to its `# keep-sorted start` ... `# keep-sorted end` region when it has one.
func mapAliasesSet(t *nixText) (nixSet, int, error) {
	open := -1
	for from := 0; ; {
		s, e := t.firstCode(mapAliasesRE, from, len(t.src))
		if s < 0 {
			break
		}
		open, from = e-1, e
	}
	if open < 0 {
		return nixSet{}, 0, fmt.Errorf("%s: no `mapAliases { ... }` block (searched the whole file): is this nixpkgs' pkgs/top-level/aliases.nix?", t.name)
	}
	s, err := t.set(open)
	if err != nil {
		return nixSet{}, 0, err
	}
	line := t.line(open)
	body := t.src[s.open:s.close]
	if ks := bytes.Index(body, []byte("# keep-sorted start")); ks >= 0 {
		from := s.open + ks
		to := s.close
		if ke := bytes.Index(t.src[from:s.close], []byte("# keep-sorted end")); ke >= 0 {
			to = from + ke
		}
		var in []binding
		for _, b := range s.bindings {
			if b.start >= from && b.start < to {
				in = append(in, b)
			}
		}
		s.bindings = in
	}
	return s, line, nil
}

// keepSortedLess orders names as keep-sorted numeric=yes case=no does: runs
// of digits compare as numbers, everything else case-insensitively.
func keepSortedLess(a, b string) bool { return keepSortedCompare(a, b) < 0 }

func keepSortedCompare(a, b string) int {
	ta, tb := sortTokens(a), sortTokens(b)
	for i := 0; i < len(ta) && i < len(tb); i++ {
		x, y := ta[i], tb[i]
		if isDigits(x) && isDigits(y) {
			x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
			if len(x) != len(y) {
				if len(x) < len(y) {
					return -1
				}
				return 1
			}
		} else {
			x, y = strings.ToLower(x), strings.ToLower(y)
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return len(ta) - len(tb)
}

func sortTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := i + 1
		d := unicode.IsDigit(rune(s[i]))
		for j < len(s) && unicode.IsDigit(rune(s[j])) == d {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}

func isDigits(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// addAlias inserts `name = value;` at its sorted place in the mapAliases
// block. A name that is already there is an error: kupdate never replaces an
// alias (or a throw of a removed kernel) it did not expect.
func (e *nixEditor) addAlias(name, value string) error {
	t, s, line, err := e.aliasesSet()
	if err != nil {
		return err
	}
	if b, ok := findBinding(s.bindings, name); ok {
		return fmt.Errorf("%s:%d: %s already exists (%s): refusing to overwrite it", e.name, t.line(b.start), name, strings.TrimSpace(b.text(t)))
	}
	pos := -1
	for _, b := range s.bindings {
		if keepSortedLess(name, b.name) {
			pos = b.start
			break
		}
	}
	if pos < 0 {
		if len(s.bindings) == 0 {
			return fmt.Errorf("%s:%d: the mapAliases block has no entries to sort %s among", e.name, line, name)
		}
		pos = s.bindings[len(s.bindings)-1].end
	}
	e.replace(pos, pos, t.innerIndent(s)+name+" = "+value+";\n")
	return nil
}

// aliasThrow turns an active alias into a dated throw in place, worded like
// the aliases block's other throws of removed kernels. A name the block
// does not have is left alone (not every tree aliases every kernel).
func (e *nixEditor) aliasThrow(name, branch, date string, eol bool, defaultMsg string) error {
	return e.aliasThrowAs(name, branch, date, eol, defaultMsg, "")
}

// aliasThrowAs is aliasThrow; a fixed message other than "" is written as
// it is.
func (e *nixEditor) aliasThrowAs(name, branch, date string, eol bool, defaultMsg, fixed string) error {
	t, s, _, err := e.aliasesSet()
	if err != nil {
		return err
	}
	b, ok := findBinding(s.bindings, name)
	if !ok || strings.HasPrefix(b.value(t), "throw") {
		return nil
	}
	msg, _, ok := throwWording(t, s, seriesKind(name), branch, eol)
	if !ok {
		msg = defaultMsg
	}
	if fixed != "" {
		msg = fixed
	}
	e.replace(b.start, b.end, throwLine(t.indentAt(b.start), name, msg, date))
	return nil
}
