// Package systemd holds the systemd units for hosts without NixOS; its test
// checks them with systemd-analyze verify.
package systemd

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
)

var units = []string{"kupdate.service", "kupdate.timer", "kupdate-serve.service"}

// The units pass systemd-analyze verify without a word: an unknown key or
// a value systemd cannot parse is only a warning to systemd, and a failure
// here. verify also wants ExecStart's program to exist, so the copies it
// reads name this test binary instead of /usr/local/bin/kupdate; nothing
// else is changed.
func TestVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not on PATH (Debian: apt-get install systemd)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(u, ".service") && !bytes.Contains(b, []byte("ExecStart=/usr/local/bin/kupdate ")) {
			t.Errorf("%s: ExecStart does not run /usr/local/bin/kupdate, where the install steps put it", u)
		}
		p := filepath.Join(dir, u)
		if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte("/usr/local/bin/kupdate"), []byte(self)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, paths...)...)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// serviceKeys is the [Service] section of a unit: key -> values, in order.
func serviceKeys(t *testing.T, unit string) map[string][]string {
	t.Helper()
	f, err := os.Open(unit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			keys[k] = append(keys[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// The two services are one confinement: what differs is what they run and
// how they restart. TimeoutStopSec is serve.shutdown_timeout's default and
// the 30 s the NixOS module adds too.
func TestServicesAgree(t *testing.T) {
	run, serve := serviceKeys(t, "kupdate.service"), serviceKeys(t, "kupdate-serve.service")
	for k, want := range map[string][]string{
		"Type":      {"oneshot"},
		"ExecStart": {"/usr/local/bin/kupdate --config /etc/kupdate/config.toml run"},
	} {
		if !cmp.Equal(run[k], want) {
			t.Errorf("kupdate.service %s = %q, want %q", k, run[k], want)
		}
	}
	for k, want := range map[string][]string{
		"Type":                     {"exec"},
		"ExecStart":                {"/usr/local/bin/kupdate --config /etc/kupdate/config.toml serve"},
		"Restart":                  {"on-failure"},
		"RestartSec":               {"30s"},
		"RestartPreventExitStatus": {"2"},
	} {
		if !cmp.Equal(serve[k], want) {
			t.Errorf("kupdate-serve.service %s = %q, want %q", k, serve[k], want)
		}
	}
	stop := fmt.Sprint(int((config.Default().Serve.ShutdownTimeout.D() + 30*time.Second) / time.Second))
	for name, keys := range map[string]map[string][]string{"kupdate.service": run, "kupdate-serve.service": serve} {
		if !cmp.Equal(keys["TimeoutStopSec"], []string{stop}) {
			t.Errorf("%s TimeoutStopSec = %q, want %s (serve.shutdown_timeout + 30 s)", name, keys["TimeoutStopSec"], stop)
		}
		for _, k := range []string{"Type", "ExecStart", "Restart", "RestartSec", "RestartPreventExitStatus"} {
			delete(keys, k)
		}
	}
	if diff := cmp.Diff(run, serve); diff != "" {
		t.Errorf("the services' confinement differs (-kupdate.service +kupdate-serve.service):\n%s", diff)
	}
	for k, want := range map[string][]string{
		"DynamicUser":     {"yes"},
		"StateDirectory":  {"kupdate"},
		"CacheDirectory":  {"kupdate"},
		"ProtectSystem":   {"strict"},
		"NoNewPrivileges": {"yes"},
		"EnvironmentFile": {"-/etc/kupdate/kupdate.env"},
	} {
		if !cmp.Equal(run[k], want) {
			t.Errorf("%s = %q, want %q", k, run[k], want)
		}
	}
}
