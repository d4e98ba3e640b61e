package pin

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
)

// anchorRE finds where a custom kernel's arguments start: the set after a
// call of one of nixpkgs' kernel builders, or an argsOverride set.
// buildLinux (args // rec { … }) is how nixpkgs' own kernel files and the
// configurations copied from them call it.
var anchorRE = regexp.MustCompile(`\b(?:(?:linuxPackages_custom|linuxManualConfig|manualConfig|buildLinux)(?:[ \t\r\n]*\([ \t\r\n]*[A-Za-z_][A-Za-z0-9_'-]*[ \t\r\n]*//)?|argsOverride[ \t\r\n]*=)[ \t\r\n]*(?:rec[ \t\r\n]*)?\{`)

// Find returns the custom kernels of the Nix file src (name is how
// problems name it), in file order, and what kupdate cannot pin there. A
// file that does not scan, or has no custom kernel, is one problem.
func Find(name string, src []byte) ([]Pin, []Problem) {
	f, err := scanFile(name, src)
	if err != nil {
		return nil, []Problem{{File: name, Line: lineOf(err, src), Msg: "does not parse: " + err.Error()}}
	}
	var pins []Pin
	var probs []Problem
	seen := false
	for _, m := range anchorRE.FindAllIndex(src, -1) {
		if !f.nt.Code(m[0]) {
			continue
		}
		seen = true
		p, prob, ok := f.pinAt(m[1] - 1)
		switch {
		case prob != nil:
			probs = append(probs, *prob)
		case ok:
			pins = append(pins, p)
		}
	}
	if !seen {
		probs = append(probs, Problem{File: name, Line: 1, Msg: "no custom kernel found: kupdate looks for linuxPackages_custom, linuxManualConfig, buildLinux and linuxKernel.manualConfig calls and argsOverride sets with a version and src = fetchurl { … }"})
	}
	return pins, probs
}

var errLineRE = regexp.MustCompile(`:(\d+):`)

// lineOf is the line a scan error names, else the last line: the scanner
// names none only for what is still open at the end of the file.
func lineOf(err error, src []byte) int {
	if m := errLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return bytes.Count(bytes.TrimSuffix(src, []byte("\n")), []byte("\n")) + 1
}

// pinAt reads the kernel whose argument set opens at open. ok is false
// (and no problem) for a set that names neither a version nor a src: an
// argsOverride of other arguments.
func (f *file) pinAt(open int) (Pin, *Problem, bool) {
	close, err := f.nt.MatchClose(open)
	if err != nil {
		return Pin{}, f.problem(open, err.Error()), false
	}
	bs, ins := f.direct(open, close)
	vb, hasV := lookup(bs, "version")
	sb, hasS := lookup(bs, "src")
	for _, in := range ins {
		for _, n := range in.names {
			if n != "version" && n != "src" {
				continue
			}
			if in.from != "" {
				return Pin{}, f.problem(in.at, fmt.Sprintf("%s comes from %s: the kernel follows it, there is nothing here to pin", n, in.from)), false
			}
			nb, why := f.resolveName(n, in.at, binding{nameAt: -1})
			if why != "" {
				return Pin{}, f.problem(in.at, why), false
			}
			if n == "version" {
				vb, hasV = nb, true
			} else {
				sb, hasS = nb, true
			}
		}
	}
	if !hasV && !hasS {
		return Pin{}, nil, false
	}
	if !hasV {
		return Pin{}, f.problem(open, "the kernel has a src but no version: kupdate cannot tell what it pins"), false
	}
	p := Pin{File: f.name, Attr: f.attrName(open)}
	sv, why := f.resolveString(vb, 0)
	if why != "" {
		return Pin{}, f.problem(vb.nameAt, why), false
	}
	if prob := f.readVersion(&p, sv, vb); prob != nil {
		return Pin{}, prob, false
	}
	if mb, ok := lookup(bs, "modDirVersion"); ok {
		if prob := f.readModDir(&p, mb, sv); prob != nil {
			return Pin{}, prob, false
		}
	}
	if bb, ok := lookup(bs, "extraMeta.branch"); ok {
		f.readBranch(&p, bb)
	}
	if !hasS {
		return Pin{}, f.problem(open, "the kernel has a version but no src"), false
	}
	if prob := f.readSrc(&p, sb); prob != nil {
		return Pin{}, prob, false
	}
	return p, nil, true
}

func (f *file) problem(off int, msg string) *Problem {
	return &Problem{File: f.name, Line: f.nt.Line(off), Msg: msg}
}

// leadRE splits a version string into the kernel.org release it starts
// with and the user's suffix.
var leadRE = regexp.MustCompile(`^([0-9]+\.[0-9]+(?:\.[0-9]+)?)(.*)$`)

// upstreamOf parses the leading release of s: "6.1.55-custom" is 6.1.55,
// "6.8.0" (modDirVersion's form of a first release) is 6.8.
func upstreamOf(s string) (v kernelorg.Version, lead, suffix string, err error) {
	m := leadRE.FindStringSubmatch(s)
	if m == nil {
		return v, "", "", fmt.Errorf("version %q does not start with a kernel release (X.Y or X.Y.Z)", s)
	}
	lead, suffix = m[1], m[2]
	if strings.HasPrefix(suffix, "-rc") {
		return v, "", "", fmt.Errorf("version %q is a release candidate: kupdate pins releases only", s)
	}
	v, err = kernelorg.ParseVersion(strings.TrimSuffix(lead, ".0"))
	if err != nil {
		return v, "", "", fmt.Errorf("version %q: %w", s, err)
	}
	return v, lead, suffix, nil
}

func (f *file) readVersion(p *Pin, sv strVal, vb binding) *Problem {
	v, _, _, err := upstreamOf(sv.val)
	if err != nil {
		return f.problem(vb.nameAt, err.Error())
	}
	if !sv.hasLit {
		return f.problem(vb.nameAt, fmt.Sprintf("version %q is not written as a string kupdate can edit", sv.val))
	}
	if _, lead, _, err := upstreamOf(sv.lit.text); err != nil || strings.TrimSuffix(lead, ".0") != v.String() {
		return f.problem(sv.lit.start, fmt.Sprintf("version %q: the string holding it (%q) does not start with %s", sv.val, sv.lit.text, v))
	}
	p.Version, p.Upstream = sv.val, v
	p.Line = f.nt.Line(sv.lit.start)
	lit := sv.lit
	lit.kind = fVersion
	p.fields = append(p.fields, lit)
	return nil
}

// readModDir takes modDirVersion: when it is a string of its own it moves
// with the version; when it follows the version's string, or is computed
// from it, it needs nothing.
func (f *file) readModDir(p *Pin, mb binding, ver strVal) *Problem {
	if v := string(f.src[mb.vStart:mb.vEnd]); f.src[mb.vStart] != '"' && !identRE.MatchString(v) {
		// An expression (versions.pad 3 version, nixpkgs' own idiom)
		// computes it from the version: it moves by itself.
		return nil
	}
	sv, why := f.resolveString(mb, 0)
	if why != "" {
		return f.problem(mb.nameAt, "modDirVersion: "+why)
	}
	if sv.hasLit && sv.lit.start == ver.lit.start {
		return nil
	}
	v, _, _, err := upstreamOf(sv.val)
	if err != nil {
		return f.problem(mb.nameAt, "modDirVersion: "+err.Error())
	}
	if v != p.Upstream {
		return f.problem(mb.nameAt, fmt.Sprintf("modDirVersion %q is not the source's version %s", sv.val, p.Upstream))
	}
	if !sv.hasLit {
		return f.problem(mb.nameAt, fmt.Sprintf("modDirVersion %q is not written as a string kupdate can edit", sv.val))
	}
	lit := sv.lit
	lit.kind = fModDir
	p.fields = append(p.fields, lit)
	return nil
}

// readBranch takes extraMeta.branch when it is the pin's series written
// out: a move to another series (--series) moves it too. Anything else
// there is the user's and stays.
func (f *file) readBranch(p *Pin, bb binding) {
	parts, end, ok := parseString(f.src, bb.vStart)
	if f.src[bb.vStart] != '"' || !ok || end != bb.vEnd || len(parts) != 1 || parts[0].interp {
		return
	}
	if text := string(f.src[parts[0].start:parts[0].end]); text == p.Upstream.Series() {
		p.fields = append(p.fields, field{kind: fBranch, start: parts[0].start, end: parts[0].end, text: text})
	}
}

// kernelURLRE is kernel.org's release tarball, as a url string's raw text:
// its directory and file name may be literal or interpolated.
var kernelURLRE = regexp.MustCompile(`^(?:https?://(?:cdn\.|www\.|mirrors\.edge\.)?kernel\.org/pub|mirror://kernel)/linux/kernel/v([0-9]+|\$\{[^}]*\})\.x/linux-([^/]*)\.tar\.(?:xz|gz)$`)

func (f *file) readSrc(p *Pin, sb binding) *Problem {
	open, close, why := f.resolveFetch(sb, 0)
	if why != "" {
		return f.problem(sb.nameAt, why)
	}
	bs, _ := f.direct(open, close)
	ub, ok := lookup(bs, "url")
	if !ok {
		return f.problem(open, "src's fetchurl has no url (urls = [ … ] is not followed)")
	}
	if prob := f.readURL(p, ub); prob != nil {
		return prob
	}
	hb, ok := lookup(bs, "hash")
	if !ok {
		hb, ok = lookup(bs, "sha256")
	}
	if !ok {
		return f.problem(open, "src's fetchurl has neither hash nor sha256")
	}
	parts, end, ok := parseString(f.src, hb.vStart)
	if f.src[hb.vStart] != '"' || !ok || end != hb.vEnd || len(parts) != 1 || parts[0].interp {
		return f.problem(hb.nameAt, fmt.Sprintf("%s is not a literal hash string", hb.name))
	}
	h := string(f.src[parts[0].start:parts[0].end])
	form, err := formOf(h)
	if err != nil {
		return f.problem(hb.nameAt, fmt.Sprintf("%s %q: %v", hb.name, truncate(h, 80), err))
	}
	p.Hash, p.HashForm = h, form
	p.fields = append(p.fields, field{kind: fHash, start: parts[0].start, end: parts[0].end, text: h})
	return nil
}

func (f *file) readURL(p *Pin, ub binding) *Problem {
	_, end, ok := parseString(f.src, ub.vStart)
	if f.src[ub.vStart] != '"' || !ok || end != ub.vEnd {
		return f.problem(ub.nameAt, "src's url is not a string kupdate can read")
	}
	raw := string(f.src[ub.vStart+1 : ub.vEnd-1])
	m := kernelURLRE.FindStringSubmatchIndex(raw)
	if m == nil {
		return f.problem(ub.nameAt, fmt.Sprintf("src's url %q is not kernel.org's release tarball (https://cdn.kernel.org/pub/linux/kernel/vN.x/linux-X.Y.Z.tar.xz): kupdate pins only those", truncate(raw, 100)))
	}
	base := ub.vStart + 1
	if dir := raw[m[2]:m[3]]; !strings.HasPrefix(dir, "${") {
		if dir != strconv.Itoa(p.Upstream.Major) {
			return f.problem(ub.nameAt, fmt.Sprintf("src's url is in v%s.x but the version is %s", dir, p.Upstream))
		}
		p.fields = append(p.fields, field{kind: fURLDir, start: base + m[2], end: base + m[3], text: dir})
	}
	name := raw[m[4]:m[5]]
	if strings.Contains(name, "${") {
		return nil
	}
	if name != p.Upstream.String() {
		return f.problem(ub.nameAt, fmt.Sprintf("src's url names linux-%s but the version is %s: kupdate cannot tell which one to follow", name, p.Version))
	}
	p.fields = append(p.fields, field{kind: fURLFile, start: base + m[4], end: base + m[5], text: name})
	return nil
}

// attrName is the name the commit title gives the kernel whose set opens
// at open: the innermost plain binding holding it (not argsOverride, not
// kernelPackages, no dotted option path), else linux_custom.
func (f *file) attrName(open int) string {
	best := -1
	for i, b := range f.binds {
		if b.eq < open && b.semi > open && (best < 0 || b.eq > f.binds[best].eq) {
			if b.name == "argsOverride" {
				continue
			}
			best = i
		}
	}
	if best >= 0 {
		n := f.binds[best].name
		if identRE.MatchString(n) && n != "kernelPackages" && n != "kernel" {
			return n
		}
	}
	return "linux_custom"
}
