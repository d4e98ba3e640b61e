package kernelorg

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/nix-community/go-nix/pkg/nixbase32"
)

// NixHashFromHex turns a sha256 in coreutils' form (64 lowercase hex digits,
// as sha256sums.asc lists it) into the form kernels-org.json stores:
// "sha256:" followed by Nix's base-32 encoding.
func NixHashFromHex(h string) (string, error) {
	if len(h) != 64 || strings.ToLower(h) != h {
		return "", fmt.Errorf("invalid sha256 %q: want 64 lowercase hex digits", truncate(h, 80))
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return "", fmt.Errorf("invalid sha256 %q: want 64 lowercase hex digits", truncate(h, 80))
	}
	return nixHash(b), nil
}

// nixHash formats a raw sha256 digest as "sha256:<nix32>".
func nixHash(sum []byte) string { return "sha256:" + nixbase32.EncodeToString(sum) }

// validNixHash reports whether s is "sha256:" and 52 nix32 characters: the
// only form kupdate writes, checked again when read back from a cache file.
func validNixHash(s string) bool {
	rest, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(rest) != nixbase32.EncodedLen(32) {
		return false
	}
	return nixbase32.ValidateString(rest) == nil
}
