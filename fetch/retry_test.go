package fetch_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/fetch"
)

var ok = answer{body: "the body"}

// The one retry policy: what is retried, how long each wait is, and what
// the error says when kupdate stops.
func TestRetryPolicy(t *testing.T) {
	for _, c := range []struct {
		name    string
		answers []answer
		edit    func(*fetch.Client, *fetch.Request)
		waits   []time.Duration
		reqs    int
		want    string // the error, or the body; {url} is the request's
	}{{
		name:    "502 twice, then OK: doubling backoff",
		answers: []answer{{status: 502}, {status: 502}, ok},
		waits:   []time.Duration{2 * time.Second, 4 * time.Second},
		reqs:    3,
		want:    "the body",
	}, {
		name:    "408, 425, 429, 500: all retried",
		answers: []answer{{status: 408}, {status: 425}, {status: 429}, {status: 500}, ok},
		edit:    func(c *fetch.Client, _ *fetch.Request) { c.Retry.Attempts, c.Retry.MaxWait = 5, time.Hour },
		waits:   []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second},
		reqs:    5,
		want:    "the body",
	}, {
		name:    "Retry-After longer than the backoff wins",
		answers: []answer{{status: 429, header: map[string]string{"Retry-After": "7"}}, ok},
		waits:   []time.Duration{7 * time.Second},
		reqs:    2,
		want:    "the body",
	}, {
		name:    "Retry-After shorter than the backoff: the backoff",
		answers: []answer{{status: 503, header: map[string]string{"Retry-After": "1"}}, ok},
		waits:   []time.Duration{2 * time.Second},
		reqs:    2,
		want:    "the body",
	}, {
		name:    "a network failure",
		answers: []answer{{hangup: true}, ok},
		waits:   []time.Duration{2 * time.Second},
		reqs:    2,
		want:    "the body",
	}, {
		name:    "a body cut short",
		answers: []answer{{body: "the bo", cut: 2}, ok},
		waits:   []time.Duration{2 * time.Second},
		reqs:    2,
		want:    "the body",
	}, {
		name:    "persistent 503",
		answers: []answer{{status: 503}},
		waits:   []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second},
		reqs:    4,
		want:    "GET {url}: example.org answered 503 Service Unavailable (gave up after 4 tries; example.org is failing, the next cycle tries again)",
	}, {
		name:    "persistent 429",
		answers: []answer{{status: 429}},
		edit:    func(c *fetch.Client, _ *fetch.Request) { c.Retry.Attempts = 2 },
		waits:   []time.Duration{2 * time.Second},
		reqs:    2,
		want:    "GET {url}: example.org answered 429 Too Many Requests (gave up after 2 tries; rate limited by example.org, the next cycle tries again)",
	}, {
		name:    "one attempt",
		answers: []answer{{status: 502}},
		edit:    func(c *fetch.Client, _ *fetch.Request) { c.Retry.Attempts = 1 },
		reqs:    1,
		want:    "GET {url}: example.org answered 502 Bad Gateway (gave up after 1 try; example.org is failing, the next cycle tries again)",
	}, {
		name:    "persistently cut short",
		answers: []answer{{body: "the bo", cut: 2}},
		edit:    func(c *fetch.Client, _ *fetch.Request) { c.Retry.Attempts = 2 },
		waits:   []time.Duration{2 * time.Second},
		reqs:    2,
		want:    "GET {url}: reading the body after 6 bytes: unexpected EOF (gave up after 2 tries; the answer was cut short, the next cycle tries again)",
	}, {
		name:    "403 is not retried",
		answers: []answer{{status: 403}},
		reqs:    1,
		want:    "GET {url}: example.org answered 403 Forbidden",
	}, {
		name:    "404 says what the request says it means",
		answers: []answer{{status: 404}},
		edit:    func(_ *fetch.Client, r *fetch.Request) { r.NotFound = "no such thing: check example.url" },
		reqs:    1,
		want:    "GET {url}: example.org answered 404 Not Found (no such thing: check example.url)",
	}, {
		name:    "a status Go has no name for",
		answers: []answer{{status: 599}},
		edit:    func(c *fetch.Client, _ *fetch.Request) { c.Retry.Attempts = 1 },
		reqs:    1,
		want:    "GET {url}: example.org answered 599 (gave up after 1 try; example.org is failing, the next cycle tries again)",
	}, {
		name:    "a wait longer than MaxWait is not made",
		answers: []answer{{status: 503, header: map[string]string{"Retry-After": "600"}}},
		reqs:    1,
		want:    "GET {url}: example.org answered 503 Service Unavailable (example.org asks to wait 10m0s, longer than kupdate waits for one request (2m0s); the next cycle tries again)",
	}, {
		name:    "waits adding up to more than MaxWait",
		answers: []answer{{status: 500}},
		edit:    func(c *fetch.Client, _ *fetch.Request) { c.Retry.MaxWait = 5 * time.Second },
		waits:   []time.Duration{2 * time.Second},
		reqs:    2,
		want:    "GET {url}: example.org answered 500 Internal Server Error (gave up after 2 tries; the next try would wait 4s, longer than kupdate waits for one request (5s); the next cycle tries again)",
	}, {
		name:    "a wait past the request's timeout is not made",
		answers: []answer{{status: 502}},
		edit: func(c *fetch.Client, r *fetch.Request) {
			c.Retry.Backoff, c.Retry.MaxWait = time.Hour, 3*time.Hour
			r.Timeout, r.TimeoutName = time.Minute, "example.timeout"
		},
		reqs: 1,
		want: "GET {url}: example.org answered 502 Bad Gateway (the next try would wait 1h0m0s, past kupdate's bound on one request, 1m0s (example.timeout); the next cycle tries again)",
	}, {
		name:    "a 304 to an unconditional request",
		answers: []answer{{status: 304}},
		reqs:    1,
		want:    "GET {url}: example.org answered 304 Not Modified: to a request that was not conditional",
	}, {
		name:    "a body over the limit is refused, not retried",
		answers: []answer{{body: strings.Repeat("x", 11)}},
		edit:    func(_ *fetch.Client, r *fetch.Request) { r.Limit, r.LimitName = 10, "example.max_bytes" },
		reqs:    1,
		want:    "GET {url}: larger than 10 bytes (example.max_bytes): refusing it",
	}, {
		name:    "a body at the limit is fine",
		answers: []answer{{body: strings.Repeat("x", 10)}},
		edit:    func(_ *fetch.Client, r *fetch.Request) { r.Limit = 10 },
		reqs:    1,
		want:    strings.Repeat("x", 10),
	}} {
		t.Run(c.name, func(t *testing.T) {
			srv := serve(t, c.answers...)
			rec := &sleeps{}
			cl := client("example.org", rec)
			r := fetch.Request{URL: srv.URL + "/file"}
			if c.edit != nil {
				c.edit(cl, &r)
			}
			body, err := get(context.Background(), cl, r)
			got := body
			if err != nil {
				got = err.Error()
			}
			if want := fill(c.want, r.URL); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if d := cmp.Diff(c.waits, rec.waits()); d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
			if n := srv.requests(); n != c.reqs {
				t.Errorf("%d requests, want %d", n, c.reqs)
			}
			if s := cl.Stats(); s.Requests != int64(c.reqs) || s.Retries != int64(len(c.waits)) {
				t.Errorf("stats %+v, want %d requests, %d retries", s, c.reqs, len(c.waits))
			}
		})
	}
}

// A consumer's error on a whole body is not retried, and errors.Is sees
// it.
func TestConsumeError(t *testing.T) {
	srv := serve(t, ok)
	bad := errors.New("not a gzip stream")
	_, err := client("example.org", &sleeps{}).Get(context.Background(), fetch.Request{URL: srv.URL, Consume: func(io.Reader) error { return bad }})
	if want := "GET " + srv.URL + ": not a gzip stream"; errText(err) != want || !errors.Is(err, bad) {
		t.Errorf("err = %v, want %s wrapping the consumer's error", err, want)
	}
	if n := srv.requests(); n != 1 {
		t.Errorf("%d requests", n)
	}
}

// The context wins over any wait: cancelled during a wait, or with a
// deadline nearer than the next wait.
func TestContextWins(t *testing.T) {
	srv := serve(t, answer{status: 502})
	ctx, cancel := context.WithCancel(context.Background())
	c := &fetch.Client{Server: "example.org", Retry: fetch.Retry{Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled }}}
	_, err := get(ctx, c, fetch.Request{URL: srv.URL})
	if want := "GET " + srv.URL + ": context canceled"; errText(err) != want || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want %s", err, want)
	}

	rec := &sleeps{}
	c = client("example.org", rec)
	c.Retry.Backoff, c.Retry.MaxWait = 2*time.Hour, 3*time.Hour
	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	_, err = get(ctx, c, fetch.Request{URL: srv.URL})
	if want := "GET " + srv.URL + ": example.org answered 502 Bad Gateway (the next try would wait 2h0m0s, past the cycle's deadline; the next cycle tries again)"; errText(err) != want {
		t.Errorf("deadline: err = %v\nwant %s", err, want)
	}
	if len(rec.waits()) != 0 {
		t.Errorf("waited %v", rec.waits())
	}
}

// A request that outlives its own Timeout says so, naming the setting,
// and wraps the expiry.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := client("example.org", &sleeps{})
	_, err := get(context.Background(), c, fetch.Request{URL: srv.URL, Timeout: 50 * time.Millisecond, TimeoutName: "example.timeout"})
	want := "GET " + srv.URL + ": no complete answer within 50ms (example.timeout) after 1 try: Get \"" + srv.URL + "\": context deadline exceeded"
	if errText(err) != want || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// A retry is logged as a warning naming the server, never as giving up.
func TestRetryLog(t *testing.T) {
	srv := serve(t, answer{status: 503}, ok)
	var logs bytes.Buffer
	c := client("example.org", &sleeps{})
	c.Log = slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := get(context.Background(), c, fetch.Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	want := `level=WARN msg="example.org request failed, retrying" url=` + srv.URL + ` attempt=1 wait=2s error="example.org answered 503 Service Unavailable"` + "\n"
	if !strings.Contains(logs.String(), want) || strings.Contains(logs.String(), "gave up") {
		t.Errorf("log:\n%s\nwant a line with\n%s", logs.String(), want)
	}
}

// Every request carries the User-Agent and Accept asked for.
func TestRequestHeaders(t *testing.T) {
	srv := serve(t, ok)
	c := client("example.org", &sleeps{})
	if _, err := get(context.Background(), c, fetch.Request{URL: srv.URL, Accept: "application/json"}); err != nil {
		t.Fatal(err)
	}
	if ua, acc := srv.header(0, "User-Agent"), srv.header(0, "Accept"); ua != "kupdate/test" || acc != "application/json" {
		t.Errorf("User-Agent %q, Accept %q", ua, acc)
	}
}

// Without a Consume the body is read, counted and dropped.
func TestNilConsume(t *testing.T) {
	srv := serve(t, ok)
	c := client("example.org", &sleeps{})
	if _, err := c.Get(context.Background(), fetch.Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Requests != 1 || s.Bytes != int64(len(ok.body)) {
		t.Errorf("stats %+v, want 1 request of %d bytes", s, len(ok.body))
	}
}
