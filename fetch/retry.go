package fetch

import (
	"context"
	"fmt"
	"time"
)

// Defaults of Retry: four tries, waiting 2 s, then 4 s, then 8 s, and at
// most two minutes of waiting for one request. A rate limit that lifts
// later is not waited out: the next cycle tries again.
const (
	DefaultAttempts = 4
	DefaultBackoff  = 2 * time.Second
	DefaultMaxWait  = 2 * time.Minute
)

// Retry is the one retry policy of every source. Which failures are
// retried is fixed: a network failure, a body cut short, 408, 425, 429,
// 5xx and a rate limit (as the Dialect reads it). Another try waits the
// backoff, doubling from Backoff, or longer when the server asks
// (Retry-After, a rate limit's reset). A wait that would make the waits of
// one request exceed MaxWait, or end past the context's deadline or the
// request's Timeout, is not made: the error says so and the next cycle
// tries again.
type Retry struct {
	Attempts int           // tries of one request; 0 = DefaultAttempts
	Backoff  time.Duration // wait before the second try, doubling after; 0 = DefaultBackoff
	MaxWait  time.Duration // the waits of one request, all together; 0 = DefaultMaxWait
	// Sleep waits d or until ctx is done, returning ctx.Err() then; nil: a
	// timer. Tests record the waits instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (r Retry) attempts() int {
	if r.Attempts <= 0 {
		return DefaultAttempts
	}
	return r.Attempts
}

func (r Retry) maxWait() time.Duration {
	if r.MaxWait <= 0 {
		return DefaultMaxWait
	}
	return r.MaxWait
}

// backoff is the wait after the attempt-th try: Backoff doubled per try,
// kept from overflowing.
func (r Retry) backoff(attempt int) time.Duration {
	d := r.Backoff
	if d <= 0 {
		d = DefaultBackoff
	}
	for i := 1; i < attempt && d < r.maxWait(); i++ {
		d *= 2
	}
	return d
}

// wait is how long to wait after the attempt-th try failed with v, and
// whether the server asked for that long (rather than the backoff).
func (r Retry) wait(attempt int, v Verdict, now time.Time) (d time.Duration, asked bool) {
	if !v.Until.IsZero() {
		return max(v.Until.Sub(now)+time.Second, v.Wait, 0), true
	}
	b := r.backoff(attempt)
	if v.Wait > b {
		return v.Wait, true
	}
	return b, false
}

func (r Retry) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bounds are the limits on one request's waiting: the policy's MaxWait,
// the caller's deadline, the request's own Timeout.
type bounds struct {
	maxWait     time.Duration
	parent, own context.Context // own carries the request's Timeout, if any
	timeout     time.Duration
	timeoutName string
}

// refuse says why a wait of d, after waited, is not made, or "".
func (b bounds) refuse(waited, d time.Duration, now time.Time) string {
	if waited+d > b.maxWait {
		return fmt.Sprintf("longer than kupdate waits for one request (%s)", b.maxWait)
	}
	if before(b.parent, now.Add(d)) {
		return "past the cycle's deadline"
	}
	if before(b.own, now.Add(d)) {
		return "past kupdate's bound on one request, " + setting(b.timeout, b.timeoutName)
	}
	return ""
}

// before says ctx's deadline comes before t.
func before(ctx context.Context, t time.Time) bool {
	dl, ok := ctx.Deadline()
	return ok && dl.Before(t)
}

// setting is "5m0s (kernelorg.timeout)", or "5m0s" for an unnamed one.
func setting(d time.Duration, name string) string {
	if name == "" {
		return d.String()
	}
	return fmt.Sprintf("%s (%s)", d, name)
}
