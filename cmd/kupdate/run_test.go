package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/demo"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/lock"
)

// demoWorld starts package demo's offline world and returns it with its
// config file and a getenv for its secrets and Nix mirrors. Its clock starts
// at demo.Epoch; run kupdate on the same clock (runInWorld): GitHub dates a
// PR when it is opened, and kupdate keeps that date in the rolling PR's
// title.
func demoWorld(t *testing.T) (*demo.Env, string, map[string]string) {
	t.Helper()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
	world, err := demo.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { world.Close() })
	env := map[string]string{}
	for _, k := range []string{demo.GitHubTokenEnv, demo.GitTokenEnv} {
		env[k] = world.Getenv(k)
	}
	for _, kv := range world.BuildEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return world, filepath.Join(world.Dir, "config.toml"), env
}

// runInWorld runs kupdate on the demo world's clock, so the dates it writes
// are the world's, whatever the real time of day.
func runInWorld(t *testing.T, world *demo.Env, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runWith(context.Background(), args, &out, &errb, func(k string) string { return env[k] }, world.Now)
	return code, out.String(), errb.String()
}

func githubWrites(w *demo.Env) []string {
	var out []string
	for _, r := range w.GitHub.Requests() {
		if r.Method != "GET" {
			out = append(out, r.String())
		}
	}
	return out
}

// kupdate run against the demo world: the dry run prints what would happen
// and writes nothing; the cycle opens the PRs and prints a summary; the
// next one changes nothing; status shows the branches; a second kupdate
// finds the lock taken.
func TestRunCommand(t *testing.T) {
	t.Parallel()
	world, cfg, env := demoWorld(t)
	today := demo.Epoch().Format(time.DateOnly)

	code, stdout, stderr := runInWorld(t, world, env, "--config", cfg, "run", "--dry-run", "--no-build")
	if code != 0 {
		t.Fatalf("run --dry-run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"=== branch kupdate/staging-nixos/updates (on staging-nixos at ",
		"push: would push ",
		"+++ b/pkgs/os-specific/linux/kernel/kernels-org.json\n",
		"title: kernel updates for " + today + "\n",
		"labels: backport release-25.11\n",
		"would: open draft PR kupdate-bot:kupdate/staging-nixos/updates -> staging-nixos: kernel updates for " + today + "\n",
		"=== branch kupdate/staging-nixos/linux_7_0-init",
		"title: linux_7_0: init at 7.0",
		"--- body\n<!-- kupdate: ",
		"(dry run: nothing was written)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, stdout)
		}
	}
	if w := githubWrites(world); w != nil {
		t.Errorf("GitHub writes in a dry run: %v", w)
	}
	if sha := world.ForkBranchSHA("kupdate/staging-nixos/updates"); sha != "" {
		t.Errorf("the dry run pushed: %s", sha)
	}

	code, stdout, stderr = runInWorld(t, world, env, "--config", cfg, "run")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "CHANGE ") || !strings.Contains(stdout, "/NixOS/nixpkgs/pull/1") {
		t.Errorf("no summary:\n%s", stdout)
	}
	if !strings.Contains(stderr, "kupdate run: building linux_") || !strings.Contains(stderr, "cycle: push") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	prs := world.PRs()
	if len(prs) < 2 || prs[0].Head != "kupdate/staging-nixos/updates" {
		t.Fatalf("PRs: %+v", prs)
	}

	world.GitHub.ResetRequests()
	code, stdout, stderr = runInWorld(t, world, env, "--config", cfg, "run")
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if w := githubWrites(world); w != nil {
		t.Errorf("GitHub writes on the second run: %v", w)
	}
	if len(world.PRs()) != len(prs) {
		t.Errorf("%d PRs after the second run, want %d", len(world.PRs()), len(prs))
	}

	code, stdout, stderr = runInWorld(t, world, env, "--config", cfg, "status")
	if code != 0 || !strings.Contains(stdout, "LAST RESULT") || !strings.Contains(stdout, "linux_6_12") || !strings.Contains(stdout, "#1 draft") {
		t.Errorf("status: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runInWorld(t, world, env, "--config", cfg, "status", "--json")
	var st struct {
		OK    bool `json:"ok"`
		Attrs []struct {
			Attr string `json:"attr"`
		} `json:"attrs"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); code != 0 || err != nil || !st.OK || len(st.Attrs) == 0 {
		t.Errorf("status --json: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}

	l, err := lock.TryLock(world.Config.Nixpkgs.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runInWorld(t, world, env, "--config", cfg, "run", "--no-build")
	l.Unlock()
	if code != 1 || !strings.Contains(stderr, "(pass --wait to wait for it)") {
		t.Errorf("run with the lock held: exit %d\n%s", code, stderr)
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"run", "--only", "6.12"},
		{"run", "extra"},
		{"status", "--bogus"},
		{"serve", "extra"},
	} {
		if code, _, stderr := runKupdateEnv(t, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
}

// A checksum list that does not verify for one run: the rolling branch and
// its PR stay as proposed, the run says why and exits 1; --only never drops
// the other proposed commits either; a mistyped --only is a usage error.
func TestRunKeepsProposedCommits(t *testing.T) {
	t.Parallel()
	world, cfg, env := demoWorld(t)
	if code, stdout, stderr := runInWorld(t, world, env, "--config", cfg, "run", "--no-build"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rolling := "kupdate/staging-nixos/updates"
	head := world.ForkBranchSHA(rolling)
	pr, err := world.PR(1)
	if err != nil {
		t.Fatal(err)
	}

	world.KernelOrg.SetFault(kernelorgtest.ChecksumsPath("6.12.70"), kernelorgtest.Fault{BadSignature: true})
	world.GitHub.ResetRequests()
	code, stdout, stderr := runInWorld(t, world, env, "--config", cfg, "run", "--no-build")
	if code != 1 || !strings.Contains(stderr, "the cycle had failures") {
		t.Errorf("run with a bad signature: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"kept: kupdate/staging-nixos/updates: linux_6_18, linux_6_12, linux_6_6, linux_6_1, linux_6_12_hardened, linux_6_18_hardened could not be re-verified this cycle (see \"held:\" below); the branch stays as proposed\n",
		"\nheld: 6.12: no verified hash for 6.12.70: ",
		"\nheld: 6.12 (hardened): no verified hash for 6.12.70: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
	if got := world.ForkBranchSHA(rolling); got != head {
		t.Errorf("%s moved from %s to %s", rolling, head, got)
	}
	if w := githubWrites(world); w != nil {
		t.Errorf("GitHub writes: %v", w)
	}
	if now, _ := world.PR(1); now.Body != pr.Body {
		t.Errorf("PR #1's body changed")
	}
	world.KernelOrg.ClearFault(kernelorgtest.ChecksumsPath("6.12.70"))

	if err := world.PublishRelease(kernelorgtest.Spec{Version: "6.12.71", Moniker: "longterm"}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runInWorld(t, world, env, "--config", cfg, "run", "--dry-run", "--no-build", "--only", "linux_6_12")
	if code != 0 || !strings.Contains(stdout, "\nkept: kupdate/staging-nixos/updates: linux_testing, linux_6_18, linux_6_6, linux_6_1, linux_5_15, linux_6_12_hardened, linux_6_18_hardened not selected by --only (run without --only to update the branch); the branch stays as proposed\n") {
		t.Errorf("run --dry-run --only linux_6_12: exit %d\n%s\n%s", code, stdout, stderr)
	}

	code, _, stderr = runInWorld(t, world, env, "--config", cfg, "run", "--no-build", "--only", "linux_6_99")
	if code != 2 || !strings.Contains(stderr, "--only linux_6_99: not a kernel attribute of the tree or of kernel.org's branches (known: linux_5_10, linux_5_15, ") {
		t.Errorf("run --only linux_6_99: exit %d\n%s", code, stderr)
	}
	if got := world.ForkBranchSHA(rolling); got != head {
		t.Errorf("%s moved from %s to %s", rolling, head, got)
	}
}
