package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/kupdate/kupdate/family"
)

// BuiltBranch is a Branch written into the object store: one commit per
// planned commit, on BaseCommit.
type BuiltBranch struct {
	Branch
	BaseCommit plumbing.Hash
	Hashes     []plumbing.Hash // Hashes[i] is the commit of Commits[i]
}

// Head is the branch's last commit.
func (b BuiltBranch) Head() plumbing.Hash {
	if len(b.Hashes) == 0 {
		return b.BaseCommit
	}
	return b.Hashes[len(b.Hashes)-1]
}

// Build writes b's commits on base: for each, the blobs of its files, the
// trees along their paths and the commit object. No ref and no worktree is
// touched; the same inputs and clock give the same hashes.
func (r *Repo) Build(ctx context.Context, base plumbing.Hash, b Branch) (BuiltBranch, error) {
	built := BuiltBranch{Branch: b, BaseCommit: base}
	if len(b.Commits) == 0 {
		return built, fmt.Errorf("building %s: no commits planned", b.Name)
	}
	hashes, err := r.buildChain(ctx, base, b.Commits)
	if err != nil {
		return built, fmt.Errorf("building %s on %s: %w", b.Name, short(base), err)
	}
	built.Hashes = hashes
	return built, nil
}

func (r *Repo) buildChain(ctx context.Context, base plumbing.Hash, commits []Commit) ([]plumbing.Hash, error) {
	bc, err := object.GetCommit(r.storage, base)
	if err != nil {
		return nil, fmt.Errorf("base commit %s: %w", short(base), err)
	}
	parent, tree := base, bc.TreeHash
	var hashes []plumbing.Hash
	for _, c := range commits {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		next, err := r.applyFiles(tree, c.Files)
		if err != nil {
			return nil, fmt.Errorf("change %q: %w", c.Change.Title, err)
		}
		if next == tree {
			return nil, fmt.Errorf("change %q: its files are already as planned; nothing to commit", c.Change.Title)
		}
		h, err := r.writeCommit(parent, next, c.Change)
		if err != nil {
			return nil, fmt.Errorf("change %q: %w", c.Change.Title, err)
		}
		hashes = append(hashes, h)
		parent, tree = h, next
	}
	return hashes, nil
}

func (r *Repo) writeCommit(parent, tree plumbing.Hash, c family.Change) (plumbing.Hash, error) {
	when := r.now()
	sig := object.Signature{Name: r.id.Name, Email: r.id.Email, When: when}
	commit := &object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      Message(c),
		TreeHash:     tree,
		ParentHashes: []plumbing.Hash{parent},
	}
	obj := r.storage.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.storage.SetEncodedObject(obj)
}

// applyFiles returns the tree that is root with files written (nil content:
// removed).
func (r *Repo) applyFiles(root plumbing.Hash, files map[string][]byte) (plumbing.Hash, error) {
	edits := make(map[string][]byte, len(files))
	for p, data := range files {
		if err := validPath(p); err != nil {
			return plumbing.ZeroHash, err
		}
		edits[p] = data
	}
	h, empty, err := r.editTree(root, edits, "")
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if empty {
		return plumbing.ZeroHash, errors.New("the change would leave the repository empty")
	}
	return h, nil
}

func validPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsRune(p, 0) || strings.Contains(p, "\\") {
		return fmt.Errorf("file path %q: want a slash path relative to the repository root", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." || strings.EqualFold(part, ".git") {
			return fmt.Errorf("file path %q: want a slash path relative to the repository root", p)
		}
	}
	return nil
}

// editTree writes the tree that is base (zero: none) with edits applied,
// edits keyed by paths relative to this tree, and returns it, or empty when
// nothing is left in it. Only trees along edited paths are read or written.
func (r *Repo) editTree(base plumbing.Hash, edits map[string][]byte, dir string) (plumbing.Hash, bool, error) {
	var entries []object.TreeEntry
	if !base.IsZero() {
		t, err := object.GetTree(r.storage, base)
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("reading tree %s/: %w", strings.TrimSuffix(dir, "/"), err)
		}
		entries = slices.Clone(t.Entries)
	}
	at := func(name string) int {
		return slices.IndexFunc(entries, func(e object.TreeEntry) bool { return e.Name == name })
	}
	set := func(e object.TreeEntry) {
		if i := at(e.Name); i >= 0 {
			entries[i] = e
		} else {
			entries = append(entries, e)
		}
	}
	remove := func(name string) {
		if i := at(name); i >= 0 {
			entries = slices.Delete(entries, i, i+1)
		}
	}

	direct := map[string][]byte{}
	sub := map[string]map[string][]byte{}
	for p, data := range edits {
		name, rest, nested := strings.Cut(p, "/")
		if !nested {
			direct[name] = data
			continue
		}
		if sub[name] == nil {
			sub[name] = map[string][]byte{}
		}
		sub[name][rest] = data
	}
	for _, name := range sortedKeys(direct) {
		data := direct[name]
		path := dir + name
		if _, ok := sub[name]; ok {
			return plumbing.ZeroHash, false, fmt.Errorf("file path %q is also a directory of another file", path)
		}
		mode := filemode.Regular
		if i := at(name); i >= 0 {
			switch m := entries[i].Mode; m {
			case filemode.Regular, filemode.Executable, filemode.Deprecated:
				mode = m
			default:
				return plumbing.ZeroHash, false, fmt.Errorf("file path %q: the repository has a %s there, not a regular file", path, modeName(m))
			}
		}
		if data == nil {
			remove(name)
			continue
		}
		h, err := r.writeObject(plumbing.BlobObject, data)
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("writing %s: %w", path, err)
		}
		set(object.TreeEntry{Name: name, Mode: mode, Hash: h})
	}
	for _, name := range sortedKeys(sub) {
		var subBase plumbing.Hash
		if i := at(name); i >= 0 {
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, false, fmt.Errorf("path %q: the repository has a %s there, not a directory", dir+name, modeName(entries[i].Mode))
			}
			subBase = entries[i].Hash
		}
		h, empty, err := r.editTree(subBase, sub[name], dir+name+"/")
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if empty {
			remove(name)
			continue
		}
		set(object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, true, nil
	}
	sortTree(entries)
	obj := r.storage.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, false, err
	}
	if h := obj.Hash(); h == base || r.storage.HasEncodedObject(h) == nil {
		return h, false, nil
	}
	h, err := r.storage.SetEncodedObject(obj)
	return h, false, err
}

// writeObject stores data as an object of type t, unless it is there already.
func (r *Repo) writeObject(t plumbing.ObjectType, data []byte) (plumbing.Hash, error) {
	obj := r.storage.NewEncodedObject()
	obj.SetType(t)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	if h := obj.Hash(); r.storage.HasEncodedObject(h) == nil {
		return h, nil
	}
	return r.storage.SetEncodedObject(obj)
}

// sortTree orders entries the way git does: by name, a directory as if its
// name ended in "/".
func sortTree(entries []object.TreeEntry) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
}

func modeName(m filemode.FileMode) string {
	switch m {
	case filemode.Dir:
		return "directory"
	case filemode.Symlink:
		return "symlink"
	case filemode.Submodule:
		return "submodule"
	}
	return "file"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Diff renders commit against its first parent as a unified diff, the way
// `git show --format= <commit>` does; `run --dry-run` prints it.
func (r *Repo) Diff(ctx context.Context, commit plumbing.Hash) (string, error) {
	c, err := object.GetCommit(r.storage, commit)
	if err != nil {
		return "", fmt.Errorf("diff of %s: %w", short(commit), err)
	}
	if len(c.ParentHashes) == 0 {
		return "", fmt.Errorf("diff of %s: the commit has no parent", short(commit))
	}
	parent, err := object.GetCommit(r.storage, c.ParentHashes[0])
	if err != nil {
		return "", fmt.Errorf("diff of %s: parent: %w", short(commit), err)
	}
	patch, err := parent.PatchContext(ctx, c)
	if err != nil {
		return "", fmt.Errorf("diff of %s: %w", short(commit), err)
	}
	var out bytes.Buffer
	if err := diff.NewUnifiedEncoder(&out, diff.DefaultContextLines).Encode(patch); err != nil {
		return "", fmt.Errorf("diff of %s: %w", short(commit), err)
	}
	return out.String(), nil
}
