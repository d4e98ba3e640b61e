package kernelorg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// syncBuffer collects a Client's log lines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a Client as a new `kupdate run` makes it: fresh memory, the
// given cache directory, its log kept.
func process(t *testing.T, srv *kernelorgtest.Server, cache string) (*Client, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	c := newClient(t, srv, func(o *Options) {
		o.CacheDir = cache
		o.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	return c, log
}

// cost is what one path cost the simulator and the client since ResetCounts
// and the Stats in before.
type cost struct {
	ServerRequests int
	ServerBytes    int64
	Requests       int64
	NotModified    int64
	Bytes          int64
}

func costOf(srv *kernelorgtest.Server, path string, c *Client, before Stats) cost {
	s := c.Stats()
	return cost{srv.Requests(path), srv.Bytes(path), s.Requests - before.Requests, s.NotModified - before.NotModified, s.Bytes - before.Bytes}
}

// The target: a one-shot process with nothing new costs one conditional
// request for releases.json, answered 304 with no body, and one for a
// checksum file it needs again.
func TestCacheAcrossProcesses(t *testing.T) {
	srv := newServer(t, jan2026...)
	cache := t.TempDir()
	ctx := context.Background()
	first, _ := process(t, srv, cache)
	want, err := first.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Hash(ctx, MustParseVersion("6.12.64")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"releases.json.entry", "v6.x-sha256sums.asc.entry"} {
		if _, err := os.Stat(filepath.Join(cache, "http-cache", name)); err != nil {
			t.Errorf("after the first process: %v", err)
		}
	}

	srv.ResetCounts()
	second, log := process(t, srv, cache)
	got, err := second.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Releases from the cached copy (-want +got):\n%s", diff)
	}
	if got, want := costOf(srv, "/releases.json", second, Stats{}), (cost{ServerRequests: 1, Requests: 1, NotModified: 1}); got != want {
		t.Errorf("releases.json in a new process cost %+v, want %+v", got, want)
	}
	sums := kernelorgtest.ChecksumsPath("6.12.64")
	before := second.Stats()
	for _, v := range []string{"6.12.64", "6.18.5"} {
		if h, err := second.Hash(ctx, MustParseVersion(v)); err != nil || h != kernelorgtest.FlatHash(v) {
			t.Errorf("Hash(%s) from the cached checksum file = %s, %v", v, h, err)
		}
	}
	if got, want := costOf(srv, sums, second, before), (cost{ServerRequests: 1, Requests: 1, NotModified: 1}); got != want {
		t.Errorf("the checksum file in a new process cost %+v, want %+v", got, want)
	}
	if s := log.String(); strings.Contains(s, "level=WARN") {
		t.Errorf("warnings reading a good cache:\n%s", s)
	}

	// Something new upstream: the next process fetches it in full and
	// keeps it; the one after that asks about the new copy.
	if err := srv.Upsert(kernelorgtest.Spec{Version: "6.12.65", Moniker: "longterm"}); err != nil {
		t.Fatal(err)
	}
	for i, wantNotModified := range []int64{0, 1} {
		srv.ResetCounts()
		c, _ := process(t, srv, cache)
		rels, err := c.Releases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rels[5].Version.String() != "6.12.65" {
			t.Errorf("process %d after the upsert: %s in branch %s", i, rels[5].Version, rels[5].Branch)
		}
		if h, err := c.Hash(ctx, MustParseVersion("6.12.65")); err != nil || h != kernelorgtest.FlatHash("6.12.65") {
			t.Errorf("process %d: Hash(6.12.65) = %s, %v", i, h, err)
		}
		if s := c.Stats(); s.Requests != 2 || s.NotModified != 2*wantNotModified || (s.Bytes == 0) != (wantNotModified == 1) {
			t.Errorf("process %d after the upsert: stats %+v, want 2 requests, %d answered 304", i, s, 2*wantNotModified)
		}
	}
}

// Without a cache directory nothing is written and every process starts
// with unconditional requests.
func TestNoCacheDirIsMemoryOnly(t *testing.T) {
	srv := newServer(t, jan2026...)
	ctx := context.Background()
	for range 2 {
		c, _ := process(t, srv, "")
		if _, err := c.Releases(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Hash(ctx, MustParseVersion("6.12.64")); err != nil {
			t.Fatal(err)
		}
		if s := c.Stats(); s.Requests != 2 || s.NotModified != 0 {
			t.Errorf("stats %+v, want 2 full fetches", s)
		}
	}
}

// cachedBody is a file of http-cache as the tests read and write it. The
// format is spelled out here, apart from fetch.Store, because it is a
// contract: files an earlier kupdate wrote must still be read.
type cachedBody struct {
	cachedHeader
	Body []byte
}

type cachedHeader struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	SHA256       string `json:"sha256"`
}

// readCached and writeCached let a test damage a cache file.
func readCached(t *testing.T, file string) cachedBody {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h, body, ok := bytes.Cut(data, []byte("\n"))
	var e cachedBody
	if err := json.Unmarshal(h, &e.cachedHeader); !ok || err != nil {
		t.Fatalf("%s: not a header line and a body: %v", file, err)
	}
	e.Body = body
	return e
}

func writeCached(t *testing.T, file string, e cachedBody, fixDigest bool) {
	t.Helper()
	if fixDigest {
		sum := sha256.Sum256(e.Body)
		e.SHA256 = hex.EncodeToString(sum[:])
	}
	h, err := json.Marshal(e.cachedHeader)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(append(h, '\n'), e.Body...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A cache file that is damaged, unreadable, or of another URL is logged and
// ignored: the request is unconditional, the answer right, and the file
// good again afterwards.
func TestCorruptReleasesCache(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, file string)
		wantLog string
	}{
		{"header not JSON", func(t *testing.T, file string) {
			os.WriteFile(file, []byte("<html>disk full</html>\n{}"), 0o644)
		}, `level=WARN msg="ignoring a corrupt kernel.org cache file; fetching in full" file=%FILE% error="header line: invalid character '<' looking for beginning of value"`},
		{"no header line", func(t *testing.T, file string) {
			os.WriteFile(file, []byte(`{"url": "`), 0o644)
		}, `level=WARN msg="ignoring a corrupt kernel.org cache file; fetching in full" file=%FILE% error="no header line"`},
		{"empty", func(t *testing.T, file string) {
			os.WriteFile(file, nil, 0o644)
		}, `level=WARN msg="ignoring a corrupt kernel.org cache file; fetching in full" file=%FILE% error="no header line"`},
		{"truncated", func(t *testing.T, file string) {
			data, _ := os.ReadFile(file)
			os.WriteFile(file, data[:len(data)/2], 0o644)
		}, `level=WARN msg="ignoring a corrupt kernel.org cache file (its body does not match its digest); fetching in full" file=%FILE%` + "\n"},
		{"body changed", func(t *testing.T, file string) {
			e := readCached(t, file)
			e.Body = bytes.Replace(e.Body, []byte("6.12.64"), []byte("6.12.99"), 1)
			writeCached(t, file, e, false)
		}, `level=WARN msg="ignoring a corrupt kernel.org cache file (its body does not match its digest); fetching in full" file=%FILE%`},
		{"body not releases.json", func(t *testing.T, file string) {
			e := readCached(t, file)
			e.Body = []byte(`{"releases": [{"moniker": "stable"}]}`)
			writeCached(t, file, e, true)
		}, `level=WARN msg="ignoring a cached releases.json that does not parse; fetching in full" file=%FILE% error="%URL%/releases.json: releases[0]: want string fields \"moniker\" and \"version\""`},
		{"unreadable", func(t *testing.T, file string) {
			os.Remove(file)
			os.Mkdir(file, 0o755)
		}, `level=WARN msg="ignoring an unreadable kernel.org cache file; fetching in full" file=%FILE% error="read %FILE%: is a directory"`},
		{"another URL", func(t *testing.T, file string) {
			e := readCached(t, file)
			e.URL = "https://mirror.example/releases.json"
			writeCached(t, file, e, true)
		}, `level=INFO msg="ignoring a kernel.org cache file of another URL" file=%FILE% cached=https://mirror.example/releases.json url=%URL%/releases.json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, jan2026...)
			cache := t.TempDir()
			ctx := context.Background()
			first, _ := process(t, srv, cache)
			want, err := first.Releases(ctx)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(cache, "http-cache", "releases.json.entry")
			tt.damage(t, file)

			srv.ResetCounts()
			c, log := process(t, srv, cache)
			got, err := c.Releases(ctx)
			if err != nil {
				t.Fatalf("Releases with a damaged cache file: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Releases (-want +got):\n%s", diff)
			}
			full := srv.Bytes("/releases.json")
			if got, want := costOf(srv, "/releases.json", c, Stats{}), (cost{ServerRequests: 1, ServerBytes: full, Requests: 1, Bytes: full}); got != want || full == 0 {
				t.Errorf("cost %+v, want one full fetch %+v", got, want)
			}
			wantLog := strings.NewReplacer("%FILE%", file, "%URL%", srv.URL).Replace(tt.wantLog)
			if !strings.Contains(log.String(), wantLog) {
				t.Errorf("log:\n%s\nwant a line with\n%s", log, wantLog)
			}
			if tt.name == "unreadable" {
				return // the directory stays in the way; every process fetches in full
			}
			// The full fetch replaced the damaged file.
			srv.ResetCounts()
			next, _ := process(t, srv, cache)
			if _, err := next.Releases(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := costOf(srv, "/releases.json", next, Stats{}), (cost{ServerRequests: 1, Requests: 1, NotModified: 1}); got != want {
				t.Errorf("the process after: cost %+v, want %+v", got, want)
			}
		})
	}
}

// A cached checksum file is verified again when it is read: one whose
// signature no longer verifies (its digest made to match, so only the
// signature can tell) is never trusted, even though the server would answer
// 304 to its validators.
func TestTamperedChecksumsCache(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(body []byte) []byte
		wantErr string // after "file=%FILE% error=\"%URL%"
	}{
		{"hash changed", func(body []byte) []byte {
			i := bytes.Index(body, []byte("  linux-6.12.64.tar.xz\n")) - 64
			body = bytes.Clone(body)
			if body[i] == '0' {
				body[i] = '1'
			} else {
				body[i] = '0'
			}
			return body
		}, ": bad signature: openpgp: invalid signature: "},
		{"line added", func(body []byte) []byte {
			return bytes.Replace(body, []byte("\n-----BEGIN PGP SIGNATURE"), []byte("\n"+strings.Repeat("0", 64)+"  linux-6.12.99.tar.xz\n\n-----BEGIN PGP SIGNATURE"), 1)
		}, ": bad signature: openpgp: invalid signature: "},
		{"signature stripped", func(body []byte) []byte {
			_, plain, _ := bytes.Cut(body, []byte("\n\n"))
			plain, _, _ = bytes.Cut(plain, []byte("-----BEGIN PGP SIGNATURE"))
			return plain
		}, `: not a clearsigned message (no valid \"BEGIN PGP SIGNED MESSAGE\" block)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, jan2026...)
			cache := t.TempDir()
			ctx := context.Background()
			first, _ := process(t, srv, cache)
			if _, err := first.Hash(ctx, MustParseVersion("6.12.64")); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(cache, "http-cache", "v6.x-sha256sums.asc.entry")
			e := readCached(t, file)
			e.Body = tt.damage(e.Body)
			writeCached(t, file, e, true)

			srv.ResetCounts()
			c, log := process(t, srv, cache)
			for _, v := range []string{"6.12.64", "6.12.99"} {
				h, err := c.Hash(ctx, MustParseVersion(v))
				switch {
				case v == "6.12.64" && (err != nil || h != kernelorgtest.FlatHash(v)):
					t.Errorf("Hash(%s) = %s, %v; want %s", v, h, err, kernelorgtest.FlatHash(v))
				case v == "6.12.99" && err == nil:
					t.Errorf("Hash(6.12.99), listed only in the tampered copy = %s", h)
				}
			}
			sums := kernelorgtest.ChecksumsPath("6.12.64")
			full := srv.Bytes(sums)
			if got, want := costOf(srv, sums, c, Stats{}), (cost{ServerRequests: 1, ServerBytes: full, Requests: 1, Bytes: full}); got != want || full == 0 {
				t.Errorf("cost %+v, want one full fetch %+v", got, want)
			}
			wantLog := `level=WARN msg="ignoring a cached checksum file that does not verify; fetching in full" file=` + file + ` error="` + srv.URL + sums + tt.wantErr
			if !strings.Contains(log.String(), wantLog) {
				t.Errorf("log:\n%s\nwant a line starting\n%s", log, wantLog)
			}
			// The verified file replaced the tampered one.
			if got := readCached(t, file); bytes.Equal(got.Body, e.Body) {
				t.Errorf("the tampered copy is still cached")
			}
		})
	}
}

// A corrupt checksum cache file is ignored like a corrupt releases.json.
func TestCorruptChecksumsCache(t *testing.T) {
	srv := newServer(t, jan2026...)
	cache := t.TempDir()
	ctx := context.Background()
	first, _ := process(t, srv, cache)
	if _, err := first.Hash(ctx, MustParseVersion("6.12.64")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(cache, "http-cache", "v6.x-sha256sums.asc.entry")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	srv.ResetCounts()
	c, log := process(t, srv, cache)
	if h, err := c.Hash(ctx, MustParseVersion("6.12.64")); err != nil || h != kernelorgtest.FlatHash("6.12.64") {
		t.Errorf("Hash(6.12.64) = %s, %v", h, err)
	}
	sums := kernelorgtest.ChecksumsPath("6.12.64")
	if s := c.Stats(); s.Requests != 1 || s.NotModified != 0 || s.Bytes != srv.Bytes(sums) || s.Bytes == 0 {
		t.Errorf("stats %+v, want one full fetch of %d bytes", s, srv.Bytes(sums))
	}
	if want := `level=WARN msg="ignoring a corrupt kernel.org cache file (its body does not match its digest); fetching in full" file=` + file + "\n"; !strings.Contains(log.String(), want) {
		t.Errorf("log:\n%s\nwant a line ending\n%s", log, want)
	}
}

// A copy kept with Last-Modified alone (a server that sends no ETag) is
// asked about with If-Modified-Since.
func TestCacheLastModifiedOnly(t *testing.T) {
	srv := newServer(t, jan2026...)
	cache := t.TempDir()
	ctx := context.Background()
	first, _ := process(t, srv, cache)
	if _, err := first.Releases(ctx); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(cache, "http-cache", "releases.json.entry")
	e := readCached(t, file)
	if e.ETag == "" || e.LastModified == "" {
		t.Fatalf("cached validators %q, %q; want both", e.ETag, e.LastModified)
	}
	e.ETag = ""
	writeCached(t, file, e, false)
	srv.ResetCounts()
	c, _ := process(t, srv, cache)
	if _, err := c.Releases(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := costOf(srv, "/releases.json", c, Stats{}), (cost{ServerRequests: 1, Requests: 1, NotModified: 1}); got != want {
		t.Errorf("cost %+v, want %+v", got, want)
	}
}
