package fetch

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is a read from a source that failed for good, explained for the
// operator: the request, the server's answer (its status and its own
// message, never the raw body of an error page), and what to do. Every
// error Client.Get returns is one; it never holds a token (tokens travel in
// headers, which no error shows).
//
// Rendered, it is one line in one vocabulary whatever the source:
//
//	GET <url>: <server> answered <status>[: <message>] (gave up after <n> tries; <hint>)
//	GET <url>: <what went wrong> (<hint>)
type Error struct {
	Method string // "GET"
	URL    string
	Server string // who answered: "kernel.org", "GitHub"
	// Status is the HTTP status of the answer; 0 when none came (a network
	// failure, a body cut short or refused, a timeout, a cancellation).
	Status int
	// Message is the server's own message (GitHub's JSON "message"), or
	// what went wrong when no answer came.
	Message string
	Hint    string // what to do; "" when there is nothing to say
	// Tries is how many tries were made before kupdate stopped retrying a
	// failure that waiting might have fixed; 0 when it was not retried.
	Tries int
	Err   error // the cause, when it was not an answer (errors.Is sees context.Canceled)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Method, e.URL, e.cause())
	var paren []string
	if e.Tries > 0 {
		paren = append(paren, "gave up after "+tries(e.Tries))
	}
	if e.Hint != "" {
		paren = append(paren, e.Hint)
	}
	if len(paren) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(paren, "; "))
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// cause is what went wrong, without the request, the tries or the hint:
// the server's answer, or the failure when none came.
func (e *Error) cause() string {
	if e.Status == 0 {
		return e.Message
	}
	s := e.Server + " answered " + statusLine(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Status is the HTTP status of the answer that made err, from Client.Get,
// fail; 0 when the failure was not an answer.
func Status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// statusLine is "503 Service Unavailable", or the code alone when Go has
// no name for it.
func statusLine(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

func tries(n int) string {
	if n == 1 {
		return "1 try"
	}
	return fmt.Sprintf("%d tries", n)
}
