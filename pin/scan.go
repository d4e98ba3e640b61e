package pin

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/kupdate/kupdate/kernelfiles"
)

// file is one scanned Nix file: its bytes, the scanner's view and every
// binding and inherit in it, in file order.
type file struct {
	name     string
	src      []byte
	nt       *kernelfiles.NixText
	binds    []binding
	inherits []inherit
}

// binding is `name = value;` in any attribute set or let.
type binding struct {
	name         string
	nameAt, eq   int
	semi, depth  int
	vStart, vEnd int // the value, trimmed
}

// inherit is `inherit [(from)] names;`.
type inherit struct {
	at, depth int
	from      string // "" for a plain inherit
	names     []string
}

var (
	bindingHeadRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_'-]*(?:\.[A-Za-z_][A-Za-z0-9_'-]*)*)[ \t\r\n]*=`)
	inheritRE     = regexp.MustCompile(`^inherit\b[ \t\r\n]*(?:\(([^()]*)\))?([^;()]*);`)
	identRE       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_'-]*$`)
)

func scanFile(name string, src []byte) (*file, error) {
	nt, err := kernelfiles.ScanNix(name, src)
	if err != nil {
		return nil, err
	}
	f := &file{name: name, src: src, nt: nt}
	for i := 0; i < len(src); i++ {
		if !nt.Code(i) || !isIdentStart(src[i]) || (i > 0 && isIdentByte(src[i-1])) || !f.statementStart(i) {
			continue
		}
		if m := inheritRE.FindSubmatchIndex(src[i:]); m != nil && nt.Code(i+m[1]-1) {
			in := inherit{at: i, depth: nt.Depth(i), names: strings.Fields(string(src[i+m[4] : i+m[5]]))}
			if m[2] >= 0 {
				in.from = strings.TrimSpace(string(src[i+m[2] : i+m[3]]))
			}
			f.inherits = append(f.inherits, in)
			continue
		}
		m := bindingHeadRE.FindSubmatchIndex(src[i:])
		if m == nil || (i+m[1] < len(src) && src[i+m[1]] == '=') {
			continue
		}
		eq := i + m[1] - 1
		semi, err := nt.BindingEnd(eq)
		if err != nil {
			continue // not a binding after all (a default `x ? y` is not one either)
		}
		b := binding{name: string(src[i+m[2] : i+m[3]]), nameAt: i, eq: eq, semi: semi, depth: nt.Depth(i)}
		b.vStart, b.vEnd = trimSpan(src, eq+1, semi)
		f.binds = append(f.binds, b)
	}
	return f, nil
}

// statementStart reports whether the code at i starts a binding: the code
// before it is `{`, `;`, `let` or `rec`.
func (f *file) statementStart(i int) bool {
	j := i - 1
	for j >= 0 && (!f.nt.Code(j) || isSpace(f.src[j])) {
		j--
	}
	if j < 0 {
		return false
	}
	switch f.src[j] {
	case '{', ';':
		return true
	}
	for _, kw := range []string{"let", "rec"} {
		k := j - len(kw) + 1
		if k >= 0 && string(f.src[k:j+1]) == kw && (k == 0 || !isIdentByte(f.src[k-1])) {
			return true
		}
	}
	return false
}

// direct lists the bindings and inherits directly inside the set whose
// braces are at open and close.
func (f *file) direct(open, close int) ([]binding, []inherit) {
	d := f.nt.Depth(open) + 1
	var bs []binding
	for _, b := range f.binds {
		if b.nameAt > open && b.nameAt < close && b.depth == d {
			bs = append(bs, b)
		}
	}
	var ins []inherit
	for _, in := range f.inherits {
		if in.at > open && in.at < close && in.depth == d {
			ins = append(ins, in)
		}
	}
	return bs, ins
}

func lookup(bs []binding, name string) (binding, bool) {
	for _, b := range bs {
		if b.name == name {
			return b, true
		}
	}
	return binding{}, false
}

func trimSpan(src []byte, from, to int) (int, int) {
	for from < to && isSpace(src[from]) {
		from++
	}
	for to > from && isSpace(src[to-1]) {
		to--
	}
	return from, to
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || c == '\'' || c == '-' || (c >= '0' && c <= '9')
}

// strPart is a piece of a double-quoted string: literal text or an
// interpolation, [start, end) in the file (an interpolation's span is its
// expression, without `${` and `}`).
type strPart struct {
	interp     bool
	start, end int
}

// parseString reads the double-quoted string whose `"` is at open and
// returns its parts and the offset just past the closing quote. An
// interpolation holding a string or braces is not read (ok false): kupdate
// does not follow such values.
func parseString(src []byte, open int) (parts []strPart, end int, ok bool) {
	i, lit := open+1, open+1
	for i < len(src) {
		switch {
		case src[i] == '\\':
			i += 2
		case src[i] == '"':
			if i > lit {
				parts = append(parts, strPart{start: lit, end: i})
			}
			return parts, i + 1, true
		case src[i] == '$' && i+1 < len(src) && src[i+1] == '{':
			if i > lit {
				parts = append(parts, strPart{start: lit, end: i})
			}
			close := bytes.IndexByte(src[i+2:], '}')
			if close < 0 || bytes.ContainsAny(src[i+2:i+2+close], "\"{") {
				return nil, 0, false
			}
			parts = append(parts, strPart{interp: true, start: i + 2, end: i + 2 + close})
			i = i + 2 + close + 1
			lit = i
		default:
			i++
		}
	}
	return nil, 0, false
}
