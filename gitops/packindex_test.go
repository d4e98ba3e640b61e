package gitops

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// packOf builds a pack by hand: a delta whose base comes after it (which git
// never writes, and storePack leaves to go-git's parser), or the usual order.
func packOf(t *testing.T, baseFirst bool) ([]byte, plumbing.Hash, plumbing.Hash) {
	t.Helper()
	base := []byte("the base blob\n")
	target := []byte("the target blob, stored as a delta\n")
	var delta []byte
	delta = append(delta, byte(len(base)), byte(len(target)), byte(len(target))) // sizes, then insert len(target) bytes
	delta = append(delta, target...)
	deflate := func(b []byte) []byte {
		var buf bytes.Buffer
		z := zlib.NewWriter(&buf)
		z.Write(b)
		z.Close()
		return buf.Bytes()
	}
	header := func(typ byte, size int) []byte {
		return []byte{typ<<4 | byte(size&0x0f) | 0x80, byte(size >> 4)}
	}
	baseHash := plumbing.ComputeHash(plumbing.BlobObject, base)
	var objBase, objDelta []byte
	objBase = append(header(3, len(base)), deflate(base)...)
	objDelta = append(append(header(7, len(delta)), baseHash[:]...), deflate(delta)...)
	var p bytes.Buffer
	p.WriteString("PACK")
	binary.Write(&p, binary.BigEndian, uint32(2))
	binary.Write(&p, binary.BigEndian, uint32(2))
	if baseFirst {
		p.Write(objBase)
		p.Write(objDelta)
	} else {
		p.Write(objDelta)
		p.Write(objBase)
	}
	sum := sha1.Sum(p.Bytes())
	p.Write(sum[:])
	return p.Bytes(), baseHash, plumbing.ComputeHash(plumbing.BlobObject, target)
}

func TestStorePack(t *testing.T) {
	t.Parallel()
	for _, baseFirst := range []bool{true, false} {
		dir := t.TempDir()
		if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
			t.Fatal(err, string(out))
		}
		pack, b, tg := packOf(t, baseFirst)
		if err := storePack(dir, bytes.NewReader(pack)); err != nil {
			t.Fatalf("baseFirst=%v: %v", baseFirst, err)
		}
		idx, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
		if len(idx) != 1 {
			t.Fatalf("indexes: %v", idx)
		}
		out, err := exec.Command("git", "verify-pack", "-v", idx[0]).CombinedOutput()
		if err != nil {
			t.Fatalf("baseFirst=%v: git verify-pack: %v\n%s", baseFirst, err, out)
		}
		for _, h := range []plumbing.Hash{b, tg} {
			if !strings.Contains(string(out), h.String()) {
				t.Errorf("baseFirst=%v: %s not in the pack:\n%s", baseFirst, h, out)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "tmp_*")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
	// A truncated pack is an error, and leaves nothing behind.
	dir := t.TempDir()
	exec.Command("git", "init", "-q", "--bare", dir).Run()
	pack, _, _ := packOf(t, true)
	if err := storePack(dir, bytes.NewReader(pack[:len(pack)-25])); err == nil {
		t.Error("storePack of a truncated pack succeeded")
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "objects", "pack")); len(left) != 0 {
		t.Errorf("files left after a failure: %v", left)
	}
}
