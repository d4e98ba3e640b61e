package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// CommitLocal makes one commit per element of commits on the checkout's
// current branch (or on a detached HEAD), like update.sh with COMMIT=1, and
// returns their hashes. It never switches the branch.
//
// Before anything is written it checks, for exactly the paths the commits
// touch, that the worktree and the index match HEAD; otherwise it refuses,
// naming the files. Then it writes those files, updates their index entries
// and moves the branch. No other file is read or written, and nothing scans
// the worktree. The index is held locked (index.lock) throughout, as git
// does.
func (r *Repo) CommitLocal(ctx context.Context, commits []Commit) ([]plumbing.Hash, error) {
	return r.applyLocal(ctx, commits, true)
}

// WriteLocal writes the files of commits into the checkout without
// committing (`kupdate update --no-commit`): the final content of each path
// the commits touch, after the same check as CommitLocal. The index and the
// branch are not changed.
func (r *Repo) WriteLocal(ctx context.Context, commits []Commit) error {
	_, err := r.applyLocal(ctx, commits, false)
	return err
}

func (r *Repo) applyLocal(ctx context.Context, commits []Commit, commit bool) ([]plumbing.Hash, error) {
	if !r.local {
		return nil, fmt.Errorf("%s is a managed clone, not a checkout: use Build and Push", r.dir)
	}
	if len(commits) == 0 {
		return nil, nil
	}
	head, err := r.storage.Reference(plumbing.HEAD)
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: reading HEAD: %w", r.dir, err)
	}
	target := plumbing.HEAD // detached
	if head.Type() == plumbing.SymbolicReference {
		target = head.Target()
	}
	cur, err := r.storage.Reference(target)
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: branch %s has no commit yet: %w", r.dir, target.Short(), err)
	}
	headCommit, err := object.GetCommit(r.storage, cur.Hash())
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: reading HEAD commit: %w", r.dir, err)
	}
	headTree, err := headCommit.Tree()
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: reading HEAD tree: %w", r.dir, err)
	}

	final := map[string][]byte{} // each touched path's content after the last commit
	for _, c := range commits {
		for p, data := range c.Files {
			if err := validPath(p); err != nil {
				return nil, fmt.Errorf("change %q: %w", c.Change.Title, err)
			}
			final[p] = data
		}
	}
	paths := sortedKeys(final)

	unlock, err := r.lockIndex()
	if err != nil {
		return nil, err
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	idx, err := r.readIndex()
	if err != nil {
		return nil, err
	}

	// What HEAD has at each path; also what the worktree gets back if a
	// later step fails.
	orig := map[string]object.TreeEntry{}
	var dirty []string
	for _, p := range paths {
		e, err := headTree.FindEntry(p)
		if err == nil {
			orig[p] = *e
		} else if !errors.Is(err, object.ErrEntryNotFound) && !errors.Is(err, object.ErrDirectoryNotFound) {
			return nil, fmt.Errorf("nixpkgs checkout %s: reading %s at HEAD: %w", r.dir, p, err)
		}
		if why := r.dirty(p, orig, idx); why != "" {
			dirty = append(dirty, p+" ("+why+")")
		}
	}
	if len(dirty) > 0 {
		return nil, fmt.Errorf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s; commit or stash them, then run kupdate again", r.dir, strings.Join(dirty, ", "))
	}

	if !commit {
		for _, p := range paths {
			mode := filemode.Regular
			if e, ok := orig[p]; ok {
				mode = e.Mode
			}
			if err := writeOrRemove(filepath.Join(r.dir, filepath.FromSlash(p)), final[p], mode); err != nil {
				return nil, fmt.Errorf("nixpkgs checkout %s: writing %s: %w", r.dir, p, err)
			}
		}
		return nil, nil
	}

	hashes, err := r.buildChain(ctx, cur.Hash(), commits)
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: %w", r.dir, err)
	}
	newHead := hashes[len(hashes)-1]
	newTree, err := object.GetCommit(r.storage, newHead)
	if err != nil {
		return nil, err
	}
	tree, err := newTree.Tree()
	if err != nil {
		return nil, err
	}

	var written []string
	restore := func() {
		for _, p := range written {
			full := filepath.Join(r.dir, filepath.FromSlash(p))
			e, ok := orig[p]
			if !ok {
				os.Remove(full)
				continue
			}
			if data, err := r.blob(e.Hash); err == nil {
				writeFileAtomic(full, data, fileMode(e.Mode))
			}
		}
	}
	for _, p := range paths {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		written = append(written, p)
		if final[p] == nil {
			if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
				restore()
				return nil, fmt.Errorf("nixpkgs checkout %s: removing %s: %w", r.dir, p, err)
			}
			idx.Remove(p)
			continue
		}
		e, err := tree.FindEntry(p)
		if err != nil {
			restore()
			return nil, fmt.Errorf("nixpkgs checkout %s: %s in the new commit: %w", r.dir, p, err)
		}
		if err := writeFileAtomic(full, final[p], fileMode(e.Mode)); err != nil {
			restore()
			return nil, fmt.Errorf("nixpkgs checkout %s: writing %s: %w", r.dir, p, err)
		}
		fi, err := os.Lstat(full)
		if err != nil {
			restore()
			return nil, fmt.Errorf("nixpkgs checkout %s: %w", r.dir, err)
		}
		idx.Remove(p)
		ie := idx.Add(p)
		ie.Hash, ie.Mode = e.Hash, e.Mode
		ie.ModifiedAt, ie.Size = fi.ModTime(), uint32(fi.Size())
		fillStat(ie, fi)
	}
	idx.Cache = nil // the cached trees no longer match; git rebuilds them

	if err := r.writeIndexLock(idx); err != nil {
		restore()
		return nil, err
	}
	if err := r.storage.CheckAndSetReference(plumbing.NewHashReference(target, newHead), cur); err != nil {
		restore()
		return nil, fmt.Errorf("nixpkgs checkout %s: %s moved while kupdate worked (%v); nothing was committed, run kupdate again", r.dir, target.Short(), err)
	}
	if err := os.Rename(r.indexPath()+".lock", r.indexPath()); err != nil {
		return hashes, fmt.Errorf("nixpkgs checkout %s: the commits are made but the index was not updated (%v); run `git reset` to refresh it", r.dir, err)
	}
	locked = false
	r.base = newHead
	for i, c := range commits {
		r.log.Info("committed", "dir", r.dir, "branch", target.Short(), "commit", short(hashes[i]), "title", c.Change.Title)
	}
	return hashes, nil
}

// dirty says how path differs from HEAD in the index or the worktree, or "".
func (r *Repo) dirty(p string, orig map[string]object.TreeEntry, idx *index.Index) string {
	he, inHead := orig[p]
	ie, err := idx.Entry(p)
	inIndex := err == nil
	for _, e := range idx.Entries {
		// Stage 0 is a merged entry (go-git's index.Merged constant says 1).
		if e.Name == p && e.Stage != 0 {
			return "unmerged"
		}
	}
	switch {
	case inIndex && ie.SkipWorktree:
		return "outside the sparse checkout"
	case inIndex && ie.IntentToAdd:
		return "added with --intent-to-add"
	case inIndex != inHead:
		return "staged"
	case inIndex && (ie.Hash != he.Hash || ie.Mode != he.Mode):
		return "staged"
	}
	full := filepath.Join(r.dir, filepath.FromSlash(p))
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist) && inHead:
		return "deleted"
	case errors.Is(err, fs.ErrNotExist):
		return ""
	case err != nil:
		return err.Error()
	case !inHead:
		return "untracked, would be overwritten"
	case !fi.Mode().IsRegular():
		return "not a regular file"
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return err.Error()
	}
	if plumbing.ComputeHash(plumbing.BlobObject, data) != he.Hash {
		return "modified"
	}
	return ""
}

func (r *Repo) blob(h plumbing.Hash) ([]byte, error) {
	b, err := object.GetBlob(r.storage, h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(rd)
	return buf.Bytes(), err
}

func (r *Repo) indexPath() string { return filepath.Join(r.gitDir, "index") }

// lockIndex takes git's index lock, so no git command changes the index (or,
// by convention, HEAD) while kupdate commits.
func (r *Repo) lockIndex() (func(), error) {
	lock := r.indexPath() + ".lock"
	f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("nixpkgs checkout %s: %s exists: another git command is running there; wait for it (or remove the lock if none is) and run kupdate again", r.dir, lock)
	}
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: locking the index: %w", r.dir, err)
	}
	f.Close()
	return func() { os.Remove(lock) }, nil
}

func (r *Repo) readIndex() (*index.Index, error) {
	f, err := os.Open(r.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return &index.Index{Version: 2}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: reading the index: %w", r.dir, err)
	}
	defer f.Close()
	idx := &index.Index{}
	if err := index.NewDecoder(f).Decode(idx); err != nil {
		if errors.Is(err, index.ErrUnknownExtension) {
			return nil, fmt.Errorf("nixpkgs checkout %s: the index uses a split or sparse index, which kupdate cannot update safely; run `git update-index --no-split-index` (or `git sparse-checkout disable`) and try again: %w", r.dir, err)
		}
		return nil, fmt.Errorf("nixpkgs checkout %s: reading the index: %w", r.dir, err)
	}
	return idx, nil
}

func (r *Repo) writeIndexLock(idx *index.Index) error {
	var buf bytes.Buffer
	if err := index.NewEncoder(&buf).Encode(idx); err != nil {
		return fmt.Errorf("nixpkgs checkout %s: encoding the index: %w", r.dir, err)
	}
	if err := os.WriteFile(r.indexPath()+".lock", buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("nixpkgs checkout %s: writing the index: %w", r.dir, err)
	}
	return nil
}

func writeOrRemove(path string, data []byte, mode filemode.FileMode) error {
	if data == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return writeFileAtomic(path, data, fileMode(mode))
}

func fileMode(m filemode.FileMode) os.FileMode {
	if m == filemode.Executable {
		return 0o755
	}
	return 0o644
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory, so a reader never sees half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".kupdate-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
