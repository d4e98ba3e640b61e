package kernelorg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// jan2026 is kernel.org in early January 2026, as the simulator serves it.
var jan2026 = []kernelorgtest.Spec{
	{Version: "6.19-rc4", Date: "2026-01-04"},
	{Version: "6.18.5", Date: "2026-01-08"},
	{Version: "6.17.13", EOL: true, Date: "2025-12-18"},
	{Version: "6.12.64", Moniker: "longterm"},
	{Version: "6.6.119", Moniker: "longterm"},
	{Version: "6.1.159", Moniker: "longterm"},
	{Version: "5.15.197", Moniker: "longterm"},
	{Version: "5.10.247", Moniker: "longterm"},
	{Version: "5.4.301", Moniker: "longterm", EOL: true},
	{Version: "next-20260105"},
}

func newServer(t testing.TB, specs ...kernelorgtest.Spec) *kernelorgtest.Server {
	t.Helper()
	srv, err := kernelorgtest.New(specs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func testOptions(t testing.TB, srv *kernelorgtest.Server) Options {
	return Options{
		URL:          srv.URL,
		GitURL:       srv.URL,
		Keyring:      srv.Keyring(),
		Fingerprint:  srv.Fingerprint(),
		UserAgent:    "kupdate/v1.2.3-test",
		RetryBackoff: time.Millisecond,
		Timeout:      30 * time.Second,
		CacheDir:     t.TempDir(),
		Now:          func() time.Time { return testNow },
	}
}

// testNow is the clock of the test clients: it stamps rc hash records.
var testNow = time.Date(2026, 1, 6, 7, 8, 9, 0, time.UTC)

func newClient(t testing.TB, srv *kernelorgtest.Server, edit ...func(*Options)) *Client {
	t.Helper()
	o := testOptions(t, srv)
	for _, e := range edit {
		e(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReleases(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	ctx := context.Background()
	got, err := c.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stable := func(v, moniker, date string, eol, lts bool) Release {
		ver := MustParseVersion(v)
		dir := fmt.Sprintf("%s/pub/linux/kernel/v%d.x/", srv.URL, ver.Major)
		at, _ := time.Parse(time.DateOnly, date) // the simulator's timestamp is the date's midnight
		return Release{Version: ver, Branch: ver.Series(), Moniker: moniker, EOL: eol, LTS: lts, Released: date, ReleasedAt: at,
			Source: dir + "linux-" + v + ".tar.xz", ChangeLog: dir + "ChangeLog-" + v}
	}
	want := []Release{
		stable("5.4.301", "longterm", "2026-01-05", true, true),
		stable("5.10.247", "longterm", "2026-01-05", false, true),
		stable("5.15.197", "longterm", "2026-01-05", false, true),
		stable("6.1.159", "longterm", "2026-01-05", false, true),
		stable("6.6.119", "longterm", "2026-01-05", false, true),
		stable("6.12.64", "longterm", "2026-01-05", false, true),
		stable("6.17.13", "stable", "2025-12-18", true, false),
		stable("6.18.5", "stable", "2026-01-08", false, false),
		{Version: MustParseVersion("6.19-rc4"), Branch: "testing", Moniker: "mainline", Released: "2026-01-04",
			ReleasedAt: time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), Source: srv.URL + "/torvalds/t/linux-6.19-rc4.tar.gz"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Releases (-want +got):\n%s", diff)
	}
	if ua := srv.LastUserAgent(); ua != "kupdate/v1.2.3-test" {
		t.Errorf("User-Agent = %q", ua)
	}

	// Nothing new: one conditional request, answered 304, no body.
	before := c.Stats()
	again, err := c.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("Releases after a 304 (-want +got):\n%s", diff)
	}
	after := c.Stats()
	if d := (Stats{Requests: after.Requests - before.Requests, NotModified: after.NotModified - before.NotModified, Bytes: after.Bytes - before.Bytes}); d != (Stats{Requests: 1, NotModified: 1}) {
		t.Errorf("a poll with nothing new cost %+v, want one request answered 304", d)
	}
	if n := srv.Requests("/releases.json"); n != 2 {
		t.Errorf("server saw %d requests for releases.json, want 2", n)
	}

	// A newer point release appears between cycles.
	if err := srv.Upsert(kernelorgtest.Spec{Version: "6.12.65", Moniker: "longterm"}); err != nil {
		t.Fatal(err)
	}
	got, err = c.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got[5].Version.String() != "6.12.65" || len(got) != len(want) {
		t.Errorf("after the upsert: %v", got)
	}
}

// The simulator's Last-Modified alone (no ETag) also makes a poll cheap.
func TestReleasesIfModifiedSince(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	if _, err := c.Releases(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.relVal.ETag = ""
	if _, err := c.Releases(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.NotModified != 1 {
		t.Errorf("stats %+v, want one 304", s)
	}
}

func TestHashStable(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.Releases(ctx); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"6.12.64", "6.18.5", "6.6.119", "5.10.247", "5.4.301"} {
		got, err := c.Hash(ctx, MustParseVersion(v))
		if err != nil {
			t.Fatal(err)
		}
		if want := kernelorgtest.FlatHash(v); got != want {
			t.Errorf("Hash(%s) = %s, want %s", v, got, want)
		}
	}
	// One checksum file per folder per cycle, and no tarball.
	wantCounts := map[string]int{
		"/releases.json":                        1,
		"/pub/linux/kernel/v6.x/sha256sums.asc": 1,
		"/pub/linux/kernel/v5.x/sha256sums.asc": 1,
	}
	if diff := cmp.Diff(wantCounts, srv.Counts()); diff != "" {
		t.Errorf("requests per path (-want +got):\n%s", diff)
	}

	// Next cycle: the checksum file is revalidated, not downloaded again.
	if _, err := c.Releases(ctx); err != nil {
		t.Fatal(err)
	}
	before := c.Stats()
	if _, err := c.Hash(ctx, MustParseVersion("6.12.64")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Hash(ctx, MustParseVersion("6.18.5")); err != nil {
		t.Fatal(err)
	}
	after := c.Stats()
	if after.Requests-before.Requests != 1 || after.NotModified-before.NotModified != 1 || after.Bytes != before.Bytes {
		t.Errorf("second cycle: stats %+v -> %+v, want one 304 for v6.x", before, after)
	}
	// A mainline final release is hashed from the same file.
	if err := srv.Upsert(kernelorgtest.Spec{Version: "6.19"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Releases(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Hash(ctx, MustParseVersion("6.19")); err != nil || got != kernelorgtest.FlatHash("6.19") {
		t.Errorf("Hash(6.19) = %s, %v", got, err)
	}
}

// The real kernel.org key is embedded and pinned by default; the simulator's
// file is then signed by a key outside the keyring.
func TestEmbeddedKeyRefusesOtherSigners(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv, func(o *Options) { o.Keyring, o.Fingerprint = nil, "" })
	_, err := c.Hash(context.Background(), MustParseVersion("6.12.64"))
	want := "linux 6.12.64: " + srv.URL + "/pub/linux/kernel/v6.x/sha256sums.asc: signed by a key that is not in the kernel.org keyring (kernelorg.keyring): refusing it"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestNewRejects(t *testing.T) {
	srv := newServer(t, jan2026...)
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"unpinnable", func(o *Options) { o.Fingerprint = AutosignerFingerprint }, "kernel.org keyring Options.Keyring has no key with primary fingerprint B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1: pin the fingerprint of a key in the keyring (kernelorg.fingerprint)"},
		{"unpinnable in the embedded key", func(o *Options) { o.Keyring = nil }, "kernel.org keyring (the embedded Kernel.org autosigner key) has no key with primary fingerprint " + srv.Fingerprint() + ": pin the fingerprint of a key in the keyring (kernelorg.fingerprint)"},
		{"unpinnable, named", func(o *Options) {
			o.Fingerprint, o.KeyringName = AutosignerFingerprint, "kernelorg.keyring /etc/keys.asc"
		}, "kernel.org keyring kernelorg.keyring /etc/keys.asc has no key with primary fingerprint B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1: pin the fingerprint of a key in the keyring (kernelorg.fingerprint)"},
		{"bad fingerprint", func(o *Options) { o.Fingerprint = "B886" }, `invalid OpenPGP fingerprint "B886": want 40 hex digits`},
		{"bad keyring", func(o *Options) { o.Keyring = []byte("not a key") }, "kernel.org keyring Options.Keyring: openpgp: invalid argument: no armored data found (want an armored OpenPGP public key block)"},
		{"bad url", func(o *Options) { o.URL = "ftp://x" }, `kernelorg: Options.URL: want an http(s) URL, got "ftp://x"`},
		{"no git url", func(o *Options) { o.GitURL = "" }, `kernelorg: Options.GitURL: want an http(s) URL, got ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(t, srv)
			tt.edit(&o)
			if _, err := New(o); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error starting %q", err, tt.want)
			}
		})
	}
	// A fingerprint with spaces and in lower case is the same fingerprint.
	o := testOptions(t, srv)
	o.Fingerprint = strings.ToLower(srv.Fingerprint()[:4] + " " + srv.Fingerprint()[4:])
	if _, err := New(o); err != nil {
		t.Errorf("New with a spaced lower-case fingerprint: %v", err)
	}
	if _, err := New(Options{URL: srv.URL, GitURL: srv.URL}); err != nil {
		t.Errorf("New with the embedded key: %v", err)
	}
}

func TestHashNotYet(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	ctx := context.Background()
	sums := kernelorgtest.ChecksumsPath("6.12.64")
	srv.SetFault(sums, kernelorgtest.Fault{OmitFiles: []string{"linux-6.12.64.tar.xz"}})
	_, err := c.Hash(ctx, MustParseVersion("6.12.64"))
	want := "linux 6.12.64: linux-6.12.64.tar.xz is not listed in " + srv.URL + sums + ": " + ErrNotYet.Error()
	if !errors.Is(err, ErrNotYet) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	// The rest of the file is good.
	if got, err := c.Hash(ctx, MustParseVersion("6.18.5")); err != nil || got != kernelorgtest.FlatHash("6.18.5") {
		t.Errorf("Hash(6.18.5) = %s, %v", got, err)
	}
	// kernel.org catches up; the next cycle sees it.
	srv.ClearFault(sums)
	if _, err := c.Releases(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Hash(ctx, MustParseVersion("6.12.64")); err != nil || got != kernelorgtest.FlatHash("6.12.64") {
		t.Errorf("next cycle: Hash(6.12.64) = %s, %v", got, err)
	}
}

// Every fault gives an error naming the URL and what is wrong, never a hash,
// and leaves the other folder's branches alone.
func TestHashFaults(t *testing.T) {
	v5 := kernelorgtest.ChecksumsPath("5.10.247")
	tests := []struct {
		name  string
		fault kernelorgtest.Fault
		want  string // after "linux 5.10.247: " + URL
	}{
		{"bad signature", kernelorgtest.Fault{BadSignature: true}, ": bad signature: openpgp: invalid signature: "},
		{"tampered", kernelorgtest.Fault{TamperPlaintext: true}, ": bad signature: openpgp: invalid signature: "},
		{"signer not pinned", kernelorgtest.Fault{WrongSigner: true}, ": signed by key %OTHER%, not by the pinned key %PINNED% (kernelorg.fingerprint): refusing it"},
		{"not signed", kernelorgtest.Fault{Body: []byte("189d1f409cef8d0d234210e04595172df392f8cb297e14b447ed95720e2fd940  linux-5.10.247.tar.xz\n")}, `: not a clearsigned message (no valid "BEGIN PGP SIGNED MESSAGE" block)`},
		{"404", kernelorgtest.Fault{Status: 404}, ": kernel.org answered 404 Not Found"},
		{"persistent 503", kernelorgtest.Fault{Status: 503}, ": kernel.org answered 503 Service Unavailable (gave up after 4 tries; kernel.org is failing, the next cycle tries again)"},
		{"truncated", kernelorgtest.Fault{Truncate: 100}, ": reading the body after 100 bytes: unexpected EOF (gave up after 4 tries; the answer was cut short, the next cycle tries again)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, jan2026...)
			c := newClient(t, srv)
			ctx := context.Background()
			srv.SetFault(v5, tt.fault)
			got, err := c.Hash(ctx, MustParseVersion("5.10.247"))
			want := "linux 5.10.247: GET " + srv.URL + v5 + tt.want
			if !strings.Contains(tt.want, " answered ") && !strings.Contains(tt.want, "EOF") {
				want = "linux 5.10.247: " + srv.URL + v5 + tt.want
			}
			want = strings.NewReplacer("%OTHER%", srv.OtherFingerprint(), "%PINNED%", srv.Fingerprint()).Replace(want)
			if err == nil || !strings.HasPrefix(err.Error(), want) || got != "" || errors.Is(err, ErrNotYet) {
				t.Errorf("Hash = %q, %v\nwant an error starting %s", got, err, want)
			}
			// Same cycle, same folder: the error stands without another request.
			n := srv.Requests(v5)
			if _, err2 := c.Hash(ctx, MustParseVersion("5.15.197")); err2 == nil || srv.Requests(v5) != n {
				t.Errorf("5.15.197 in the same cycle: %v after %d more requests", err2, srv.Requests(v5)-n)
			}
			// Another folder is unaffected.
			if h, err := c.Hash(ctx, MustParseVersion("6.12.64")); err != nil || h != kernelorgtest.FlatHash("6.12.64") {
				t.Errorf("Hash(6.12.64) = %s, %v", h, err)
			}
			// The next cycle recovers once kernel.org does.
			srv.ClearFault(v5)
			if _, err := c.Releases(ctx); err != nil {
				t.Fatal(err)
			}
			if h, err := c.Hash(ctx, MustParseVersion("5.10.247")); err != nil || h != kernelorgtest.FlatHash("5.10.247") {
				t.Errorf("next cycle: Hash(5.10.247) = %s, %v", h, err)
			}
		})
	}
}

// A file that was good, then turns bad, yields no hash: the verified copy is
// not served in its place.
func TestHashNoStaleFallback(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.Hash(ctx, MustParseVersion("6.12.64")); err != nil {
		t.Fatal(err)
	}
	srv.SetFault(kernelorgtest.ChecksumsPath("6.12.64"), kernelorgtest.Fault{TamperPlaintext: true})
	if _, err := c.Releases(ctx); err != nil {
		t.Fatal(err)
	}
	if h, err := c.Hash(ctx, MustParseVersion("6.12.64")); err == nil || h != "" {
		t.Errorf("Hash after tampering = %q, %v", h, err)
	}
}

func TestRetries(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	srv.SetFault("/releases.json", kernelorgtest.Fault{Status: 502, Times: 2})
	if _, err := c.Releases(context.Background()); err != nil {
		t.Fatalf("502 twice then OK: %v", err)
	}
	if n, s := srv.Requests("/releases.json"), c.Stats(); n != 3 || s.Retries != 2 {
		t.Errorf("%d requests, stats %+v; want 3 requests, 2 retries", n, s)
	}
	// A truncated body is retried too.
	srv.SetFault(kernelorgtest.ChecksumsPath("6.1.159"), kernelorgtest.Fault{Truncate: 10, Times: 1})
	if h, err := c.Hash(context.Background(), MustParseVersion("6.1.159")); err != nil || h != kernelorgtest.FlatHash("6.1.159") {
		t.Errorf("after one truncated body: %s, %v", h, err)
	}
	// 429 with Retry-After is transient; 403 is not.
	srv.SetFault("/releases.json", kernelorgtest.Fault{Status: 403})
	_, err := c.Releases(context.Background())
	if want := "GET " + srv.URL + "/releases.json: kernel.org answered 403 Forbidden"; err == nil || err.Error() != want {
		t.Errorf("403: %v, want %s", err, want)
	}
}

func TestPersistentFailureIsBounded(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	srv.SetFault("/releases.json", kernelorgtest.Fault{Status: 500})
	_, err := c.Releases(context.Background())
	want := "GET " + srv.URL + "/releases.json: kernel.org answered 500 Internal Server Error (gave up after 4 tries; kernel.org is failing, the next cycle tries again)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if n := srv.Requests("/releases.json"); n != DefaultMaxAttempts {
		t.Errorf("%d requests, want %d", n, DefaultMaxAttempts)
	}

	// A server that never answers is abandoned at the timeout.
	slow := newServer(t, jan2026...)
	slow.SetFault("/releases.json", kernelorgtest.Fault{Delay: time.Hour})
	c = newClient(t, slow, func(o *Options) { o.Timeout = 100 * time.Millisecond })
	_, err = c.Releases(context.Background())
	want = "GET " + slow.URL + "/releases.json: no complete answer within 100ms (kernelorg.timeout) after 1 try: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v\nwant it to start %s", err, want)
	}

	// The same for an rc snapshot, under its own bound.
	slow.SetFault(kernelorgtest.TarballPath("6.19-rc4"), kernelorgtest.Fault{Delay: time.Hour})
	c = newClient(t, slow, func(o *Options) { o.SnapshotTimeout = 100 * time.Millisecond })
	_, err = c.Hash(context.Background(), MustParseVersion("6.19-rc4"))
	want = "linux 6.19-rc4: snapshot: GET " + slow.URL + "/torvalds/t/linux-6.19-rc4.tar.gz: no complete answer within 100ms (kernelorg.snapshot_timeout) after 1 try: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v\nwant it to start %s", err, want)
	}
}

func TestReleasesFaults(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	ctx := context.Background()
	srv.SetFault("/releases.json", kernelorgtest.Fault{Body: []byte(`{"releases": [{"moniker": "stable", "version": `)})
	_, err := c.Releases(ctx)
	want := srv.URL + "/releases.json: not releases.json: unexpected end of JSON input"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("garbage JSON: %v\nwant %s", err, want)
	}
	srv.ClearFault("/releases.json")
	if rels, err := c.Releases(ctx); err != nil || len(rels) != 9 {
		t.Errorf("after the fault: %d releases, %v", len(rels), err)
	}
	// A bad row fails the call, naming the row; the copy from before is not
	// passed off as current.
	if err := srv.SetReleases(append(jan2026[:1:1], kernelorgtest.Spec{Version: "6.18.05", Moniker: "stable"})...); err != nil {
		t.Fatal(err)
	}
	_, err = c.Releases(ctx)
	want = srv.URL + `/releases.json: releases[1] (moniker "stable", version "6.18.05"): invalid kernel version "6.18.05"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("bad row: %v\nwant %s", err, want)
	}
}

func TestHashSnapshot(t *testing.T) {
	srv := newServer(t, jan2026...)
	cache := t.TempDir()
	c := newClient(t, srv, func(o *Options) { o.CacheDir = cache })
	ctx := context.Background()
	rc := MustParseVersion("6.19-rc4")
	want := kernelorgtest.NARHash("6.19-rc4")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if got, err := c.Hash(ctx, rc); err != nil || got != want {
				t.Errorf("Hash(6.19-rc4) = %s, %v; want %s", got, err, want)
			}
		})
	}
	wg.Wait()
	if got, err := c.Hash(ctx, rc); err != nil || got != want {
		t.Errorf("again: %s, %v", got, err)
	}
	path := kernelorgtest.TarballPath("6.19-rc4")
	if n := srv.Requests(path); n != 1 {
		t.Errorf("%d downloads of the snapshot, want 1", n)
	}
	if s := c.Stats(); s.Snapshots != 1 || s.SnapshotBytes != int64(len(kernelorgtest.TarGz("6.19-rc4"))) {
		t.Errorf("stats %+v", s)
	}
	// A new process with the same cache directory does not download it again.
	c2 := newClient(t, srv, func(o *Options) { o.CacheDir = cache })
	if got, err := c2.Hash(ctx, rc); err != nil || got != want {
		t.Errorf("from the disk cache: %s, %v", got, err)
	}
	if n := srv.Requests(path); n != 1 {
		t.Errorf("%d downloads after a restart, want 1", n)
	}
}

func TestHashSnapshotFaults(t *testing.T) {
	path := kernelorgtest.TarballPath("6.19-rc4")
	size := len(kernelorgtest.TarGz("6.19-rc4"))
	tests := []struct {
		name     string
		fault    kernelorgtest.Fault
		max      int64
		want     string // after "linux 6.19-rc4: snapshot: GET " + URL
		notYet   bool   // the error wraps ErrNotYet
		requests int
	}{
		{"truncated once", kernelorgtest.Fault{Truncate: size / 2, Times: 1}, 0, "", false, 2},
		{"503 twice", kernelorgtest.Fault{Status: 503, Times: 2}, 0, "", false, 3},
		{"truncated", kernelorgtest.Fault{Truncate: size / 2}, 0, fmt.Sprintf(": reading the body after %d bytes: ", size/2), false, 4},
		// Not yet generated: one request, no retries, and the planner holds
		// just this change.
		{"404", kernelorgtest.Fault{Status: 404}, 0, ": kernel.org answered 404 Not Found: kernel.org has not published it yet", true, 1},
		{"410", kernelorgtest.Fault{Status: 410}, 0, ": kernel.org answered 410 Gone", false, 1},
		{"persistent 503", kernelorgtest.Fault{Status: 503}, 0, ": kernel.org answered 503 Service Unavailable (gave up after 4 tries; kernel.org is failing, the next cycle tries again)", false, 4},
		{"not gzip", kernelorgtest.Fault{Body: []byte("<html>rate limited</html>")}, 0, ": not a gzip stream: gzip: invalid header", false, 1},
		{"too large", kernelorgtest.Fault{}, 100, ": larger than 100 bytes (kernelorg.max_snapshot_bytes): refusing it", false, 1},
		{"bad tar", kernelorgtest.Fault{Body: gzipped(t, []byte("this is not a tar file, but it is long enough to be read as a header block? no."))}, 0, ": reading tar: unexpected EOF", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, jan2026...)
			c := newClient(t, srv, func(o *Options) { o.MaxSnapshotBytes = tt.max })
			srv.SetFault(path, tt.fault)
			got, err := c.Hash(context.Background(), MustParseVersion("6.19-rc4"))
			if tt.want == "" {
				if err != nil || got != kernelorgtest.NARHash("6.19-rc4") {
					t.Errorf("Hash = %s, %v", got, err)
				}
			} else if want := "linux 6.19-rc4: snapshot: GET " + srv.URL + path + tt.want; err == nil || !strings.HasPrefix(err.Error(), want) || got != "" {
				t.Errorf("Hash = %q, %v\nwant an error starting %s", got, err, want)
			}
			if errors.Is(err, ErrNotYet) != tt.notYet {
				t.Errorf("errors.Is(%v, ErrNotYet) = %t, want %t", err, !tt.notYet, tt.notYet)
			}
			if n := srv.Requests(path); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			// A stable hash does not depend on the snapshot.
			if h, err := c.Hash(context.Background(), MustParseVersion("6.18.5")); err != nil || h != kernelorgtest.FlatHash("6.18.5") {
				t.Errorf("Hash(6.18.5) = %s, %v", h, err)
			}
		})
	}
}

// An rc that releases.json lists but whose snapshot git.kernel.org has not
// generated yet is "not yet", with the URL in the error; nothing about it
// is remembered, so once the snapshot appears the next call hashes it.
func TestHashSnapshotNotYet(t *testing.T) {
	srv := newServer(t, jan2026...)
	cache := t.TempDir()
	c := newClient(t, srv, func(o *Options) { o.CacheDir = cache })
	ctx := context.Background()
	path := kernelorgtest.TarballPath("6.19-rc4")
	srv.SetFault(path, kernelorgtest.Fault{Status: 404})
	rels, err := c.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(rels, func(r Release) bool { return r.Branch == "testing" }); i < 0 || rels[i].Version.String() != "6.19-rc4" {
		t.Fatalf("releases.json does not list 6.19-rc4 under testing: %+v", rels)
	}
	rc := MustParseVersion("6.19-rc4")
	for range 2 {
		got, err := c.Hash(ctx, rc)
		want := "linux 6.19-rc4: snapshot: GET " + srv.URL + path + ": kernel.org answered 404 Not Found: kernel.org has not published it yet"
		if got != "" || err == nil || err.Error() != want || !errors.Is(err, ErrNotYet) {
			t.Errorf("Hash = %q, %v\nwant %s (wrapping ErrNotYet)", got, err, want)
		}
	}
	if n := srv.Requests(path); n != 2 {
		t.Errorf("%d requests for two calls, want 2 (a 404 is neither retried nor remembered)", n)
	}
	// Only releases.json is kept: no rc hash, no unpacking directory.
	if ents, err := os.ReadDir(cache); err != nil || len(ents) != 1 || ents[0].Name() != "http-cache" {
		t.Errorf("cache directory after a 404: %v, %v; want only http-cache/", ents, err)
	}
	srv.ClearFault(path)
	if got, err := c.Hash(ctx, rc); err != nil || got != kernelorgtest.NARHash("6.19-rc4") {
		t.Errorf("once git.kernel.org has it: Hash = %s, %v", got, err)
	}
}

// A caller that gives up gets its own cancellation back, and a checksum
// file it abandoned is fetched again rather than remembered as failed.
func TestCallerCancels(t *testing.T) {
	srv := newServer(t, jan2026...)
	c := newClient(t, srv)
	sums := kernelorgtest.ChecksumsPath("6.12.64")
	srv.SetFault(sums, kernelorgtest.Fault{Delay: time.Hour, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for srv.Requests(sums) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Hash(ctx, MustParseVersion("6.12.64"))
	if want := "linux 6.12.64: GET " + srv.URL + sums + ": context canceled"; err == nil || err.Error() != want || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want %s", err, want)
	}
	if h, err := c.Hash(context.Background(), MustParseVersion("6.12.64")); err != nil || h != kernelorgtest.FlatHash("6.12.64") {
		t.Errorf("after the cancellation: %s, %v", h, err)
	}
}

// TestReleasedAt: the release time is releases.json's timestamp (kernel.org
// gives the second), the date's midnight when there is none.
func TestReleasedAt(t *testing.T) {
	doc := `{"releases": [
  {"moniker": "stable", "version": "6.18.6", "iseol": false, "released": {"timestamp": 1768131245, "isodate": "2026-01-11"}},
  {"moniker": "longterm", "version": "6.12.65", "iseol": false, "released": {"isodate": "2026-01-11"}}
]}`
	rels, err := parseReleases("https://kernel.org/releases.json", []byte(doc), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{
		"6.18.6":  time.Date(2026, 1, 11, 11, 34, 5, 0, time.UTC),
		"6.12.65": time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC),
	}
	for _, r := range rels {
		if !r.ReleasedAt.Equal(want[r.Version.String()]) {
			t.Errorf("%s released at %v, want %v", r.Version, r.ReleasedAt, want[r.Version.String()])
		}
	}
	if len(rels) != 2 {
		t.Errorf("%d releases, want 2", len(rels))
	}
}

// TestNewestSigned: while kernel.org has not signed a release's line, the
// newest older release of its series that the file lists is what a branch
// can move to; none is ErrNotYet.
func TestNewestSigned(t *testing.T) {
	srv := newServer(t, jan2026...)
	if err := srv.Upsert(kernelorgtest.Spec{Version: "6.12.65", Moniker: "longterm"}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	ctx := context.Background()
	srv.SetFault(kernelorgtest.ChecksumsPath("6.12.65"), kernelorgtest.Fault{OmitFiles: []string{"linux-6.12.65.tar.xz"}})
	v, h, err := c.NewestSigned(ctx, MustParseVersion("6.12.65"))
	if err != nil || v.String() != "6.12.64" || h != kernelorgtest.FlatHash("6.12.64") {
		t.Errorf("NewestSigned(6.12.65) = %s, %s, %v; want 6.12.64 and its hash", v, h, err)
	}
	_, _, err = c.NewestSigned(ctx, MustParseVersion("6.12.64"))
	want := "linux 6.12.64: " + srv.URL + kernelorgtest.ChecksumsPath("6.12.64") + " lists no older release of 6.12: " + ErrNotYet.Error()
	if !errors.Is(err, ErrNotYet) || err.Error() != want {
		t.Errorf("NewestSigned(6.12.64): %v\nwant %s", err, want)
	}
	if _, _, err := c.NewestSigned(ctx, MustParseVersion("6.19-rc4")); !errors.Is(err, ErrNotYet) {
		t.Errorf("NewestSigned of an rc: %v, want ErrNotYet", err)
	}
}
