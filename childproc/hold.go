package childproc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// LockName is the lock file of a directory kupdate exports a tree into
// for Nix. Every child started there inherits a descriptor of it with a
// shared flock, and so does whatever that child starts and lets keep it:
// the lock is held exactly as long as one of them lives, even after
// kupdate was killed. A run that finds the lock held must not write there
// (see InUse); it needs no pid file, which a reused pid would fool.
const LockName = ".kupdate-lock"

// Track gives dir its lock file, so the children started there hold it.
func Track(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// Hold is dir's lock file, opened and share-locked for a child started in
// dir to inherit; nil when dir has none (a maintainer's checkout, a git
// repository: nothing kupdate rewrites under a running child).
func Hold(dir string) (*os.File, error) {
	if dir == "" {
		return nil, nil
	}
	f, err := os.Open(filepath.Join(dir, LockName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Only InUse, in this process and never at the same time, takes the
	// lock exclusively, so this does not wait.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s for a child: %w", f.Name(), err)
	}
	return f, nil
}

// InUse reports whether a process started in dir still holds its lock: a
// child of this run, or of an earlier one that died without it.
func InUse(dir string) (bool, error) {
	f, err := os.Open(filepath.Join(dir, LockName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close() // releases the lock taken below
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("checking %s: %w", f.Name(), err)
	}
	return false, nil
}
