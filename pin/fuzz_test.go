package pin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// FuzzFind: whatever the file, Find does not panic, and every pin it finds
// can be moved: the result holds as many pins, the moved one at its new
// release with the new hash, the others as they were.
func FuzzFind(f *testing.F) {
	for _, dir := range []string{pins, filepath.Join(pins, "bad")} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.nix"))
		for _, n := range names {
			if data, err := os.ReadFile(n); err == nil {
				f.Add(data)
			}
		}
	}
	to := kernelorg.MustParseVersion("7.0.1")
	hash := kernelorgtest.FlatHash("7.0.1")
	f.Fuzz(func(t *testing.T, src []byte) {
		found, _ := Find("f.nix", src)
		for i, p := range found {
			out, err := Rewrite(src, p, to, hash)
			if err != nil {
				t.Fatalf("pin %d: %v", i, err)
			}
			again, _ := Find("f.nix", out)
			if len(again) != len(found) {
				t.Fatalf("pin %d moved: %d pins, then %d\n%s", i, len(found), len(again), out)
			}
			if again[i].Upstream != to {
				t.Fatalf("pin %d moved reads %s\n%s", i, again[i].Upstream, out)
			}
			if h, _ := FormatHash(p.HashForm, hash); again[i].Hash != h {
				t.Fatalf("pin %d moved has hash %s, want %s", i, again[i].Hash, h)
			}
		}
	})
}
