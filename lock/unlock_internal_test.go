package lock

import (
	"syscall"
	"testing"
)

// TestUnlockWhileForkedCopyOpen: a process forked while the lock is held
// (git or nix-build, started by any goroutine) holds a copy of its
// descriptor until it execs; a copy made with dup shares the open file the
// same way. Unlock must release the lock all the same.
func TestUnlockWhileForkedCopyOpen(t *testing.T) {
	dir := t.TempDir()
	l, err := TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	copyFD, err := syscall.Dup(int(l.f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(copyFD)
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := TryLock(dir)
	if err != nil {
		t.Fatalf("TryLock after Unlock, a copy of the descriptor still open: %v", err)
	}
	again.Unlock()
}
