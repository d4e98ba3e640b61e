// Package kernelorg reads what kernel.org offers: releases.json mapped to
// nixpkgs branches, and for each release the hash nixpkgs pins. Stable and
// longterm hashes come from kernel.org's signed sha256sums.asc (no tarball is
// downloaded); rc hashes are the NAR hash of the unpacked git.kernel.org
// snapshot, downloaded once per rc and cached with what they were computed
// from, and computed again (Recheck) when Nix disagrees with one.
package kernelorg

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/kupdate/kupdate/fetch"
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
	DefaultMaxAttempts      = fetch.DefaultAttempts
	DefaultRetryBackoff     = fetch.DefaultBackoff
	DefaultMaxSnapshotBytes = 512 << 20
	DefaultUserAgent        = "kupdate/devel (+https://github.com/kupdate/kupdate)"
)

// Bounds on the small files: far above what kernel.org serves (releases.json
// is a few kB, the largest sha256sums.asc a few MB), low enough that a
// misbehaving server cannot fill memory.
const (
	maxReleasesBytes  = 8 << 20
	maxChecksumsBytes = 64 << 20
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
	// MaxAttempts and RetryBackoff set fetch's retry policy, which every
	// source shares (see fetch.Retry): tries per fetch (0 =
	// DefaultMaxAttempts), and the wait before the 2nd, doubling after (0 =
	// DefaultRetryBackoff).
	MaxAttempts  int
	RetryBackoff time.Duration

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
	web         *fetch.Client // every request, with the retry policy all sources share
	store       fetch.Store   // releases.json and the checksum files, for the next process
	timeout     time.Duration
	snapTimeout time.Duration
	maxSnapshot int64
	cacheDir    string
	log         *slog.Logger
	now         func() time.Time

	// relMu serialises Releases calls, which start a new cycle each.
	relMu     sync.Mutex
	relLoaded bool // the copy on disk was looked at
	relVal    fetch.Validators
	releases  []Release

	mu       sync.Mutex
	cycle    int
	sums     map[string]*sumsFile // by folder, "v6.x"
	rcHashes map[Version]string
	rcCalls  map[Version]*rcCall

	snapshotBytes, snapshots atomic.Int64
}

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
		timeout:     opts.Timeout,
		snapTimeout: opts.SnapshotTimeout,
		maxSnapshot: opts.MaxSnapshotBytes,
		cacheDir:    opts.CacheDir,
		log:         opts.Logger,
		now:         opts.Now,
		sums:        map[string]*sumsFile{},
		rcHashes:    map[Version]string{},
		rcCalls:     map[Version]*rcCall{},
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.snapTimeout <= 0 {
		c.snapTimeout = DefaultSnapshotTimeout
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
	c.web = &fetch.Client{
		Server:    "kernel.org",
		HTTP:      cmp.Or(opts.HTTPClient, &http.Client{}),
		UserAgent: cmp.Or(opts.UserAgent, DefaultUserAgent),
		Retry:     fetch.Retry{Attempts: opts.MaxAttempts, Backoff: opts.RetryBackoff},
		Log:       c.log,
	}
	c.store = fetch.Store{Server: "kernel.org", Log: c.log}
	if c.cacheDir != "" {
		c.store.Dir = filepath.Join(c.cacheDir, cacheDirName)
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
	w := c.web.Stats()
	return Stats{
		Requests:      w.Requests,
		NotModified:   w.NotModified,
		Retries:       w.Retries,
		Bytes:         w.Bytes,
		SnapshotBytes: c.snapshotBytes.Load(),
		Snapshots:     c.snapshots.Load(),
	}
}

// get GETs one of the small files (releases.json, a sha256sums.asc),
// conditionally when val is not empty, within kernelorg.timeout, and hands
// a 200's body to consume.
func (c *Client) get(ctx context.Context, u string, val fetch.Validators, limit int64, consume func(io.Reader) error) (fetch.Result, error) {
	return c.web.Get(ctx, fetch.Request{URL: u, Validators: val, Limit: limit, Timeout: c.timeout, TimeoutName: "kernelorg.timeout", Consume: consume})
}

// getSnapshot GETs an rc snapshot within kernelorg.snapshot_timeout and
// kernelorg.max_snapshot_bytes, counting its bytes as snapshot bytes.
func (c *Client) getSnapshot(ctx context.Context, u string, val fetch.Validators, consume func(io.Reader) error) (fetch.Result, error) {
	return c.web.Get(ctx, fetch.Request{
		URL: u, Validators: val,
		Limit: c.maxSnapshot, LimitName: "kernelorg.max_snapshot_bytes",
		Timeout: c.snapTimeout, TimeoutName: "kernelorg.snapshot_timeout",
		Consume: func(r io.Reader) error { return consume(&snapshotCounter{r: r, n: &c.snapshotBytes}) },
	})
}

// snapshotCounter counts what is read of snapshots, failed tries included.
type snapshotCounter struct {
	r io.Reader
	n *atomic.Int64
}

func (s *snapshotCounter) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n.Add(int64(n))
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
