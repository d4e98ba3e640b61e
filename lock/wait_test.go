package lock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLockWaitsForRelease: Lock keeps trying while another holds the lock and
// takes it once that one lets go. The test drives Lock's retries itself, and
// Lock receives a retry only after an attempt found the lock held; so a Lock
// that took a held lock, or gave up at once, fails here instead of passing
// because the waiter happened to start after the release.
func TestLockWaitsForRelease(t *testing.T) {
	dir := t.TempDir()
	holder, err := TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		l   *File
		err error
	}
	retry := make(chan time.Time) // unbuffered: a send completes only while Lock waits
	done := make(chan result, 1)
	go func() {
		l, err := lockRetrying(context.Background(), dir, retry)
		done <- result{l, err}
	}()
	for attempt := 1; attempt <= 2; attempt++ {
		select {
		case retry <- time.Time{}:
		case r := <-done:
			t.Fatalf("Lock returned while another held the lock (after %d failed attempts): %v, %v; want it to wait", attempt-1, r.l, r.err)
		}
	}

	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	var r result
	for waiting := true; waiting; {
		select {
		case retry <- time.Time{}:
		case r = <-done:
			waiting = false
		}
	}
	if r.err != nil {
		t.Fatalf("Lock after the release: %v", r.err)
	}
	defer r.l.Unlock()
	if _, err := TryLock(dir); !errors.Is(err, ErrHeld) {
		t.Errorf("TryLock once Lock returned: %v, want ErrHeld (the waiter holds the lock)", err)
	}
}
