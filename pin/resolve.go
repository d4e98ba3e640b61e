package pin

import (
	"fmt"
	"regexp"
	"strings"
)

// strVal is a string value followed to the literal that holds it.
type strVal struct {
	val    string // the whole value, a leading interpolation followed
	lit    field  // the literal kupdate would edit (kind left to the caller)
	hasLit bool
}

const maxHops = 8

// resolveString follows b's value to a string: a literal, a literal after
// one leading ${name} ("${version}-gerg"), or a name bound to one of those
// elsewhere in the file. why says what kupdate could not follow.
func (f *file) resolveString(b binding, hops int) (strVal, string) {
	if hops > maxHops {
		return strVal{}, "the value refers to itself"
	}
	src := f.src
	v := string(src[b.vStart:b.vEnd])
	if identRE.MatchString(v) {
		nb, why := f.resolveName(v, b.vStart, b)
		if why != "" {
			return strVal{}, why
		}
		return f.resolveString(nb, hops+1)
	}
	if src[b.vStart] != '"' {
		return strVal{}, fmt.Sprintf("%s is %q, not a string kupdate can follow", b.name, truncate(v, 60))
	}
	parts, end, ok := parseString(src, b.vStart)
	if !ok || end != b.vEnd {
		return strVal{}, fmt.Sprintf("%s is %q, not a string kupdate can follow", b.name, truncate(v, 60))
	}
	var out strVal
	for i, p := range parts {
		text := string(src[p.start:p.end])
		switch {
		case !p.interp && i == 0:
			out.val += text
			out.lit, out.hasLit = field{start: p.start, end: p.end, text: text}, true
		case !p.interp:
			out.val += text
		case i == 0 && identRE.MatchString(strings.TrimSpace(text)):
			nb, why := f.resolveName(strings.TrimSpace(text), p.start, b)
			if why != "" {
				return strVal{}, why
			}
			inner, why := f.resolveString(nb, hops+1)
			if why != "" {
				return strVal{}, why
			}
			out = inner
		default:
			return strVal{}, fmt.Sprintf("%s is %q: kupdate follows only a leading ${name}", b.name, truncate(v, 60))
		}
	}
	if len(parts) == 0 {
		out.lit, out.hasLit = field{start: b.vStart + 1, end: b.vStart + 1}, true
	}
	return out, ""
}

// resolveName is the binding of name that the code at use sees: of the
// bindings of that name (but self) whose scope holds use, the innermost.
func (f *file) resolveName(name string, use int, self binding) (binding, string) {
	var best []binding
	for _, c := range f.binds {
		if c.name != name || c.nameAt == self.nameAt || !f.visible(c, use) {
			continue
		}
		switch {
		case len(best) == 0 || c.depth > best[0].depth:
			best = []binding{c}
		case c.depth == best[0].depth:
			best = append(best, c)
		}
	}
	switch len(best) {
	case 0:
		return binding{}, fmt.Sprintf("%s is not bound in this file (an argument, or from another file): kupdate cannot follow it", name)
	case 1:
		return best[0], ""
	}
	lines := make([]string, len(best))
	for i, c := range best {
		lines[i] = fmt.Sprint(f.nt.Line(c.nameAt))
	}
	return binding{}, fmt.Sprintf("%s is bound on lines %s: kupdate cannot tell which one is meant", name, strings.Join(lines, ", "))
}

// visible approximates Nix's scoping well enough for files people write:
// a binding is seen by code inside the brackets around it (a set, a let's
// parenthesis), a top-level binding by all of the file.
func (f *file) visible(c binding, use int) bool {
	if c.depth == 0 {
		return true
	}
	for o := c.nameAt - 1; o >= 0; o-- {
		if f.nt.Code(o) && f.nt.Depth(o) == c.depth-1 && strings.IndexByte("{([", f.src[o]) >= 0 {
			close, err := f.nt.MatchClose(o)
			return err == nil && use > o && use < close
		}
	}
	return false
}

var fetchurlRE = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z0-9_'-]*\.)*fetchurl[ \t\r\n]*\{`)

// resolveFetch follows src's value to the set of its fetchurl call.
func (f *file) resolveFetch(b binding, hops int) (open, close int, why string) {
	if hops > maxHops {
		return 0, 0, "src refers to itself"
	}
	v := string(f.src[b.vStart:b.vEnd])
	if identRE.MatchString(v) {
		nb, why := f.resolveName(v, b.vStart, b)
		if why != "" {
			return 0, 0, why
		}
		return f.resolveFetch(nb, hops+1)
	}
	m := fetchurlRE.FindIndex(f.src[b.vStart:b.vEnd])
	if m == nil {
		return 0, 0, fmt.Sprintf("src is %s, not a fetchurl of kernel.org's release tarball (https://cdn.kernel.org/pub/linux/kernel/vN.x/linux-X.Y.Z.tar.xz): kupdate pins only those", describe(v))
	}
	open = b.vStart + m[1] - 1
	close, err := f.nt.MatchClose(open)
	if err != nil || close != b.vEnd-1 {
		return 0, 0, fmt.Sprintf("src is %s: kupdate follows only a plain fetchurl { … }", describe(v))
	}
	return open, close, ""
}

// describe names an expression by its head ("fetchFromGitHub { … }").
func describe(v string) string {
	head := v
	if i := strings.IndexAny(v, "{(\n"); i > 0 {
		head = strings.TrimSpace(v[:i]) + " …"
	}
	return fmt.Sprintf("%q", truncate(head, 60))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
