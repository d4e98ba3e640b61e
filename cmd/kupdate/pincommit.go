package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kupdate/kupdate/atomicfile"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/pin"
	"github.com/kupdate/kupdate/updater"
)

// pinStep is one pin's edit: the file's whole content after it.
type pinStep struct {
	row     int
	content []byte
}

// applyPins moves every behind pin, file by file: each edit made on the
// file as the previous one left it and parsed by Nix, then written and
// committed (or, with noCommit, the file's final content written). A pin
// that cannot move is marked and the others go on.
func applyPins(ctx context.Context, e *env, ko *kernelorg.Client, rows []pinRow, noCommit bool) []pinRow {
	var files []string
	byFile := map[string][]int{}
	for i, r := range rows {
		if r.Status != string(pin.Behind) {
			continue
		}
		if byFile[r.File] == nil {
			files = append(files, r.File)
		}
		byFile[r.File] = append(byFile[r.File], i)
	}
	for _, f := range files {
		steps := editFile(ctx, ko, f, rows, byFile[f])
		if len(steps) == 0 {
			continue
		}
		if noCommit {
			writePinned(ctx, e, f, rows, steps)
		} else {
			commitPinned(ctx, e, f, rows, steps)
		}
	}
	return rows
}

// editFile makes the edits of the rows at idx to file f in memory.
func editFile(ctx context.Context, ko *kernelorg.Client, f string, rows []pinRow, idx []int) []pinStep {
	content, err := os.ReadFile(f)
	if err != nil {
		for _, i := range idx {
			rows[i].Status, rows[i].Message = "failed", err.Error()
		}
		return nil
	}
	var steps []pinStep
	for _, i := range idx {
		r := &rows[i]
		hash, err := ko.Hash(ctx, r.to)
		if errors.Is(err, kernelorg.ErrNotYet) {
			r.Status, r.Message = "held", fmt.Sprintf("kernel.org has not signed the checksum of linux-%s.tar.xz yet; run again later", r.to)
			continue
		}
		if err != nil {
			r.Status, r.Message = "failed", err.Error()
			continue
		}
		// Found again in what the previous edits left: its offsets moved.
		pins, _ := pin.Find(f, content)
		switch {
		case r.idx < len(pins) && pins[r.idx].Upstream == r.to:
			// It shares its version string with a kernel moved before it.
			r.Status, r.Message = string(pin.Current), "moved with the kernel before it: they share their version string"
			continue
		case r.idx >= len(pins) || pins[r.idx].Version != r.pin.Version:
			r.Status, r.Message = "failed", "the pin is not where it was after the edits before it"
			continue
		}
		next, err := pin.Rewrite(content, pins[r.idx], r.to, hash)
		if err == nil {
			err = updater.ParseNix(ctx, f, next)
		}
		if err != nil {
			r.Status, r.Message = "failed", fmt.Sprintf("the edit was not written: %v", err)
			continue
		}
		r.hash, content = hash, next
		steps = append(steps, pinStep{row: i, content: next})
	}
	return steps
}

// writePinned writes the file's final content (--no-commit), after
// refusing a file whose staged content differs from HEAD, as `kupdate
// update --no-commit` does: the index would go stale under the edit.
func writePinned(ctx context.Context, e *env, f string, rows []pinRow, steps []pinStep) {
	err := func() error {
		if root, rel, ok := gitRoot(f); ok {
			repo, err := gitops.OpenLocal(ctx, root, gitops.Options{Identity: pinIdentity(e, root), Logger: e.log})
			if err != nil {
				return err
			}
			defer repo.Close()
			if err := repo.CheckStaged(ctx, []string{rel}); err != nil {
				return err
			}
		}
		return writeKeepingMode(f, steps[len(steps)-1].content)
	}()
	for _, s := range steps {
		rows[s.row].Status, rows[s.row].Message = "applied", ""
		if err != nil {
			rows[s.row].Status, rows[s.row].Message = "failed", err.Error()
		}
	}
}

// commitPinned commits the file's edits one by one in the repository
// holding it, as the repository's git user, after the clean-checkout check
// of `kupdate update`: the file must match HEAD in the index and the
// worktree. A commit that fails puts the file back as the last commit left
// it, and the later edits are not made.
func commitPinned(ctx context.Context, e *env, f string, rows []pinRow, steps []pinStep) {
	fail := func(from int, err error) {
		for _, s := range steps[from:] {
			rows[s.row].Status, rows[s.row].Message = "failed", err.Error()
		}
	}
	root, rel, ok := gitRoot(f)
	if !ok {
		fail(0, fmt.Errorf("%s is not in a git repository: pass --no-commit to edit it without committing", f))
		return
	}
	repo, err := gitops.OpenLocal(ctx, root, gitops.Options{Identity: pinIdentity(e, root), Now: e.now, Logger: e.log})
	if err != nil {
		fail(0, err)
		return
	}
	defer repo.Close()
	if err := repo.CheckClean(ctx, []string{rel}); err != nil {
		if d := (*gitops.DirtyError)(nil); errors.As(err, &d) {
			// gitops says "nixpkgs checkout"; this is the user's own repository.
			err = fmt.Errorf("%s has uncommitted changes (%s) in the repository %s: commit or stash them (or pass --no-commit), then run kupdate pin again", rel, d.Files[0].Why, root)
		}
		fail(0, err)
		return
	}
	prev, err := os.ReadFile(f)
	if err != nil {
		fail(0, err)
		return
	}
	for k, s := range steps {
		r := &rows[s.row]
		c := family.Change{Kind: "pin", Attr: r.Attr, From: r.pin.Upstream.String(), To: r.to.String(), Hash: r.hash, Files: []string{rel}, Title: r.Title, ChangeLog: r.log}
		if err := writeKeepingMode(f, s.content); err != nil {
			fail(k, err)
			return
		}
		hashes, err := repo.CommitWritten(ctx, []gitops.Commit{{Change: c, Files: map[string][]byte{rel: s.content}}})
		if len(hashes) == 0 {
			if werr := writeKeepingMode(f, prev); werr != nil {
				err = fmt.Errorf("%w; and putting %s back failed: %v", err, f, werr)
			}
			fail(k, err)
			return
		}
		r.Status, r.Commit, prev = "committed", hashes[0].String(), s.content
	}
}

// pinIdentity is who commits in the user's repository: git's user there,
// else [git] author_name and author_email.
func pinIdentity(e *env, root string) gitops.Identity {
	id, ok, err := gitops.UserIdentity(root, e.getenv)
	if err == nil && ok {
		return id
	}
	if err != nil {
		e.log.Warn("pin: the repository's git identity is unreadable; committing as [git] author_name", "error", err)
	}
	cfg, _ := e.loadConfig()
	return gitops.Identity{Name: cfg.Git.AuthorName, Email: cfg.Git.AuthorEmail}
}

// gitRoot is the worktree holding file f and f's slash path inside it.
func gitRoot(f string) (root, rel string, ok bool) {
	abs, err := filepath.Abs(f)
	if err != nil {
		return "", "", false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			rel, err := filepath.Rel(dir, abs)
			return dir, filepath.ToSlash(rel), err == nil
		}
		if dir == filepath.Dir(dir) {
			return "", "", false
		}
	}
}

// writeKeepingMode replaces f (through a symlink, the file it names) with
// data, keeping its mode.
func writeKeepingMode(f string, data []byte) error {
	if real, err := filepath.EvalSymlinks(f); err == nil {
		f = real
	}
	st, err := os.Stat(f)
	if err != nil {
		return err
	}
	return atomicfile.Write(f, data, st.Mode().Perm())
}
