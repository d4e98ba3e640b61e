package build

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kupdate/kupdate/childproc"
	"github.com/kupdate/kupdate/config"
)

// envFileVar tells the test binary, run as a tier's command, to write its
// environment into that file.
const envFileVar = "KUPDATE_BUILD_TEST_ENVFILE"

// TestHelperEnv is not a test: it is a tier's command that writes its
// environment, NUL-separated, to $KUPDATE_BUILD_TEST_ENVFILE.
func TestHelperEnv(t *testing.T) {
	path := os.Getenv(envFileVar)
	if path == "" {
		t.Skip("helper process only")
	}
	if err := os.WriteFile(path, []byte(strings.Join(os.Environ(), "\x00")), 0o644); err != nil {
		os.Exit(2)
	}
	os.Exit(0)
}

// TestChildEnvironment: a build command sees none of kupdate's secrets —
// not the *_env variables, not one that is allow-listed by its name, not a
// token in NIX_CONFIG, not anything off the allow-list — and does see PATH,
// HOME, the rest of NIX_CONFIG and the mirror kupdate sets. Nothing in it
// was invented: each variable is kupdate's own, or one WithEnv gave, or
// (NIX_CONFIG) less of kupdate's own.
func TestChildEnvironment(t *testing.T) {
	for name, val := range map[string]string{
		"GITHUB_TOKEN":           "kupdate-canary-github",
		"KUPDATE_GIT_TOKEN":      "kupdate-canary-git",
		"KUPDATE_WEBHOOK_SECRET": "kupdate-canary-webhook",
		"NIX_KUPDATE_CANARY":     "kupdate-canary-allowlisted", // named by an *_env key below
		"AWS_SECRET_ACCESS_KEY":  "kupdate-canary-unlisted",
		"NIX_CONFIG":             "sandbox = false\naccess-tokens = github.com=kupdate-canary-nixconfig",
		"KUPDATE_KERNEL_MIRROR":  "http://kupdate-canary-parent-mirror",
	} {
		t.Setenv(name, val)
	}
	envFile := filepath.Join(t.TempDir(), "env")
	cfg := config.Build{
		Tiers:    []string{"eval"},
		Commands: map[string][]string{"eval": {os.Args[0], "-test.run=^TestHelperEnv$"}},
	}
	extra := []string{"KUPDATE_KERNEL_MIRROR=http://127.0.0.1:9", envFileVar + "=" + envFile}
	r := New(cfg, WithEnv(extra...), WithSecrets("KUPDATE_GIT_TOKEN", "GITHUB_TOKEN", "KUPDATE_WEBHOOK_SECRET", "NIX_KUPDATE_CANARY"))
	rep := r.Run(context.Background(), t.TempDir(), []string{"linux_env"})
	if res := rep.Results[0]; res.Status != Passed {
		t.Fatalf("the command did not run: %+v", res)
	}
	data, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range strings.Split(string(data), "\x00") {
		name, val, _ := strings.Cut(kv, "=")
		got[name] = val
		if strings.Contains(kv, "kupdate-canary") {
			t.Errorf("the command saw %s", kv)
		}
		if v, ok := os.LookupEnv(name); (!ok || v != val) && !slices.Contains(extra, kv) && name != "NIX_CONFIG" {
			t.Errorf("%s: neither kupdate's nor given by WithEnv", kv)
		}
	}
	for name, want := range map[string]string{
		"PATH":                  os.Getenv("PATH"),
		"HOME":                  os.Getenv("HOME"),
		"NIX_CONFIG":            "sandbox = false",
		"KUPDATE_KERNEL_MIRROR": "http://127.0.0.1:9",
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
}

// helperVar tells the test binary to be a kupdate that runs one build (a
// JSON helperRun) and waits, for TestDiesWithKupdate to kill.
const helperVar = "KUPDATE_BUILD_TEST_KUPDATE"

type helperRun struct {
	Build config.Build
	Dir   string
	Attr  string
}

// TestHelperKupdate is not a test: it is the kupdate TestDiesWithKupdate
// kills with SIGKILL.
func TestHelperKupdate(t *testing.T) {
	spec := os.Getenv(helperVar)
	if spec == "" {
		t.Skip("helper process only")
	}
	var h helperRun
	if err := json.Unmarshal([]byte(spec), &h); err != nil {
		os.Exit(2)
	}
	New(h.Build).Run(context.Background(), h.Dir, []string{h.Attr})
	os.Exit(0)
}

// TestDiesWithKupdate: a kupdate killed with SIGKILL runs no code on its
// way out, so nothing of its own stops its builds. The nix-build it ran
// stops anyway, with its builder and the builder's background process;
// and a command that ignores SIGTERM, which survives, holds the lock of
// the directory it ran in for as long as it lives, so no later run
// exports there (gitops.Repo.ExportFree).
func TestDiesWithKupdate(t *testing.T) {
	needNix(t)
	script, err := filepath.Abs("testdata/orphan.sh")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("nix-build", func(t *testing.T) {
		nonce, marker := uniqueMarker(t), uniqueMarker(t)
		cfg := testConfig(nonce, marker, "configfile")
		cfg.Timeout = config.Duration(time.Hour)
		dir := treeDir(t)
		killKupdate(t, helperRun{Build: cfg, Dir: dir, Attr: "linux_slow"}, marker, 2)
		assertGone(t, nil, marker)
	})
	t.Run("a command that ignores SIGTERM", func(t *testing.T) {
		marker := uniqueMarker(t)
		dir := t.TempDir()
		if err := childproc.Track(dir); err != nil {
			t.Fatal(err)
		}
		cfg := config.Build{
			Tiers:    []string{"kernel"},
			Commands: map[string][]string{"kernel": {script, "{attr}", marker}},
			Timeout:  config.Duration(time.Hour),
		}
		killKupdate(t, helperRun{Build: cfg, Dir: dir, Attr: "linux_6_12"}, marker, 2)
		survivors := leftovers(t, nil, marker)
		if len(survivors) == 0 {
			t.Fatal("the script that ignores SIGTERM died: the test shows nothing")
		}
		if busy, err := childproc.InUse(dir); !busy || err != nil {
			t.Errorf("with %d survivors, InUse = %v, %v; want true", len(survivors), busy, err)
		}
		for _, p := range survivors {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		assertGone(t, nil, marker)
		waitFor(t, "the lock to be free", func() bool { busy, _ := childproc.InUse(dir); return !busy })
	})
}

// killKupdate starts a kupdate running h, waits until n processes with
// marker in their command line run, and kills it with SIGKILL.
func killKupdate(t *testing.T, h helperRun, marker string, n int) {
	t.Helper()
	spec, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	kupdate := exec.Command(os.Args[0], "-test.run=^TestHelperKupdate$")
	kupdate.Env = append(os.Environ(), helperVar+"="+string(spec))
	if err := kupdate.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range leftovers(t, nil, marker) {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
	})
	waitFor(t, "the build to run", func() bool { return markerCount(t, marker) >= n })
	if err := kupdate.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	kupdate.Wait()
}
