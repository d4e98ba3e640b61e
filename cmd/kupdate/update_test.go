package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runKupdateEnv is run with getenv answering env.
func runKupdateEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func gitLog(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// `kupdate update` in a checkout: one commit per change on the current
// branch, with nixpkgs' exact titles, each validated; the worktree is clean
// afterwards; a second run has nothing to do.
func TestUpdateCommits(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
	srv, cfg, tree := planSetup(t)
	env := map[string]string{"KUPDATE_KERNEL_MIRROR": srv.URL}
	head := gitRevParse(t, tree)
	code, stdout, stderr := runKupdateEnv(t, env, "--config", cfg, "update", "--nixpkgs", tree)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := strings.Join([]string{
		"linux_7_0: init at 7.0.1",
		"linux_5_15: 5.15.197 -> 5.15.200",
		"linux_6_1: 6.1.159 -> 6.1.163",
		"linux_6_12: 6.12.64 -> 6.12.70",
		"linux_6_18: 6.18.5 -> 6.18.9",
		"linux_testing: 6.19-rc4 -> 7.1-rc1",
		"linux_5_10: remove",
	}, "\n")
	if got := gitLog(t, tree, "log", "--format=%s", head+"..HEAD"); got != want {
		t.Errorf("commits, newest first:\n%s\nwant:\n%s", got, want)
	}
	if got := gitLog(t, tree, "status", "--porcelain", "--untracked-files=all"); got != "" {
		t.Errorf("the checkout is not clean:\n%s", got)
	}
	if got := gitLog(t, tree, "symbolic-ref", "HEAD"); got != "refs/heads/master" {
		t.Errorf("HEAD = %s", got)
	}
	if got := gitLog(t, tree, "log", "-1", "--format=%an <%ae>%n%b", "HEAD"); !strings.Contains(got, "kupdate <kupdate@users.noreply.github.com>") || !strings.Contains(got, "Prepared-by: kupdate") {
		t.Errorf("last commit:\n%s", got)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !strings.HasPrefix(line, "committed ") && !strings.HasPrefix(line, "held: ") {
			t.Errorf("unexpected output line %q", line)
		}
	}
	code, stdout, stderr = runKupdateEnv(t, env, "--config", cfg, "update", "--nixpkgs", tree)
	if code != 0 || stdout != "nothing to do\nheld: 6.6: 6.6.125 not yet signed on kernel.org\n" {
		t.Errorf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// A maintainer's uncommitted edit of a file kupdate would change: refused
// before anything is written.
func TestUpdateRefusesDirtyCheckout(t *testing.T) {
	t.Parallel()
	_, cfg, tree := planSetup(t)
	path := filepath.Join(tree, "pkgs/top-level/aliases.nix")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mine := append(orig, "# my unfinished work\n"...)
	if err := os.WriteFile(path, mine, 0o644); err != nil {
		t.Fatal(err)
	}
	head := gitRevParse(t, tree)
	code, _, stderr := runKupdateEnv(t, nil, "--config", cfg, "update", "--nixpkgs", tree)
	if code != 1 || !strings.Contains(stderr, "uncommitted changes in files kupdate would change: pkgs/top-level/aliases.nix; commit or stash them (or pass --no-commit)") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, mine) {
		t.Errorf("the maintainer's file was changed:\n%s", got)
	}
	if gitRevParse(t, tree) != head {
		t.Error("HEAD moved")
	}
	if got := gitLog(t, tree, "status", "--porcelain"); got != "M pkgs/top-level/aliases.nix" {
		t.Errorf("status: %q", got)
	}
}

// --build builds the committed changes in the checkout.
func TestUpdateBuild(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nix-build"); err != nil {
		t.Skip("nix-build not on PATH")
	}
	srv, cfg, tree := planSetup(t)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[build.options]\nsubstituters = \"\"\n")
	f.Close()
	env := map[string]string{"KUPDATE_KERNEL_MIRROR": srv.URL}
	code, stdout, stderr := runKupdateEnv(t, env, "--config", cfg, "update", "--nixpkgs", tree, "--build")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"build linux_7_0: init at 7.0.1: passed\n", "build linux_5_10: remove: nothing to build\n", "build linux_6_12: 6.12.64 -> 6.12.70: passed\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "kupdate update: building linux_7_0 eval") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	// Each tier once: the progress line, not also the build log's.
	if strings.Contains(stderr, "build tier started") || strings.Contains(stderr, "build tier finished") {
		t.Errorf("the build log repeats the progress on stderr:\n%s", stderr)
	}
}
