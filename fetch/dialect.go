package fetch

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A Dialect is what a server says beyond HTTP: the headers its API wants
// (a version, a token) and what its answers mean (its error messages, its
// rate-limit headers, what to do about a refused token). GitHub and GitLab
// are dialects; kernel.org speaks plain HTTP (a nil Dialect).
type Dialect interface {
	// Prepare adds what every request to the server carries.
	Prepare(req *http.Request)
	// Explain refines v, what plain HTTP makes of an answer that is
	// neither 200 nor 304 (Verdict's fields say what to set). It may read
	// resp.Body; resp.Header is the answer's.
	Explain(resp *http.Response, v *Verdict)
}

// Verdict is what an answer that is neither 200 nor 304 says.
type Verdict struct {
	Server  string // who answered, for hints ("GitHub")
	Message string // the server's own message
	Hint    string // what to do
	Retry   bool   // waiting may help
	// Wait is how long the server asks to wait before another try
	// (Retry-After); the policy's backoff applies when it is longer.
	Wait time.Duration
	// Until is when a spent rate limit lifts: another try waits until then
	// (and a second more), or, when that is too long, the error keeps Hint,
	// which should say until when.
	Until time.Time
}

// plain is what HTTP alone says about an answer: 408, 425, 429 and 5xx
// are worth another try, after Retry-After if the server sent one; a 404
// means what the request says it means.
func plain(server string, resp *http.Response, notFound string) Verdict {
	v := Verdict{Server: server}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		v.Retry, v.Hint = true, "rate limited by "+server+", the next cycle tries again"
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code >= 500:
		v.Retry, v.Hint = true, server+" is failing, the next cycle tries again"
	case code == http.StatusNotFound:
		v.Hint = notFound
	}
	if v.Retry {
		v.Wait = RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return v
}

// RetryAfter reads a Retry-After header: delay-seconds (what GitHub,
// GitLab and most servers send) or an HTTP date, counted from now. 0 when
// there is none or it cannot be read: the backoff applies.
func RetryAfter(s string, now time.Time) time.Duration {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		return max(time.Duration(n)*time.Second, 0)
	}
	if t, err := http.ParseTime(s); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// unixTime reads a header of seconds since the epoch (X-RateLimit-Reset,
// RateLimit-Reset); the zero time when it cannot.
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// tokenAdvice is what GitHub's and GitLab's dialects say about their
// token, in hints that name kupdate's settings.
type tokenAdvice struct {
	host, token, setting, public string
}

// authHint is what to do about a 401 or 403, or "" for another status.
func (a tokenAdvice) authHint(code int) string {
	switch {
	case code == http.StatusUnauthorized && a.token == "":
		return a.host + " asks for credentials: set a token in " + a.setting
	case code == http.StatusUnauthorized:
		return a.host + " refused the token: replace the one in " + a.setting + a.orUnset()
	case code == http.StatusForbidden:
		return a.host + " refused access: check the token in " + a.setting + a.orUnset()
	}
	return ""
}

// orUnset is the advice to do without a token, when the source can.
func (a tokenAdvice) orUnset() string {
	if a.public == "" {
		return ""
	}
	return ", or unset it (" + a.public + ")"
}

// noTokenRate is the hint for a rate limit met without a token.
func (a tokenAdvice) noTokenRate(prefix string) string {
	return prefix + ": set a token in " + a.setting + " for a higher limit; the next cycle tries again"
}
