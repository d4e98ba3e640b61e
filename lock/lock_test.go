package lock_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kupdate/kupdate/lock"
)

func TestTryLockInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache", "kupdate") // created on demand
	a, err := lock.TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Path(), filepath.Join(dir, "kupdate.lock"); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}

	// A second open file description conflicts with the first even in the
	// same process: the service relies on that as its last line of defence.
	_, err = lock.TryLock(dir)
	var he *lock.HeldError
	if !errors.As(err, &he) || !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("second TryLock: got %v, want a *HeldError", err)
	}
	if he.Holder.PID != os.Getpid() || he.Holder.Command != strings.Join(os.Args, " ") || he.Holder.Since.IsZero() {
		t.Errorf("holder = %+v, want pid %d, command %q and a time", he.Holder, os.Getpid(), strings.Join(os.Args, " "))
	}
	want := fmt.Sprintf("another kupdate is running: pid %d (%s) has held the lock %s since %s; wait for it to finish, or stop that process",
		os.Getpid(), strings.Join(os.Args, " "), a.Path(), he.Holder.Since.Format(time.RFC3339))
	if err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}

	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := a.Unlock(); err != nil { // idempotent
		t.Fatalf("second Unlock: %v", err)
	}
	if b, _ := os.ReadFile(a.Path()); len(b) != 0 {
		t.Errorf("lock file after Unlock = %q, want it empty", b)
	}
	c, err := lock.TryLock(dir)
	if err != nil {
		t.Fatalf("TryLock after Unlock: %v", err)
	}
	c.Unlock()
}

func TestHeldErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *lock.HeldError
		want string
	}{
		{
			&lock.HeldError{Path: "/c/kupdate.lock", Holder: lock.Holder{PID: 4242, Command: "kupdate run", Since: time.Date(2026, 11, 2, 10, 17, 3, 0, time.FixedZone("CET", 3600))}},
			"another kupdate is running: pid 4242 (kupdate run) has held the lock /c/kupdate.lock since 2026-11-02T09:17:03Z; wait for it to finish, or stop that process",
		},
		{
			&lock.HeldError{Path: "/c/kupdate.lock"},
			"another kupdate holds the lock /c/kupdate.lock (it has not written its pid yet); try again in a moment",
		},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// lockInBackground waits for the lock of dir, releases it at once and
// sends what went wrong: the test then lets the holder go.
func lockInBackground(dir string) <-chan error {
	got := make(chan error, 1)
	go func() {
		l, err := lock.Lock(context.Background(), dir)
		if err == nil {
			err = l.Unlock()
		}
		got <- err
	}()
	return got
}

func TestLockContextDone(t *testing.T) {
	dir := t.TempDir()
	a, err := lock.TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l, err := lock.Lock(ctx, dir)
	if l != nil || !errors.Is(err, context.Canceled) || !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("Lock with a done context: %v, %v; want nil and an error that is both context.Canceled and ErrHeld", l, err)
	}
	if !strings.HasPrefix(err.Error(), "waiting for the lock: context canceled: another kupdate is running: pid ") {
		t.Errorf("error = %q", err)
	}
}

func TestBadStateDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	_, err := lock.TryLock(file)
	if want := "lock: create the state directory: mkdir " + file + ": not a directory (check nixpkgs.state_dir)"; err == nil || err.Error() != want || errors.Is(err, lock.ErrHeld) {
		t.Fatalf("TryLock in a file: %v, want %q", err, want)
	}
}

// TestHelperProcess is the other process of the tests below: it takes the
// lock, says so on stdout and holds it until stdin closes.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("KUPDATE_LOCK_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for the two-process tests")
	}
	l, err := lock.TryLock(dir)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	if os.Getenv("KUPDATE_LOCK_HELPER_SPAWN") != "" {
		// A child like the nix-build a cycle starts: it must not inherit the lock.
		c := exec.Command("sleep", "600")
		if err := c.Start(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("child", c.Process.Pid)
	}
	io.Copy(io.Discard, os.Stdin)
	l.Unlock()
	os.Exit(0)
}

type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startHelper(t *testing.T, dir string, spawn bool) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "KUPDATE_LOCK_HELPER_DIR="+dir)
	if spawn {
		cmd.Env = append(cmd.Env, "KUPDATE_LOCK_HELPER_SPAWN=1")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line := h.line(t); line != "locked" {
		t.Fatalf("helper said %q, want \"locked\"", line)
	}
	return h
}

func (h *helper) line(t *testing.T) string {
	t.Helper()
	if !h.out.Scan() {
		t.Fatalf("helper exited early: %v", h.out.Err())
	}
	return h.out.Text()
}

func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	h := startHelper(t, dir, false)

	_, err := lock.TryLock(dir)
	var he *lock.HeldError
	if !errors.As(err, &he) {
		t.Fatalf("TryLock while another process holds the lock: %v, want a *HeldError", err)
	}
	if he.Holder.PID != h.cmd.Process.Pid || !strings.HasSuffix(he.Holder.Command, " -test.run=^TestHelperProcess$") || he.Holder.Since.IsZero() || he.Path != lock.Path(dir) {
		t.Errorf("HeldError = %+v, want the helper's pid %d, its command line, a time and path %s", he, h.cmd.Process.Pid, lock.Path(dir))
	}
	if !strings.Contains(err.Error(), "pid "+strconv.Itoa(h.cmd.Process.Pid)+" ") {
		t.Errorf("error %q does not name the helper's pid", err)
	}

	got := lockInBackground(dir)
	h.stdin.Close() // the helper unlocks and exits
	if err := <-got; err != nil {
		t.Fatalf("Lock after the other process released it: %v", err)
	}
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
}

// A killed holder's lock goes with it, even while a process it started (a
// nix-build, say) lives on: no stale lock, nothing to clean up by hand.
func TestKilledHolderReleases(t *testing.T) {
	dir := t.TempDir()
	h := startHelper(t, dir, true)
	var child int
	if _, err := fmt.Sscanf(h.line(t), "child %d", &child); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(child, syscall.SIGKILL)

	if _, err := lock.TryLock(dir); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("TryLock while the helper holds it: %v, want ErrHeld", err)
	}
	h.cmd.Process.Kill()
	h.cmd.Wait()
	if err := syscall.Kill(child, 0); err != nil {
		t.Fatalf("the helper's child should still run: %v", err)
	}
	l, err := lock.TryLock(dir)
	if err != nil {
		t.Fatalf("TryLock after the holder was killed: %v", err)
	}
	l.Unlock()
}
