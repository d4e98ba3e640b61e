package srcarchive_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kupdate/kupdate/fetch"
	"github.com/kupdate/kupdate/srcarchive"
	"github.com/kupdate/kupdate/srcarchive/srcarchivetest"
)

// TestHashMatchesNix: the hash of an archive is what nix-hash computes of
// the tree tar unpacks, its top-level directory stripped (fetchzip).
func TestHashMatchesNix(t *testing.T) {
	nixHash, err := exec.LookPath("nix-hash")
	if err != nil {
		t.Fatalf("nix-hash is needed to check the NAR hash against Nix's: %v", err)
	}
	archive := srcarchivetest.Kernel("zen-kernel-6.18.2-zen1", "v6.18.2-zen1")
	sum, err := srcarchive.Hasher{TempDir: t.TempDir()}.Hash(context.Background(), bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.tar.gz"), archive, 0o644); err != nil {
		t.Fatal(err)
	}
	tar := exec.Command("tar", "-xzf", "a.tar.gz")
	tar.Dir = dir
	if out, err := tar.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	out, err := exec.Command(nixHash, "--type", "sha256", "--base32", filepath.Join(dir, "zen-kernel-6.18.2-zen1")).Output()
	if err != nil {
		t.Fatalf("nix-hash: %v", err)
	}
	if got, want := srcarchive.Nix32(sum), strings.TrimSpace(string(out)); got != want {
		t.Errorf("hash %s, nix-hash says %s", got, want)
	}
}

func TestHashRefusesEscape(t *testing.T) {
	archive := srcarchivetest.TarGz("a", srcarchivetest.File{Name: "../b/x", Data: "x"})
	_, err := srcarchive.Hasher{TempDir: t.TempDir()}.Hash(context.Background(), bytes.NewReader(archive))
	if err == nil || !strings.Contains(err.Error(), `".." in path`) {
		t.Errorf("err = %v, want the \"..\" refused", err)
	}
}

func TestHashLimit(t *testing.T) {
	archive := srcarchivetest.TarGz("a", srcarchivetest.File{Name: "big", Data: strings.Repeat("x", 3000)})
	_, err := srcarchive.Hasher{TempDir: t.TempDir(), MaxUnpacked: 2000, LimitName: "zen.max_unpacked"}.Hash(context.Background(), bytes.NewReader(archive))
	if want := `tar entry "a/big": the unpacked tree exceeds 2000 bytes (zen.max_unpacked)`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestParse(t *testing.T) {
	sum := bytes.Repeat([]byte{0xab}, 32)
	for _, s := range []string{srcarchive.SRI(sum), srcarchive.Nix32(sum), "sha256:" + srcarchive.Nix32(sum), strings.Repeat("ab", 32)} {
		got, err := srcarchive.Parse(s)
		if err != nil || !bytes.Equal(got, sum) {
			t.Errorf("Parse(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "sha256-AAAA", "xyz", strings.Repeat("e", 52)} {
		if _, err := srcarchive.Parse(s); err == nil {
			t.Errorf("Parse(%q): no error", s)
		}
	}
}

// TestSumsFetchOnce: a URL's archive is downloaded and hashed once; the
// second ask is answered from memory, with no request.
func TestSumsFetchOnce(t *testing.T) {
	archive := srcarchivetest.Kernel("linux-v6.18.9-zen1", "v6.18.9-zen1")
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(archive)
	}))
	defer srv.Close()
	want, err := srcarchive.Hasher{TempDir: t.TempDir()}.Hash(context.Background(), bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	var s srcarchive.Sums
	c := &fetch.Client{Server: "test", HTTP: srv.Client()}
	for i, wantFresh := range []bool{true, false} {
		sum, fresh, err := s.Fetch(context.Background(), c, srcarchive.Hasher{TempDir: t.TempDir()}, fetch.Request{URL: srv.URL + "/a.tar.gz"})
		if err != nil || !bytes.Equal(sum, want) || fresh != wantFresh {
			t.Errorf("Fetch #%d = %s, fresh %v, %v; want %s, fresh %v", i+1, srcarchive.SRI(sum), fresh, err, srcarchive.SRI(want), wantFresh)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
