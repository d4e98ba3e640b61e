package kernelfiles

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// No Nix parser on the module proxy handles modern Nix, and kupdate does not
// need one: it edits .nix files by anchored text operations and then proves
// the result with `nix-instantiate --parse` and an evaluation. What the
// anchors do need is to tell code from strings and comments and to know the
// bracket depth of every byte, so that "the `;` ending this binding" and
// "the `}` closing this set" are found reliably. nixText provides that.
type nixText struct {
	name  string
	src   []byte
	code  []bool  // byte is code: not inside a string literal or a comment
	depth []int32 // bracket depth of the byte; a bracket has its outer depth
	nl    []int   // offsets of the newlines, for line numbers
}

type lexState struct {
	kind   byte  // 'c' code, 'd' "string", 'i' ''string''
	interp int32 // for code inside ${ }: the depth at which its } closes it
}

func scanNix(name string, src []byte) (*nixText, error) {
	t := &nixText{name: name, src: src, code: make([]bool, len(src)), depth: make([]int32, len(src))}
	for i, c := range src {
		if c == '\n' {
			t.nl = append(t.nl, i)
		}
	}
	stack := []lexState{{kind: 'c', interp: -1}}
	var d int32
	n := len(src)
	for i := 0; i < n; i++ {
		c := src[i]
		top := &stack[len(stack)-1]
		t.depth[i] = d
		switch top.kind {
		case 'c':
			switch {
			case c == '#':
				for i < n && src[i] != '\n' {
					t.depth[i] = d
					i++
				}
				if i < n {
					t.depth[i] = d
				}
			case c == '/' && i+1 < n && src[i+1] == '*':
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return nil, fmt.Errorf("%s:%d: unterminated /* comment", name, t.line(i))
				}
				stop := i + 2 + end + 2
				for ; i < stop; i++ {
					t.depth[i] = d
				}
				i--
			case c == '"':
				stack = append(stack, lexState{kind: 'd'})
			case c == '\'' && i+1 < n && src[i+1] == '\'' && (i == 0 || !isIdentByte(src[i-1])):
				t.depth[i+1] = d
				i++
				stack = append(stack, lexState{kind: 'i'})
			case c == '{' || c == '(' || c == '[':
				t.code[i] = true
				d++
			case c == '}' && top.interp == d-1 && len(stack) > 1:
				// the } closing a ${ interpolation: back into the string
				d--
				t.depth[i] = d
				stack = stack[:len(stack)-1]
			case c == '}' || c == ')' || c == ']':
				d--
				if d < 0 {
					return nil, fmt.Errorf("%s:%d: unbalanced %q", name, t.line(i), c)
				}
				t.depth[i] = d
				t.code[i] = true
			default:
				t.code[i] = true
			}
		case 'd':
			switch {
			case c == '\\':
				if i+1 < n {
					t.depth[i+1] = d
				}
				i++
			case c == '"':
				stack = stack[:len(stack)-1]
			case c == '$' && i+1 < n && src[i+1] == '{':
				t.depth[i+1] = d
				i++
				d++
				stack = append(stack, lexState{kind: 'c', interp: d - 1})
			}
		case 'i':
			switch {
			case c == '\'' && i+1 < n && src[i+1] == '\'':
				switch {
				case i+2 < n && (src[i+2] == '$' || src[i+2] == '\''):
					t.depth[i+1], t.depth[i+2] = d, d
					i += 2
				case i+2 < n && src[i+2] == '\\':
					for k := 1; k <= 3 && i+k < n; k++ {
						t.depth[i+k] = d
					}
					i += 3
				default:
					t.depth[i+1] = d
					i++
					stack = stack[:len(stack)-1]
				}
			case c == '$' && i+1 < n && src[i+1] == '{':
				t.depth[i+1] = d
				i++
				d++
				stack = append(stack, lexState{kind: 'c', interp: d - 1})
			}
		}
	}
	if len(stack) != 1 {
		return nil, fmt.Errorf("%s: unterminated string at the end of the file", name)
	}
	if d != 0 {
		return nil, fmt.Errorf("%s: %d unclosed bracket(s) at the end of the file", name, d)
	}
	return t, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '\'' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// line is the 1-based line number of byte offset off.
func (t *nixText) line(off int) int {
	n, _ := slices.BinarySearch(t.nl, off)
	return n + 1
}

func (t *nixText) lineStart(off int) int {
	return bytes.LastIndexByte(t.src[:off], '\n') + 1
}

// lineEnd is the offset just past the newline ending off's line.
func (t *nixText) lineEnd(off int) int {
	if i := bytes.IndexByte(t.src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(t.src)
}

func (t *nixText) indentAt(off int) string {
	ls := t.lineStart(off)
	i := ls
	for i < len(t.src) && (t.src[i] == ' ' || t.src[i] == '\t') {
		i++
	}
	return string(t.src[ls:i])
}

// matchClose is the offset of the bracket closing the one at open.
func (t *nixText) matchClose(open int) (int, error) {
	want := map[byte]byte{'{': '}', '(': ')', '[': ']'}[t.src[open]]
	d := t.depth[open]
	for i := open + 1; i < len(t.src); i++ {
		if t.code[i] && t.depth[i] == d && (t.src[i] == '}' || t.src[i] == ')' || t.src[i] == ']') {
			if t.src[i] != want {
				return 0, fmt.Errorf("%s:%d: %q closes the %q opened at line %d", t.name, t.line(i), t.src[i], t.src[open], t.line(open))
			}
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s:%d: %q is never closed", t.name, t.line(open), t.src[open])
}

var keywordRE = regexp.MustCompile(`^(let|in|with|assert|inherit)\b`)

// bindingEnd is the offset of the `;` ending the binding whose `=` is at eq.
// `let ... in`, `with x;` and `assert x;` inside the value carry `;` of
// their own at the same depth; they are skipped.
func (t *nixText) bindingEnd(eq int) (int, error) {
	d := t.depth[eq]
	lets, pending := 0, 0
	for i := eq + 1; i < len(t.src); i++ {
		if t.code[i] && t.depth[i] < d {
			break // the enclosing set closed first
		}
		if !t.code[i] || t.depth[i] != d {
			continue
		}
		c := t.src[i]
		if c == ';' {
			switch {
			case pending > 0:
				pending--
			case lets > 0:
				// a binding of the let
			default:
				return i, nil
			}
			continue
		}
		if (c < 'a' || c > 'z') || (i > 0 && isIdentByte(t.src[i-1])) {
			continue
		}
		if m := keywordRE.Find(t.src[i:min(i+8, len(t.src))]); m != nil {
			switch string(m) {
			case "let":
				lets++
			case "in":
				if lets > 0 {
					lets--
				}
			case "with", "assert":
				pending++
			}
			i += len(m) - 1
		}
	}
	return 0, fmt.Errorf("%s:%d: the binding starting here never ends with ';'", t.name, t.line(eq))
}

// binding is one `name = value;` inside an attribute set.
type binding struct {
	name       string
	start, end int // start of its first line; just past the newline after its `;`
	eq, semi   int
}

func (b binding) text(t *nixText) string { return string(t.src[b.start:b.end]) }

// value is the source text between `=` and `;`, trimmed.
func (b binding) value(t *nixText) string {
	return strings.TrimSpace(string(t.src[b.eq+1 : b.semi]))
}

var bindingRE = regexp.MustCompile(`^[ \t]*([A-Za-z_][A-Za-z0-9_'-]*(?:\.[A-Za-z_][A-Za-z0-9_'-]*)*)[ \t]*=[^=]`)

// bindings lists the bindings directly inside the set whose braces are at
// open and close, each starting on a line of its own (nixfmt style).
func (t *nixText) bindings(open, close int) ([]binding, error) {
	inner := t.depth[open] + 1
	var out []binding
	for off := t.lineEnd(open); off < close; {
		next := t.lineEnd(off)
		m := bindingRE.FindSubmatchIndex(t.src[off:min(next, close)])
		if m == nil {
			off = next
			continue
		}
		nameAt := off + m[2]
		if !t.code[nameAt] || t.depth[nameAt] != inner {
			off = next
			continue
		}
		eq := off + m[1] - 2
		semi, err := t.bindingEnd(eq)
		if err != nil {
			return nil, err
		}
		end := t.lineEnd(semi)
		out = append(out, binding{name: string(t.src[off+m[2] : off+m[3]]), start: off, end: end, eq: eq, semi: semi})
		off = end
	}
	return out, nil
}

func findBinding(bs []binding, name string) (binding, bool) {
	for _, b := range bs {
		if b.name == name {
			return b, true
		}
	}
	return binding{}, false
}

// firstCode is the offset of the first match of re in [from, to) that starts
// in code, or -1.
func (t *nixText) firstCode(re *regexp.Regexp, from, to int) (int, int) {
	for from < to {
		m := re.FindIndex(t.src[from:to])
		if m == nil {
			return -1, -1
		}
		if t.code[from+m[0]] {
			return from + m[0], from + m[1]
		}
		from += m[0] + 1
	}
	return -1, -1
}
