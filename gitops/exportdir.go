package gitops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/childproc"
)

// maxExportDirs bounds the export directories: root and root-1 to root-3.
// Each holds a whole nixpkgs tree, and four runs in a row leaving a
// process behind is something for a person to look at.
const maxExportDirs = 4

// ExportFree exports commit (see Export) into root or, while a process
// started in root is still running, into the first of root-1, root-2,
// root-3 that nothing holds, and returns the directory it used. Such a
// process is one kupdate could not stop: a command that ignored the
// SIGTERM kupdate's death sent it, or something it left behind. Nix reads
// the tree by absolute path, so it would read, and could write, whatever a
// new export put under its feet. The fallback directories nothing holds
// any more are removed, and so is what an export cut short left next to
// them, so the next run is back in root once the survivors are gone.
func (r *Repo) ExportFree(ctx context.Context, commit plumbing.Hash, root string) (string, error) {
	dir, err := freeExportDir(root)
	if err != nil {
		return "", err
	}
	if err := r.Export(ctx, commit, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// exportDirName is root for i = 0, else root-i.
func exportDirName(root string, i int) string {
	if i == 0 {
		return root
	}
	return root + "-" + strconv.Itoa(i)
}

// freeExportDir is the first export directory of root whose lock nobody
// holds. The others nobody holds are removed (root itself is kept for the
// next diff-sized export), with the temporary directories of a full export
// that was killed.
func freeExportDir(root string) (string, error) {
	chosen := ""
	var held []string
	for i := range maxExportDirs {
		d := exportDirName(root, i)
		busy, err := childproc.InUse(d)
		if err != nil {
			return "", fmt.Errorf("export directory %s: %w", d, err)
		}
		switch {
		case busy:
			held = append(held, d)
			continue
		case chosen == "":
			chosen = d
		case i > 0:
			if err := os.RemoveAll(d); err != nil {
				return "", fmt.Errorf("removing the unused export directory %s: %w", d, err)
			}
		}
		if err := removeExportTemps(d); err != nil {
			return "", err
		}
	}
	if chosen == "" {
		return "", fmt.Errorf("every export directory (%s) is held by a process started there that is still running (fuser -v %s names them); kupdate writes under none of them: stop those processes",
			strings.Join(held, ", "), filepath.Join(root, childproc.LockName))
	}
	return chosen, nil
}

// removeExportTemps removes dir.old and dir.new-*, which a full export of
// dir that was killed leaves behind. Only Export writes them, never a
// child, so no survivor can be working in one.
func removeExportTemps(dir string) error {
	ents, err := os.ReadDir(filepath.Dir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no parent yet: nothing left behind
	}
	if err != nil {
		return err
	}
	base := filepath.Base(dir)
	for _, e := range ents {
		if n := e.Name(); n == base+".old" || strings.HasPrefix(n, base+".new-") {
			if err := os.RemoveAll(filepath.Join(filepath.Dir(dir), n)); err != nil {
				return fmt.Errorf("removing what an interrupted export left: %w", err)
			}
		}
	}
	return nil
}
