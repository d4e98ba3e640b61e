package hardened

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of GitHub's retry settings: the same four tries and
// doubling backoff from 2 s as kernel.org's reads, and at most two minutes
// of waiting for one request (a primary rate limit that resets later is
// not waited out: the next cycle tries again).
const (
	DefaultHardenedAttempts = 4
	DefaultHardenedBackoff  = 2 * time.Second
	DefaultHardenedMaxWait  = 2 * time.Minute
)

// GitHub lists linux-hardened releases through GitHub's REST API
// (GET /repos/{owner}/{repo}/releases) and downloads their assets, with
// plain net/http: two endpoints do not need a client library.
//
// Reads are retried when waiting may help (5xx, 408, 429, a rate limit, a
// network failure or a body cut short), honouring Retry-After and
// X-RateLimit-Reset, within MaxWait and never past the context's deadline.
// The release list is requested conditionally (If-None-Match): GitHub does
// not count a 304 against the rate limit, which matters without a token
// (60 requests an hour).
type GitHub struct {
	HTTP      *http.Client // nil: http.DefaultClient
	APIURL    string       // https://api.github.com/
	WebURL    string       // https://github.com: the base of the URLs written into patches.json
	Repo      string       // anthraxx/linux-hardened
	Token     string       // optional; raises the rate limit. Never logged.
	UserAgent string
	// MaxBytes caps one asset download (0: 64 MiB).
	MaxBytes int64
	// Attempts bounds the tries of one request (0: DefaultHardenedAttempts).
	Attempts int
	// Backoff is the wait before the second try, doubling after (0:
	// DefaultHardenedBackoff); a longer Retry-After wins.
	Backoff time.Duration
	// MaxWait bounds the waiting of one request, all retries together (0:
	// DefaultHardenedMaxWait). A wait GitHub asks for beyond it is not made.
	MaxWait time.Duration
	Log     *slog.Logger // nil: discard

	// Sleep waits d or until ctx is done; nil: a timer. Tests record waits.
	Sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	list map[string]cachedList // URL -> the last 200 answer with an ETag
}

type cachedList struct {
	etag string
	body []byte
}

// NewGitHub is the source for anthraxx/linux-hardened at apiURL.
func NewGitHub(apiURL, userAgent string) *GitHub {
	return &GitHub{APIURL: apiURL, WebURL: "https://github.com", Repo: "anthraxx/linux-hardened", UserAgent: userAgent}
}

type ghAsset struct {
	Name               string `json:"name"`
	BrowserDownloadURL string `json:"browser_download_url"`
	Digest             string `json:"digest"`
}

type ghRelease struct {
	TagName    string    `json:"tag_name"`
	Draft      bool      `json:"draft"`
	Prerelease bool      `json:"prerelease"`
	Assets     []ghAsset `json:"assets"`
}

// Releases returns the newest 100 published releases (GitHub's first page,
// newest first): far more than the two branches nixpkgs keeps need.
func (g *GitHub) Releases(ctx context.Context) ([]Release, error) {
	url := strings.TrimSuffix(g.APIURL, "/") + "/repos/" + g.Repo + "/releases?per_page=100"
	body, err := g.get(ctx, url, "application/vnd.github+json", 16<<20, true)
	if err != nil {
		return nil, err
	}
	var rels []ghRelease
	if err := json.Unmarshal(body, &rels); err != nil {
		return nil, fmt.Errorf("GET %s: decoding the release list: %w", url, err)
	}
	var out []Release
	for _, r := range rels {
		if r.Draft || r.Prerelease {
			continue
		}
		hr := Release{Tag: r.TagName}
		for _, a := range r.Assets {
			if strings.HasSuffix(a.Name, ".patch") && strings.HasPrefix(a.Name, "linux-hardened-") {
				hr.PatchName, hr.DownloadURL, hr.Digest = a.Name, a.BrowserDownloadURL, a.Digest
			}
		}
		if hr.PatchName == "" {
			continue
		}
		for _, a := range r.Assets {
			if a.Name == hr.PatchName+".sig" {
				hr.SigURL = a.BrowserDownloadURL
			}
		}
		web := g.WebURL
		if web == "" {
			web = "https://github.com"
		}
		hr.URL = strings.TrimSuffix(web, "/") + "/" + g.Repo + "/releases/download/" + r.TagName + "/" + hr.PatchName
		out = append(out, hr)
	}
	return out, nil
}

// Download fetches one release asset.
func (g *GitHub) Download(ctx context.Context, url string) ([]byte, error) {
	limit := g.MaxBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	return g.get(ctx, url, "application/octet-stream", limit, false)
}

// GitHubError is a read from GitHub that failed for good, explained: the
// URL, GitHub's answer (its JSON "message", not the raw body) and what to
// do about it. It never holds the token.
type GitHubError struct {
	URL      string
	Status   int    // HTTP status; 0 when no answer came
	Message  string // GitHub's message, or the network error
	Hint     string // what to do
	Attempts int    // tries made; more than 1 when the failure was retried
	Err      error  // the last attempt's error, when it was not an answer
}

func (e *GitHubError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s: ", e.URL)
	if e.Status != 0 {
		fmt.Fprintf(&b, "GitHub answered %d %s", e.Status, http.StatusText(e.Status))
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
	} else {
		b.WriteString(e.Message)
	}
	var paren []string
	if e.Attempts > 1 {
		paren = append(paren, fmt.Sprintf("gave up after %d tries", e.Attempts))
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

func (e *GitHubError) Unwrap() error { return e.Err }

// ghAttempt is the outcome of one failed try.
type ghAttempt struct {
	err       *GitHubError
	retry     bool          // waiting may help
	wait      time.Duration // at least this long (Retry-After, X-RateLimit-Reset)
	rateReset time.Time     // a spent primary rate limit resets then
}

func (g *GitHub) get(ctx context.Context, url, accept string, limit int64, list bool) ([]byte, error) {
	attempts := g.Attempts
	if attempts <= 0 {
		attempts = DefaultHardenedAttempts
	}
	backoff := g.Backoff
	if backoff <= 0 {
		backoff = DefaultHardenedBackoff
	}
	maxWait := g.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultHardenedMaxWait
	}
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		body, fail := g.try(ctx, url, accept, limit, list)
		if fail == nil {
			return body, nil
		}
		e := fail.err
		if ctx.Err() != nil {
			return nil, fmt.Errorf("GET %s: %w", url, ctx.Err())
		}
		if !fail.retry {
			return nil, e
		}
		if attempt >= attempts {
			e.Attempts = attempt
			return nil, e
		}
		d := max(backoff<<(attempt-1), fail.wait)
		if !fail.rateReset.IsZero() {
			d = max(time.Until(fail.rateReset)+time.Second, 0)
		}
		if waited+d > maxWait || deadlineBefore(ctx, d) {
			if !fail.rateReset.IsZero() {
				e.Hint = g.rateHint(fail.rateReset)
			} else {
				why := fmt.Sprintf("longer than kupdate waits for one request (%s)", maxWait)
				if waited+d <= maxWait {
					why = "past the cycle's deadline"
				}
				e.Hint = fmt.Sprintf("GitHub asks to wait %s, %s; the next cycle tries again", d.Round(time.Second), why)
			}
			e.Attempts = attempt // set only now: the warning below must not say "gave up" while retrying
			return nil, e
		}
		g.logger().Warn("github: linux-hardened request failed, retrying", "url", url, "attempt", attempt, "wait", d, "err", e.Error())
		if err := g.wait(ctx, d); err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		waited += d
	}
}

func deadlineBefore(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < d
}

func (g *GitHub) wait(ctx context.Context, d time.Duration) error {
	if g.Sleep != nil {
		return g.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *GitHub) logger() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.New(slog.DiscardHandler)
}

// try makes one request. A nil *ghAttempt is success.
func (g *GitHub) try(ctx context.Context, url, accept string, limit int64, list bool) ([]byte, *ghAttempt) {
	fail := func(msg string, err error, retry bool) *ghAttempt {
		return &ghAttempt{err: &GitHubError{URL: url, Message: msg, Err: err}, retry: retry}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fail(err.Error(), err, false)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if g.UserAgent != "" {
		req.Header.Set("User-Agent", g.UserAgent)
	}
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	var cached cachedList
	if list {
		g.mu.Lock()
		cached = g.list[url]
		g.mu.Unlock()
		if cached.etag != "" {
			req.Header.Set("If-None-Match", cached.etag)
		}
	}
	hc := g.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		a := fail(err.Error(), err, true)
		a.err.Hint = "GitHub could not be reached, the next cycle tries again"
		return nil, a
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		if cached.etag == "" {
			return nil, &ghAttempt{err: &GitHubError{URL: url, Status: resp.StatusCode, Message: "to a request that was not conditional"}}
		}
		return cached.body, nil
	default:
		return nil, g.explain(url, resp, list)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		// The connection broke mid-body: another try may do better.
		a := fail(fmt.Sprintf("reading the body after %d bytes: %v", len(data), err), err, true)
		a.err.Hint = "the answer was cut short, the next cycle tries again"
		return nil, a
	}
	if int64(len(data)) > limit {
		return nil, fail(fmt.Sprintf("larger than %d bytes: refusing it", limit), nil, false)
	}
	if etag := resp.Header.Get("ETag"); list && etag != "" {
		g.mu.Lock()
		if g.list == nil {
			g.list = map[string]cachedList{}
		}
		g.list[url] = cachedList{etag: etag, body: data}
		g.mu.Unlock()
	}
	return data, nil
}

// explain reads a non-2xx answer: GitHub's message from its JSON body, and
// whether and how long to wait before another try.
func (g *GitHub) explain(url string, resp *http.Response, list bool) *ghAttempt {
	code := resp.StatusCode
	e := &GitHubError{URL: url, Status: code, Message: githubMessage(resp.Body)}
	a := &ghAttempt{err: e}
	h := resp.Header
	primary := (code == http.StatusForbidden || code == http.StatusTooManyRequests) && h.Get("X-RateLimit-Remaining") == "0"
	secondary := (code == http.StatusForbidden || code == http.StatusTooManyRequests) && !primary &&
		(code == http.StatusTooManyRequests || h.Get("Retry-After") != "" || strings.Contains(strings.ToLower(e.Message), "rate limit"))
	switch {
	case primary:
		a.retry = true
		if n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			a.rateReset = time.Unix(n, 0)
		}
		a.wait = retryAfterHeader(h.Get("Retry-After"))
		e.Hint = g.rateHint(a.rateReset)
	case secondary:
		a.retry = true
		a.wait = retryAfterHeader(h.Get("Retry-After"))
		e.Hint = "rate limited by GitHub, the next cycle tries again"
		if g.Token == "" {
			e.Hint = "rate limited by GitHub: set a token in the environment variable named by github.token_env for a higher limit; the next cycle tries again"
		}
	case code == http.StatusUnauthorized:
		e.Hint = "GitHub asks for credentials: set a token in the environment variable named by github.token_env"
		if g.Token != "" {
			e.Hint = "GitHub refused the token: replace the one in the environment variable named by github.token_env, or unset it (linux-hardened's releases are public)"
		}
	case code == http.StatusForbidden:
		e.Hint = "GitHub refused access: check the token in the environment variable named by github.token_env, or unset it (linux-hardened's releases are public)"
	case code == http.StatusNotFound && list:
		e.Hint = fmt.Sprintf("no repository %s at %s: check github.api_url", g.Repo, g.APIURL)
	case code == http.StatusNotFound:
		e.Hint = "no such release asset: the release's tag or asset was renamed or deleted since it was listed; the next cycle lists the releases again"
	case code == http.StatusRequestTimeout, code >= 500:
		a.retry = true
		a.wait = retryAfterHeader(h.Get("Retry-After"))
		e.Hint = "GitHub is failing, the next cycle tries again"
	}
	return a
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
	return "rate limited " + until + ": set a token in the environment variable named by github.token_env for a higher limit; the next cycle tries again"
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
	msg := ""
	if json.Unmarshal(raw, &v) == nil {
		msg = v.Message
		for _, e := range v.Errors {
			if d := cmp.Or(e.Message, e.Code); d != "" {
				msg += ": " + d
			}
		}
	} else {
		msg = string(raw)
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}

// retryAfterHeader reads Retry-After: delay-seconds (what GitHub sends) or
// an HTTP date.
func retryAfterHeader(s string) time.Duration {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		return max(time.Duration(n)*time.Second, 0)
	}
	if t, err := http.ParseTime(s); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
