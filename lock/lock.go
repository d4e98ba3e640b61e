// Package lock keeps two kupdate cycles from running at once, across
// processes: the service's scheduled cycle, a webhook-triggered promotion and a
// maintainer's `kupdate run` all take the same file lock in the state
// directory (config.StateDir) before they touch the managed clone or GitHub.
// Not in the cache directory: a cache cleared while a cycle runs must not
// let a second cycle in.
//
// The lock is flock(2) on <stateDir>/kupdate.lock. The kernel releases it when
// the holder's file descriptor closes, so a crashed or killed kupdate never
// leaves a stale lock behind, and there is nothing to clean up by hand. The
// holder writes its pid, the time it took the lock and its command line into
// the file, so the one that fails can say who is in the way.
package lock

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FileName is the lock file's name inside the state directory.
const FileName = "kupdate.lock"

// pollInterval is how often Lock retries. flock(2) cannot wait and honour a
// context at once, and a cycle takes minutes, so a short poll is cheap.
const pollInterval = 250 * time.Millisecond

// ErrHeld is what errors.Is reports for a *HeldError: another process (or
// another File in this process) holds the lock.
var ErrHeld = errors.New("kupdate lock is held")

// Path is the lock file for the state directory dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Holder is what the holder of the lock wrote about itself.
type Holder struct {
	PID     int
	Since   time.Time // when it took the lock
	Command string    // its command line
}

// HeldError says the lock is taken and by whom.
type HeldError struct {
	Path   string
	Holder Holder // zero when the holder had not written itself yet
}

func (e *HeldError) Error() string {
	if e.Holder.PID == 0 {
		return fmt.Sprintf("another kupdate holds the lock %s (it has not written its pid yet); try again in a moment", e.Path)
	}
	return fmt.Sprintf("another kupdate is running: pid %d (%s) has held the lock %s since %s; wait for it to finish, or stop that process",
		e.Holder.PID, e.Holder.Command, e.Path, e.Holder.Since.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// File is a held lock. Unlock releases it.
type File struct {
	f    *os.File
	path string
}

// Path is the lock file's path.
func (l *File) Path() string { return l.path }

// Unlock releases the lock. The file stays (removing it would let a waiter
// lock an unlinked inode while a newcomer locks a fresh file); its content is
// cleared so nobody reads a departed holder's pid.
func (l *File) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	terr := l.f.Truncate(0)
	// Unlock before closing: a process forked meanwhile (by any goroutine:
	// git, nix-build) holds a copy of the descriptor until it execs, and the
	// flock belongs to the open file they share, so closing ours alone
	// would keep the lock held until then.
	uerr := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	cerr := l.f.Close()
	l.f = nil
	if err := cmp.Or(uerr, cerr); err != nil {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	if terr != nil {
		return fmt.Errorf("clear lock %s: %w", l.path, terr)
	}
	return nil
}

// TryLock takes the lock in the state directory dir (creating dir if needed)
// or fails at once with a *HeldError naming the holder.
func TryLock(dir string) (*File, error) {
	return tryLock(dir, time.Now())
}

// Lock waits until it holds the lock in dir or ctx is done. The error on ctx
// done wraps both ctx's error and the *HeldError of the last attempt.
func Lock(ctx context.Context, dir string) (*File, error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	return lockRetrying(ctx, dir, t.C)
}

// lockRetrying is Lock with its retries driven by retry: it tries once, then
// again each time retry delivers. A test that drives retry knows that a
// retry it delivered followed an attempt that found the lock held.
func lockRetrying(ctx context.Context, dir string, retry <-chan time.Time) (*File, error) {
	for {
		l, err := tryLock(dir, time.Now())
		if err == nil || !errors.Is(err, ErrHeld) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock: %w: %w", ctx.Err(), err)
		case <-retry:
		}
	}
}

func tryLock(dir string, now time.Time) (*File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock: create the state directory: %w (check nixpkgs.state_dir)", err)
	}
	path := Path(dir)
	// os.OpenFile sets O_CLOEXEC: the nix-build and git processes a cycle
	// starts must not inherit the descriptor, or they would keep the lock
	// after kupdate itself died.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: open %s: %w", path, err)
	}
	if err := flock(f); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Path: path, Holder: readHolder(f)}
		}
		return nil, fmt.Errorf("lock: flock %s: %w", path, err)
	}
	if err := writeHolder(f, now); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock: write holder to %s: %w", path, err)
	}
	return &File{f: f, path: path}, nil
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

func writeHolder(f *os.File, now time.Time) error {
	cmd := strings.Join(os.Args, " ")
	cmd = strings.NewReplacer("\n", " ", "\r", " ").Replace(cmd)
	content := fmt.Sprintf("pid: %d\nsince: %s\ncommand: %s\n", os.Getpid(), now.UTC().Format(time.RFC3339), cmd)
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(content), 0)
	return err
}

// readHolder parses what writeHolder wrote. A holder that has locked but not
// yet written (or an unreadable file) gives the zero Holder.
func readHolder(f *os.File) Holder {
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	var h Holder
	sc := bufio.NewScanner(bytes.NewReader(buf[:n]))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "since":
			h.Since, _ = time.Parse(time.RFC3339, v)
		case "command":
			h.Command = v
		}
	}
	return h
}
