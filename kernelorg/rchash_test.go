package kernelorg

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// wrongHash is well-formed, and the NAR hash of no snapshot.
const wrongHash = "sha256:0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"

func readRecord(t testing.TB, file string) rcRecord {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var r rcRecord
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v\n%s", file, err, b)
	}
	return r
}

func writeRecord(t testing.TB, file string, r rcRecord) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	writeRaw(t, file, string(b))
}

func writeRaw(t testing.TB, file, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rcFile(cache, v string) string {
	return filepath.Join(cache, "rc-hashes", "linux-"+v+".nar-sha256")
}

// The record says what the hash was computed from, in these very bytes,
// and a new process uses it without a request.
func TestRCRecord(t *testing.T) {
	srv := newServer(t, jan2026...)
	cache := t.TempDir()
	c, _ := process(t, srv, cache)
	rc := MustParseVersion("6.19-rc4")
	if h, err := c.Hash(context.Background(), rc); err != nil || h != kernelorgtest.NARHash("6.19-rc4") {
		t.Fatalf("Hash = %s, %v", h, err)
	}
	b, err := os.ReadFile(rcFile(cache, "6.19-rc4"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": "6.19-rc4",
  "url": "` + srv.URL + `/torvalds/t/linux-6.19-rc4.tar.gz",
  "hash": "` + kernelorgtest.NARHash("6.19-rc4") + `",
  "size": ` + itoa(len(kernelorgtest.TarGz("6.19-rc4"))) + `,
  "etag": "\"c2f8691a1690a660\"",
  "last_modified": "Mon, 05 Jan 2026 12:01:00 GMT",
  "computed": "2026-01-06T07:08:09Z"
}
`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("the record (-want +got):\n%s", diff)
	}
	c2, _ := process(t, srv, cache)
	if h, err := c2.Hash(context.Background(), rc); err != nil || h != kernelorgtest.NARHash("6.19-rc4") {
		t.Errorf("a new process: Hash = %s, %v", h, err)
	}
	if n := srv.Requests(kernelorgtest.TarballPath("6.19-rc4")); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// A cache file that cannot be used is not trusted: the snapshot is hashed
// again, once, and the file rewritten as a record. That includes a bare
// hash, the format of kupdate before records (right or wrong, nothing
// says what it was computed from): an operator upgrading pays one download
// of the rc in the tree, and is never stuck with a wrong one.
func TestRCCacheFileNotUsed(t *testing.T) {
	right := kernelorgtest.NARHash("6.19-rc4")
	tests := []struct {
		name string
		data func(url string) string
		log  string
	}{
		{"old format, right hash", func(string) string { return right + "\n" },
			`level=INFO msg="the rc hash cache file is a bare hash (an older kupdate's) that does not say what it was computed from; hashing the snapshot again" file=`},
		{"old format, wrong hash", func(string) string { return wrongHash + "\n" },
			`level=INFO msg="the rc hash cache file is a bare hash (an older kupdate's) that does not say what it was computed from; hashing the snapshot again" file=`},
		{"not a hash", func(string) string { return "sha256:not-a-hash\n" },
			`level=WARN msg="ignoring a corrupt rc hash cache file; hashing the snapshot again" file=`},
		{"bad hash in a record", func(u string) string { return `{"version":"6.19-rc4","url":"` + u + `","hash":"sha256:short"}` },
			`level=WARN msg="ignoring a corrupt rc hash cache file; hashing the snapshot again" file=`},
		{"record of another rc", func(u string) string { return `{"version":"6.19-rc3","url":"` + u + `","hash":"` + wrongHash + `"}` },
			`level=WARN msg="ignoring a corrupt rc hash cache file; hashing the snapshot again" file=`},
		{"cut-off record", func(u string) string { return `{"version":"6.19-rc4","url":"` + u + `","ha` },
			`level=WARN msg="ignoring a corrupt rc hash cache file; hashing the snapshot again" file=`},
		{"record of another URL", func(string) string {
			return `{"version":"6.19-rc4","url":"https://git.kernel.org/torvalds/t/linux-6.19-rc4.tar.gz","hash":"` + wrongHash + `"}`
		}, `level=INFO msg="ignoring an rc hash cached from another URL; hashing the snapshot again" file=`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, jan2026...)
			cache := t.TempDir()
			file := rcFile(cache, "6.19-rc4")
			writeRaw(t, file, tt.data(srv.URL+kernelorgtest.TarballPath("6.19-rc4")))
			c, log := process(t, srv, cache)
			if h, err := c.Hash(context.Background(), MustParseVersion("6.19-rc4")); err != nil || h != right {
				t.Fatalf("Hash = %s, %v", h, err)
			}
			if n := srv.Requests(kernelorgtest.TarballPath("6.19-rc4")); n != 1 {
				t.Errorf("%d downloads, want 1", n)
			}
			if r := readRecord(t, file); r.Hash != right || r.ETag == "" || r.Rechecked {
				t.Errorf("rewritten as %+v", r)
			}
			if !strings.Contains(log.String(), tt.log+file) {
				t.Errorf("log lacks %s%s:\n%s", tt.log, file, log)
			}
			// Nothing is left of the unpacked tree.
			if ents, _ := os.ReadDir(cache); len(ents) != 1 || ents[0].Name() != "rc-hashes" {
				t.Errorf("cache dir holds %v", ents)
			}
		})
	}
}

// A well-formed wrong hash in a record is trusted (nothing but Nix can
// tell), until Nix disagrees with it: Recheck downloads the snapshot again,
// finds the right hash, says so naming the file, and replaces the record,
// in memory and on disk.
func TestRecheckPoisonedRecord(t *testing.T) {
	srv := newServer(t, jan2026...)
	cache := t.TempDir()
	file := rcFile(cache, "6.19-rc4")
	path := kernelorgtest.TarballPath("6.19-rc4")
	writeRecord(t, file, rcRecord{Version: "6.19-rc4", URL: srv.URL + path, Hash: wrongHash, Size: 646, ETag: `"c2f8691a1690a660"`})
	c, log := process(t, srv, cache)
	ctx := context.Background()
	rc := MustParseVersion("6.19-rc4")
	if h, err := c.Hash(ctx, rc); err != nil || h != wrongHash {
		t.Fatalf("Hash = %s, %v; want the cached %s", h, err, wrongHash)
	}
	if n := srv.Requests(path); n != 0 {
		t.Fatalf("%d requests for a cached hash", n)
	}

	right := kernelorgtest.NARHash("6.19-rc4")
	got, err := c.Recheck(ctx, rc, wrongHash)
	if want := (Recheck{Hash: right, Changed: true, File: file}); err != nil || got != want {
		t.Fatalf("Recheck = %+v, %v; want %+v", got, err, want)
	}
	if n := srv.Requests(path); n != 1 {
		t.Errorf("%d requests, want 1 (unconditional: the record never was rechecked)", n)
	}
	want := rcRecord{Version: "6.19-rc4", URL: srv.URL + path, Hash: right, Size: int64(len(kernelorgtest.TarGz("6.19-rc4"))),
		ETag: `"c2f8691a1690a660"`, LastModified: "Mon, 05 Jan 2026 12:01:00 GMT", Computed: testNow, Rechecked: true}
	if diff := cmp.Diff(want, readRecord(t, file), cmp.AllowUnexported(rcRecord{})); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	warn := `level=WARN msg="the rc hash was wrong: Nix disagreed with it, and a fresh download of the snapshot hashes to another; the cache file is rewritten" version=6.19-rc4 file=` + file + " wrong=" + wrongHash + " hash=" + right + "\n"
	if !strings.Contains(log.String(), warn) {
		t.Errorf("log lacks\n%s\n%s", warn, log)
	}
	for _, cl := range []*Client{c, newClient(t, srv, func(o *Options) { o.CacheDir = cache })} {
		if h, err := cl.Hash(ctx, rc); err != nil || h != right {
			t.Errorf("Hash after the recheck = %s, %v", h, err)
		}
	}
	if n := srv.Requests(path); n != 1 {
		t.Errorf("%d requests after the recheck, want 1", n)
	}
}

// git.kernel.org serves another snapshot under the same name (a new ETag):
// the cached hash stands until Nix disagrees (asking costs no request),
// then the recheck finds the new one. Once a record comes from a recheck,
// a further recheck of the same hash is a conditional request: a 304
// confirms it without a body, a changed snapshot is hashed.
func TestRecheckChangedSnapshot(t *testing.T) {
	srv := newServer(t, jan2026...)
	cache := t.TempDir()
	path := kernelorgtest.TarballPath("6.19-rc4")
	file := rcFile(cache, "6.19-rc4")
	ctx := context.Background()
	rc := MustParseVersion("6.19-rc4")
	first, second := kernelorgtest.NARHash("6.19-rc4"), kernelorgtest.NARHash("6.19-rc5")
	other := kernelorgtest.TarGz("6.19-rc5")

	earlier, _ := process(t, srv, cache)
	if h, err := earlier.Hash(ctx, rc); err != nil || h != first {
		t.Fatalf("Hash = %s, %v", h, err)
	}
	srv.SetFault(path, kernelorgtest.Fault{Body: other})
	c, log := process(t, srv, cache)
	if h, err := c.Hash(ctx, rc); err != nil || h != first {
		t.Fatalf("Hash of the changed snapshot = %s, %v; want the cached %s", h, err, first)
	}

	steps := []struct {
		name     string
		used     string
		restore  bool // serve the first snapshot again before the step
		want     Recheck
		requests int // of the snapshot, in the step
		bytes    int64
	}{
		{"Nix disagrees: the snapshot changed", first, false, Recheck{Hash: second, Changed: true, File: file}, 1, int64(len(other))},
		{"Nix disagrees again, for another reason: 304", second, false, Recheck{Hash: second, NotModified: true, File: file}, 1, 0},
		{"the snapshot changed back: 200 to the conditional request", second, true, Recheck{Hash: first, Changed: true, File: file}, 1, int64(len(kernelorgtest.TarGz("6.19-rc4")))},
		{"a caller with another hash gets a fresh download", wrongHash, false, Recheck{Hash: first, Changed: true, File: file}, 1, int64(len(kernelorgtest.TarGz("6.19-rc4")))},
	}
	for _, s := range steps {
		if s.restore {
			srv.ClearFault(path)
		}
		srv.ResetCounts()
		before := c.Stats()
		got, err := c.Recheck(ctx, rc, s.used)
		if err != nil || got != s.want {
			t.Errorf("%s: Recheck = %+v, %v; want %+v", s.name, got, err, s.want)
		}
		if n, b := srv.Requests(path), c.Stats().SnapshotBytes-before.SnapshotBytes; n != s.requests || b != s.bytes {
			t.Errorf("%s: %d requests, %d snapshot bytes; want %d, %d", s.name, n, b, s.requests, s.bytes)
		}
		if r := readRecord(t, file); r.Hash != s.want.Hash || !r.Rechecked {
			t.Errorf("%s: record %+v", s.name, r)
		}
		if h, err := c.Hash(ctx, rc); err != nil || h != s.want.Hash {
			t.Errorf("%s: Hash = %s, %v", s.name, h, err)
		}
	}
	if want := `msg="Nix disagreed with the rc hash, which an earlier fresh download gave, and the snapshot has not changed since (304): the evaluation failed for another reason" version=6.19-rc4 hash=` + second + " file=" + file + "\n"; !strings.Contains(log.String(), want) {
		t.Errorf("log lacks\n%s\n%s", want, log)
	}
}

// A recheck whose download gives the same hash says that the evaluation
// failed for another reason, and keeps the hash; one that cannot download
// fails with the download's error and leaves the record alone; a release
// has no cached hash to recheck; without a cache directory the recheck is
// in memory only.
func TestRecheckOutcomes(t *testing.T) {
	ctx := context.Background()
	rc := MustParseVersion("6.19-rc4")
	right := kernelorgtest.NARHash("6.19-rc4")
	path := kernelorgtest.TarballPath("6.19-rc4")

	t.Run("same hash", func(t *testing.T) {
		srv := newServer(t, jan2026...)
		cache := t.TempDir()
		c, log := process(t, srv, cache)
		got, err := c.Recheck(ctx, rc, right)
		if want := (Recheck{Hash: right, File: rcFile(cache, "6.19-rc4")}); err != nil || got != want {
			t.Errorf("Recheck = %+v, %v; want %+v", got, err, want)
		}
		if want := `level=INFO msg="Nix disagreed with the rc hash, but a fresh download of the snapshot hashes to the same: the evaluation failed for another reason" version=6.19-rc4 hash=` + right; !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	})
	t.Run("not downloadable", func(t *testing.T) {
		srv := newServer(t, jan2026...)
		cache := t.TempDir()
		file := rcFile(cache, "6.19-rc4")
		rec := rcRecord{Version: "6.19-rc4", URL: srv.URL + path, Hash: wrongHash, Computed: testNow}
		writeRecord(t, file, rec)
		srv.SetFault(path, kernelorgtest.Fault{Status: 404})
		c, _ := process(t, srv, cache)
		_, err := c.Recheck(ctx, rc, wrongHash)
		if want := "linux 6.19-rc4: snapshot: GET " + srv.URL + path + ": kernel.org answered 404 Not Found: kernel.org has not published it yet"; err == nil || err.Error() != want || !errors.Is(err, ErrNotYet) {
			t.Errorf("Recheck error %v, want %s", err, want)
		}
		if diff := cmp.Diff(rec, readRecord(t, file)); diff != "" {
			t.Errorf("record (-want +got):\n%s", diff)
		}
	})
	t.Run("release", func(t *testing.T) {
		c := newClient(t, newServer(t, jan2026...))
		_, err := c.Recheck(ctx, MustParseVersion("6.18.5"), kernelorgtest.FlatHash("6.18.5"))
		if want := "kernelorg: Recheck of 6.18.5: only an rc's hash is computed and cached; a release's is kernel.org's signed checksum"; err == nil || err.Error() != want {
			t.Errorf("Recheck(6.18.5): %v", err)
		}
	})
	t.Run("no cache directory", func(t *testing.T) {
		srv := newServer(t, jan2026...)
		c := newClient(t, srv, func(o *Options) { o.CacheDir = "" })
		got, err := c.Recheck(ctx, rc, wrongHash)
		if want := (Recheck{Hash: right, Changed: true}); err != nil || got != want {
			t.Errorf("Recheck = %+v, %v; want %+v", got, err, want)
		}
		if h, err := c.Hash(ctx, rc); err != nil || h != right || srv.Requests(path) != 1 {
			t.Errorf("Hash = %s, %v after %d requests", h, err, srv.Requests(path))
		}
	})
}
