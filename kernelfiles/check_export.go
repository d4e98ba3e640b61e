package kernelfiles

// Read-only views of what the updater knows, for the families' verifiers
// (family.Verifier, which `kupdate check` runs): they verify a pull request
// against what kupdate would write, and read files leniently enough to say
// what is wrong with them. They reuse the updater's own parser, writer and
// scanners so that the check and the editor can never disagree.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kupdate/kupdate/family"
)

// CanonicalJSON is data re-encoded exactly as kupdate writes the JSON file
// at path: Python's json.dump(indent=4) plus a newline, keys in file order
// for kernels-org.json and sorted for hardened/patches.json. A file kupdate
// wrote is its own canonical form.
func CanonicalJSON(path string, data []byte) ([]byte, error) {
	v, err := parseJSON(path, data)
	if err != nil {
		return nil, err
	}
	return dumpJSON(v, path == PatchesJSONPath), nil
}

// NixBinding is one `name = value;` of a kernel section.
type NixBinding struct {
	File  string
	Line  int
	Value string // the source between `=` and `;`, trimmed
}

// KernelSections are the bindings, by name, of the parts of linux-kernels.nix
// and aliases.nix that kupdate edits.
type KernelSections struct {
	Kernels        map[string]NixBinding // kernels = { ... }
	KernelThrows   map[string]NixBinding // its `lib.optionalAttrs config.allowAliases { ... }` part
	Vanilla        map[string]NixBinding // vanillaPackages = { ... }
	VanillaThrows  map[string]NixBinding
	Packages       map[string]NixBinding // packages = ... // { ... }
	PackageThrows  map[string]NixBinding
	PackageAliases map[string]NixBinding // packageAliases = { ... }
	Aliases        map[string]NixBinding // aliases.nix, the keep-sorted part of mapAliases { ... }
}

// ReadKernelSections scans linux-kernels.nix and aliases.nix in t without
// requiring them to agree with kernels-org.json, so a tree that lacks part
// of an init can be described rather than refused. It is parsed once per
// tree.
func ReadKernelSections(t *family.Tree) (*KernelSections, error) {
	return family.View(t, "kernelfiles.sections", readKernelSections)
}

func readKernelSections(t *family.Tree) (*KernelSections, error) {
	ks := &KernelSections{}
	lk, ok := t.File(LinuxKernelsPath), t.Has(LinuxKernelsPath)
	if !ok {
		return nil, fmt.Errorf("%s: missing", LinuxKernelsPath)
	}
	nt, err := scanNix(LinuxKernelsPath, lk)
	if err != nil {
		return nil, err
	}
	collect := func(s nixSet) map[string]NixBinding {
		m := map[string]NixBinding{}
		if s.open < 0 {
			return m
		}
		for _, b := range s.bindings {
			if _, dup := m[b.name]; !dup {
				m[b.name] = NixBinding{File: nt.name, Line: nt.line(b.start), Value: b.value(nt)}
			}
		}
		return m
	}
	for _, sec := range []struct {
		name          string
		main, aliases *map[string]NixBinding
	}{
		{"kernels", &ks.Kernels, &ks.KernelThrows},
		{"vanillaPackages", &ks.Vanilla, &ks.VanillaThrows},
		{"packages", &ks.Packages, &ks.PackageThrows},
		{"packageAliases", &ks.PackageAliases, nil},
	} {
		s, err := findSection(nt, sec.name)
		if err != nil {
			return nil, err
		}
		*sec.main = collect(s.main)
		if sec.aliases != nil {
			*sec.aliases = collect(s.aliases)
		}
	}
	al, ok := t.File(AliasesPath), t.Has(AliasesPath)
	if !ok {
		return nil, fmt.Errorf("%s: missing", AliasesPath)
	}
	if nt, err = scanNix(AliasesPath, al); err != nil {
		return nil, err
	}
	s, _, err := mapAliasesSet(nt)
	if err != nil {
		return nil, err
	}
	ks.Aliases = collect(s)
	return ks, nil
}

// CheckFormat reports to out, as a finding, the first line where the JSON
// file at path differs from the bytes kupdate writes for the same content
// (see Misformatted).
func CheckFormat(out *family.Results, path string, b []byte) {
	line, msg, err := Misformatted(path, b)
	switch {
	case err != nil:
		out.Findingf(path, 0, family.RuleSyntax, "kupdate cannot read it: %v", err)
	case msg != "":
		out.Findingf(path, line, family.RuleFormat, "%s", msg)
	}
}

// Misformatted compares a JSON file with the bytes kupdate writes for the
// same content (CanonicalJSON) and says how the first line that differs
// differs: line 0 and "" when the file is as kupdate writes it. The error
// is for a file kupdate cannot read at all.
func Misformatted(path string, b []byte) (line int, msg string, err error) {
	want, err := CanonicalJSON(path, b)
	if err != nil {
		return 0, "", err
	}
	if bytes.Equal(want, b) {
		return 0, "", nil
	}
	got, exp := strings.SplitAfter(string(b), "\n"), strings.SplitAfter(string(want), "\n")
	i := 0
	for i < len(got) && i < len(exp) && got[i] == exp[i] {
		i++
	}
	how := "Python's json.dump(indent=4) and a final newline"
	if path == PatchesJSONPath {
		how = "Python's json.dump(indent=4, sort_keys=True) and a final newline"
	}
	line = i + 1
	switch {
	case i >= len(exp) || exp[i] == "":
		msg = "unexpected text after the end"
	case i >= len(got) || got[i] == "":
		msg = fmt.Sprintf("the file ends early, want %q", strings.TrimSuffix(exp[i], "\n"))
	case strings.TrimSuffix(got[i], "\n") == strings.TrimSuffix(exp[i], "\n"):
		msg = "the file must end with exactly one newline"
	default:
		msg = fmt.Sprintf("line %d is %q, want %q", line, strings.TrimSuffix(got[i], "\n"), strings.TrimSuffix(exp[i], "\n"))
	}
	return line, fmt.Sprintf("not formatted as kupdate writes it (%s): %s; run kupdate update or reformat", how, msg), nil
}

// JSONMember is one top-level key of a JSON object file and where it starts.
type JSONMember struct {
	Key  string
	Line int // 1-based line of the key
	Raw  json.RawMessage
}

// A FileError is what is wrong with one of nixpkgs' kernel files, and
// where: the file's path, then the line when there is one.
type FileError struct {
	Path string
	Line int // 0: the whole file
	Err  error
}

func (e *FileError) Error() string {
	if e.Line == 0 {
		return e.Path + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// SyntaxError is a JSON file that does not parse, with the line at fault.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Members splits a JSON object into its top-level members in file order,
// keeping duplicates (encoding/json would silently keep the last one) so
// that a check can report them. A file that does not parse is a
// *SyntaxError.
func Members(b []byte) ([]JSONMember, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	fail := func(err error) error { return syntaxError(b, dec, err) }
	// Validate the whole document first: only then are syntax error offsets
	// absolute (a Decoder's are relative to the value it was reading).
	var whole json.RawMessage
	if err := json.Unmarshal(b, &whole); err != nil {
		return nil, fail(err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fail(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &SyntaxError{Line: lineAt(b, int(dec.InputOffset())), Msg: "want a JSON object"}
	}
	var ms []JSONMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		key, _ := tok.(string)
		line := lineAt(b, int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fail(err)
		}
		ms = append(ms, JSONMember{Key: key, Line: line, Raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &SyntaxError{Line: lineAt(b, int(dec.InputOffset())), Msg: "trailing data after the JSON object"}
	}
	return ms, nil
}

// syntaxError locates err, from decoding b with dec, as a *SyntaxError.
func syntaxError(b []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the bytes read up to and including the offending one.
		if int(se.Offset) >= len(b) {
			return &SyntaxError{Line: lineAt(b, len(b)), Msg: "unexpected end of file"}
		}
		off := max(int(se.Offset)-1, 0)
		return &SyntaxError{Line: 1 + bytes.Count(b[:off], []byte("\n")), Msg: se.Error()}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &SyntaxError{Line: lineAt(b, len(b)), Msg: "unexpected end of file"}
	}
	return &SyntaxError{Line: lineAt(b, int(dec.InputOffset())), Msg: err.Error()}
}

// lineAt is the 1-based line of byte offset off in b. An offset just past a
// token still counts on that token's line.
func lineAt(b []byte, off int) int {
	if off > len(b) {
		off = len(b)
	}
	if off > 0 && b[off-1] == '\n' {
		off--
	}
	return 1 + bytes.Count(b[:off], []byte("\n"))
}
