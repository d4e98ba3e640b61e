package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/state"
)

// `kupdate propose remove` in a checkout: one validated commit, worded as
// nixpkgs words a removal before end of life; aliases.nix untouched; asked
// again, refused (the branch is a throw now).
func TestProposeRemoveCommits(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
	srv, cfg, tree := planSetup(t)
	env := map[string]string{"KUPDATE_KERNEL_MIRROR": srv.URL}
	head := gitRevParse(t, tree)
	aliases, _ := os.ReadFile(filepath.Join(tree, "pkgs/top-level/aliases.nix"))
	code, stdout, stderr := runKupdateEnv(t, env, "--config", cfg, "propose", "remove", "linux_5_15", "--eol-within", "26.05", "--nixpkgs", tree)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := gitLog(t, tree, "log", "--format=%s", head+"..HEAD"); got != "linux_5_15: remove" {
		t.Errorf("commits: %q", got)
	}
	if !strings.HasPrefix(stdout, "committed ") || !strings.HasSuffix(stdout, ": linux_5_15: remove\n") {
		t.Errorf("stdout %q", stdout)
	}
	if got := gitLog(t, tree, "diff", "--name-only", head, "HEAD"); got != "pkgs/os-specific/linux/kernel/kernels-org.json\npkgs/top-level/linux-kernels.nix" {
		t.Errorf("files changed:\n%s", got)
	}
	lk := gitLog(t, tree, "show", "HEAD:pkgs/top-level/linux-kernels.nix")
	for _, want := range []string{
		`linux_5_15 = throw "linux 5.15 was removed because it will reach its end of life within 26.05";`,
	} {
		if strings.Count(lk, want) != 2 {
			t.Errorf("linux-kernels.nix has %d times %s, want 2 (kernels and vanillaPackages)", strings.Count(lk, want), want)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(tree, "pkgs/top-level/aliases.nix")); string(after) != string(aliases) {
		t.Error("aliases.nix changed")
	}
	code, stdout, stderr = runKupdateEnv(t, env, "--config", cfg, "propose", "remove", "linux_5_15", "--eol-within", "26.05", "--nixpkgs", tree)
	if want := "kupdate propose: propose remove linux_5_15 --eol-within 26.05: linux_5_15 is already a throw (pkgs/top-level/linux-kernels.nix:150): there is nothing to remove\n"; code != 2 || stdout != "" || stderr != want {
		t.Errorf("second run: exit %d\nstdout %q\nstderr %q\nwant   %q", code, stdout, stderr, want)
	}
}

// A request that makes no sense exits 2 with the reason, and writes
// nothing: no commit, no file changed.
func TestProposeRefuses(t *testing.T) {
	t.Parallel()
	_, cfg, tree := planSetup(t)
	head := gitRevParse(t, tree)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"remove", "linux_4_14", "--eol-within", "25.11"}, "propose remove linux_4_14 --eol-within 25.11: linux_4_14 is not a kernel this tree keeps (kupdate status lists them)"},
		{[]string{"remove", "linux_testing", "--eol-within", "25.11"}, "propose remove linux_testing --eol-within 25.11: linux_testing follows mainline's release candidates; it is neither removed nor made the default"},
		{[]string{"remove", "linux_5_4", "--eol-within", "25.11"}, "propose remove linux_5_4 --eol-within 25.11: linux_5_4 is already a throw (pkgs/top-level/linux-kernels.nix:157): there is nothing to remove"},
		{[]string{"--eol-within", "26.05", "remove", "linux_6_18"}, `propose remove linux_6_18 --eol-within 26.05: linux_6_18 is not a longterm branch (pkgs/os-specific/linux/kernel/kernels-org.json:32: "lts": false); a stable branch is removed when kernel.org marks it end of life, which kupdate does by itself`},
		{[]string{"remove", "linux_5_10", "--eol-within", "2025.11"}, `propose remove linux_5_10 --eol-within 2025.11: --eol-within "2025.11" is not a NixOS release: want YY.05 or YY.11, e.g. 25.11`},
		{[]string{"remove", "linux_5_10"}, "propose remove linux_5_10: --eol-within YY.MM is required (kupdate removes a branch kernel.org marks end of life by itself)"},
		{[]string{"default", "linux_6_12"}, "propose default linux_6_12: linux_6_12 is already linux_default"},
		{[]string{"default", "linux_6_18"}, `propose default linux_6_18: linux_6_18 is not a longterm branch (pkgs/os-specific/linux/kernel/kernels-org.json:32: "lts": false); linux_default is a longterm branch`},
		{[]string{"rename", "linux_6_18"}, `propose "rename": want remove or default (usage: kupdate propose remove linux_X_Y --eol-within YY.MM | default linux_X_Y [flags])`},
	} {
		args := append([]string{"--config", cfg, "propose"}, tc.args...)
		code, stdout, stderr := runKupdateEnv(t, nil, append(args, "--nixpkgs", tree)...)
		if want := "kupdate propose: " + tc.want + "\n"; code != 2 || stdout != "" || stderr != want {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q\nwant   %q", tc.args, code, stdout, stderr, want)
		}
	}
	if got := gitRevParse(t, tree); got != head {
		t.Errorf("HEAD moved: %s", got)
	}
	if got := gitLog(t, tree, "status", "--porcelain", "--untracked-files=all"); got != "" {
		t.Errorf("the checkout is not clean:\n%s", got)
	}
}

// `kupdate propose default` in a checkout: one validated commit titled as
// nixpkgs titles the move, changing linux_default alone.
func TestProposeDefaultCommits(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
	srv, cfg, tree := planSetup(t)
	kj := filepath.Join(tree, "pkgs/os-specific/linux/kernel/kernels-org.json")
	b, err := os.ReadFile(kj)
	if err != nil {
		t.Fatal(err)
	}
	// 6.18 became longterm (kernel.org, Dec 2025).
	s := strings.Replace(string(b), "\"version\": \"6.18.5\",\n        \"hash\": \"sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q\",\n        \"lts\": false", "\"version\": \"6.18.5\",\n        \"hash\": \"sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q\",\n        \"lts\": true", 1)
	if s == string(b) {
		t.Fatal("the sample tree's 6.18 entry changed; update the test")
	}
	if err := os.WriteFile(kj, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	gitLog(t, tree, "commit", "-qam", "linux_6_18: mark as longterm")
	head := gitRevParse(t, tree)
	env := map[string]string{"KUPDATE_KERNEL_MIRROR": srv.URL}
	code, stdout, stderr := runKupdateEnv(t, env, "--config", cfg, "propose", "default", "linux_6_18", "--nixpkgs", tree)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := gitLog(t, tree, "log", "--format=%s", head+"..HEAD"); got != "linuxPackages: 6.12 -> 6.18" {
		t.Errorf("commits: %q", got)
	}
	diff := gitLog(t, tree, "diff", "-U0", head, "HEAD")
	if !strings.HasSuffix(diff, "@@ -251 +251 @@ in\n-    linux_default = packages.linux_6_12;\n+    linux_default = packages.linux_6_18;") {
		t.Errorf("diff:\n%s", diff)
	}
}

// kupdate status ends with what a maintainer may want to ask for, and the
// command.
func TestStatusShowsSuggestions(t *testing.T) {
	var out strings.Builder
	printStatus(&env{stdout: &out}, &state.State{Suggestions: []state.Suggestion{{Family: "kernel.org", Attr: "linux_6_18",
		Reason: "linux_6_18 is a newer longterm branch than linux_default (linux_6_12)", Command: "kupdate propose default linux_6_18"}}})
	want := "\nsuggested: linux_6_18 is a newer longterm branch than linux_default (linux_6_12): kupdate propose default linux_6_18\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("status:\n%s\nwant it to end with %q", out.String(), want)
	}
}
