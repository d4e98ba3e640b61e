package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-community/go-nix/pkg/nixbase32"

	"github.com/kupdate/kupdate/kernelorg"
)

// moduleRoot is where go.mod is: two levels up from this package.
const moduleRoot = "../.."

// TestPackageVendorHash: nix/package.nix pins the vendorHash of the go.mod
// and go.sum beside it, so a dependency change that forgets it fails here,
// not in nixpkgs' build. It needs only the module cache (`go mod download`,
// as CI runs first): GOPROXY=off keeps it offline. Where Nix is at hand, the
// NAR hash is checked against nix-hash's of the same directory too.
func TestPackageVendorHash(t *testing.T) {
	if _, err := os.Stat(filepath.Join(moduleRoot, "vendor")); err == nil {
		// buildGoModule's own build and check: it copied the vendor
		// directory it verified by vendorHash into the source.
		t.Skip("a vendor directory is in the module: its hash is the one Nix checked")
	}
	pkg, err := os.ReadFile(filepath.Join(moduleRoot, packageFile))
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := ReadVendorHash(pkg)
	if err != nil {
		t.Fatalf("%s: %v", packageFile, err)
	}

	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "vendor")
	if err := vendor(ctx, moduleRoot, dir, []string{"GOPROXY=off"}); err != nil {
		t.Fatalf("%v\n(the module cache lacks a module: run go mod download first)", err)
	}
	got, err := NARHash(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != pinned {
		t.Errorf("%s: vendorHash = %q, but `go mod vendor` hashes to %q: run go run ./nix/vendorhash -w", packageFile, pinned, got)
	}

	if _, err := exec.LookPath("nix-hash"); err != nil {
		t.Log("nix-hash not on PATH: the NAR hash is not cross-checked with Nix")
		return
	}
	out, err := exec.Command("nix-hash", "--type", "sha256", "--base32", dir).Output()
	if err != nil {
		t.Fatalf("nix-hash: %v", err)
	}
	sum, err := kernelorg.NARSHA256(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(out)); nixbase32.EncodeToString(sum) != want {
		t.Errorf("NAR hash of the vendor directory: kupdate %s, nix-hash %s", nixbase32.EncodeToString(sum), want)
	}
}

func TestSetVendorHash(t *testing.T) {
	const hash = "sha256-6ffrTRUlRdyUUUQ6q4Fz0k+b6mXR7dP/Fgl7Ub84TbE="
	in := "{\n  pname = \"kupdate\";\n\n  vendorHash = \"sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\";\n  # vendorHash = \"x\"; in a comment is not the line\n}\n"
	want := "{\n  pname = \"kupdate\";\n\n  vendorHash = \"" + hash + "\";\n  # vendorHash = \"x\"; in a comment is not the line\n}\n"
	got, err := SetVendorHash([]byte(in), hash)
	if err != nil || string(got) != want {
		t.Errorf("SetVendorHash = %q, %v\nwant %q", got, err, want)
	}
	if h, err := ReadVendorHash(got); h != hash || err != nil {
		t.Errorf("ReadVendorHash = %q, %v", h, err)
	}
	for _, tc := range []struct{ name, pkg, hash, err string }{
		{"no line", "{ }\n", hash, "want one `vendorHash = \"…\";` line, found 0"},
		{"two lines", "  vendorHash = \"a\";\n  vendorHash = \"b\";\n", hash, "want one `vendorHash = \"…\";` line, found 2"},
		{"not SRI", in, "1cad72zm2yq92vzx7vficpm9nkyjff0snfj4a6adqi952m6ypxz9", "not an SRI sha256 hash: 1cad72zm2yq92vzx7vficpm9nkyjff0snfj4a6adqi952m6ypxz9"},
	} {
		if _, err := SetVendorHash([]byte(tc.pkg), tc.hash); err == nil || err.Error() != tc.err {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
	if bytes.Contains([]byte(in), []byte(hash)) {
		t.Fatal("the input must not hold the hash already")
	}
}
