package updater

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// WriteFiles writes files (slash paths relative to dir -> content) into the
// tree at dir, all or nothing as far as a filesystem allows: every file is
// first written to a temporary file beside it (and synced), and only when all
// are written are they renamed over the originals. A file keeps its mode.
func WriteFiles(dir string, files map[string][]byte) error {
	type staged struct{ tmp, dst string }
	var done []staged
	cleanup := func() {
		for _, s := range done {
			os.Remove(s.tmp)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if !fs.ValidPath(p) {
			cleanup()
			return fmt.Errorf("writing %s: not a relative slash path inside the tree", p)
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		mode := fs.FileMode(0o644)
		if st, err := os.Stat(dst); err == nil {
			mode = st.Mode().Perm()
		} else if !errors.Is(err, fs.ErrNotExist) {
			cleanup()
			return fmt.Errorf("writing %s: %w", p, err)
		}
		f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".kupdate-*")
		if err != nil {
			cleanup()
			return fmt.Errorf("writing %s: %w", p, err)
		}
		done = append(done, staged{tmp: f.Name(), dst: dst})
		_, err = f.Write(files[p])
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), mode)
		}
		if err != nil {
			cleanup()
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	for i, s := range done {
		if err := os.Rename(s.tmp, s.dst); err != nil {
			cleanup()
			return fmt.Errorf("writing %s: %w (%d of %d files were replaced)", s.dst, err, i, len(done))
		}
	}
	return nil
}
