package fetch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kupdate/kupdate/fetch"
)

// answer is one scripted HTTP answer.
type answer struct {
	status int               // 0: 200
	header map[string]string // set on the answer
	body   string
	// cut declares a Content-Length this many bytes longer than body and
	// closes the connection after body: a body cut short.
	cut int
	// hangup closes the connection without an answer: a network failure.
	hangup bool
}

// script is a server that gives its answers in turn, the last one again
// and again, and records what it was asked.
type script struct {
	*httptest.Server
	mu      sync.Mutex
	answers []answer
	asked   []http.Header
}

func serve(t *testing.T, answers ...answer) *script {
	t.Helper()
	s := &script{answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *script) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.asked = append(s.asked, r.Header.Clone())
	a := s.answers[0]
	if len(s.answers) > 1 {
		s.answers = s.answers[1:]
	}
	s.mu.Unlock()
	if a.hangup {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.cut > 0 {
		w.Header().Set("Content-Length", fmt.Sprint(len(a.body)+a.cut))
	}
	w.WriteHeader(max(a.status, http.StatusOK))
	io.WriteString(w, a.body)
	if a.cut > 0 {
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
}

// requests is how many requests the server answered.
func (s *script) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.asked)
}

func (s *script) header(i int, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[i].Get(name)
}

// sleeps records a Client's waits instead of making them.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d
}

// client is a Client of srv whose waits go to rec.
func client(server string, rec *sleeps) *fetch.Client {
	return &fetch.Client{Server: server, UserAgent: "kupdate/test", Retry: fetch.Retry{Sleep: rec.sleep}}
}

// get reads url whole through c.
func get(ctx context.Context, c *fetch.Client, r fetch.Request) (string, error) {
	var body []byte
	r.Consume = func(rd io.Reader) error {
		var err error
		body, err = io.ReadAll(rd)
		return err
	}
	_, err := c.Get(ctx, r)
	return string(body), err
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// fill replaces {url} in want.
func fill(want, url string) string { return strings.ReplaceAll(want, "{url}", url) }
