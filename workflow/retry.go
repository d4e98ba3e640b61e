package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-github/v92/github"
)

// APIError is a GitHub answer kupdate could not act on, explained: what it
// was doing, GitHub's own message, and what to do about it.
type APIError struct {
	Op      string // what kupdate was doing: "open PR kupdate/staging-nixos/updates -> staging-nixos"
	Status  int    // HTTP status; 0 when GitHub was not reached
	Message string // GitHub's message, with its validation errors
	Hint    string // what to do
	Err     error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "GitHub answered %d %s", e.Status, http.StatusText(e.Status))
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
	} else {
		b.WriteString(e.Message)
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// explain turns an error from go-github into an *APIError. hint422 is what
// to do when GitHub rejects the request as invalid, which depends on what
// was asked.
func (w *Workflow) explain(op string, err error, hint422 string) error {
	if err == nil {
		return nil
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return err
	}
	e := &APIError{Op: op, Err: err}
	var we *waitError
	waited := errors.As(err, &we)
	var er *github.ErrorResponse
	var au *authError
	limit, limited := rateLimitOf(err, w.clock())
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.Message = err.Error()
		e.Hint = "the cycle was cancelled or ran out of time; the next cycle continues"
	case errors.As(err, &au):
		e.Message = au.Error()
	case limited:
		why := ""
		if waited {
			why = we.why
		}
		limit.explain(e, why)
		return e
	case errors.As(err, &er) && er.Response != nil:
		e.Status = er.Response.StatusCode
		e.Message = githubMessage(er)
		switch s := e.Status; {
		case s == http.StatusUnauthorized:
			e.Hint = w.authHint
		case s == http.StatusForbidden:
			e.Hint = fmt.Sprintf("the credentials lack permission for this: kupdate needs write access to pull requests, issues and commit statuses (checks for an App) on %s/%s", w.owner, w.repo)
		case s == http.StatusNotFound:
			e.Hint = fmt.Sprintf("check github.owner, github.repo and github.fork_owner, and that the credentials can see %s/%s", w.owner, w.repo)
		case s == http.StatusConflict:
			e.Hint = "the branch moved while kupdate worked; the next cycle tries again"
		case s == http.StatusUnprocessableEntity:
			e.Hint = hint422
			if e.Hint == "" {
				e.Hint = "GitHub rejected the request as invalid; fix what its message names, then run kupdate again"
			}
		case s >= 500:
			e.Hint = "GitHub is failing; kupdate retried, and the next cycle tries again"
		}
	default:
		e.Message = err.Error()
		e.Hint = "GitHub could not be reached; kupdate retried, and the next cycle tries again"
	}
	if waited {
		// A backoff of kupdate's own (after a 5xx): GitHub asked for nothing.
		e.Hint = fmt.Sprintf("the next try would wait %s, %s; the next cycle continues", we.wait.Round(time.Second), we.why)
	}
	return e
}

// githubMessage is GitHub's message with the details of its validation
// errors ("Validation Failed: A pull request already exists for o:b.").
func githubMessage(er *github.ErrorResponse) string {
	msg := er.Message
	for _, e := range er.Errors {
		detail := e.Message
		if detail == "" {
			detail = strings.TrimSpace(fmt.Sprintf("%s %s %s", e.Resource, e.Field, e.Code))
		}
		if detail != "" {
			msg += ": " + detail
		}
	}
	return strings.ReplaceAll(msg, "\n\n", ": ")
}

// retryable reports whether err may go away by waiting: a rate limit, a 5xx,
// or a network failure.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var au *authError
	if errors.As(err, &au) {
		return false
	}
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	var er *github.ErrorResponse
	var ne net.Error
	switch {
	case errors.As(err, &rl), errors.As(err, &ab):
		return true
	case errors.As(err, &er):
		return er.Response != nil && er.Response.StatusCode >= 500
	case errors.As(err, &ne):
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// pause waits before another attempt: until a rate limit resets (as GitHub
// said, bounded by MaxWait), or an exponential backoff after a 5xx. The
// context wins over any wait.
func (w *Workflow) pause(ctx context.Context, err error, attempt int) error {
	var d time.Duration
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		d = time.Until(rl.Rate.Reset.Time) + time.Second
	case errors.As(err, &ab):
		// A little past Retry-After: go-github itself refuses requests until
		// then, counting from when it read the answer.
		d = ab.GetRetryAfter() + 250*time.Millisecond
		if ab.RetryAfter == nil {
			d = time.Minute // GitHub's advice when it gives no Retry-After
		}
	default:
		d = w.backoff << (attempt - 1)
		d = min(d, time.Minute)
	}
	if d <= 0 {
		d = 0
	}
	if d > w.maxWait {
		return &waitError{wait: d, why: fmt.Sprintf("longer than kupdate waits within a cycle (%s)", w.maxWait), err: err}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return &waitError{wait: d, why: "past the cycle's deadline", err: err}
	}
	w.log.Info("github: waiting before retrying", "wait", d.Round(time.Millisecond), "attempt", attempt, "reason", shortReason(err))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitError is a wait, for a rate limit or a backoff, that kupdate does not
// make.
type waitError struct {
	wait time.Duration
	why  string
	err  error
}

func (e *waitError) Error() string {
	return fmt.Sprintf("the next try would wait %s, %s: %v", e.wait.Round(time.Second), e.why, e.err)
}
func (e *waitError) Unwrap() error { return e.err }

func shortReason(err error) string {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &rl):
		return "primary rate limit"
	case errors.As(err, &ab):
		return "secondary rate limit"
	case errors.As(err, &er) && er.Response != nil:
		return er.Response.Status
	}
	return "network error"
}

// read runs a read, retrying what waiting can fix. Reads are safe to repeat.
func (w *Workflow) read(ctx context.Context, op string, call func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil {
			return nil
		}
		if !retryable(err) || attempt >= w.attempts {
			return w.explain(op, err, "")
		}
		if perr := w.pause(ctx, err, attempt); perr != nil {
			return w.explain(op, perr, "")
		}
	}
}

// write runs a write once, or in a dry run only records it. A failed write
// is never retried here: its effect may have landed anyway (a 502 after
// GitHub committed it), so the caller re-reads before trying again (see
// converge), and nothing is done twice.
func (w *Workflow) write(ctx context.Context, acts *[]string, op, hint422 string, call func(context.Context) error) error {
	*acts = append(*acts, op)
	if w.dryRun {
		w.log.Info("github: dry run, not writing", "action", op)
		return nil
	}
	w.log.Info("github: writing", "action", op)
	if err := call(ctx); err != nil {
		return &writeError{err: w.explain(op, err, hint422), cause: err}
	}
	return nil
}

// writeError marks a failed write, so converge knows the state must be
// re-read before another attempt.
type writeError struct {
	err   error
	cause error
}

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// converge runs step, which reads the state and writes what differs, until
// it succeeds: after a retryable failure it waits and runs the whole step
// again, so every retry starts by re-reading what the failed attempt may
// have changed.
func (w *Workflow) converge(ctx context.Context, step func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := step(ctx)
		if err == nil {
			return nil
		}
		// Reads retry by themselves; only a failed write sends the whole
		// step round again.
		var we *writeError
		if !errors.As(err, &we) || !retryable(we.cause) || attempt >= w.attempts {
			return err
		}
		if perr := w.pause(ctx, we.cause, attempt); perr != nil {
			op := "write"
			var ae *APIError
			if errors.As(we.err, &ae) {
				op = ae.Op
			}
			return w.explain(op, perr, "")
		}
	}
}
