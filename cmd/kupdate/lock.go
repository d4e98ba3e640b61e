package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/kupdate/kupdate/lock"
)

// takeLock takes the state-directory lock for a command that touches the
// managed clone, the caches or GitHub, so that only one kupdate does at a
// time (`run`, `promote`, the service). With wait it waits for the holder;
// without, it fails at once (exit 1), naming the holder and the flag that
// would wait.
func takeLock(ctx context.Context, stateDir string, wait bool) (*lock.File, error) {
	if wait {
		return lock.Lock(ctx, stateDir)
	}
	l, err := lock.TryLock(stateDir)
	if errors.Is(err, lock.ErrHeld) {
		return nil, fmt.Errorf("%w (pass --wait to wait for it)", err)
	}
	return l, err
}

// waitUsage is the --wait flag's help, the same for every command that locks.
const waitUsage = "wait for another kupdate holding the lock, instead of failing at once"
