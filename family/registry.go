package family

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

// Registry is the families kupdate keeps current, in the order their
// changes are planned and committed (a family may build on another's
// changes of the same plan: a hardened init on a new kernel.org branch).
type Registry []Family

// Get is the family named name, nil when there is none.
func (r Registry) Get(name string) Family {
	for _, f := range r {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

// Present are the families t carries, in order.
func (r Registry) Present(t *Tree) Registry {
	var out Registry
	for _, f := range r {
		if f.Present(t) {
			out = append(out, f)
		}
	}
	return out
}

// Paths are every family's files, once each, in order.
func (r Registry) Paths() []string {
	var out []string
	for _, f := range r {
		for _, p := range f.Paths() {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Load is the tree of files (path -> content, a path missing from it is a
// file the tree does not have), checked by each family it carries. At least
// one family must be present: otherwise this is not a nixpkgs tree.
func (r Registry) Load(files map[string][]byte) (*Tree, error) {
	t := NewTree(files)
	present := r.Present(t)
	if len(present) == 0 {
		return nil, fmt.Errorf("reading the nixpkgs tree: none of %v is there (is this the root of a nixpkgs checkout?)", r.Paths())
	}
	for _, f := range present {
		if err := f.Load(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// LoadFS is Load over the files of fsys, rooted at the nixpkgs tree.
func (r Registry) LoadFS(fsys fs.FS) (*Tree, error) {
	files := map[string][]byte{}
	for _, p := range r.Paths() {
		b, err := fs.ReadFile(fsys, p)
		switch {
		case err == nil:
			files[p] = b
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, fmt.Errorf("reading the nixpkgs tree: %w", err)
		}
	}
	return r.Load(files)
}

// Attrs are the attributes every family present in t keeps, family by
// family.
func (r Registry) Attrs(t *Tree) []Owned {
	var out []Owned
	for _, f := range r.Present(t) {
		for _, a := range f.Attrs(t) {
			out = append(out, Owned{Family: f.Name(), Attr: a})
		}
	}
	return out
}

// Owned is an attribute and the family that keeps it.
type Owned struct {
	Family string
	Attr
}

// CheckFile reads back a file a change wrote with the family that writes
// it; a file no family writes is not checked here.
func (r Registry) CheckFile(path string, data []byte) error {
	for _, f := range r {
		if handled, err := f.CheckFile(path, data); handled {
			return err
		}
	}
	return nil
}

// Entries is what attr (built for c) reads of the file at path, as the
// family that keeps the file as entries says (see Family.Entries); narrow
// is false when no family does.
func (r Registry) Entries(path string, data []byte, c Change, attr string) (keys []string, narrow bool) {
	for _, f := range r {
		if keys, ok := f.Entries(path, data, c, attr); ok {
			return keys, true
		}
	}
	return nil, false
}

// Ahead reports whether k still proposes something base lacks, as its
// family says; a key of a family kupdate does not know counts as ahead, so
// that it is never withdrawn by mistake.
func (r Registry) Ahead(base *Tree, k Key) bool {
	f := r.Get(k.Family)
	if f == nil {
		return true
	}
	return f.Ahead(base, k)
}
