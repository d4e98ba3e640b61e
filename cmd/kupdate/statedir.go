package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/kupdate/kupdate/config"
)

// stateFiles are the files of the state directory that kupdate kept in the
// cache directory before the two were apart: the cycle's state.json and
// builds.json (the lock needs no moving: the kernel releases it).
func stateFiles() []string { return []string{"state.json", "builds.json"} }

// openState finds cfg's state directory before run, serve or status read
// the state, and deals with what an earlier kupdate left in the cache
// directory, where it kept state before the two were apart. With migrate
// (run and serve) that state is moved into the state directory, so an
// upgrade keeps the last cycle's PR links and build results. Without it
// (status, run --dry-run: they write nothing) it is read where it is: the
// configuration returned then points the state directory at the cache
// directory. stateDir is the state directory either way, for the lock.
//
// Its errors are configuration errors (no directory can be named) or the
// failed move, which stops the command: it must not go on as if no cycle
// had ever run.
func (e *env) openState(cfg *config.Config, migrate bool) (_ *config.Config, stateDir string, _ error) {
	stateDir, err := cfg.StateDir()
	if err != nil {
		return nil, "", &exitError{code: exitUsage, err: err}
	}
	cacheDir, err := cfg.CacheDir()
	if err != nil {
		return nil, "", &exitError{code: exitUsage, err: err}
	}
	if migrate {
		return cfg, stateDir, migrateState(e.log, cacheDir, stateDir)
	}
	name := stateFiles()[0]
	if _, err := os.Stat(filepath.Join(stateDir, name)); !errors.Is(err, fs.ErrNotExist) {
		return cfg, stateDir, nil
	}
	if _, err := os.Stat(filepath.Join(cacheDir, name)); err != nil {
		return cfg, stateDir, nil
	}
	e.log.Info("reading the state an earlier kupdate kept in the cache directory; the next kupdate run or serve moves it into the state directory", "from", cacheDir, "to", stateDir)
	old := *cfg
	old.Nixpkgs.StateDir = cacheDir
	return &old, stateDir, nil
}

// migrateState moves each of stateFiles from cacheDir into stateDir, once:
// a file the state directory has already is newer (a kupdate that knew the
// state directory wrote it), and the cache directory's copy is left alone.
// The move is logged, saying where the state went and why.
func migrateState(log *slog.Logger, cacheDir, stateDir string) error {
	if filepath.Clean(cacheDir) == filepath.Clean(stateDir) {
		return nil
	}
	var moved []string
	for _, name := range stateFiles() {
		from, to := filepath.Join(cacheDir, name), filepath.Join(stateDir, name)
		if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("state from an earlier kupdate: %w", err)
		}
		if _, err := os.Lstat(to); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("state directory: %w", err)
		}
		if err := os.MkdirAll(stateDir, 0o755); err != nil {
			return fmt.Errorf("state directory: %w (check nixpkgs.state_dir)", err)
		}
		if err := moveFile(from, to); err != nil {
			return fmt.Errorf("moving %s into the state directory %s: %w; move it by hand, or delete it to start without the last cycle's state", from, stateDir, err)
		}
		moved = append(moved, name)
	}
	if len(moved) > 0 {
		log.Info("moved the state an earlier kupdate kept in the cache directory into the state directory, where clearing caches cannot lose it",
			"files", moved, "from", cacheDir, "to", stateDir)
	}
	return nil
}

// moveFile renames from to to; across file systems (a cache on tmpfs) it
// copies to a temporary file beside to, syncs it, renames it into place
// and only then removes from, so that a crash leaves one whole copy.
func moveFile(from, to string) error {
	err := os.Rename(from, to)
	if !errors.Is(err, syscall.EXDEV) {
		return err
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(to), filepath.Base(to)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), to); err != nil {
		return err
	}
	return os.Remove(from)
}
