package vanilla

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
)

// The family's files, as kupdate check names them in findings.
const (
	kernelsJSON  = kernelfiles.KernelsJSONPath
	linuxKernels = kernelfiles.LinuxKernelsPath
	aliasesNix   = kernelfiles.AliasesPath
)

// entry is one kernels-org.json branch as kupdate check reads it: leniently,
// so that one bad entry is reported without hiding the others.
type entry struct {
	Branch  string
	Line    int
	Version string
	Hash    string
	LTS     *bool  // nil in trees from before the key existed
	err     string // what is wrong with the entry's value, "" if nothing
}

// kernelEntries parses kernels-org.json. Malformed values are kept with err
// set; an error is a *kernelfiles.SyntaxError.
func kernelEntries(b []byte) ([]entry, error) {
	ms, err := kernelfiles.Members(b)
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

// commitChanges diffs kernels-org.json between two trees, a missing file
// counting as empty. A file that does not parse on either side contributes
// nothing (the diff of the whole pull request reports it).
func commitChanges(before, after *family.Tree) []entryChange {
	be, err1 := kernelEntries(before.File(kernelsJSON))
	ae, err2 := kernelEntries(after.File(kernelsJSON))
	if (before.Has(kernelsJSON) && err1 != nil) || (after.Has(kernelsJSON) && err2 != nil) {
		return nil
	}
	return diffEntries(be, ae)
}

// Branch is one branch of a tree's kernels-org.json as kupdate check reads
// it, for families whose kernels build on kernel.org's (linux-hardened).
type Branch struct {
	Name string
	LTS  *bool // nil when the entry has no lts key or is malformed
}

// Listed are the branches of t's kernels-org.json in file order, read as
// kupdate check reads the file (a malformed entry is still listed); nil
// when t has no such file or it does not parse.
func Listed(t *family.Tree) []Branch {
	es, err := kernelEntries(t.File(kernelsJSON))
	if err != nil {
		return nil
	}
	out := make([]Branch, len(es))
	for i, e := range es {
		out[i] = Branch{Name: e.Branch, LTS: e.LTS}
	}
	return out
}

// RemovedBranches are the branches kernels-org.json loses from before to
// after (none when either side does not parse): a linux-hardened entry
// dropped in the same commit goes with its branch.
func RemovedBranches(before, after *family.Tree) map[string]bool {
	out := map[string]bool{}
	for _, ch := range commitChanges(before, after) {
		if ch.New == nil {
			out[ch.Branch] = true
		}
	}
	return out
}
