package kernelorg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
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
	top, err := unpackTarGz(bytes.NewReader(data), dir, 1<<30)
	if err != nil {
		return "", err
	}
	return narHashDir(filepath.Join(dir, top))
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
