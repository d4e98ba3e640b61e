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
// touch, that the worktree and the index match HEAD (CheckClean); otherwise
// it refuses with a *DirtyError naming the files. Then it writes those
// files, updates their index entries and moves the branch. No other file is
// read or written, and nothing scans the worktree. The index is held locked
// (index.lock) throughout, as git does.
func (r *Repo) CommitLocal(ctx context.Context, commits []Commit) ([]plumbing.Hash, error) {
	return r.applyLocal(ctx, commits, commitFiles)
}

// CommitWritten is CommitLocal for files the caller has already written
// into the worktree (`kupdate update` writes each change and validates it
// with Nix there before committing it): the index must still match HEAD at
// those paths, as for CommitLocal, and the worktree must hold exactly the
// commits' final content, so that what is committed is what was validated.
// The worktree is not written, and on failure not restored: its content is
// the caller's to roll back.
func (r *Repo) CommitWritten(ctx context.Context, commits []Commit) ([]plumbing.Hash, error) {
	return r.applyLocal(ctx, commits, commitWritten)
}

// WriteLocal writes the files of commits into the checkout without
// committing: the final content of each path the commits touch, after the
// same check as CommitLocal. The index and the branch are not changed.
func (r *Repo) WriteLocal(ctx context.Context, commits []Commit) error {
	_, err := r.applyLocal(ctx, commits, writeOnly)
	return err
}

// CheckClean is the check CommitLocal and WriteLocal make before they write
// anything, alone: a *DirtyError when any of paths differs from HEAD in the
// index or the worktree. A caller that writes the files itself
// (CommitWritten) makes it first, for every path it will touch, so that it
// refuses before anything is written.
func (r *Repo) CheckClean(ctx context.Context, paths []string) error {
	return r.checkClean(ctx, paths, true)
}

// CheckStaged is CheckClean for the index alone: a *DirtyError when any of
// paths differs from HEAD in the index (staged, unmerged, ...), whatever
// the worktree holds. A caller that edits the worktree without committing
// (`kupdate update --no-commit`) may build on a worktree edit, but a staged
// one would go stale: the index would keep the old edit under kupdate's.
func (r *Repo) CheckStaged(ctx context.Context, paths []string) error {
	return r.checkClean(ctx, paths, false)
}

func (r *Repo) checkClean(ctx context.Context, paths []string, worktree bool) error {
	if !r.local {
		return fmt.Errorf("%s is a managed clone, not a checkout", r.dir)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, p := range paths {
		if err := validPath(p); err != nil {
			return fmt.Errorf("nixpkgs checkout %s: %w", r.dir, err)
		}
	}
	_, cur, err := r.localHead()
	if err != nil {
		return err
	}
	idx, err := r.readIndex()
	if err != nil {
		return err
	}
	orig, err := r.headEntries(cur.Hash(), paths)
	if err != nil {
		return err
	}
	if worktree {
		return r.checkPaths(paths, orig, idx, nil)
	}
	var dirty []DirtyFile
	for _, p := range paths {
		if why := r.indexDirty(p, orig, idx); why != "" {
			dirty = append(dirty, DirtyFile{Path: p, Why: why})
		}
	}
	if len(dirty) > 0 {
		return &DirtyError{Dir: r.dir, Files: dirty}
	}
	return nil
}

// DirtyError is the refusal of a checkout whose files kupdate would change
// differ from HEAD: kupdate would overwrite the maintainer's work, or commit
// it as its own.
type DirtyError struct {
	Dir   string      // the checkout
	Files []DirtyFile // in path order
	// Or is another way out a caller offers, said after "commit or stash
	// them" (`kupdate update`: "pass --no-commit").
	Or string
}

// DirtyFile is a file of a DirtyError and how it differs: "modified",
// "staged", "deleted", "unmerged", "untracked, would be overwritten", ...
type DirtyFile struct{ Path, Why string }

func (e *DirtyError) Error() string {
	files := make([]string, len(e.Files))
	for i, f := range e.Files {
		// A plain modification goes without saying: "uncommitted changes"
		// says it.
		files[i] = f.Path
		if f.Why != "modified" {
			files[i] += " (" + f.Why + ")"
		}
	}
	or := ""
	if e.Or != "" {
		or = " (or " + e.Or + ")"
	}
	return fmt.Sprintf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s; commit or stash them%s, then run kupdate again", e.Dir, strings.Join(files, ", "), or)
}

// localMode is what applyLocal does with the commits' files.
type localMode int

const (
	writeOnly     localMode = iota // WriteLocal: write the files, commit nothing
	commitFiles                    // CommitLocal: write the files and commit them
	commitWritten                  // CommitWritten: commit the files the caller wrote
)

// localHead is the ref a commit in the checkout moves (the current branch,
// or HEAD when detached) and that ref as it is now.
func (r *Repo) localHead() (plumbing.ReferenceName, *plumbing.Reference, error) {
	head, err := r.storage.Reference(plumbing.HEAD)
	if err != nil {
		return "", nil, fmt.Errorf("nixpkgs checkout %s: reading HEAD: %w", r.dir, err)
	}
	target := plumbing.HEAD // detached
	if head.Type() == plumbing.SymbolicReference {
		target = head.Target()
	}
	cur, err := r.storage.Reference(target)
	if err != nil {
		return "", nil, fmt.Errorf("nixpkgs checkout %s: branch %s has no commit yet: %w", r.dir, target.Short(), err)
	}
	return target, cur, nil
}

// headEntries is what commit has at each of paths (nothing for a path it
// does not have).
func (r *Repo) headEntries(commit plumbing.Hash, paths []string) (map[string]object.TreeEntry, error) {
	c, err := object.GetCommit(r.storage, commit)
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: reading HEAD commit: %w", r.dir, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: reading HEAD tree: %w", r.dir, err)
	}
	out := map[string]object.TreeEntry{}
	for _, p := range paths {
		e, err := tree.FindEntry(p)
		if err == nil {
			out[p] = *e
		} else if !errors.Is(err, object.ErrEntryNotFound) && !errors.Is(err, object.ErrDirectoryNotFound) {
			return nil, fmt.Errorf("nixpkgs checkout %s: reading %s at HEAD: %w", r.dir, p, err)
		}
	}
	return out, nil
}

// checkPaths is the one check before kupdate writes or commits paths in a
// checkout: each must be in the index as HEAD has it (orig), and in the
// worktree too, or, when written is not nil, as the caller wrote it
// (written[p], nil meaning removed).
func (r *Repo) checkPaths(paths []string, orig map[string]object.TreeEntry, idx *index.Index, written map[string][]byte) error {
	var dirty []DirtyFile
	for _, p := range paths {
		want := orig[p].Hash // zero: no file
		if written != nil {
			want = plumbing.ZeroHash
			if data := written[p]; data != nil {
				want = plumbing.ComputeHash(plumbing.BlobObject, data)
			}
		}
		why := r.indexDirty(p, orig, idx)
		if why == "" {
			why = r.worktreeDirty(p, want, written != nil)
		}
		if why != "" {
			dirty = append(dirty, DirtyFile{Path: p, Why: why})
		}
	}
	if len(dirty) > 0 {
		return &DirtyError{Dir: r.dir, Files: dirty}
	}
	return nil
}

func (r *Repo) applyLocal(ctx context.Context, commits []Commit, mode localMode) ([]plumbing.Hash, error) {
	if !r.local {
		return nil, fmt.Errorf("%s is a managed clone, not a checkout: use Build and Push", r.dir)
	}
	if len(commits) == 0 {
		return nil, nil
	}
	target, cur, err := r.localHead()
	if err != nil {
		return nil, err
	}
	final, err := finalContents(commits)
	if err != nil {
		return nil, err
	}
	paths := sortedKeys(final)
	// What HEAD has at each path; also what the worktree gets back if a
	// later step fails.
	orig, err := r.headEntries(cur.Hash(), paths)
	if err != nil {
		return nil, err
	}

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
	var callerWrote map[string][]byte
	if mode == commitWritten {
		callerWrote = final
	}
	if err := r.checkPaths(paths, orig, idx, callerWrote); err != nil {
		return nil, err
	}
	if mode == writeOnly {
		return nil, r.writeFinal(paths, final, orig)
	}

	hashes, err := r.buildChain(ctx, cur.Hash(), commits)
	if err != nil {
		return nil, fmt.Errorf("nixpkgs checkout %s: %w", r.dir, err)
	}
	newHead := hashes[len(hashes)-1]
	wt := worktreeEdit{r: r, orig: orig}
	if err := wt.stage(idx, newHead, paths, final, mode == commitFiles); err != nil {
		wt.restore()
		return nil, err
	}
	if err := r.writeIndexLock(idx); err != nil {
		wt.restore()
		return nil, err
	}
	if err := r.storage.CheckAndSetReference(plumbing.NewHashReference(target, newHead), cur); err != nil {
		wt.restore()
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

// finalContents is each touched path's content after the last commit (nil:
// removed).
func finalContents(commits []Commit) (map[string][]byte, error) {
	final := map[string][]byte{}
	for _, c := range commits {
		for p, data := range c.Files {
			if err := validPath(p); err != nil {
				return nil, fmt.Errorf("change %q: %w", c.Change.Title, err)
			}
			final[p] = data
		}
	}
	return final, nil
}

// writeFinal writes the final contents into the worktree only (--no-commit),
// keeping each file's mode.
func (r *Repo) writeFinal(paths []string, final map[string][]byte, orig map[string]object.TreeEntry) error {
	for _, p := range paths {
		fm := filemode.Regular
		if e, ok := orig[p]; ok {
			fm = e.Mode
		}
		if err := writeOrRemove(filepath.Join(r.dir, filepath.FromSlash(p)), final[p], fm); err != nil {
			return fmt.Errorf("nixpkgs checkout %s: writing %s: %w", r.dir, p, err)
		}
	}
	return nil
}

// worktreeEdit brings a checkout's worktree and index to a new commit's
// contents at the touched paths, remembering what it wrote so that a
// failure puts HEAD's contents back.
type worktreeEdit struct {
	r       *Repo
	orig    map[string]object.TreeEntry // HEAD's entries at the touched paths
	written []string
}

// stage writes each path (when write: the caller has not written them) and
// records it in idx as the commit newHead has it.
func (w *worktreeEdit) stage(idx *index.Index, newHead plumbing.Hash, paths []string, final map[string][]byte, write bool) error {
	r := w.r
	c, err := object.GetCommit(r.storage, newHead)
	if err != nil {
		return err
	}
	tree, err := c.Tree()
	if err != nil {
		return err
	}
	for _, p := range paths {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		if final[p] == nil {
			if write {
				w.written = append(w.written, p)
				if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("nixpkgs checkout %s: removing %s: %w", r.dir, p, err)
				}
			}
			idx.Remove(p)
			continue
		}
		e, err := tree.FindEntry(p)
		if err != nil {
			return fmt.Errorf("nixpkgs checkout %s: %s in the new commit: %w", r.dir, p, err)
		}
		if write {
			w.written = append(w.written, p)
			if err := writeFileAtomic(full, final[p], fileMode(e.Mode)); err != nil {
				return fmt.Errorf("nixpkgs checkout %s: writing %s: %w", r.dir, p, err)
			}
		}
		fi, err := os.Lstat(full)
		if err != nil {
			return fmt.Errorf("nixpkgs checkout %s: %w", r.dir, err)
		}
		idx.Remove(p)
		ie := idx.Add(p)
		ie.Hash, ie.Mode = e.Hash, e.Mode
		ie.ModifiedAt, ie.Size = fi.ModTime(), uint32(fi.Size())
		fillStat(ie, fi)
	}
	idx.Cache = nil // the cached trees no longer match; git rebuilds them
	return nil
}

// restore puts HEAD's contents back at the paths stage wrote.
func (w *worktreeEdit) restore() {
	for _, p := range w.written {
		full := filepath.Join(w.r.dir, filepath.FromSlash(p))
		e, ok := w.orig[p]
		if !ok {
			os.Remove(full)
			continue
		}
		if data, err := w.r.blob(e.Hash); err == nil {
			writeFileAtomic(full, data, fileMode(e.Mode))
		}
	}
}

// indexDirty says how path differs from HEAD in the index, or "".
func (r *Repo) indexDirty(p string, orig map[string]object.TreeEntry, idx *index.Index) string {
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
	return ""
}

// worktreeDirty says how path differs in the worktree from a file whose
// blob is want (zero: no file), or "": from HEAD, or from what the caller
// wrote there.
func (r *Repo) worktreeDirty(p string, want plumbing.Hash, written bool) string {
	full := filepath.Join(r.dir, filepath.FromSlash(p))
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist) && want.IsZero():
		return ""
	case errors.Is(err, fs.ErrNotExist) && written:
		return "deleted since it was written"
	case errors.Is(err, fs.ErrNotExist):
		return "deleted"
	case err != nil:
		return err.Error()
	case want.IsZero() && written:
		return "still there, though the change removes it"
	case want.IsZero():
		return "untracked, would be overwritten"
	case !fi.Mode().IsRegular():
		return "not a regular file"
	}
	data, err := os.ReadFile(full)
	switch {
	case err != nil:
		return err.Error()
	case plumbing.ComputeHash(plumbing.BlobObject, data) == want:
		return ""
	case written:
		return "changed since it was written"
	}
	return "modified"
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
