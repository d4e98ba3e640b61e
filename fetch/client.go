// Package fetch is how kupdate reads its sources over HTTP (kernel.org,
// GitHub releases, GitLab releases): one retry policy (Retry), conditional
// requests (Validators, Bodies, Store), and one error type (Error) that
// says what went wrong and what the operator can do. What a server says
// beyond HTTP — GitHub's messages and rate-limit headers, GitLab's — is a
// Dialect.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// Client makes GET requests to one server with the retry policy. The zero
// value works (plain HTTP, Go's default client, the default policy). It is
// safe for concurrent use once its fields are set; it must not be copied
// after first use (it counts what it fetched).
type Client struct {
	Server    string       // who answers, in errors and logs: "kernel.org", "GitHub"
	HTTP      *http.Client // nil: http.DefaultClient
	UserAgent string       // "" sends Go's
	Dialect   Dialect      // nil: plain HTTP
	Retry     Retry
	Log       *slog.Logger // retries are logged as warnings; nil: discard

	requests, notModified, retries, bytes atomic.Int64
}

// Request is one GET.
type Request struct {
	URL    string
	Accept string // "" sends none
	// Validators make the request conditional; zero: unconditional. A 304
	// to an unconditional request is an error.
	Validators Validators
	// Limit bounds the body; a larger one is refused, not retried.
	// LimitName is the setting that sets it, named in the error.
	Limit     int64
	LimitName string
	// Timeout bounds the request, all tries and waits included; 0: only
	// the context. TimeoutName is the setting that sets it, named in errors.
	Timeout     time.Duration
	TimeoutName string
	// NotFound is what a 404 means, for the operator ("no repository …:
	// check github.api_url"); "" says nothing.
	NotFound string
	// Consume reads a 200's body, as much as it needs. A retry calls it
	// again with the next answer's body, so it must start afresh. An error
	// it returns is not retried, unless reading the body failed. nil reads
	// the body and drops it.
	Consume func(io.Reader) error
}

// Result is what a successful Get got.
type Result struct {
	NotModified bool       // a 304: Consume was not called
	Validators  Validators // of the body consumed; zero after a 304
}

// Stats counts what a Client fetched.
type Stats struct {
	Requests    int64 // HTTP requests sent, retries included
	NotModified int64 // requests answered 304 Not Modified
	Retries     int64 // tries that were repeated after a failure
	Bytes       int64 // response body bytes read (after any transparent gzip decoding)
}

// Stats returns what the Client fetched so far.
func (c *Client) Stats() Stats {
	return Stats{c.requests.Load(), c.notModified.Load(), c.retries.Load(), c.bytes.Load()}
}

// Get GETs r.URL, retrying what waiting may fix (see Retry), and hands a
// 200's body to r.Consume. Every error is an *Error naming the URL; a
// cancelled or expired ctx is the error's cause.
func (c *Client) Get(ctx context.Context, r Request) (Result, error) {
	b := bounds{maxWait: c.Retry.maxWait(), parent: ctx, own: ctx, timeout: r.Timeout, timeoutName: r.TimeoutName}
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
		b.own = ctx
	}
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		res, f := c.try(ctx, r)
		if f == nil {
			return res, nil
		}
		if err := c.ended(b, r, attempt, f.err); err != nil {
			return Result{}, err
		}
		switch {
		case !f.retry:
			return Result{}, f.err
		case attempt >= c.Retry.attempts():
			f.err.Tries = attempt
			return Result{}, f.err
		}
		now := time.Now()
		d, asked := c.Retry.wait(attempt, f.verdict, now)
		if why := b.refuse(waited, d, now); why != "" {
			return Result{}, f.refused(attempt, d, asked, why)
		}
		// The cause alone: the hint says what happens when kupdate stops.
		c.log().Warn(c.Server+" request failed, retrying", "url", r.URL, "attempt", attempt, "wait", d, "error", f.err.cause())
		if err := c.Retry.sleep(ctx, d); err != nil {
			if e := c.ended(b, r, attempt, f.err); e != nil {
				return Result{}, e
			}
			return Result{}, c.fail(r, err.Error(), err)
		}
		waited += d
		c.retries.Add(1)
	}
}

// ended is the error when the caller's context or the request's Timeout
// ended the request; nil while both go on.
func (c *Client) ended(b bounds, r Request, attempt int, last *Error) *Error {
	if err := b.parent.Err(); err != nil {
		return c.fail(r, err.Error(), err)
	}
	if b.own.Err() != nil {
		msg := fmt.Sprintf("no complete answer within %s after %s: %s", setting(b.timeout, b.timeoutName), tries(attempt), last.cause())
		return c.fail(r, msg, last)
	}
	return nil
}

// failure is one failed try.
type failure struct {
	err     *Error
	retry   bool // waiting may help
	verdict Verdict
}

// refused is the error when the wait of d after the attempt-th try is not
// made, and why. A rate limit's hint already says until when.
func (f *failure) refused(attempt int, d time.Duration, asked bool, why string) *Error {
	e := f.err
	if attempt > 1 {
		e.Tries = attempt
	}
	if !f.verdict.Until.IsZero() {
		return e
	}
	who := "the next try would wait"
	if asked {
		who = f.verdict.Server + " asks to wait"
	}
	e.Hint = fmt.Sprintf("%s %s, %s; the next cycle tries again", who, d.Round(time.Second), why)
	return e
}

func (c *Client) fail(r Request, msg string, err error) *Error {
	return &Error{Method: http.MethodGet, URL: r.URL, Server: c.server(), Message: msg, Err: err}
}

func (c *Client) server() string {
	if c.Server == "" {
		return "the server"
	}
	return c.Server
}

func (c *Client) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return http.DefaultClient
	}
	return c.HTTP
}

// errTooLarge marks a body over its limit.
var errTooLarge = errors.New("response body over the size limit")
