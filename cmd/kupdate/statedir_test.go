package main

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/kupdate/kupdate/demo"
)

// TestMain runs kupdate's main when the test binary is started under the
// name kupdate: a test runs the real command, in a process of its own, with
// the environment it chooses (env -i).
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "kupdate" {
		main()
	}
	os.Exit(m.Run())
}

// kupdateBinary is this test binary under the name kupdate.
func kupdateBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kupdate")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// execBare runs kupdate with exactly env as its environment, as
// `env -i PATH=… STATE_DIRECTORY=… CACHE_DIRECTORY=… kupdate …` does.
func execBare(t *testing.T, bin string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir() // no ./config.toml
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// An upgrade from the layout that kept state in the cache directory, under
// systemd (StateDirectory=, CacheDirectory=, no $HOME): status reads the old
// state where it is and moves nothing; the next run moves it, once, with a
// line in the log; status then reads it from the state directory — all of
// it under env -i, which is what a DynamicUser unit gives kupdate.
func TestStateDirectoryUnderSystemd(t *testing.T) {
	world, _, env := demoWorld(t)
	dirs := t.TempDir()
	stateDir, cacheDir := filepath.Join(dirs, "state"), filepath.Join(dirs, "cache")

	// The earlier layout: one directory, named by cache_dir.
	writeConfig := func(name string, cache string) string {
		cfg := *world.Config
		cfg.Nixpkgs.CacheDir, cfg.Nixpkgs.StateDir = cache, ""
		data, err := toml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dirs, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	oldConfig := writeConfig("old.toml", cacheDir)
	if code, stdout, stderr := runInWorld(t, world, env, "--config", oldConfig, "run", "--no-build"); code != 0 {
		t.Fatalf("run (earlier layout): exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "state.json")); err != nil {
		t.Fatalf("the earlier layout has no state in the cache directory: %v", err)
	}

	unitConfig := writeConfig("unit.toml", "")
	bin := kupdateBinary(t)
	// No HOME, no XDG_*: what a DynamicUser unit has, with the GitHub token
	// its EnvironmentFile= adds (the simulator refuses anonymous reads,
	// where GitHub would answer them for a public repository).
	bare := []string{"PATH=" + os.Getenv("PATH"), "STATE_DIRECTORY=" + stateDir, "CACHE_DIRECTORY=" + cacheDir,
		demo.GitHubTokenEnv + "=" + env[demo.GitHubTokenEnv]}
	status := func(when string) {
		t.Helper()
		code, stdout, stderr := execBare(t, bin, bare, "--config", unitConfig, "status")
		if code != 0 || !strings.Contains(stdout, "linux_6_12") || !strings.Contains(stdout, "#1 draft") {
			t.Errorf("env -i … kupdate status, %s: exit %d\n%s\n%s", when, code, stdout, stderr)
		}
	}
	status("before the state moved")
	if _, err := os.Stat(filepath.Join(stateDir, "state.json")); err == nil {
		t.Errorf("status moved the state: it writes nothing")
	}

	t.Setenv("STATE_DIRECTORY", stateDir)
	t.Setenv("CACHE_DIRECTORY", cacheDir)
	code, stdout, stderr := runInWorld(t, world, env, "--config", unitConfig, "run", "--no-build")
	if code != 0 || !strings.Contains(stderr, `msg="moved the state an earlier kupdate kept in the cache directory into the state directory, where clearing caches cannot lose it" files="[state.json builds.json]" from=`+cacheDir+" to="+stateDir+"\n") {
		t.Fatalf("run (systemd's directories): exit %d\n%s\n%s", code, stdout, stderr)
	}
	for dir, want := range map[string]bool{stateDir: true, cacheDir: false} {
		for _, name := range []string{"state.json", "builds.json"} {
			if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != want {
				t.Errorf("%s in %s: present %v, want %v", name, dir, err == nil, want)
			}
		}
	}
	status("after the state moved")

	code, stdout, stderr = execBare(t, bin, bare, "--config", unitConfig, "config")
	if want := "config: " + unitConfig + "\nstate:  " + stateDir + "\ncache:  " + cacheDir + "\n"; code != 0 || stdout != want || stderr != "" {
		t.Errorf("env -i … kupdate config: exit %d\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, want, stderr)
	}
}

// The move itself: once, file by file, never over a file the state
// directory has, and a line in the log only when something moved.
func TestMigrateState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cache, state := filepath.Join(dir, "cache"), filepath.Join(dir, "state")
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
	write(filepath.Join(cache, "state.json"), "old state")
	write(filepath.Join(cache, "builds.json"), "old builds")
	write(filepath.Join(state, "builds.json"), "new builds")

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	if err := migrateState(log, cache, state); err != nil {
		t.Fatal(err)
	}
	want := `level=INFO msg="moved the state an earlier kupdate kept in the cache directory into the state directory, where clearing caches cannot lose it" files=[state.json] from=` + cache + " to=" + state + "\n"
	if logs.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", logs.String(), want)
	}
	for path, want := range map[string]string{
		filepath.Join(state, "state.json"):  "old state",
		filepath.Join(state, "builds.json"): "new builds", // not overwritten
		filepath.Join(cache, "builds.json"): "old builds", // left alone
	} {
		if got := read(path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "state.json")); err == nil {
		t.Errorf("state.json is still in the cache directory")
	}

	logs.Reset()
	if err := migrateState(log, cache, state); err != nil || logs.Len() != 0 {
		t.Errorf("second migration: %v, log %q; want nothing done", err, logs.String())
	}
	if err := migrateState(log, cache, cache+"/"); err != nil || logs.Len() != 0 {
		t.Errorf("one directory for both: %v, log %q; want nothing done", err, logs.String())
	}
}
