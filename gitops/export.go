package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"

	"github.com/kupdate/kupdate/childproc"
)

// exportMarker names the commit an export directory holds.
const exportMarker = ".kupdate-export"

// Export makes dir hold the files of commit, for Nix to evaluate and build
// (a managed clone has no worktree). dir is kupdate's own: when it holds an
// earlier export, only the files that differ between the two commits are
// written or removed, so moving between a base and its branches costs a
// few files; otherwise (first use, or an export cut short) the whole tree is
// written next to dir and renamed into place. dir gets a lock file
// (childproc.LockName) that every child started there holds, and Export
// refuses a dir whose lock is held: a process started there is still
// running (ExportFree then picks another directory).
func (r *Repo) Export(ctx context.Context, commit plumbing.Hash, dir string) error {
	switch busy, err := childproc.InUse(dir); {
	case err != nil:
		return fmt.Errorf("exporting %s to %s: %w", short(commit), dir, err)
	case busy:
		return fmt.Errorf("exporting %s to %s: a process started there is still running (fuser -v %s names it); kupdate does not write under it",
			short(commit), dir, filepath.Join(dir, childproc.LockName))
	}
	c, err := object.GetCommit(r.storage, commit)
	if err != nil {
		return fmt.Errorf("exporting %s to %s: %w", short(commit), dir, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return fmt.Errorf("exporting %s to %s: %w", short(commit), dir, err)
	}
	marker := filepath.Join(dir, exportMarker)
	if b, err := os.ReadFile(marker); err == nil {
		prev := plumbing.NewHash(strings.TrimSpace(string(b)))
		if prev == commit {
			return childproc.Track(dir) // one exported before there was a lock gets it
		}
		if pc, err := object.GetCommit(r.storage, prev); err == nil {
			if pt, err := pc.Tree(); err == nil {
				// Without the marker an interrupted update is redone in full.
				if err := os.Remove(marker); err != nil {
					return fmt.Errorf("exporting %s to %s: %w", short(commit), dir, err)
				}
				if err := r.exportDiff(ctx, pt, tree, dir); err != nil {
					return fmt.Errorf("exporting %s to %s: %w", short(commit), dir, err)
				}
				if err := writeFileAtomic(marker, []byte(commit.String()+"\n"), 0o644); err != nil {
					return err
				}
				return childproc.Track(dir)
			}
		}
	}
	if err := r.exportFull(ctx, tree, commit, dir); err != nil {
		return fmt.Errorf("exporting %s to %s: %w", short(commit), dir, err)
	}
	return nil
}

func (r *Repo) exportDiff(ctx context.Context, from, to *object.Tree, dir string) error {
	changes, err := object.DiffTreeWithOptions(ctx, from, to, &object.DiffTreeOptions{})
	if err != nil {
		return err
	}
	for _, ch := range changes {
		action, err := ch.Action()
		if err != nil {
			return err
		}
		if action == merkletrie.Delete {
			full := filepath.Join(dir, filepath.FromSlash(ch.From.Name))
			if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		if ch.From.Name != "" && action == merkletrie.Modify && ch.From.TreeEntry.Mode == filemode.Symlink {
			os.Remove(filepath.Join(dir, filepath.FromSlash(ch.From.Name)))
		}
		if err := r.exportFile(dir, ch.To.Name, ch.To.TreeEntry, nil); err != nil {
			return err
		}
	}
	return nil
}

func (r *Repo) exportFull(ctx context.Context, tree *object.Tree, commit plumbing.Hash, dir string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	made := map[string]bool{} // directories created so far
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		name, e, err := walker.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if e.Mode == filemode.Dir {
			continue
		}
		if err := r.exportFile(tmp, name, e, made); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, exportMarker), []byte(commit.String()+"\n"), 0o644); err != nil {
		return err
	}
	if err := childproc.Track(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := dir + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	defer os.RemoveAll(old)
	return os.Rename(tmp, dir)
}

// exportFile writes one tree entry below dir: a file with its executable
// bit, or a symlink; a submodule is left out. made is nil when dir is in use
// (files are replaced atomically), or the directories already made in a new
// dir (files are written directly).
func (r *Repo) exportFile(dir, name string, e object.TreeEntry, made map[string]bool) error {
	if e.Mode == filemode.Submodule || e.Mode == filemode.Dir {
		return nil
	}
	full := filepath.Join(dir, filepath.FromSlash(name))
	data, err := r.blob(e.Hash)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if parent := filepath.Dir(full); made == nil || !made[parent] {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return err
		}
		if made != nil {
			made[parent] = true
		}
	}
	switch {
	case e.Mode == filemode.Symlink:
		os.Remove(full)
		return os.Symlink(string(data), full)
	case made != nil:
		return os.WriteFile(full, data, fileMode(e.Mode))
	}
	return writeFileAtomic(full, data, fileMode(e.Mode))
}
