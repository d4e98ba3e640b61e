package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// try makes one request. A nil *failure is success.
func (c *Client) try(ctx context.Context, r Request) (Result, *failure) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return Result{}, &failure{err: c.fail(r, err.Error(), err)}
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	if c.Dialect != nil {
		c.Dialect.Prepare(req)
	}
	r.Validators.set(req.Header)
	c.requests.Add(1)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		f := &failure{err: c.fail(r, err.Error(), err), retry: true, verdict: Verdict{Server: c.server()}}
		f.err.Hint = c.server() + " could not be reached, the next cycle tries again"
		return Result{}, f
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		c.notModified.Add(1)
		if r.Validators.IsZero() {
			e := c.fail(r, "to a request that was not conditional", nil)
			e.Status = resp.StatusCode
			return Result{}, &failure{err: e}
		}
		return Result{NotModified: true}, nil
	default:
		return Result{}, c.explain(r, resp)
	}
	if f := c.consume(r, resp.Body); f != nil {
		return Result{}, f
	}
	return Result{Validators: ValidatorsOf(resp.Header)}, nil
}

// explain reads an answer that is neither 200 nor 304: what plain HTTP
// says, refined by the server's dialect.
func (c *Client) explain(r Request, resp *http.Response) *failure {
	v := plain(c.server(), resp, r.NotFound)
	if c.Dialect != nil {
		c.Dialect.Explain(resp, &v)
	}
	e := c.fail(r, v.Message, nil)
	e.Status, e.Hint = resp.StatusCode, v.Hint
	return &failure{err: e, retry: v.Retry, verdict: v}
}

// consume hands a 200's body to r.Consume, counting and bounding it. A
// body cut short may come whole next time; one that arrived whole and is
// bad (a short tar, bad JSON) or is too large will be the same next time.
func (c *Client) consume(r Request, body io.Reader) *failure {
	limit := r.Limit
	if limit <= 0 {
		limit = 1<<63 - 2
	}
	br := &bodyReader{r: body, limit: limit, count: &c.bytes}
	consume := r.Consume
	if consume == nil {
		consume = func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
	}
	err := consume(br)
	switch {
	case err == nil:
		return nil
	case br.over:
		what := fmt.Sprintf("%d bytes", limit)
		if r.LimitName != "" {
			what += " (" + r.LimitName + ")"
		}
		return &failure{err: c.fail(r, "larger than "+what+": refusing it", errTooLarge)}
	case br.readErr != nil:
		f := &failure{err: c.fail(r, fmt.Sprintf("reading the body after %d bytes: %v", br.n, err), err), retry: true, verdict: Verdict{Server: c.server()}}
		f.err.Hint = "the answer was cut short, the next cycle tries again"
		return f
	}
	return &failure{err: c.fail(r, err.Error(), err)}
}

// bodyReader counts body bytes into the Client's stats, enforces the size
// limit and remembers whether the transport failed.
type bodyReader struct {
	r        io.Reader
	limit, n int64
	count    interface{ Add(int64) int64 }
	over     bool
	readErr  error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.n > b.limit {
		b.over = true
		return 0, errTooLarge
	}
	if rem := b.limit + 1 - b.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.count.Add(int64(n))
	if b.n > b.limit {
		b.over = true
		return n, errTooLarge
	}
	if err != nil && err != io.EOF {
		b.readErr = err
	}
	return n, err
}
