package kernelorg

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kupdate/kupdate/config"
)

// OptionsFromConfig maps the [kernelorg] section of cfg to Options, reading
// kernelorg.keyring if one is set. The disk cache (rc hashes, and the copies
// of releases.json and the checksum files that make a new process's first
// poll conditional) goes under the configured cache directory
// (nixpkgs.cache_dir), in "kernelorg". UserAgent, HTTPClient and Logger are
// left for the caller.
func OptionsFromConfig(cfg *config.Config) (Options, error) {
	k := cfg.KernelOrg
	o := Options{
		URL:              k.URL,
		GitURL:           k.GitURL,
		Fingerprint:      k.Fingerprint,
		Timeout:          k.Timeout.D(),
		SnapshotTimeout:  k.SnapshotTimeout.D(),
		MaxSnapshotBytes: k.MaxSnapshotBytes,
	}
	if k.Keyring != "" {
		b, err := os.ReadFile(k.Keyring)
		if err != nil {
			return Options{}, fmt.Errorf("kernelorg.keyring: %w", err)
		}
		o.Keyring, o.KeyringName = b, "kernelorg.keyring "+k.Keyring
	}
	dir, err := cfg.CacheDir()
	if err != nil {
		return Options{}, err
	}
	o.CacheDir = filepath.Join(dir, "kernelorg")
	return o, nil
}
