package kernelorg

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

func TestOptionsFromConfig(t *testing.T) {
	srv := newServer(t, jan2026...)
	dir := t.TempDir()
	keyring := filepath.Join(dir, "keyring.asc")
	if err := os.WriteFile(keyring, srv.Keyring(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.KernelOrg.URL, cfg.KernelOrg.GitURL = srv.URL, srv.URL
	cfg.KernelOrg.Keyring, cfg.KernelOrg.Fingerprint = keyring, srv.Fingerprint()
	cfg.Nixpkgs.CacheDir = filepath.Join(dir, "cache")
	o, err := OptionsFromConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != srv.URL || o.GitURL != srv.URL || string(o.Keyring) != string(srv.Keyring()) || o.Fingerprint != srv.Fingerprint() ||
		o.Timeout != 5*time.Minute || o.SnapshotTimeout != 30*time.Minute || o.MaxSnapshotBytes != 512<<20 || o.CacheDir != filepath.Join(dir, "cache", "kernelorg") {
		t.Errorf("OptionsFromConfig = %+v", o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := c.Hash(context.Background(), MustParseVersion("6.19-rc4")); err != nil {
		t.Fatal(err)
	} else if r := readRecord(t, filepath.Join(dir, "cache", "kernelorg", "rc-hashes", "linux-6.19-rc4.nar-sha256")); r.Hash != h || r.URL != srv.URL+kernelorgtest.TarballPath("6.19-rc4") {
		t.Errorf("cache file: %+v", r)
	}

	// The defaults: the embedded key, pinned.
	def := config.Default()
	def.Nixpkgs.CacheDir = dir
	o, err = OptionsFromConfig(&def)
	if err != nil {
		t.Fatal(err)
	}
	if o.Keyring != nil || o.Fingerprint != AutosignerFingerprint {
		t.Errorf("default options: keyring %d bytes, fingerprint %s", len(o.Keyring), o.Fingerprint)
	}
	if _, err := New(o); err != nil {
		t.Errorf("New(default options): %v", err)
	}

	// A keyring file that is not one is named in the error.
	bad := filepath.Join(dir, "bad.asc")
	if err := os.WriteFile(bad, []byte("not a key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.KernelOrg.Keyring = bad
	if o, err = OptionsFromConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	want := "kernel.org keyring kernelorg.keyring " + bad + ": openpgp: invalid argument: no armored data found (want an armored OpenPGP public key block)"
	if _, err := New(o); err == nil || err.Error() != want {
		t.Errorf("New with a bad keyring file: %v\nwant %s", err, want)
	}

	cfg.KernelOrg.Keyring = filepath.Join(dir, "missing.asc")
	if _, err := OptionsFromConfig(&cfg); err == nil || !strings.HasPrefix(err.Error(), "kernelorg.keyring: open ") {
		t.Errorf("missing keyring: %v", err)
	}
}
