package fetch

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// GitLab is the dialect of GitLab's REST API (v4): a PRIVATE-TOKEN, its
// JSON error messages ({"message": …} or OAuth's {"error": …}), its rate
// limit (429 with Retry-After and RateLimit-Reset, or RateLimit-ResetTime),
// and hints that name kupdate's settings.
type GitLab struct {
	Token string // optional; raises the rate limit. Never logged or shown.
	// TokenSetting names where the operator sets the token, in hints.
	TokenSetting string
	// Public says why a source can do without a token, in hints; "" says
	// nothing.
	Public string
}

// Prepare sets the token.
func (g *GitLab) Prepare(req *http.Request) {
	if g.Token != "" {
		req.Header.Set("PRIVATE-TOKEN", g.Token)
	}
}

// Explain reads GitLab's message and rate-limit headers, and says what to
// do about a refused or missing token.
func (g *GitLab) Explain(resp *http.Response, v *Verdict) {
	v.Message = gitlabMessage(resp.Body)
	h := resp.Header
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		v.Until = unixTime(h.Get("RateLimit-Reset"))
		if t, err := http.ParseTime(h.Get("RateLimit-ResetTime")); err == nil && v.Until.IsZero() {
			v.Until = t
		}
		v.Hint = g.rateHint(v.Until)
	default:
		if hint := g.advice().authHint(code); hint != "" {
			v.Hint = hint
		}
	}
}

func (g *GitLab) advice() tokenAdvice {
	return tokenAdvice{"GitLab", g.Token, g.TokenSetting, g.Public}
}

// rateHint is what to do about a rate limit; GitLab.com's limits are per
// user with a token and per IP address without one.
func (g *GitLab) rateHint(reset time.Time) string {
	until := ""
	if !reset.IsZero() {
		until = " until " + reset.UTC().Format(time.RFC3339)
	}
	if g.Token != "" {
		return "rate limited by GitLab" + until + "; the next cycle tries again"
	}
	return g.advice().noTokenRate("rate limited by GitLab" + until)
}

// gitlabMessage is GitLab's message: "message" as a string, the "error"
// of a "message" object (its rate limiter's), any other "message" as
// compact JSON (validation errors by field), or OAuth's "error" with its
// description; the start of a body that is not JSON.
func gitlabMessage(body io.Reader) string {
	raw, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	var v struct {
		Message json.RawMessage `json:"message"`
		Error   string          `json:"error"`
		Desc    string          `json:"error_description"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return bodyStart(raw)
	}
	var s string
	var obj struct {
		Error string `json:"error"`
	}
	switch {
	case json.Unmarshal(v.Message, &s) == nil:
		return oneLine(s)
	case json.Unmarshal(v.Message, &obj) == nil && obj.Error != "":
		return oneLine(obj.Error)
	case len(v.Message) > 0:
		var b bytes.Buffer
		if json.Compact(&b, v.Message) == nil {
			return bodyStart(b.Bytes())
		}
	}
	if v.Desc != "" {
		return oneLine(v.Error + ": " + v.Desc)
	}
	return oneLine(v.Error)
}
