// Package kernelorg reads what kernel.org offers: releases.json mapped to
// nixpkgs branches, and for each release the hash nixpkgs pins. Stable and
// longterm hashes come from kernel.org's signed sha256sums.asc (no tarball is
// downloaded); rc hashes are the NAR hash of the unpacked git.kernel.org
// snapshot, downloaded once per rc and cached with what they were computed
// from, and computed again (Recheck) when Nix disagrees with one.
package kernelorg

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// autosignerKey is the public key of the Kernel.org checksum autosigner,
// which signs every pub/linux/kernel/vN.x/sha256sums.asc.
//
// A string, so that no caller can change it.
//
//go:embed kernel-org-autosigner.asc
var autosignerKey string

// AutosignerFingerprint is the primary-key fingerprint of the embedded
// Kernel.org checksum autosigner key: the signer pinned by default.
const AutosignerFingerprint = "B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1"

// Defaults for the zero values of Options.
const (
	DefaultTimeout          = 5 * time.Minute
	DefaultSnapshotTimeout  = 30 * time.Minute
	DefaultMaxAttempts      = 4
	DefaultRetryBackoff     = 2 * time.Second
	DefaultMaxSnapshotBytes = 512 << 20
	DefaultUserAgent        = "kupdate/devel (+https://github.com/kupdate/kupdate)"
)

// Bounds on the small files: far above what kernel.org serves (releases.json
// is a few kB, the largest sha256sums.asc a few MB), low enough that a
// misbehaving server cannot fill memory.
const (
	maxReleasesBytes  = 8 << 20
	maxChecksumsBytes = 64 << 20
	maxRetryWait      = time.Minute
)

// Options configures a Client. Only URL and GitURL are required.
type Options struct {
	URL    string // serves releases.json and pub/linux/kernel/vN.x/sha256sums.asc
	GitURL string // serves rc snapshots: {GitURL}/torvalds/t/linux-X.Y-rcN.tar.gz

	// Keyring is an armored OpenPGP keyring that sha256sums.asc must verify
	// against; nil means the embedded Kernel.org autosigner key.
	Keyring []byte
	// KeyringName says where Keyring came from, for errors ("kernelorg.keyring
	// /etc/kupdate/keys.asc"); "" means "Options.Keyring".
	KeyringName string
	// Fingerprint is the primary-key fingerprint (hex, case and spaces
	// ignored) the signer must have; "" means AutosignerFingerprint.
	Fingerprint string

	HTTPClient *http.Client // nil: a client with Go's default transport
	UserAgent  string       // "" means DefaultUserAgent; name kupdate and its version
	// Timeout bounds one fetch of releases.json or of a sha256sums.asc, all
	// of its retries included. 0 = DefaultTimeout.
	Timeout time.Duration
	// SnapshotTimeout bounds one rc snapshot download and unpacking, retries
	// included. 0 = DefaultSnapshotTimeout.
	SnapshotTimeout time.Duration
	MaxAttempts     int           // attempts per fetch; 0 = DefaultMaxAttempts
	RetryBackoff    time.Duration // wait before the 2nd attempt, doubling after; 0 = DefaultRetryBackoff

	// MaxSnapshotBytes caps one rc snapshot download (compressed); the
	// unpacked tree may be at most 8 times that. 0 = DefaultMaxSnapshotBytes.
	MaxSnapshotBytes int64
	// CacheDir keeps what a later process can reuse: rc NAR hashes with
	// what they were computed from (CacheDir/rc-hashes), and releases.json and each sha256sums.asc with
	// their ETag and Last-Modified (CacheDir/http-cache), so that the first
	// poll of a new process is a conditional request too. It also holds the
	// unpacked snapshot while it is hashed. "" = no disk cache: conditional
	// requests only within the Client's life; snapshots are unpacked under
	// os.TempDir.
	CacheDir string

	Logger *slog.Logger // nil = discard
	// Now stamps the records of rc hashes with when they were computed;
	// nil = time.Now.
	Now func() time.Time
}

// Stats counts what a Client fetched, for benchmarks and /metrics.
type Stats struct {
	Requests      int64 // HTTP requests sent, retries included
	NotModified   int64 // requests answered 304 Not Modified (no body)
	Retries       int64 // attempts that were repeated after a transient failure
	Bytes         int64 // response body bytes read (after any transparent gzip decoding), all files
	SnapshotBytes int64 // of Bytes, those of rc snapshot tarballs
	Snapshots     int64 // rc snapshots downloaded and hashed
}

// Client talks to kernel.org. It is safe for concurrent use. Its caches
// live as long as it does, so one Client should serve every cycle; with
// Options.CacheDir they outlive it.
type Client struct {
	base, git   string
	keyring     openpgp.EntityList
	fingerprint string
	hc          *http.Client
	ua          string
	timeout     time.Duration
	snapTimeout time.Duration
	attempts    int
	backoff     time.Duration
	maxSnapshot int64
	cacheDir    string
	log         *slog.Logger
	now         func() time.Time

	// relMu serialises Releases calls, which start a new cycle each.
	relMu     sync.Mutex
	relLoaded bool // the copy on disk was looked at
	relVal    validators
	releases  []Release

	mu       sync.Mutex
	cycle    int
	sums     map[string]*sumsFile // by folder, "v6.x"
	rcHashes map[Version]string
	rcCalls  map[Version]*rcCall

	requests, notModified, retries, bytes, snapshotBytes, snapshots atomic.Int64
}

// validators are what a conditional request sends back: the ETag and
// Last-Modified of the copy we hold.
type validators struct{ etag, lastModified string }

func (v validators) empty() bool { return v.etag == "" && v.lastModified == "" }

// New checks opts and returns a Client.
func New(opts Options) (*Client, error) {
	base, err := baseURL("URL", opts.URL)
	if err != nil {
		return nil, err
	}
	git, err := baseURL("GitURL", opts.GitURL)
	if err != nil {
		return nil, err
	}
	keyring, keyringName := io.Reader(bytes.NewReader(opts.Keyring)), opts.KeyringName
	switch {
	case opts.Keyring == nil:
		keyring, keyringName = strings.NewReader(autosignerKey), "(the embedded Kernel.org autosigner key)"
	case keyringName == "":
		keyringName = "Options.Keyring"
	}
	el, err := openpgp.ReadArmoredKeyRing(keyring)
	if err != nil {
		return nil, fmt.Errorf("kernel.org keyring %s: %w (want an armored OpenPGP public key block)", keyringName, err)
	}
	fp := opts.Fingerprint
	if fp == "" {
		fp = AutosignerFingerprint
	}
	fp, err = NormalizeFingerprint(fp)
	if err != nil {
		return nil, err
	}
	if !keyringHas(el, fp) {
		return nil, fmt.Errorf("kernel.org keyring %s has no key with primary fingerprint %s: pin the fingerprint of a key in the keyring (kernelorg.fingerprint)", keyringName, fp)
	}
	c := &Client{
		base:        base,
		git:         git,
		keyring:     el,
		fingerprint: fp,
		hc:          opts.HTTPClient,
		ua:          opts.UserAgent,
		timeout:     opts.Timeout,
		snapTimeout: opts.SnapshotTimeout,
		attempts:    opts.MaxAttempts,
		backoff:     opts.RetryBackoff,
		maxSnapshot: opts.MaxSnapshotBytes,
		cacheDir:    opts.CacheDir,
		log:         opts.Logger,
		now:         opts.Now,
		sums:        map[string]*sumsFile{},
		rcHashes:    map[Version]string{},
		rcCalls:     map[Version]*rcCall{},
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.snapTimeout <= 0 {
		c.snapTimeout = DefaultSnapshotTimeout
	}
	if c.attempts <= 0 {
		c.attempts = DefaultMaxAttempts
	}
	if c.backoff <= 0 {
		c.backoff = DefaultRetryBackoff
	}
	if c.maxSnapshot <= 0 {
		c.maxSnapshot = DefaultMaxSnapshotBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func baseURL(field, s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("kernelorg: Options.%s: want an http(s) URL, got %q", field, s)
	}
	return strings.TrimRight(s, "/"), nil
}

// NormalizeFingerprint returns fp as 40 (v4) or 64 (v6) upper-case hex
// digits, with spaces removed, or an error saying what is wrong.
func NormalizeFingerprint(fp string) (string, error) {
	s := strings.ToUpper(strings.ReplaceAll(fp, " ", ""))
	if _, err := hex.DecodeString(s); err != nil || (len(s) != 40 && len(s) != 64) {
		return "", fmt.Errorf("invalid OpenPGP fingerprint %q: want 40 hex digits (e.g. %s)", truncate(fp, 80), AutosignerFingerprint)
	}
	return s, nil
}

func keyringHas(el openpgp.EntityList, fp string) bool {
	for _, e := range el {
		if e.PrimaryKey != nil && strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)) == fp {
			return true
		}
	}
	return false
}

// Stats returns what the Client fetched so far.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:      c.requests.Load(),
		NotModified:   c.notModified.Load(),
		Retries:       c.retries.Load(),
		Bytes:         c.bytes.Load(),
		SnapshotBytes: c.snapshotBytes.Load(),
		Snapshots:     c.snapshots.Load(),
	}
}

// fetched is the outcome of a fetch.
type fetched struct {
	notModified bool
	val         validators // of the body consumed; zero for a 304
}

// attemptError is one failed attempt; transient ones are retried.
type attemptError struct {
	err        error
	status     int // the HTTP status of a non-2xx answer, 0 otherwise
	transient  bool
	retryAfter time.Duration
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// errTooLarge marks a body over its limit: never retried.
var errTooLarge = errors.New("response body over the size limit")

// fetch GETs u, conditionally when val is not empty, and hands a 200's body
// to consume, which must read what it needs. Transient failures (network
// errors, truncated bodies, 408, 425, 429, 5xx) are retried with doubling
// backoff, all within the timeout (the snapshot one for a snapshot); a body
// over limit is not retried. Errors name u.
func (c *Client) fetch(ctx context.Context, u string, val validators, limit int64, snapshot bool, consume func(io.Reader) error) (fetched, error) {
	timeout, setting := c.timeout, "kernelorg.timeout"
	if snapshot {
		timeout, setting = c.snapTimeout, "kernelorg.snapshot_timeout"
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := c.backoff
	for attempt := 1; ; attempt++ {
		res, err := c.try(ctx, u, val, limit, snapshot, consume)
		if err == nil {
			return res, nil
		}
		var ae *attemptError
		transient := errors.As(err, &ae) && ae.transient
		if parent.Err() != nil {
			return fetched{}, fmt.Errorf("GET %s: %w", u, parent.Err())
		}
		if ctx.Err() != nil {
			return fetched{}, fmt.Errorf("GET %s: no complete answer within %s (%s) after %d attempt(s): %w", u, timeout, setting, attempt, err)
		}
		if !transient {
			return fetched{}, fmt.Errorf("GET %s: %w", u, err)
		}
		if attempt >= c.attempts {
			tries := "attempts"
			if attempt == 1 { // Options.MaxAttempts = 1
				tries = "attempt"
			}
			return fetched{}, fmt.Errorf("GET %s: %w (gave up after %d %s; kernel.org may be down, the next cycle tries again)", u, err, attempt, tries)
		}
		d := wait
		if ae.retryAfter > d {
			d = ae.retryAfter
		}
		d = min(d, maxRetryWait)
		c.log.Warn("kernel.org request failed, retrying", "url", u, "attempt", attempt, "wait", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			if parent.Err() != nil {
				return fetched{}, fmt.Errorf("GET %s: %w", u, parent.Err())
			}
			return fetched{}, fmt.Errorf("GET %s: no complete answer within %s (%s) after %d attempt(s): %w", u, timeout, setting, attempt, err)
		case <-t.C:
		}
		c.retries.Add(1)
		wait = min(2*wait, maxRetryWait)
	}
}

func (c *Client) try(ctx context.Context, u string, val validators, limit int64, snapshot bool, consume func(io.Reader) error) (fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{}, err
	}
	req.Header.Set("User-Agent", c.ua)
	if val.etag != "" {
		req.Header.Set("If-None-Match", val.etag)
	}
	if val.lastModified != "" {
		req.Header.Set("If-Modified-Since", val.lastModified)
	}
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return fetched{}, &attemptError{err: err, transient: true}
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case code == http.StatusNotModified:
		c.notModified.Add(1)
		if val.empty() {
			return fetched{}, &attemptError{err: errors.New("HTTP 304 Not Modified to an unconditional request")}
		}
		return fetched{notModified: true}, nil
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return fetched{}, &attemptError{err: fmt.Errorf("HTTP %s", resp.Status), status: code, transient: true, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	default:
		return fetched{}, &attemptError{err: fmt.Errorf("HTTP %s", resp.Status), status: code}
	}
	body := &countingReader{r: resp.Body, limit: limit, c: c, snapshot: snapshot}
	if err := consume(body); err != nil {
		switch {
		case body.over:
			return fetched{}, &attemptError{err: fmt.Errorf("%w of %d bytes", errTooLarge, limit)}
		case body.readErr != nil:
			// The connection broke or the body ended before its Content-Length:
			// a new attempt may do better. A body that arrived whole and is bad
			// (a short tar, bad JSON) will be as bad next time.
			return fetched{}, &attemptError{err: fmt.Errorf("reading body after %d bytes: %w", body.n, err), transient: true}
		}
		return fetched{}, &attemptError{err: err}
	}
	return fetched{val: validators{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}}, nil
}

// httpStatus is the HTTP status that made fetch fail, 0 when the failure
// was not an answer (a network error, a bad body, a timeout).
func httpStatus(err error) int {
	var ae *attemptError
	if errors.As(err, &ae) {
		return ae.status
	}
	return 0
}

// retryAfter reads a Retry-After of delay-seconds; dates are ignored
// (kernel.org sends none) and the doubling backoff applies.
func retryAfter(s string) time.Duration {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// countingReader counts body bytes into the Client's stats, enforces the
// size limit and remembers whether the transport failed.
type countingReader struct {
	r        io.Reader
	limit, n int64
	c        *Client
	snapshot bool
	over     bool
	readErr  error
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n >= r.limit+1 {
		r.over = true
		return 0, errTooLarge
	}
	if rem := r.limit + 1 - r.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	r.c.bytes.Add(int64(n))
	if r.snapshot {
		r.c.snapshotBytes.Add(int64(n))
	}
	if r.n > r.limit {
		r.over = true
		return n, errTooLarge
	}
	if err != nil && err != io.EOF {
		r.readErr = err
	}
	return n, err
}

// readAll is a consume func that keeps the whole (small) body.
func readAll(dst *[]byte) func(io.Reader) error {
	return func(r io.Reader) error {
		b, err := io.ReadAll(r)
		*dst = b
		return err
	}
}
