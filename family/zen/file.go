package zen

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/srcarchive"
)

// Variant is one kernel of zen-kernels.nix: the three lines update-zen.py
// rewrites, each marked with the variant's comment.
type Variant struct {
	Name      string // "zen", "lqx": the comment that marks its lines
	Version   kernelorg.Version
	Suffix    string // "zen1"
	Hash      string // as written: SRI, or nix32 in older files
	HashField string // "hash" (SRI) or "sha256"
	// VersionLine, SuffixLine and HashLine are 1-based line numbers.
	VersionLine, SuffixLine, HashLine int
}

// Release is what the variant is at: "6.18.2-zen1".
func (v Variant) Release() string { return v.Version.String() + "-" + v.Suffix }

// Tag is zen-kernel's git tag of the release: "v6.18.2-zen1".
func (v Variant) Tag() string { return "v" + v.Release() }

// File is zen-kernels.nix as the family reads it.
type File struct {
	Variants []Variant
	lines    [][]byte // each with its newline
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

// lineRE is a line update-zen.py rewrites: `      version = "6.18.2"; # zen`
// (older files: `#zen`).
var lineRE = regexp.MustCompile(`^(\s*)(version|suffix|sha256|hash) = "([^"\n]*)"; #\s?([a-z]+)\s*$`)

// Parse reads zen-kernels.nix. Its errors name the line and what to fix.
func Parse(b []byte) (*File, error) {
	f := &File{lines: bytes.SplitAfter(b, []byte("\n"))}
	byName := map[string]*Variant{}
	var order []string
	for i, raw := range f.lines {
		m := lineRE.FindSubmatch(bytes.TrimRight(raw, "\n"))
		if m == nil {
			continue
		}
		field, val, name, line := string(m[2]), string(m[3]), string(m[4]), i+1
		v := byName[name]
		if v == nil {
			v = &Variant{Name: name}
			byName[name] = v
			order = append(order, name)
		}
		if err := v.set(field, val, line); err != nil {
			return nil, &kernelfiles.FileError{Path: Path, Line: line, Err: err}
		}
	}
	for _, name := range order {
		v := byName[name]
		if err := v.complete(); err != nil {
			return nil, &kernelfiles.FileError{Path: Path, Err: err}
		}
		f.Variants = append(f.Variants, *v)
	}
	if len(f.Variants) == 0 {
		return nil, &kernelfiles.FileError{Path: Path, Err: errors.New("no variant: want lines such as `version = \"6.18.2\"; # zen`, `suffix = \"zen1\"; # zen` and `hash = \"sha256-…\"; # zen`, as update-zen.py writes them")}
	}
	return f, nil
}

func (v *Variant) set(field, val string, line int) error {
	twice := fmt.Errorf("variant %s has a second %s line (the first is line %d): keep one", v.Name, field, max(v.VersionLine, v.SuffixLine, v.HashLine))
	switch field {
	case "version":
		if v.VersionLine != 0 {
			return twice
		}
		ver, err := kernelorg.ParseVersion(val)
		if err != nil || ver.IsRC() {
			return fmt.Errorf("variant %s: version %q is not a kernel release: want MAJOR.MINOR or MAJOR.MINOR.PATCH", v.Name, val)
		}
		v.Version, v.VersionLine = ver, line
	case "suffix":
		if v.SuffixLine != 0 {
			return twice
		}
		if !suffixOf(v.Name).MatchString(val) {
			return fmt.Errorf("variant %s: suffix %q: want %s followed by a number (%s1)", v.Name, val, v.Name, v.Name)
		}
		v.Suffix, v.SuffixLine = val, line
	default:
		if v.HashLine != 0 {
			return fmt.Errorf("variant %s has a second hash line (the first is line %d): keep one", v.Name, v.HashLine)
		}
		if _, err := srcarchive.Parse(val); err != nil {
			return fmt.Errorf("variant %s: %w", v.Name, err)
		}
		v.Hash, v.HashField, v.HashLine = val, field, line
	}
	return nil
}

func (v *Variant) complete() error {
	var missing []string
	for _, m := range []struct {
		line int
		what string
	}{{v.VersionLine, "version"}, {v.SuffixLine, "suffix"}, {v.HashLine, "hash"}} {
		if m.line == 0 {
			missing = append(missing, m.what)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("variant %s lacks its %s line (`… = \"…\"; # %s`)", v.Name, strings.Join(missing, " and "), v.Name)
	}
	return nil
}

func suffixOf(name string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `[1-9][0-9]*$`)
}

// With is the file's bytes with variant name at version, suffix and the
// hash sum, written in the encoding its hash line uses: only the values of
// the three lines change.
func (f *File) With(name string, version kernelorg.Version, suffix string, sum []byte) ([]byte, error) {
	v, ok := f.Variant(name)
	if !ok {
		return nil, fmt.Errorf("%s has no variant %s", Path, name)
	}
	hash := srcarchive.SRI(sum)
	if v.HashField == "sha256" && !strings.HasPrefix(v.Hash, "sha256-") {
		hash = srcarchive.Nix32(sum) // what the file's older convention holds
	}
	out := make([][]byte, len(f.lines))
	copy(out, f.lines)
	out[v.VersionLine-1] = setValue(f.lines[v.VersionLine-1], version.String())
	out[v.SuffixLine-1] = setValue(f.lines[v.SuffixLine-1], suffix)
	out[v.HashLine-1] = setValue(f.lines[v.HashLine-1], hash)
	return bytes.Join(out, nil), nil
}

// setValue replaces the quoted value of a line lineRE matched.
func setValue(line []byte, val string) []byte {
	i := bytes.IndexByte(line, '"')
	j := bytes.IndexByte(line[i+1:], '"') + i + 1
	out := append([]byte{}, line[:i+1]...)
	out = append(out, val...)
	return append(out, line[j:]...)
}

// read is the tree's zen-kernels.nix, parsed once per tree.
func read(t *family.Tree) (*File, error) {
	return family.View(t, "zen.file", func(t *family.Tree) (*File, error) {
		b := t.File(Path)
		if b == nil {
			return nil, fmt.Errorf("the tree has no %s", Path)
		}
		return Parse(b)
	})
}
