package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/lock"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// promoteClock is 20:00 on the 10th west of Greenwich, the 11th in UTC: the
// date nixpkgs' titles use. kupdate and the simulated GitHub share it.
func promoteClock() time.Time {
	return time.Date(2026, 1, 10, 20, 0, 0, 0, time.FixedZone("UTC-5", -5*60*60))
}

// promoteWorld is a simulated GitHub whose staging-nixos is one commit
// ahead of master, a config file for it, and kupdate to run against them
// with the push token in its environment.
type promoteWorld struct {
	sim      *githubtest.Server
	cfg      string // the config file
	cacheDir string
}

func newPromoteWorld(t *testing.T) *promoteWorld {
	sim, err := githubtest.New(githubtest.Options{Root: t.TempDir(), Clock: promoteClock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	for _, step := range []error{
		sim.CreateRepo("NixOS", "nixpkgs", "master"),
		func() error {
			_, err := sim.Commit("NixOS", "nixpkgs", "master", map[string]string{"a": "1\n"}, "init")
			return err
		}(),
		sim.CreateBranch("NixOS", "nixpkgs", "staging-nixos", "master"),
		func() error {
			_, err := sim.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"a": "2\n"}, "kernel bumps")
			return err
		}(),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	sim.AddToken("ghp_promote", "kupdate-bot")
	dir := t.TempDir()
	cfg, cache := filepath.Join(dir, "config.toml"), filepath.Join(dir, "cache")
	toml := fmt.Sprintf("[nixpkgs]\ncache_dir = %q\n\n[github]\napi_url = %q\ntoken_env = \"PROMOTE_TOKEN\"\n", cache, sim.APIURL())
	if err := os.WriteFile(cfg, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return &promoteWorld{sim: sim, cfg: cfg, cacheDir: cache}
}

// kupdate runs kupdate with ctx on the simulator's clock: exit code, stdout, stderr.
func (w *promoteWorld) kupdate(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runWith(ctx, append([]string{"--config", w.cfg}, args...), &out, &errb, func(k string) string {
		if k == "PROMOTE_TOKEN" {
			return "ghp_promote"
		}
		return ""
	}, promoteClock)
	return code, out.String(), errb.String()
}

func TestPromoteCommand(t *testing.T) {
	t.Parallel()
	w := newPromoteWorld(t)
	sim, cfg := w.sim, w.cfg
	kupdate := func(args ...string) (int, string, string) { return w.kupdate(context.Background(), args...) }

	code, stdout, stderr := kupdate("promote", "--dry-run")
	want := "staging-nixos -> master: 1 commit ahead, no PR yet: would-open\n" +
		"  would: open PR NixOS:staging-nixos -> master: staging-nixos merge for 2026-01-11\n"
	if code != 0 || stdout != want {
		t.Errorf("dry run: exit %d\n got: %q\nwant: %q\n%s", code, stdout, want, stderr)
	}
	if prs := sim.PRs("NixOS", "nixpkgs"); len(prs) != 0 {
		t.Errorf("a dry run opened %v", prs)
	}

	code, stdout, stderr = kupdate("promote")
	prURL := sim.URL() + "/NixOS/nixpkgs/pull/1"
	want = "staging-nixos -> master: 1 commit ahead, #1 " + prURL + ": opened (promote.merge is off: a person merges it)\n" +
		"  did: open PR NixOS:staging-nixos -> master: staging-nixos merge for 2026-01-11\n"
	if code != 0 || stdout != want {
		t.Errorf("promote: exit %d\n got: %q\nwant: %q\n%s", code, stdout, want, stderr)
	}
	if strings.Contains(stderr, "ghp_promote") {
		t.Errorf("the token is in the log: %s", stderr)
	}

	// No token: a configuration error, exit 2, naming the variable.
	var out, errb bytes.Buffer
	code = run(context.Background(), []string{"--config", cfg, "promote"}, &out, &errb, func(string) string { return "" })
	if code != 2 || !strings.Contains(errb.String(), "environment variable PROMOTE_TOKEN (github.token_env) is empty or unset") {
		t.Errorf("no token: exit %d: %s", code, errb.String())
	}
}

// Like run, promote (dry or not) holds the cache-directory lock: while
// another kupdate holds it, promote fails at once with run's message and
// asks nothing of GitHub; with --wait it waits (here until its context is
// done); once the lock is free it promotes.
func TestPromoteLocked(t *testing.T) {
	t.Parallel()
	w := newPromoteWorld(t)
	holder, err := lock.TryLock(w.cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	_, held := lock.TryLock(w.cacheDir) // what promote will find
	if !errors.Is(held, lock.ErrHeld) {
		t.Fatalf("second TryLock: %v, want ErrHeld", held)
	}
	w.sim.ResetRequests()
	for _, args := range [][]string{{"promote"}, {"promote", "--dry-run"}} {
		code, stdout, stderr := w.kupdate(context.Background(), args...)
		want := "kupdate promote: " + held.Error() + " (pass --wait to wait for it)\n"
		if code != 1 || stdout != "" || stderr != want {
			t.Errorf("%v with the lock held: exit %d, stdout %q\n got stderr %q\nwant stderr %q", args, code, stdout, stderr, want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, stdout, stderr := w.kupdate(ctx, "promote", "--wait")
	want := "kupdate promote: waiting for the lock: context canceled: " + held.Error() + "\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("promote --wait with the lock held and the context done: exit %d, stdout %q\n got stderr %q\nwant stderr %q", code, stdout, stderr, want)
	}
	if r := w.sim.Requests(); len(r) != 0 {
		t.Errorf("GitHub requests while the lock was held: %v", r)
	}

	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = w.kupdate(context.Background(), "promote", "--wait")
	if code != 0 || !strings.HasPrefix(stdout, "staging-nixos -> master: 1 commit ahead, #1 ") {
		t.Errorf("promote --wait with the lock free: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if l, err := lock.TryLock(w.cacheDir); err != nil {
		t.Errorf("the lock after promote: %v, want it released", err)
	} else {
		l.Unlock()
	}
}
