// Package nix holds kupdate's Nix files: package.nix (nixpkgs' package),
// module.nix (the NixOS module), and the tests that evaluate them, with
// nixpkgs' real lib, on a machine without nixpkgs.
package nix

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pelletier/go-toml/v2"

	"github.com/kupdate/kupdate/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// needNix skips a test on a machine without Nix, as every Nix test does.
func needNix(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
}

// nixpkgsLib is nixpkgs' lib/ as published (shared/nixpkgs-lib/lib, see
// its PROVENANCE.md): $KUPDATE_NIXPKGS_LIB, else shared/nixpkgs-lib/lib
// beside the clone or beside one of its parent directories (a worktree
// under the directory the clone is in). .ci/run makes sure CI finds it; a
// machine without it skips.
func nixpkgsLib(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("KUPDATE_NIXPKGS_LIB"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "default.nix")); err != nil {
			t.Fatalf("$KUPDATE_NIXPKGS_LIB: %v (want nixpkgs' lib/ directory)", err)
		}
		return d
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		lib := filepath.Join(dir, "shared", "nixpkgs-lib", "lib")
		if _, err := os.Stat(filepath.Join(lib, "default.nix")); err == nil {
			return lib
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	t.Skipf("nixpkgs' lib is neither in $KUPDATE_NIXPKGS_LIB nor at shared/nixpkgs-lib/lib beside %s or a parent: the Nix files are not evaluated", root)
	return ""
}

// evalJSON evaluates file with nix-instantiate --eval --strict --json.
func evalJSON(t *testing.T, file string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command("nix-instantiate", append([]string{"--eval", "--strict", "--json", "--option", "substituters", "", file}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &evalError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type evalError struct {
	err    error
	stderr string
}

func (e *evalError) Error() string { return e.err.Error() + "\n" + e.stderr }

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./nix -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./nix -update rewrites it):\n%s", path, diff)
	}
}

func indent(t *testing.T, js []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, js, "", "  "); err != nil {
		t.Fatal(err)
	}
	return append(buf.Bytes(), '\n')
}

// Every Nix file of the repository parses (Nix 2.8 is what CI has).
func TestParse(t *testing.T) {
	needNix(t)
	for _, f := range []string{"package.nix", "module.nix", "../default.nix", "../flake.nix", "testdata/eval-module.nix", "testdata/eval-package.nix"} {
		if out, err := exec.Command("nix-instantiate", "--parse", f).CombinedOutput(); err != nil {
			t.Errorf("nix-instantiate --parse %s: %v\n%s", f, err, out)
		}
	}
}

// The package is nixpkgs' buildGoModule as nixpkgs writes it, with the
// real lib's licenses and platforms; default.nix and the flake expose it
// and a module whose package is it.
func TestPackage(t *testing.T) {
	needNix(t)
	lib := nixpkgsLib(t)
	out, err := evalJSON(t, "testdata/eval-package.nix", "--arg", "lib", lib)
	if err != nil {
		t.Fatal(err)
	}
	type meta struct {
		Description, Homepage, License, MainProgram string
		Platforms                                   bool
	}
	type exposed struct {
		Default, Kupdate, Module, Overlay string
		Packages                          []string
	}
	var got struct {
		Pname, Version, VendorHash, VersionCheckProgramArg string
		SubPackages, Ldflags                               []string
		NativeCheckInputs, NativeInstallCheckInputs        []string
		DoInstallCheck                                     bool
		Meta                                               meta
		Default, Flake                                     exposed
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := got // the vendorHash is the vendorhash test's
	want.Pname, want.Version = "kupdate", "0.1.0"
	want.SubPackages = []string{"cmd/kupdate"}
	// main.Version is what `kupdate --version` prints; .ci/run builds with
	// this flag and checks the output.
	want.Ldflags = []string{"-s", "-w", "-X main.Version=0.1.0"}
	want.NativeCheckInputs = []string{"git-minimal", "nix"}
	want.NativeInstallCheckInputs, want.DoInstallCheck, want.VersionCheckProgramArg = []string{"version-check-hook"}, true, "--version"
	want.Meta = meta{
		Description: "Keeps the Linux kernels in nixpkgs current: polls kernel.org, updates, builds, opens pull requests",
		Homepage:    "https://github.com/kupdate/kupdate",
		License:     "MIT",
		MainProgram: "kupdate",
		Platforms:   true, // lib.platforms.unix
	}
	want.Default = exposed{Kupdate: "kupdate-0.1.0", Module: "kupdate-0.1.0"}
	want.Flake = exposed{Default: "kupdate", Module: "kupdate-0.1.0", Overlay: "kupdate",
		Packages: []string{"aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("package.nix, default.nix, flake.nix (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(got.VendorHash, "sha256-") {
		t.Errorf("vendorHash %q is not an SRI sha256 hash", got.VendorHash)
	}
}

// unit is what the module makes of services.kupdate.
type unit struct {
	Assertions []string
	Service    struct {
		Description   string
		After         []string
		Requires      []string
		Wants         []string
		WantedBy      []string `json:"wantedBy"`
		Path          []string
		Environment   map[string]string
		ServiceConfig map[string]any `json:"serviceConfig"`
	}
	Timer *struct {
		WantedBy    []string       `json:"wantedBy"`
		TimerConfig map[string]any `json:"timerConfig"`
	}
	Nix        map[string]any
	Settings   map[string]any
	ConfigFile struct {
		Name, Script, Generated string
		NativeBuildInputs       []string
	}
}

// The stand-ins' store paths (testdata/eval-module.nix).
const (
	kupdateOut   = "/nix/store/8d20565aee6196dceace0ffd1e919b71-kupdate-0.1.0"
	configOut    = "/nix/store/8e9946b7a077608382ab73d25b3f5fef-kupdate-config.toml"
	generatedOut = "/nix/store/dddccad20c1add62a431cc3769034f3d-kupdate.toml"
)

func evalModule(t *testing.T, services any) (unit, []byte) {
	t.Helper()
	js, err := json.Marshal(services)
	if err != nil {
		t.Fatal(err)
	}
	out, err := evalJSON(t, "testdata/eval-module.nix", "--arg", "lib", nixpkgsLib(t), "--argstr", "services", string(js))
	if err != nil {
		t.Fatal(err)
	}
	var u unit
	if err := json.Unmarshal(out, &u); err != nil {
		t.Fatal(err)
	}
	return u, out
}

// hardening is the part of serviceConfig that confines kupdate, the same in
// both modes.
var hardening = map[string]any{
	"DynamicUser": true, "User": "kupdate", "Group": "kupdate", "UMask": "0077",
	"NoNewPrivileges": true, "ProtectSystem": "strict", "ProtectHome": true, "PrivateTmp": true, "PrivateDevices": true,
	"ProtectKernelTunables": true, "ProtectKernelModules": true, "ProtectKernelLogs": true, "ProtectControlGroups": true,
	"ProtectClock": true, "ProtectHostname": true, "ProtectProc": "invisible",
	"RestrictAddressFamilies": []any{"AF_UNIX", "AF_INET", "AF_INET6"},
	"RestrictNamespaces":      true, "RestrictRealtime": true, "RestrictSUIDSGID": true, "LockPersonality": true,
	"CapabilityBoundingSet": "", "AmbientCapabilities": "", "SystemCallArchitectures": "native",
	"SystemCallFilter": []any{"@system-service", "~@privileged"}, "SystemCallErrorNumber": "EPERM",
	"StateDirectory": "kupdate", "StateDirectoryMode": "0700", "CacheDirectory": "kupdate", "CacheDirectoryMode": "0700",
}

// checkUnit asserts what every kupdate unit has: the directories kupdate
// finds through $STATE_DIRECTORY and $CACHE_DIRECTORY, the hardening, the
// Nix daemon, git and Nix on PATH, a home for them, and a config.toml that
// `kupdate config` checked at build time.
func checkUnit(t *testing.T, u unit) {
	t.Helper()
	for k, want := range hardening {
		if got := u.Service.ServiceConfig[k]; !cmp.Equal(got, want) {
			t.Errorf("serviceConfig.%s = %#v, want %#v", k, got, want)
		}
	}
	if diff := cmp.Diff(map[string]string{"HOME": "/var/lib/kupdate", "NIX_REMOTE": "daemon"}, u.Service.Environment); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
	if !cmp.Equal(u.Service.Requires, []string{"nix-daemon.socket"}) || !cmp.Equal(u.Service.After, []string{"network-online.target", "nix-daemon.socket"}) {
		t.Errorf("requires %v, after %v: want the Nix daemon's socket and the network", u.Service.Requires, u.Service.After)
	}
	if !cmp.Equal(u.Nix["extra-allowed-users"], []any{"kupdate"}) {
		t.Errorf("nix.settings = %v: the unit's user must be allowed to use the daemon", u.Nix)
	}
	if len(u.Service.Path) != 2 || !strings.HasSuffix(u.Service.Path[0], "-nix-2.31.0") || !strings.HasSuffix(u.Service.Path[1], "-git-minimal-2.51.0") {
		t.Errorf("path = %v, want config.nix.package and git", u.Service.Path)
	}
	wantScript := "STATE_DIRECTORY=/var/lib/kupdate CACHE_DIRECTORY=/var/cache/kupdate \\\n  kupdate --config " + generatedOut + " config\ncp " + generatedOut + " $out\n"
	if u.ConfigFile.Name != "kupdate-config.toml" || u.ConfigFile.Script != wantScript || u.ConfigFile.Generated != generatedOut ||
		!cmp.Equal(u.ConfigFile.NativeBuildInputs, []string{kupdateOut}) {
		t.Errorf("the config file is not checked by kupdate config at build time: %+v\nwant the script:\n%s", u.ConfigFile, wantScript)
	}
	// What the module renders is a config.toml kupdate accepts.
	if _, err := config.Parse("settings", settingsTOML(t, u.Settings)); err != nil {
		t.Errorf("kupdate refuses the module's settings: %v", err)
	}
}

func TestModuleServe(t *testing.T) {
	needNix(t)
	u, out := evalModule(t, map[string]any{"enable": true})
	checkUnit(t, u)
	sc := u.Service.ServiceConfig
	for k, want := range map[string]any{
		"Type":      "exec",
		"ExecStart": kupdateOut + "/bin/kupdate --config " + configOut + " serve",
		// serve.shutdown_timeout (30s) + 30 s: kupdate exits within +15 s.
		"TimeoutStopSec":           float64(60),
		"Restart":                  "on-failure",
		"RestartSec":               "30s",
		"RestartPreventExitStatus": float64(2),
		"EnvironmentFile":          []any{},
		"LoadCredential":           []any{},
	} {
		if got := sc[k]; !cmp.Equal(got, want) {
			t.Errorf("serviceConfig.%s = %#v, want %#v", k, got, want)
		}
	}
	if !cmp.Equal(u.Service.WantedBy, []string{"multi-user.target"}) || u.Timer != nil {
		t.Errorf("serve: wantedBy %v, timer %v; want a service started at boot and no timer", u.Service.WantedBy, u.Timer)
	}
	if diff := cmp.Diff(map[string]any{"serve": map[string]any{"listen": "127.0.0.1:8380", "shutdown_timeout": "30s"}}, u.Settings); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	golden(t, "serve.json", indent(t, out))
}

func TestModuleTimer(t *testing.T) {
	needNix(t)
	u, out := evalModule(t, map[string]any{
		"enable":                  true,
		"mode":                    "timer",
		"startAt":                 "*:17",
		"environmentFile":         "/run/secrets/kupdate.env",
		"githubAppPrivateKeyFile": "/run/secrets/kupdate-app.pem",
		"settings": map[string]any{
			"nixpkgs": map[string]any{"fork": "https://github.com/kupdate-bot/nixpkgs.git"},
			"github":  map[string]any{"fork_owner": "kupdate-bot", "app_id": 12345, "installation_id": 678, "reviewers": []string{"alice"}},
			"build":   map[string]any{"tiers": []string{"eval", "configfile", "kernel"}, "timeout": "6h"},
			"serve":   map[string]any{"shutdown_timeout": "1h30m"},
		},
	})
	checkUnit(t, u)
	sc := u.Service.ServiceConfig
	for k, want := range map[string]any{
		"Type":            "oneshot",
		"ExecStart":       kupdateOut + "/bin/kupdate --config " + configOut + " run",
		"TimeoutStopSec":  float64(5400 + 30),
		"EnvironmentFile": []any{"/run/secrets/kupdate.env"},
		"LoadCredential":  []any{"github-app-key:/run/secrets/kupdate-app.pem"},
	} {
		if got := sc[k]; !cmp.Equal(got, want) {
			t.Errorf("serviceConfig.%s = %#v, want %#v", k, got, want)
		}
	}
	for _, k := range []string{"Restart", "RestartSec", "RestartPreventExitStatus"} {
		if v, ok := sc[k]; ok {
			t.Errorf("serviceConfig.%s = %v in the timer mode: a failed run waits for the timer", k, v)
		}
	}
	if len(u.Service.WantedBy) != 0 || u.Timer == nil || !cmp.Equal(u.Timer.WantedBy, []string{"timers.target"}) ||
		!cmp.Equal(u.Timer.TimerConfig, map[string]any{"OnCalendar": "*:17", "Persistent": true, "RandomizedDelaySec": "5m"}) {
		t.Errorf("timer mode: service wantedBy %v, timer %+v", u.Service.WantedBy, u.Timer)
	}
	github := u.Settings["github"].(map[string]any)
	if github["private_key_file"] != "/run/credentials/kupdate.service/github-app-key" {
		t.Errorf("github.private_key_file = %v, want the credential's path", github["private_key_file"])
	}
	golden(t, "timer.json", indent(t, out))
}

// What the module refuses, at evaluation: a directory setting the unit
// cannot honour, and a shutdown_timeout that is not a Go duration.
func TestModuleRefuses(t *testing.T) {
	needNix(t)
	u, _ := evalModule(t, map[string]any{"enable": true, "settings": map[string]any{"nixpkgs": map[string]any{"cache_dir": "/srv/kupdate"}}})
	if want := []string{"services.kupdate.settings.nixpkgs: leave cache_dir and state_dir unset: the unit's StateDirectory= and CacheDirectory= are the only places kupdate may write (ProtectSystem=strict)."}; !cmp.Equal(u.Assertions, want) {
		t.Errorf("assertions = %q, want %q", u.Assertions, want)
	}

	js, _ := json.Marshal(map[string]any{"enable": true, "settings": map[string]any{"serve": map[string]any{"shutdown_timeout": "30 seconds"}}})
	_, err := evalJSON(t, "testdata/eval-module.nix", "--arg", "lib", nixpkgsLib(t), "--argstr", "services", string(js))
	if err == nil || !strings.Contains(err.Error(), "A definition for option `services.kupdate.settings.serve.shutdown_timeout' is not of type `string matching the pattern ([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+'") {
		t.Errorf("shutdown_timeout = \"30 seconds\": %v", err)
	}
}

// settingsTOML writes the module's settings (as JSON) as TOML, as
// pkgs.formats.toml does: whole numbers stay integers.
func settingsTOML(t *testing.T, settings map[string]any) []byte {
	t.Helper()
	var fix func(v any) any
	fix = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				v[k] = fix(e)
			}
		case []any:
			for i, e := range v {
				v[i] = fix(e)
			}
		case float64:
			if v == float64(int64(v)) {
				return int64(v)
			}
		}
		return v
	}
	b, err := toml.Marshal(fix(settings))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
