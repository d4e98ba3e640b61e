package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/kupdate/kupdate/kernelfiles"
)

// Paths of the files the check reads, relative to the nixpkgs root: the
// updater's.
const (
	KernelsOrgJSON  = kernelfiles.KernelsJSONPath
	LinuxKernelsNix = kernelfiles.LinuxKernelsPath
	AliasesNix      = kernelfiles.AliasesPath
	HardenedPatches = kernelfiles.PatchesJSONPath
	HardenedKey     = kernelfiles.HardenedKeyPath
)

// member is one top-level key of a JSON object file and where it starts.
type member struct {
	Key  string
	Line int // 1-based line of the key
	Raw  json.RawMessage
}

// syntaxError is a JSON file that does not parse, with the line at fault.
type syntaxError struct {
	Line int
	Msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// members splits a JSON object into its top-level members in file order,
// keeping duplicates (encoding/json would silently keep the last one) so
// they can be reported.
func members(b []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	fail := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read up to and including the offending one.
			if int(se.Offset) >= len(b) {
				return &syntaxError{Line: lineAt(b, len(b)), Msg: "unexpected end of file"}
			}
			off := max(int(se.Offset)-1, 0)
			return &syntaxError{Line: 1 + bytes.Count(b[:off], []byte("\n")), Msg: se.Error()}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &syntaxError{Line: lineAt(b, len(b)), Msg: "unexpected end of file"}
		}
		return &syntaxError{Line: lineAt(b, int(dec.InputOffset())), Msg: err.Error()}
	}
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
		return nil, &syntaxError{Line: lineAt(b, int(dec.InputOffset())), Msg: "want a JSON object"}
	}
	var ms []member
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
		ms = append(ms, member{Key: key, Line: line, Raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &syntaxError{Line: lineAt(b, int(dec.InputOffset())), Msg: "trailing data after the JSON object"}
	}
	return ms, nil
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

// entry is one kernels-org.json branch.
type entry struct {
	Branch  string
	Line    int
	Version string
	Hash    string
	LTS     *bool // nil in trees from before the key existed
	err     string
}

// kernelEntries parses kernels-org.json. Malformed values are kept with err
// set, so one bad entry is reported without hiding the others.
func kernelEntries(b []byte) ([]entry, error) {
	ms, err := members(b)
	if err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(ms))
	for _, m := range ms {
		e := entry{Branch: m.Key, Line: m.Line}
		var v struct {
			Version *string `json:"version"`
			Hash    *string `json:"hash"`
			LTS     *bool   `json:"lts"`
		}
		dec := json.NewDecoder(bytes.NewReader(m.Raw))
		dec.DisallowUnknownFields()
		switch err := dec.Decode(&v); {
		case err != nil:
			e.err = fmt.Sprintf("want {\"version\": string, \"hash\": string, \"lts\": bool}: %v", err)
		case v.Version == nil || v.Hash == nil:
			e.err = "must have \"version\" and \"hash\""
		default:
			e.Version, e.Hash, e.LTS = *v.Version, *v.Hash, v.LTS
		}
		es = append(es, e)
	}
	return es, nil
}

// entryChange is a branch whose entry differs between two revisions.
type entryChange struct {
	Branch   string
	Old, New *entry // Old nil: added; New nil: removed
}

// diffEntries lists the changed branches: head's changes in head order, then
// removals in base order.
func diffEntries(base, head []entry) []entryChange {
	byBranch := func(es []entry) map[string]*entry {
		m := make(map[string]*entry, len(es))
		for i := range es {
			if _, dup := m[es[i].Branch]; !dup {
				m[es[i].Branch] = &es[i]
			}
		}
		return m
	}
	bm, hm := byBranch(base), byBranch(head)
	var cs []entryChange
	seen := map[string]bool{}
	for i := range head {
		h := &head[i]
		if seen[h.Branch] {
			continue
		}
		seen[h.Branch] = true
		b := bm[h.Branch]
		if b != nil && b.Version == h.Version && b.Hash == h.Hash && eqBool(b.LTS, h.LTS) && b.err == h.err {
			continue
		}
		cs = append(cs, entryChange{Branch: h.Branch, Old: b, New: h})
	}
	for i := range base {
		b := &base[i]
		if hm[b.Branch] == nil && !seen[b.Branch] {
			seen[b.Branch] = true
			cs = append(cs, entryChange{Branch: b.Branch, Old: b})
		}
	}
	return cs
}

func eqBool(a, b *bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
