package workflow

import (
	"errors"
	"net/http"
	"time"

	"github.com/google/go-github/v92/github"
)

// rateLimit is a GitHub rate limit that stopped a request, in kupdate's
// terms. go-github's own words are not used: besides GitHub's answers it
// reports the requests it holds back itself while a limit an earlier answer
// set is in force (checkRateLimitBeforeDo, checkSecondaryRateLimitBeforeDo),
// with a message of its making that prints a Go time, monotonic clock
// reading included ("… until 2026-12-06 03:29:50.853125593 +0000 UTC
// m=+434.262841037, not making remote request.").
type rateLimit struct {
	secondary bool
	// until is when the limit lifts, in UTC rounded up to the second (a
	// retry at the second shown is not refused); zero when GitHub gave no
	// time (a secondary limit without Retry-After).
	until time.Time
	// sent says GitHub answered; false when go-github held the request back.
	sent    bool
	status  int    // GitHub's answer, when sent
	message string // GitHub's message, when sent
}

// rateLimitOf reads a rate-limit error of go-github's; false for any other
// error. now dates a secondary limit's Retry-After, which is relative.
func rateLimitOf(err error, now time.Time) (rateLimit, bool) {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		return rateLimit{until: ceilSecond(rl.Rate.Reset.Time), sent: answered(rl.Response),
			status: statusOf(rl.Response), message: rl.Message}, true
	case errors.As(err, &ab):
		l := rateLimit{secondary: true, sent: answered(ab.Response), status: statusOf(ab.Response), message: ab.Message}
		if ab.RetryAfter != nil {
			l.until = ceilSecond(now.Add(*ab.RetryAfter))
		}
		return l, true
	}
	return rateLimit{}, false
}

// answered tells GitHub's answer from the 403 go-github makes up when it
// holds a request back: that one has no header at all, where every HTTP
// answer carries some (Date at least, and GitHub's rate-limit headers).
func answered(resp *http.Response) bool { return resp != nil && len(resp.Header) > 0 }

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

func ceilSecond(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	s := t.UTC().Truncate(time.Second) // Truncate also drops the monotonic reading
	if s.Before(t) {
		s = s.Add(time.Second)
	}
	return s
}

// explain fills e: GitHub's answer when it answered, and either way what
// applies until when and what to do. why is the reason kupdate does not
// wait it out ("past the cycle's deadline"); "" when it gave up retrying.
func (l rateLimit) explain(e *APIError, why string) {
	if l.sent {
		e.Status, e.Message = l.status, l.message
	} else {
		e.Status, e.Message = 0, "request not sent: a rate limit GitHub set in an earlier answer is still in force"
	}
	kind := "primary"
	if l.secondary {
		kind = "secondary"
	}
	e.Hint = "GitHub's " + kind + " rate limit applies"
	if l.until.IsZero() {
		e.Hint += " (GitHub gave no end)"
	} else {
		e.Hint += " until " + l.until.Format(time.RFC3339)
	}
	if why != "" {
		e.Hint += ", " + why
	}
	e.Hint += "; the next cycle continues"
}
