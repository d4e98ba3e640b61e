package family

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// Tree is what kupdate holds of a nixpkgs tree: the bytes of the files its
// families read, by slash path. It is built from file contents only, so the
// same code edits a checkout on disk and a git tree without a worktree.
// Families parse the files they need through View, once per content.
//
// A Tree is not modified in place by a change: With returns the tree with
// a change's files.
type Tree struct {
	// Now dates what a change dates (`# Added YYYY-MM-DD` of a removal), in
	// UTC. nil means time.Now.
	Now func() time.Time

	files map[string][]byte

	mu    sync.Mutex
	views map[string]view // by View's key
}

type view struct {
	v   any
	err error
}

// NewTree is the tree of files (path -> content); a nil content is a file
// the tree does not have.
func NewTree(files map[string][]byte) *Tree {
	t := &Tree{files: map[string][]byte{}}
	for p, b := range files {
		if b != nil {
			t.files[p] = b
		}
	}
	return t
}

// File is the content of path, nil when the tree has no such file.
func (t *Tree) File(path string) []byte { return t.files[path] }

// Has reports whether the tree has path.
func (t *Tree) Has(path string) bool { _, ok := t.files[path]; return ok }

// Files are the tree's paths, sorted.
func (t *Tree) Files() []string { return slices.Sorted(maps.Keys(t.files)) }

// With is t with files written over it (a nil content deletes the file).
// File contents are never mutated, so the two trees share them.
func (t *Tree) With(files map[string][]byte) *Tree {
	n := &Tree{Now: t.Now, files: maps.Clone(t.files)}
	for p, b := range files {
		if b == nil {
			delete(n.files, p)
		} else {
			n.files[p] = b
		}
	}
	return n
}

// Today is the date a change made now writes, YYYY-MM-DD in UTC.
func (t *Tree) Today() string {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	return now().UTC().Format("2006-01-02")
}

// View is what parse reads from t, parsed once per tree and key: families
// keep their parsed model of the files here, so that every method that
// needs it parses the same bytes once.
func View[T any](t *Tree, key string, parse func(*Tree) (T, error)) (T, error) {
	t.mu.Lock()
	if v, ok := t.views[key]; ok {
		t.mu.Unlock()
		x, _ := v.v.(T)
		return x, v.err
	}
	t.mu.Unlock()
	x, err := parse(t)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.views == nil {
		t.views = map[string]view{}
	}
	t.views[key] = view{v: x, err: err}
	return x, err
}
