package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The directories kupdate keeps things in are two, so that clearing a cache
// (rm -rf ~/.cache, systemctl clean --what=cache, a CI cache evicted) never
// loses what cannot be rebuilt: the PR links and results of the last cycle.
//
// Under systemd, StateDirectory= and CacheDirectory= set $STATE_DIRECTORY
// and $CACHE_DIRECTORY, and kupdate uses them: a unit with DynamicUser needs
// no path in config.toml and no $HOME.

// CacheDir is where kupdate keeps what it can rebuild: the managed clone,
// the kernel.org HTTP and rc-hash caches, GitHub's ETags, the tree Nix
// builds in. It is nixpkgs.cache_dir; else $CACHE_DIRECTORY (systemd's
// CacheDirectory=); else $XDG_CACHE_HOME/kupdate (~/.cache/kupdate).
func (c *Config) CacheDir() (string, error) {
	if c.Nixpkgs.CacheDir != "" {
		return c.Nixpkgs.CacheDir, nil
	}
	if d := systemdDir("CACHE_DIRECTORY"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("nixpkgs.cache_dir is empty, $CACHE_DIRECTORY is not set, and there is no user cache directory (%w): set nixpkgs.cache_dir", err)
	}
	return filepath.Join(d, "kupdate"), nil
}

// StateDir is where kupdate keeps what it cannot rebuild: the last cycle's
// state (state.json, with its PR links), the build results (builds.json)
// and the lock that keeps two cycles apart. It is nixpkgs.state_dir; else
// $STATE_DIRECTORY (systemd's StateDirectory=); else nixpkgs.cache_dir when
// that is set — where kupdate kept its state before the two were apart, so
// a configuration that names one directory keeps everything in it —; else
// $XDG_STATE_HOME/kupdate (~/.local/state/kupdate).
func (c *Config) StateDir() (string, error) {
	if c.Nixpkgs.StateDir != "" {
		return c.Nixpkgs.StateDir, nil
	}
	if d := systemdDir("STATE_DIRECTORY"); d != "" {
		return d, nil
	}
	if c.Nixpkgs.CacheDir != "" {
		return c.Nixpkgs.CacheDir, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "kupdate"), nil
	}
	if h := os.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "kupdate"), nil
	}
	return "", errors.New("nixpkgs.state_dir is empty and none of $STATE_DIRECTORY, $XDG_STATE_HOME and $HOME is set: set nixpkgs.state_dir (or StateDirectory= in the systemd unit)")
}

// systemdDir is the first directory of a variable systemd sets for
// StateDirectory= and CacheDirectory=: with several directories it joins
// them with ":", and kupdate's is the first one. "" when unset.
func systemdDir(name string) string {
	first, _, _ := strings.Cut(os.Getenv(name), ":")
	return first
}

// SystemConfigFile is the configuration a system-wide installation reads
// (contrib/systemd/kupdate.service) when nothing names another.
const SystemConfigFile = "/etc/kupdate/config.toml"

// SearchPath is where kupdate looks for its configuration when neither
// --config nor $KUPDATE_CONFIG names a file, in this order: ./config.toml
// (a clone of this repository, or a directory set up for one tree), the
// user's $XDG_CONFIG_HOME/kupdate/config.toml (~/.config/kupdate/config.toml),
// then systemFile (SystemConfigFile). The first file that exists is read;
// with none, the defaults apply. getenv is os.Getenv outside tests.
func SearchPath(getenv func(string) string, systemFile string) []string {
	path := []string{"config.toml"}
	if d := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		path = append(path, filepath.Join(d, "kupdate", "config.toml"))
	} else if h := getenv("HOME"); h != "" {
		path = append(path, filepath.Join(h, ".config", "kupdate", "config.toml"))
	}
	return append(path, systemFile)
}
