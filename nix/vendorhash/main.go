// Command vendorhash computes nixpkgs' vendorHash for this module and, with
// -w, writes it into nix/package.nix.
//
//	go run ./nix/vendorhash      # prints sha256-…
//	go run ./nix/vendorhash -w   # rewrites the vendorHash line of nix/package.nix
//
// buildGoModule runs `go mod vendor` and pins the NAR hash of the vendor
// directory (outputHashMode = "recursive"); this runs the same command into
// a temporary directory and hashes it with kupdate's own NAR writer (the one
// rc snapshots are hashed with), in the SRI form nixpkgs writes. Run it from
// the module root after a change of go.mod or go.sum; the test in this
// package fails while the file is stale.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"github.com/kupdate/kupdate/kernelorg"
)

// packageFile is the package, relative to the module root.
const packageFile = "nix/package.nix"

func main() {
	write := flag.Bool("w", false, "write the hash into "+packageFile+" instead of printing it")
	flag.Parse()
	if err := run(context.Background(), *write); err != nil {
		fmt.Fprintln(os.Stderr, "vendorhash:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, write bool) error {
	hash, err := VendorHash(ctx, ".", nil)
	if err != nil {
		return err
	}
	if !write {
		fmt.Println(hash)
		return nil
	}
	old, err := os.ReadFile(packageFile)
	if err != nil {
		return fmt.Errorf("%w (run it from the module root)", err)
	}
	updated, err := SetVendorHash(old, hash)
	if err != nil {
		return fmt.Errorf("%s: %w", packageFile, err)
	}
	if bytes.Equal(old, updated) {
		fmt.Printf("%s: vendorHash is %s already\n", packageFile, hash)
		return nil
	}
	if err := os.WriteFile(packageFile, updated, 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: vendorHash = %s\n", packageFile, hash)
	return nil
}

// VendorHash is the vendorHash of the module at root: `go mod vendor` into
// a temporary directory, then the SHA-256 of its NAR as "sha256-<base64>".
// env is added to the go command's environment (e.g. GOPROXY=off to stay
// offline on what the module cache holds).
func VendorHash(ctx context.Context, root string, env []string) (string, error) {
	tmp, err := os.MkdirTemp("", "kupdate-vendorhash-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "vendor")
	if err := vendor(ctx, root, dir, env); err != nil {
		return "", err
	}
	return NARHash(ctx, dir)
}

// vendor runs `go mod vendor -o dir` in root, as buildGoModule's
// goModules derivation runs `go mod vendor` (outside a workspace, with the
// toolchain at hand).
func vendor(ctx context.Context, root, dir string, env []string) error {
	cmd := exec.CommandContext(ctx, "go", "mod", "vendor", "-o", dir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), append([]string{"GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod"}, env...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go mod vendor: %w\n%s", err, stderr.Bytes())
	}
	return nil
}

// NARHash is the SHA-256 of the NAR of the tree at p in SRI form.
func NARHash(ctx context.Context, p string) (string, error) {
	sum, err := kernelorg.NARSHA256(ctx, p)
	if err != nil {
		return "", err
	}
	return "sha256-" + base64.StdEncoding.EncodeToString(sum), nil
}

var (
	// vendorHashLine is the line buildGoModule's argument sits on.
	vendorHashLine = regexp.MustCompile(`(?m)^(\s*vendorHash = )"[^"]*";`)
	sriSHA256      = regexp.MustCompile(`^sha256-[A-Za-z0-9+/]{43}=$`)
)

// ReadVendorHash is the vendorHash the package file pins.
func ReadVendorHash(pkg []byte) (string, error) {
	m := vendorHashLine.FindAllSubmatch(pkg, -1)
	if len(m) != 1 {
		return "", fmt.Errorf("want one `vendorHash = \"…\";` line, found %d", len(m))
	}
	line := m[0][0]
	return string(line[len(m[0][1])+1 : len(line)-2]), nil
}

// SetVendorHash is pkg with its vendorHash line set to hash.
func SetVendorHash(pkg []byte, hash string) ([]byte, error) {
	if _, err := ReadVendorHash(pkg); err != nil {
		return nil, err
	}
	if !sriSHA256.MatchString(hash) {
		return nil, errors.New("not an SRI sha256 hash: " + hash)
	}
	return vendorHashLine.ReplaceAll(pkg, []byte(`${1}"`+hash+`";`)), nil
}
