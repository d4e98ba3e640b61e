package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDirs: where state and caches go, for each way kupdate is run: a
// maintainer's shell (XDG), a systemd unit (StateDirectory=,
// CacheDirectory=), a configuration naming one directory (as before the two
// were apart), and one naming both.
func TestDirs(t *testing.T) {
	for _, tc := range []struct {
		name               string
		cacheDir, stateDir string            // nixpkgs.cache_dir, nixpkgs.state_dir
		env                map[string]string // everything else unset
		wantCache          string
		wantState          string
	}{
		{name: "home only", env: map[string]string{"HOME": "/home/m"},
			wantCache: "/home/m/.cache/kupdate", wantState: "/home/m/.local/state/kupdate"},
		{name: "xdg", env: map[string]string{"HOME": "/home/m", "XDG_CACHE_HOME": "/xdg/cache", "XDG_STATE_HOME": "/xdg/state"},
			wantCache: "/xdg/cache/kupdate", wantState: "/xdg/state/kupdate"},
		{name: "relative XDG_STATE_HOME is ignored, as the spec says", env: map[string]string{"HOME": "/home/m", "XDG_STATE_HOME": "state"},
			wantCache: "/home/m/.cache/kupdate", wantState: "/home/m/.local/state/kupdate"},
		{name: "systemd, no HOME", env: map[string]string{"STATE_DIRECTORY": "/var/lib/kupdate", "CACHE_DIRECTORY": "/var/cache/kupdate"},
			wantCache: "/var/cache/kupdate", wantState: "/var/lib/kupdate"},
		{name: "systemd with several directories: the first", env: map[string]string{"STATE_DIRECTORY": "/var/lib/kupdate:/var/lib/other", "CACHE_DIRECTORY": "/var/cache/kupdate:/var/cache/other"},
			wantCache: "/var/cache/kupdate", wantState: "/var/lib/kupdate"},
		{name: "systemd beats XDG", env: map[string]string{"HOME": "/home/m", "XDG_STATE_HOME": "/xdg/state", "STATE_DIRECTORY": "/var/lib/kupdate", "CACHE_DIRECTORY": "/var/cache/kupdate"},
			wantCache: "/var/cache/kupdate", wantState: "/var/lib/kupdate"},
		{name: "cache_dir alone keeps state beside the caches", cacheDir: "/srv/kupdate", env: map[string]string{"HOME": "/home/m", "XDG_STATE_HOME": "/xdg/state"},
			wantCache: "/srv/kupdate", wantState: "/srv/kupdate"},
		{name: "cache_dir, under systemd: state in STATE_DIRECTORY", cacheDir: "/srv/kupdate", env: map[string]string{"STATE_DIRECTORY": "/var/lib/kupdate", "CACHE_DIRECTORY": "/var/cache/kupdate"},
			wantCache: "/srv/kupdate", wantState: "/var/lib/kupdate"},
		{name: "both named: the file wins", cacheDir: "/srv/cache", stateDir: "/srv/state", env: map[string]string{"STATE_DIRECTORY": "/var/lib/kupdate", "CACHE_DIRECTORY": "/var/cache/kupdate"},
			wantCache: "/srv/cache", wantState: "/srv/state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "STATE_DIRECTORY", "CACHE_DIRECTORY"} {
				t.Setenv(k, tc.env[k])
			}
			cfg := Default()
			cfg.Nixpkgs.CacheDir, cfg.Nixpkgs.StateDir = tc.cacheDir, tc.stateDir
			cache, err := cfg.CacheDir()
			if err != nil || cache != tc.wantCache {
				t.Errorf("CacheDir = %q, %v; want %q", cache, err, tc.wantCache)
			}
			state, err := cfg.StateDir()
			if err != nil || state != tc.wantState {
				t.Errorf("StateDir = %q, %v; want %q", state, err, tc.wantState)
			}
		})
	}
}

// Under env -i, with nothing to go by, the error says what to set.
func TestDirsNothingSet(t *testing.T) {
	for _, k := range []string{"HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "STATE_DIRECTORY", "CACHE_DIRECTORY"} {
		t.Setenv(k, "")
	}
	cfg := Default()
	if _, err := cfg.StateDir(); err == nil || err.Error() != "nixpkgs.state_dir is empty and none of $STATE_DIRECTORY, $XDG_STATE_HOME and $HOME is set: set nixpkgs.state_dir (or StateDirectory= in the systemd unit)" {
		t.Errorf("StateDir error = %v", err)
	}
	if _, err := cfg.CacheDir(); err == nil || !strings.HasPrefix(err.Error(), "nixpkgs.cache_dir is empty, $CACHE_DIRECTORY is not set, and there is no user cache directory (") || !strings.HasSuffix(err.Error(), "): set nixpkgs.cache_dir") {
		t.Errorf("CacheDir error = %v", err)
	}
}

func TestSearchPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", nil, []string{"config.toml", "/etc/kupdate/config.toml"}},
		{"home", map[string]string{"HOME": "/home/m"}, []string{"config.toml", "/home/m/.config/kupdate/config.toml", "/etc/kupdate/config.toml"}},
		{"xdg", map[string]string{"HOME": "/home/m", "XDG_CONFIG_HOME": "/xdg/config"}, []string{"config.toml", "/xdg/config/kupdate/config.toml", "/etc/kupdate/config.toml"}},
		{"relative xdg is ignored", map[string]string{"HOME": "/home/m", "XDG_CONFIG_HOME": "cfg"}, []string{"config.toml", "/home/m/.config/kupdate/config.toml", "/etc/kupdate/config.toml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SearchPath(func(k string) string { return tc.env[k] }, SystemConfigFile)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SearchPath (-want +got):\n%s", diff)
			}
		})
	}
}
