package gitops_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/gitops/gittest"
)

// missing is a commit hash no repository here has.
const missing = "1111111111111111111111111111111111111111"

// warnings logs what OpenManaged warns about, without times, into logs.
func warnings(logs *logBuffer) gitops.Options {
	o := opts(day1)
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{
		Level: slog.LevelWarn,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	return o
}

// down makes the HTTP remote answer every request 503, as a git host does
// in an outage.
func down(rw http.ResponseWriter, _ *http.Request) bool {
	http.Error(rw, "down for maintenance", http.StatusServiceUnavailable)
	return true
}

// listing is the names in dir, sorted.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// thePack is the path of the clone's only pack, without its extension.
func thePack(t *testing.T, dir string) string {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*.pack"))
	if len(packs) != 1 {
		t.Fatalf("%d packs in %s, want 1", len(packs), dir)
	}
	return strings.TrimSuffix(packs[0], ".pack")
}

// rot flips bytes in the middle of the blob of path in the clone's pack,
// leaving the pack's length and checksum as they were: damage no check short
// of reading every object sees.
func rot(t *testing.T, w *world, dir, path string) {
	t.Helper()
	blob := gitCmd(t, w.upstream, "rev-parse", base+":"+path)
	pack := thePack(t, dir)
	var off, size int64
	for _, line := range strings.Split(gitCmd(t, dir, "verify-pack", "-v", pack+".idx"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == blob {
			size, _ = strconv.ParseInt(f[3], 10, 64)
			off, _ = strconv.ParseInt(f[4], 10, 64)
		}
	}
	if size == 0 {
		t.Fatalf("blob %s of %s not in %s", blob, path, pack)
	}
	f, err := os.OpenFile(pack+".pack", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 8), off+size/2); err != nil {
		t.Fatal(err)
	}
}

// rotText is a file large enough for git to send a change to it as a delta
// against the version the clone has.
func rotText(lines int) []byte {
	var b strings.Builder
	for i := range lines {
		fmt.Fprintf(&b, "line %d of a file whose blob rots in the managed clone\n", i)
	}
	return []byte(b.String())
}

// A managed clone that cannot be read or written fails every open while the
// remote is down (it cannot be replaced, and stays where it is), then one
// open moves it aside and clones afresh, warning what was wrong.
func TestOpenManagedHeals(t *testing.T) {
	t.Parallel()
	// In the wanted texts: DIR the clone, PACK its pack (no extension), TIP
	// the base it was cloned at, PARENT that commit's parent, URL upstream.
	cases := []struct {
		name   string
		damage func(t *testing.T, w *world, dir string)
		// moves: upstream changes rot.txt after the damage, so the open
		// fetches a thin pack built on the clone's objects.
		moves bool
		want  string // the warning's err
		// down is the error of an open while the remote is down, after
		// "fetching staging-nixos from URL: "; damage found before
		// fetching also names the damage.
		down string
	}{{
		name:   "pack directory removed",
		damage: func(t *testing.T, _ *world, dir string) { os.RemoveAll(filepath.Join(dir, "objects", "pack")) },
		want:   "stat DIR/objects/pack: no such file or directory",
	}, {
		// Tests run as root, which writes anywhere: a file where a
		// directory should be stands in for a clone that cannot be written.
		name: "pack directory cannot be written",
		damage: func(t *testing.T, _ *world, dir string) {
			os.RemoveAll(filepath.Join(dir, "objects", "pack"))
			writeFile(t, filepath.Join(dir, "objects", "pack"), "")
		},
		want: "DIR/objects/pack is not a directory",
	}, {
		name: "branch directory cannot be written",
		damage: func(t *testing.T, _ *world, dir string) {
			os.RemoveAll(filepath.Join(dir, "refs", "heads"))
			writeFile(t, filepath.Join(dir, "refs", "heads"), "")
		},
		want: "DIR/refs/heads is not a directory",
	}, {
		name:   "pack deleted, index kept",
		damage: func(t *testing.T, _ *world, dir string) { os.Remove(thePack(t, dir) + ".pack") },
		want:   "PACK.idx has no " + "PACKNAME.pack",
	}, {
		name:   "index deleted, pack kept",
		damage: func(t *testing.T, _ *world, dir string) { os.Remove(thePack(t, dir) + ".idx") },
		want:   "PACK.pack has no " + "PACKNAME.idx",
	}, {
		name: "pack cut short",
		damage: func(t *testing.T, _ *world, dir string) {
			p := thePack(t, dir) + ".pack"
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			os.Truncate(p, fi.Size()/2)
		},
		want: "PACK.pack does not end in the checksum its index records: it was cut short or overwritten",
	}, {
		name: "branch at a missing commit",
		damage: func(t *testing.T, _ *world, dir string) {
			writeFile(t, filepath.Join(dir, "refs", "heads", base), missing+"\n")
		},
		want: "refs/heads/staging-nixos points at " + missing + ", which is not a commit in the clone",
	}, {
		name:   "HEAD at a missing commit",
		damage: func(t *testing.T, _ *world, dir string) { writeFile(t, filepath.Join(dir, "HEAD"), missing+"\n") },
		want:   "HEAD points at " + missing + ", which is not a commit in the clone",
	}, {
		name:   "HEAD overwritten",
		damage: func(t *testing.T, _ *world, dir string) { writeFile(t, filepath.Join(dir, "HEAD"), "\x00\x00\x00\x00") },
		want:   "DIR/HEAD is neither a ref nor a commit hash",
	}, {
		name:   "HEAD removed",
		damage: func(t *testing.T, _ *world, dir string) { os.Remove(filepath.Join(dir, "HEAD")) },
		want:   "open DIR/HEAD: no such file or directory",
	}, {
		name: "shallow file overwritten",
		damage: func(t *testing.T, _ *world, dir string) {
			b, err := os.ReadFile(filepath.Join(dir, "shallow"))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "shallow"), string(b)+"\x00\x00\x00\n")
		},
		want: "DIR/shallow line 2 is not a commit hash",
	}, {
		name:   "shallow file lists a missing commit",
		damage: func(t *testing.T, _ *world, dir string) { writeFile(t, filepath.Join(dir, "shallow"), missing+"\n") },
		want:   "DIR/shallow line 1: " + missing + " is not a commit in the clone",
	}, {
		name:   "shallow file removed",
		damage: func(t *testing.T, _ *world, dir string) { os.Remove(filepath.Join(dir, "shallow")) },
		want:   "refs/heads/staging-nixos: TIP lacks its parent PARENT and is not listed in the shallow file",
	}, {
		name:   "an object rotted",
		damage: func(t *testing.T, w *world, dir string) { rot(t, w, dir, "rot.txt") },
		moves:  true,
		want:   "fetching staging-nixos from URL: storing the fetched pack: zlib: invalid checksum",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, "http")
			w.upstreamCommit("a file to rot", map[string][]byte{"rot.txt": rotText(200)})
			dir := w.cache
			tip := w.open(day1).Base().String()
			// What a healed clone may delete and must not: an older damaged
			// copy, a directory of someone else's.
			writeFile(t, dir+".broken-20261101T000000Z/kupdate-managed", "")
			writeFile(t, dir+".broken-mine/notes", "")
			pack := thePack(t, dir)
			tc.damage(t, w, dir)
			if tc.moves {
				w.upstreamCommit("upstream moves", map[string][]byte{"rot.txt": append(rotText(200), "one more line\n"...)})
			}
			r := strings.NewReplacer("DIR", dir, "PACKNAME", filepath.Base(pack), "PACK", pack, "TIP", tip,
				"PARENT", gitCmd(t, w.upstream, "rev-parse", tip+"^"), "URL", w.upstreamURL)
			want := r.Replace(tc.want)

			// The remote is down: every open fails, naming the damage when
			// it was found before fetching, and the clone stays.
			w.setHook(down)
			var logs logBuffer
			wantDown := fmt.Sprintf("fetching staging-nixos from %s: unexpected client error: unexpected requesting %q status code: 503", w.upstreamURL, w.upstreamURL+"/info/refs?service=git-upload-pack")
			if !tc.moves {
				wantDown = fmt.Sprintf("managed clone %s is damaged (%s); cloning it afresh: %s", dir, want, wantDown)
			}
			before := listing(t, filepath.Dir(dir))
			for i := range 2 {
				if _, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, warnings(&logs)); errText(err) != wantDown {
					t.Errorf("open %d, remote down: %v\nwant: %s", i+1, err, wantDown)
				}
			}
			if got := listing(t, filepath.Dir(dir)); !slices.Equal(got, before) {
				t.Errorf("remote down: the cache dir went from %v to %v", before, got)
			}

			// The remote is back: one open heals.
			w.setHook(nil)
			r2, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, warnings(&logs))
			if err != nil {
				t.Fatalf("open, remote back: %v", err)
			}
			defer r2.Close()
			aside := dir + ".broken-20261120T120000Z"
			wantLog := fmt.Sprintf("level=WARN msg=\"managed clone damaged; moved it aside and cloned afresh\" dir=%s error=%q moved_to=%s\n", dir, want, aside)
			if diff := cmp.Diff(wantLog, logs.String()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
			if want := gitCmd(t, w.upstream, "rev-parse", base); r2.Base().String() != want {
				t.Errorf("Base() = %s, want %s", r2.Base(), want)
			}
			gitCmd(t, dir, "fsck", "--no-dangling")
			wantDir := []string{"nixpkgs.git", "nixpkgs.git.broken-20261120T120000Z", "nixpkgs.git.broken-mine"}
			if got := listing(t, filepath.Dir(dir)); !slices.Equal(got, wantDir) {
				t.Errorf("cache dir: %v, want %v", got, wantDir)
			}

			// Healed for good: the next open neither warns nor moves.
			r2.Close()
			var after logBuffer
			r3, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, warnings(&after))
			if err != nil {
				t.Fatalf("open after healing: %v", err)
			}
			r3.Close()
			if after.String() != "" {
				t.Errorf("open after healing logged:\n%s", after.String())
			}
			if got := listing(t, filepath.Dir(dir)); !slices.Equal(got, wantDir) {
				t.Errorf("cache dir after healing: %v, want %v", got, wantDir)
			}
		})
	}
}

var quotedHash = regexp.MustCompile(`"[0-9a-f]{40}"`)

// A fetch that fails on the remote's side leaves the managed clone where it
// is: only damage to the clone itself replaces it.
func TestOpenManagedRemoteFailures(t *testing.T) {
	t.Parallel()
	// serveAltered answers upload-pack with the real answer, altered.
	serveAltered := func(w *world, alter func([]byte) []byte) func(http.ResponseWriter, *http.Request) bool {
		return func(rw http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
				return false
			}
			rec := httptest.NewRecorder()
			(&gittest.Handler{Root: w.root}).ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				rw.Header()[k] = v
			}
			rw.WriteHeader(rec.Code)
			rw.Write(alter(rec.Body.Bytes()))
			return true
		}
	}
	cases := []struct {
		name string
		hook func(w *world) func(http.ResponseWriter, *http.Request) bool
		want string // after "fetching staging-nixos from URL: "
	}{{
		name: "remote down",
		hook: func(*world) func(http.ResponseWriter, *http.Request) bool { return down },
		want: `unexpected client error: unexpected requesting "URL/info/refs?service=git-upload-pack" status code: 503`,
	}, {
		name: "pack cut short",
		hook: func(w *world) func(http.ResponseWriter, *http.Request) bool {
			return serveAltered(w, func(b []byte) []byte { return b[:len(b)/2] })
		},
		want: "storing the fetched pack: malformed PACK file: unexpected EOF",
	}, {
		name: "pack corrupted",
		hook: func(w *world) func(http.ResponseWriter, *http.Request) bool {
			return serveAltered(w, func(b []byte) []byte {
				b = bytes.Clone(b)
				b[len(b)-len("0000")-1] ^= 0xff // the pack's checksum, before the final flush-pkt
				return b
			})
		},
		// The checksums, which depend on how git packed the objects, read
		// as HASH.
		want: "storing the fetched pack: malformed PACK file: checksum mismatch: HASH instead of HASH",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, "http")
			w.upstreamCommit("a file that changes", map[string][]byte{"rot.txt": rotText(200)})
			dir := w.cache
			w.open(day1).Close()
			before, packs := listing(t, filepath.Dir(dir)), listing(t, filepath.Join(dir, "objects", "pack"))
			tip := w.upstreamCommit("upstream moves", map[string][]byte{"rot.txt": append(rotText(200), "one more line\n"...)})

			w.setHook(tc.hook(w))
			var logs logBuffer
			want := "fetching staging-nixos from " + w.upstreamURL + ": " + strings.ReplaceAll(tc.want, "URL", w.upstreamURL)
			for i := range 2 {
				_, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, warnings(&logs))
				if quotedHash.ReplaceAllString(errText(err), "HASH") != want {
					t.Errorf("open %d: %v\nwant: %s", i+1, err, want)
				}
			}
			if logs.String() != "" {
				t.Errorf("logged:\n%s", logs.String())
			}
			if got := listing(t, filepath.Dir(dir)); !slices.Equal(got, before) {
				t.Errorf("the cache dir went from %v to %v", before, got)
			}
			if got := listing(t, filepath.Join(dir, "objects", "pack")); !slices.Equal(got, packs) {
				t.Errorf("the clone's packs went from %v to %v", packs, got)
			}

			w.setHook(nil)
			r, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, warnings(&logs))
			if err != nil {
				t.Fatalf("open, remote back: %v", err)
			}
			defer r.Close()
			if r.Base().String() != tip || logs.String() != "" {
				t.Errorf("remote back: Base() = %s, want %s; logged:\n%s", r.Base(), tip, logs.String())
			}
			if got := listing(t, filepath.Dir(dir)); !slices.Equal(got, before) {
				t.Errorf("remote back: the cache dir went from %v to %v", before, got)
			}
		})
	}
}

// Damage found only by fetching, from a file:// remote, whose upload-pack
// waits to write the rest of its answer: it is read, not waited on forever.
func TestOpenManagedHealsFromFileRemote(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "file")
	w.upstreamCommit("a file to rot", map[string][]byte{"rot.txt": rotText(200)})
	dir := w.cache
	w.open(day1).Close()
	rot(t, w, dir, "rot.txt")
	tip := w.upstreamCommit("upstream moves", map[string][]byte{"rot.txt": append(rotText(200), "one more line\n"...)})
	var logs logBuffer
	r, err := gitops.OpenManaged(context.Background(), dir, w.upstreamRemote(), base, warnings(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := fmt.Sprintf("level=WARN msg=\"managed clone damaged; moved it aside and cloned afresh\" dir=%s error=\"fetching staging-nixos from %s: storing the fetched pack: zlib: invalid checksum\" moved_to=%s.broken-20261120T120000Z\n", dir, w.upstreamURL, dir)
	if diff := cmp.Diff(want, logs.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if r.Base().String() != tip {
		t.Errorf("Base() = %s, want %s", r.Base(), tip)
	}
}

// What an interrupted process left next to the managed clone and in it is
// removed by the next open, as long as it is kupdate's.
func TestOpenManagedRemovesLeftovers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "file")
	dir := w.cache
	w.open(day1).Close()
	writeFile(t, dir+".new-123/kupdate-managed", "")
	writeFile(t, dir+".new-123/objects/pack/pack-1.pack", "half a clone")
	writeFile(t, dir+".old/kupdate-managed", "")
	writeFile(t, dir+".new-mine/notes", "")
	writeFile(t, filepath.Join(dir, "objects", "pack", "tmp_pack_123"), "half a pack")
	writeFile(t, filepath.Join(dir, "objects", "pack", "tmp_idx_123"), "half an index")
	var logs logBuffer
	r, err := gitops.OpenManaged(context.Background(), dir, w.upstreamRemote(), base, warnings(&logs))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if logs.String() != "" {
		t.Errorf("logged:\n%s", logs.String())
	}
	if got, want := listing(t, filepath.Dir(dir)), []string{"nixpkgs.git", "nixpkgs.git.new-mine"}; !slices.Equal(got, want) {
		t.Errorf("cache dir: %v, want %v", got, want)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "tmp_*")); len(tmps) != 0 {
		t.Errorf("left: %v", tmps)
	}
}
