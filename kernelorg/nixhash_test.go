package kernelorg

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// The vectors of docs/kernel-org.md, each checked twice independently.
func TestNixHashFromHex(t *testing.T) {
	tests := []struct{ in, hex, want string }{
		{"linux-6.18.5.tar.xz", "189d1f409cef8d0d234210e04595172df392f8cb297e14b447ed95720e2fd940", "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"},
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"},
	}
	for _, tt := range tests {
		got, err := NixHashFromHex(tt.hex)
		if err != nil || got != tt.want {
			t.Errorf("NixHashFromHex(%s) = %q, %v; want %q", tt.hex, got, err, tt.want)
		}
		if !validNixHash(got) {
			t.Errorf("validNixHash(%q) = false", got)
		}
		if tt.in != "linux-6.18.5.tar.xz" {
			sum := sha256.Sum256([]byte(tt.in))
			if h := hex.EncodeToString(sum[:]); h != tt.hex {
				t.Errorf("sha256(%q) = %s, the vector says %s", tt.in, h, tt.hex)
			}
			if got := nixHash(sum[:]); got != tt.want {
				t.Errorf("nixHash(sha256(%q)) = %s, want %s", tt.in, got, tt.want)
			}
		}
	}
}

func TestNixHashFromHexRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"189d1f409cef8d0d234210e04595172df392f8cb297e14b447ed95720e2fd94",   // 63
		"189d1f409cef8d0d234210e04595172df392f8cb297e14b447ed95720e2fd9400", // 65
		"189D1F409CEF8D0D234210E04595172DF392F8CB297E14B447ED95720E2FD940",  // upper case: not coreutils
		"189d1f409cef8d0d234210e04595172df392f8cb297e14b447ed95720e2fd94g",
	} {
		if got, err := NixHashFromHex(in); err == nil {
			t.Errorf("NixHashFromHex(%q) = %q, want an error", in, got)
		}
	}
	for _, in := range []string{"sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78", "sha256-0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q", "sha256:eh6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q", "sha256:zh6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q"} {
		if validNixHash(in) {
			t.Errorf("validNixHash(%q) = true", in)
		}
	}
}
