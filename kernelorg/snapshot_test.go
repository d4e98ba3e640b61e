package kernelorg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// hashTarGz unpacks and NAR-hashes a .tar.gz as the client does.
func hashTarGz(t testing.TB, data []byte) (string, error) {
	t.Helper()
	dir := t.TempDir()
	top, err := unpackTarGz(bytes.NewReader(data), dir, 1<<30, snapshotLimit)
	if err != nil {
		return "", err
	}
	return narHashDir(context.Background(), filepath.Join(dir, top))
}

// The simulator's snapshot hashes, in Go, to what its independent go-nix
// serialisation says.
func TestSnapshotHashMatchesSimulator(t *testing.T) {
	for _, v := range []string{"6.19-rc4", "7.0-rc1"} {
		got, err := hashTarGz(t, kernelorgtest.TarGz(v))
		if err != nil {
			t.Fatal(err)
		}
		if want := kernelorgtest.NARHash(v); got != want {
			t.Errorf("%s: NAR hash %s, simulator says %s", v, got, want)
		}
	}
}

// Hashing an unpacked tree stops when its context ends, naming the file it
// got to.
func TestNARHashCanceled(t *testing.T) {
	dir := t.TempDir()
	top, err := unpackTarGz(bytes.NewReader(kernelorgtest.TarGz("6.19-rc4")), dir, 1<<30, snapshotLimit)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := filepath.Join(dir, top)
	h, err := narHashDir(ctx, root)
	if want := root + ": context canceled"; h != "" || err == nil || err.Error() != want || !errors.Is(err, context.Canceled) {
		t.Errorf("narHashDir = %q, %v; want the error %s", h, err, want)
	}
}

// tarEntry is one entry of a hand-made tar.
type tarEntry struct {
	name, data, link string
	typ              byte
	mode             int64
}

func makeTar(t testing.TB, gz bool, es ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var zw *gzip.Writer
	var tw *tar.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	for _, e := range es {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Format: tar.FormatPAX}
		if e.typ == tar.TypeXGlobalHeader {
			h = &tar.Header{Name: e.name, Typeflag: e.typ, PAXRecords: map[string]string{"comment": e.data}, Format: tar.FormatPAX}
		} else if h.Mode == 0 {
			h.Mode = 0o644
		}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if gz {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// awkward is a tarball that exercises what git archive never produces but
// Nix unpacks all the same: no directory entries, entries out of order, a
// leading "./", a group-only executable bit, a 0555 file, a hard link, a long
// name, names sorting around "/" and a name starting with "..".
func awkward(t testing.TB) []byte {
	long := "top/" + strings.Repeat("d", 120) + "/" + strings.Repeat("f", 130)
	return makeTar(t, true,
		tarEntry{name: "pax_global_header", typ: tar.TypeXGlobalHeader, data: "0123456789abcdef"},
		tarEntry{name: "./top/z/last", typ: tar.TypeReg, data: "z"},
		tarEntry{name: "top/a-b", typ: tar.TypeReg, data: "a-b"},
		tarEntry{name: "top/a/x", typ: tar.TypeReg, data: "x", mode: 0o700},
		tarEntry{name: "top/a/group-exec", typ: tar.TypeReg, data: "g", mode: 0o654},
		tarEntry{name: "top/a/ro-exec", typ: tar.TypeReg, data: "r", mode: 0o555},
		tarEntry{name: "top/a.b", typ: tar.TypeReg, data: ""},
		tarEntry{name: "top/..hidden", typ: tar.TypeReg, data: "dots"},
		tarEntry{name: "top/a/hard", typ: tar.TypeLink, link: "top/a/x"},
		tarEntry{name: "top/ln", typ: tar.TypeSymlink, link: "a/x"},
		tarEntry{name: "top/dangling", typ: tar.TypeSymlink, link: "no/such/file"},
		tarEntry{name: "top/empty/", typ: tar.TypeDir, mode: 0o700},
		tarEntry{name: long, typ: tar.TypeReg, data: strings.Repeat("long\n", 1000)},
	)
}

// The NAR hash computed in Go equals Nix's own, for the simulator's rc
// snapshot and for an awkward tarball.
func TestSnapshotHashMatchesNix(t *testing.T) {
	if _, err := exec.LookPath("nix-prefetch-url"); err != nil {
		t.Skip("nix-prefetch-url not on PATH")
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"linux-6.19-rc4.tar.gz": kernelorgtest.TarGz("6.19-rc4"),
		"awkward.tar.gz":        awkward(t),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("nix-prefetch-url", "--unpack", "file://"+p)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("nix-prefetch-url %s: %v\n%s", name, err, stderr.String())
		}
		want := "sha256:" + strings.TrimSpace(string(out))
		got, err := hashTarGz(t, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s: Go NAR hash %s, nix-prefetch-url --unpack says %s", name, got, want)
		}
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestUnpackRejects(t *testing.T) {
	reg := func(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeReg, data: "x"} }
	dir := func(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeDir} }
	sym := func(name, to string) tarEntry { return tarEntry{name: name, typ: tar.TypeSymlink, link: to} }
	tests := []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"absolute", []tarEntry{dir("top/"), reg("/etc/passwd")}, `tar entry "/etc/passwd": absolute path`},
		{"dotdot", []tarEntry{dir("top/"), reg("top/../../x")}, `tar entry "top/../../x": ".." in path`},
		{"dotdot inside", []tarEntry{dir("top/"), reg("top/a/../b")}, `tar entry "top/a/../b": ".." in path`},
		{"absolute symlink", []tarEntry{dir("top/"), sym("top/l", "/etc/passwd")}, `tar entry "top/l": symlink to the absolute path "/etc/passwd" leaves the tree`},
		{"escaping symlink", []tarEntry{dir("top/"), sym("top/a/l", "../../x")}, `tar entry "top/a/l": symlink to "../../x" leaves the tree`},
		{"escaping the top dir", []tarEntry{dir("top/"), sym("top/l", "../top/x")}, `tar entry "top/l": symlink to "../top/x" leaves the tree`},
		{"through a symlink", []tarEntry{dir("top/"), dir("top/d/"), sym("top/l", "d"), reg("top/l/x")}, `tar entry "top/l/x": lies under the symlink "top/l"`},
		{"dir over a symlink", []tarEntry{dir("top/"), dir("top/d/"), sym("top/l", "d"), dir("top/l/")}, `tar entry "top/l/": a second entry for the symlink of that name`},
		{"hard link out", []tarEntry{dir("top/"), {name: "top/h", typ: tar.TypeLink, link: "/etc/passwd"}}, `tar entry "top/h": hard link to "/etc/passwd" leaves the tree`},
		{"hard link to nothing", []tarEntry{dir("top/"), {name: "top/h", typ: tar.TypeLink, link: "top/x"}}, `tar entry "top/h": hard link to "top/x", which is not a regular file earlier in the archive`},
		{"hard link via symlink", []tarEntry{dir("top/"), reg("top/d/f"), sym("top/l", "d"), {name: "top/h", typ: tar.TypeLink, link: "top/l/f"}}, `tar entry "top/h": hard link to "top/l/f" goes through a symlink`},
		{"char device", []tarEntry{dir("top/"), {name: "top/null", typ: tar.TypeChar}}, `tar entry "top/null": a character device: refusing device files and fifos`},
		{"block device", []tarEntry{dir("top/"), {name: "top/sda", typ: tar.TypeBlock}}, `tar entry "top/sda": a block device: refusing device files and fifos`},
		{"fifo", []tarEntry{dir("top/"), {name: "top/p", typ: tar.TypeFifo}}, `tar entry "top/p": a fifo: refusing device files and fifos`},
		{"two tops", []tarEntry{dir("top/"), reg("top/a"), reg("other/b")}, `tar entry "other/b": a second top-level entry besides "top": want exactly one top-level directory`},
		{"top is a file", []tarEntry{reg("README")}, `tar entry "README": the top-level entry is a regular file: want a directory`},
		{"top is a symlink", []tarEntry{sym("top", "x")}, `tar entry "top": the top-level entry is a symlink: want a directory`},
		{"duplicate", []tarEntry{reg("top/a"), reg("top/a")}, `tar entry "top/a": a second entry of that name: openat top/a: file exists`},
		{"file under a file", []tarEntry{reg("top/a"), reg("top/a/b")}, `tar entry "top/a/b": its directory cannot be made (is a file in the way?): mkdirat top/a: file exists`},
		{"dir over a file", []tarEntry{reg("top/a"), dir("top/a/")}, `tar entry "top/a/": a directory where a file is already unpacked: mkdirat top/a: file exists`},
		{"empty", nil, "the archive is empty: want exactly one top-level directory"},
		{"too many entries", []tarEntry{dir("top/"), dir("top/a/"), dir("top/b/"), dir("top/c/"), dir("top/d/"), dir("top/e/"), dir("top/f/"), dir("top/g/"), dir("top/h/"), dir("top/i/")}, `tar entry "top/i/": the unpacked tree exceeds 5000 bytes (8 × kernelorg.max_snapshot_bytes)`},
		{"only a global header", []tarEntry{{name: "pax_global_header", typ: tar.TypeXGlobalHeader, data: "c"}}, "the archive is empty: want exactly one top-level directory"},
		{"too large", []tarEntry{dir("top/"), {name: "top/big", typ: tar.TypeReg, data: strings.Repeat("x", 5000)}}, `tar entry "top/big": the unpacked tree exceeds 5000 bytes (8 × kernelorg.max_snapshot_bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dst := filepath.Join(parent, "spool")
			if err := os.Mkdir(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := unpackTar(bytes.NewReader(makeTar(t, false, tt.entries...)), dst, 5000, snapshotLimit)
			if err == nil || err.Error() != tt.want {
				t.Errorf("unpackTar: %v\nwant %s", err, tt.want)
			}
			assertConfined(t, parent)
		})
	}
}

// assertConfined fails if anything but the spool directory appeared in parent.
func assertConfined(t testing.TB, parent string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "spool" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("the unpacker wrote outside its directory: %v", names)
	}
}

// FuzzSnapshot feeds arbitrary tar streams to the unpacker and NAR writer:
// nothing escapes the spool directory, and whatever unpacks hashes.
func FuzzSnapshot(f *testing.F) {
	zr, _ := gzip.NewReader(bytes.NewReader(kernelorgtest.TarGz("6.19-rc4")))
	plain, _ := io.ReadAll(zr)
	f.Add(plain)
	zr, _ = gzip.NewReader(bytes.NewReader(awkward(f)))
	plain, _ = io.ReadAll(zr)
	f.Add(plain)
	f.Add(makeTar(f, false, tarEntry{name: "top/", typ: tar.TypeDir}, tarEntry{name: "top/l", typ: tar.TypeSymlink, link: "../x"}))
	f.Add(makeTar(f, false, tarEntry{name: "top/a", typ: tar.TypeReg, data: "a"}, tarEntry{name: "top/h", typ: tar.TypeLink, link: "top/a"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "spool")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		top, err := unpackTar(bytes.NewReader(data), dst, 1<<20, snapshotLimit)
		assertConfined(t, parent)
		if err != nil {
			return
		}
		if strings.Contains(top, "/") || top == "" || top == "." || top == ".." {
			t.Fatalf("top-level directory %q", top)
		}
		if h, err := narHashDir(context.Background(), filepath.Join(dst, top)); err != nil || !validNixHash(h) {
			t.Fatalf("narHashDir = %q, %v", h, err)
		}
	})
}

// A pre-POSIX tar marks regular files with a NUL type byte (the deprecated
// tar.TypeRegA); archive/tar reads those as tar.TypeReg, so the unpacker
// needs no case of its own for them and still unpacks them.
func TestUnpackLegacyRegularFile(t *testing.T) {
	b := makeTar(t, false, tarEntry{name: "top/", typ: tar.TypeDir}, tarEntry{name: "top/old", typ: tar.TypeReg, data: "legacy"})
	h := b[512:1024] // the second header block: top/old
	if string(h[:7]) != "top/old" || h[156] != tar.TypeReg {
		t.Fatalf("unexpected tar layout: second header %q type %q", h[:7], h[156])
	}
	h[156] = 0
	for i := 148; i < 156; i++ {
		h[i] = ' '
	}
	var sum int64
	for _, c := range h {
		sum += int64(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))

	dst := t.TempDir()
	top, err := unpackTar(bytes.NewReader(b), dst, 1<<20, snapshotLimit)
	if err != nil || top != "top" {
		t.Fatalf("unpackTar: %q, %v; want top", top, err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "top", "old"))
	if err != nil || string(got) != "legacy" {
		t.Errorf("top/old: %q, %v; want %q", got, err, "legacy")
	}
}
