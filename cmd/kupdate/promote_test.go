package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/workflow/githubtest"
)

func TestPromoteCommand(t *testing.T) {
	// 20:00 on the 10th west of Greenwich is the 11th in UTC, the date
	// nixpkgs' titles use. kupdate and the simulated GitHub share the clock.
	clock := func() time.Time { return time.Date(2026, 1, 10, 20, 0, 0, 0, time.FixedZone("UTC-5", -5*60*60)) }
	sim, err := githubtest.New(githubtest.Options{Root: t.TempDir(), Clock: clock})
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
	cfg := filepath.Join(dir, "config.toml")
	toml := fmt.Sprintf("[nixpkgs]\ncache_dir = %q\n\n[github]\napi_url = %q\ntoken_env = \"PROMOTE_TOKEN\"\n", filepath.Join(dir, "cache"), sim.APIURL())
	if err := os.WriteFile(cfg, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	kupdate := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runWith(context.Background(), append([]string{"--config", cfg}, args...), &out, &errb, func(k string) string {
			if k == "PROMOTE_TOKEN" {
				return "ghp_promote"
			}
			return ""
		}, clock)
		return code, out.String(), errb.String()
	}

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
