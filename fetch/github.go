package fetch

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// GitHub is the dialect of GitHub's REST API: its API version header, a
// bearer token, its JSON error messages, its primary rate limit
// (X-RateLimit-Remaining: 0 until X-RateLimit-Reset) and secondary one
// (a 403 or 429 with Retry-After, or saying "rate limit"), and hints that
// name kupdate's settings.
type GitHub struct {
	Token string // optional; raises the rate limit. Never logged or shown.
	// TokenSetting names where the operator sets the token, in hints:
	// "the environment variable named by github.token_env".
	TokenSetting string
	// Public says why a source can do without a token, in hints:
	// "linux-hardened's releases are public"; "" says nothing.
	Public string
}

// Prepare sets the API version GitHub's answers are read as, and the token.
func (g *GitHub) Prepare(req *http.Request) {
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
}

// Explain reads GitHub's message and rate-limit headers, and says what to
// do about a refused or missing token.
func (g *GitHub) Explain(resp *http.Response, v *Verdict) {
	v.Message = githubMessage(resp.Body)
	code, h := resp.StatusCode, resp.Header
	limited := code == http.StatusForbidden || code == http.StatusTooManyRequests
	primary := limited && h.Get("X-RateLimit-Remaining") == "0"
	secondary := limited && !primary &&
		(code == http.StatusTooManyRequests || h.Get("Retry-After") != "" || strings.Contains(strings.ToLower(v.Message), "rate limit"))
	switch {
	case primary:
		v.Retry, v.Until = true, unixTime(h.Get("X-RateLimit-Reset"))
		v.Wait = RetryAfter(h.Get("Retry-After"), time.Now())
		v.Hint = g.rateHint(v.Until)
	case secondary:
		v.Retry = true
		v.Wait = RetryAfter(h.Get("Retry-After"), time.Now())
		v.Hint = "rate limited by GitHub, the next cycle tries again"
		if g.Token == "" {
			v.Hint = g.advice().noTokenRate("rate limited by GitHub")
		}
	default:
		if hint := g.advice().authHint(code); hint != "" {
			v.Hint = hint
		}
	}
}

func (g *GitHub) advice() tokenAdvice {
	return tokenAdvice{"GitHub", g.Token, g.TokenSetting, g.Public}
}

// rateHint is what to do about a spent primary rate limit.
func (g *GitHub) rateHint(reset time.Time) string {
	until := "until it resets"
	if !reset.IsZero() {
		until = "until " + reset.UTC().Format(time.RFC3339)
	}
	if g.Token != "" {
		return "the token's rate limit is spent " + until + "; the next cycle tries again"
	}
	return g.advice().noTokenRate("rate limited " + until)
}

// githubMessage is the "message" of GitHub's JSON error body (with the
// details of its validation errors), or the start of a body that is not
// JSON (a proxy's HTML page), on one line.
func githubMessage(body io.Reader) string {
	raw, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	var v struct {
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return bodyStart(raw)
	}
	msg := v.Message
	for _, e := range v.Errors {
		if d := cmp.Or(e.Message, e.Code); d != "" {
			msg += ": " + d
		}
	}
	return oneLine(msg)
}

// bodyStart is the start of a body that is not the JSON a dialect
// expects, on one line.
func bodyStart(raw []byte) string {
	msg := string(raw)
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return oneLine(msg)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
