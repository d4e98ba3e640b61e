package xanmod

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/srcarchive"
)

// Variant is one block of xanmod-kernels.nix's variants: `lts = { version
// = "…"; hash = "…"; [suffix = "…";] [isLTS = true;] };`.
type Variant struct {
	Name    string // lts, main
	Version kernelorg.Version
	Suffix  string // "xanmod1" when the block has no suffix line
	Hash    string
	IsLTS   bool
	// Lines, 1-based: the block's opening and closing, its version, hash
	// and suffix lines (SuffixLine 0: none).
	Open, Close, VersionLine, HashLine, SuffixLine int
}

// Release is what the variant is at: "6.12.60-xanmod1".
func (v Variant) Release() string { return v.Version.String() + "-" + v.Suffix }

// File is xanmod-kernels.nix as the family reads it.
type File struct {
	Variants []Variant
	lines    [][]byte
}

// Variant is the variant named name.
func (f *File) Variant(name string) (Variant, bool) {
	for _, v := range f.Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

var (
	openRE  = regexp.MustCompile(`^(\s*)([a-z]+) = \{\s*$`)
	fieldRE = regexp.MustCompile(`^\s*(version|hash|suffix) = "([^"\n]*)";\s*$`)
	ltsRE   = regexp.MustCompile(`^\s*isLTS = true;\s*$`)
	closeRE = regexp.MustCompile(`^\s*};\s*$`)
)

// Parse reads the variant blocks of xanmod-kernels.nix (those inside
// `variants = {`, as update-xanmod.sh finds them); errors name the line.
func Parse(b []byte) (*File, error) {
	f := &File{lines: bytes.SplitAfter(b, []byte("\n"))}
	in := false
	var cur *Variant
	for i, raw := range f.lines {
		line, n := bytes.TrimRight(raw, "\n"), i+1
		switch {
		case !in:
			in = bytes.Equal(bytes.TrimSpace(line), []byte("variants = {"))
		case cur == nil && closeRE.Match(line):
			in = false
		case cur == nil:
			if m := openRE.FindSubmatch(line); m != nil {
				cur = &Variant{Name: string(m[2]), Open: n, Suffix: "xanmod1"}
			}
		case closeRE.Match(line):
			cur.Close = n
			if err := cur.complete(); err != nil {
				return nil, &kernelfiles.FileError{Path: Path, Line: cur.Open, Err: err}
			}
			f.Variants = append(f.Variants, *cur)
			cur = nil
		default:
			if err := cur.set(line, n); err != nil {
				return nil, &kernelfiles.FileError{Path: Path, Line: n, Err: err}
			}
		}
	}
	if len(f.Variants) == 0 {
		return nil, &kernelfiles.FileError{Path: Path, Err: fmt.Errorf("no variant: want `variants = {` with blocks such as `lts = { version = \"…\"; hash = \"sha256-…\"; isLTS = true; };`, as update-xanmod.sh edits them")}
	}
	return f, nil
}

func (v *Variant) set(line []byte, n int) error {
	if ltsRE.Match(line) {
		v.IsLTS = true
		return nil
	}
	m := fieldRE.FindSubmatch(line)
	if m == nil {
		return nil // other bindings of the block are not kupdate's
	}
	val := string(m[2])
	switch string(m[1]) {
	case "version":
		ver, err := kernelorg.ParseVersion(val)
		if err != nil || ver.IsRC() || v.VersionLine != 0 {
			return fmt.Errorf("variant %s: version %q: want one MAJOR.MINOR.PATCH", v.Name, val)
		}
		v.Version, v.VersionLine = ver, n
	case "hash":
		if _, err := srcarchive.Parse(val); err != nil || v.HashLine != 0 {
			return fmt.Errorf("variant %s: want one SRI hash line, got %q", v.Name, val)
		}
		v.Hash, v.HashLine = val, n
	default:
		if !suffixRE.MatchString(val) || v.SuffixLine != 0 {
			return fmt.Errorf("variant %s: suffix %q: want one xanmod<N>", v.Name, val)
		}
		v.Suffix, v.SuffixLine = val, n
	}
	return nil
}

var suffixRE = regexp.MustCompile(`^xanmod[1-9][0-9]*$`)

func (v *Variant) complete() error {
	if v.VersionLine == 0 || v.HashLine == 0 {
		return fmt.Errorf("variant %s lacks its version or hash line", v.Name)
	}
	return nil
}

// With is the file with variant name at version, suffix and sum, as
// update-xanmod.sh writes it: the version and hash lines rewritten, the
// suffix line dropped, and one added before the block's end when the
// suffix is not the default xanmod1 (nixfmt leaves it there).
func (f *File) With(name string, version kernelorg.Version, suffix string, sum []byte) ([]byte, error) {
	v, ok := f.Variant(name)
	if !ok {
		return nil, fmt.Errorf("%s has no variant %s", Path, name)
	}
	var out [][]byte
	for i, l := range f.lines {
		switch n := i + 1; {
		case n == v.VersionLine:
			l = setValue(l, version.String())
		case n == v.HashLine:
			l = setValue(l, srcarchive.SRI(sum))
		case n == v.SuffixLine:
			continue
		case n == v.Close && suffix != "xanmod1":
			indent := f.lines[v.VersionLine-1][:len(f.lines[v.VersionLine-1])-len(bytes.TrimLeft(f.lines[v.VersionLine-1], " "))]
			out = append(out, []byte(fmt.Sprintf("%ssuffix = %q;\n", indent, suffix)))
		}
		out = append(out, l)
	}
	return bytes.Join(out, nil), nil
}

func setValue(line []byte, val string) []byte {
	i := bytes.IndexByte(line, '"')
	j := bytes.IndexByte(line[i+1:], '"') + i + 1
	out := append([]byte{}, line[:i+1]...)
	out = append(out, val...)
	return append(out, line[j:]...)
}

func read(t *family.Tree) (*File, error) {
	return family.View(t, "xanmod.file", func(t *family.Tree) (*File, error) {
		b := t.File(Path)
		if b == nil {
			return nil, fmt.Errorf("the tree has no %s", Path)
		}
		return Parse(b)
	})
}
