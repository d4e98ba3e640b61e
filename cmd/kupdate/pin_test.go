package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// pinWorld is a user's configuration repository with custom kernels, and
// the kernel.org they are pinned against.
type pinWorld struct {
	srv  *kernelorgtest.Server
	cfg  string
	repo string
}

// pinSetup copies the named files of testdata/pins into a fresh git
// repository (as repo-name: testdata-name) and starts kernel.org with 6.1
// at 6.1.163, 6.6.125 not yet signed and 5.10 end of life.
func pinSetup(t *testing.T, files map[string]string) pinWorld {
	t.Helper()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
	srv, err := kernelorgtest.New(
		kernelorgtest.Spec{Version: "7.0.1"},
		kernelorgtest.Spec{Version: "6.12.70", Moniker: "longterm"},
		kernelorgtest.Spec{Version: "6.6.125", Moniker: "longterm"},
		kernelorgtest.Spec{Version: "6.1.163", Moniker: "longterm"},
		kernelorgtest.Spec{Version: "5.10.250", Moniker: "longterm", EOL: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.SetFault(kernelorgtest.ChecksumsPath("6.6.125"), kernelorgtest.Fault{OmitFiles: []string{"linux-6.6.125.tar.xz"}})
	dir := t.TempDir()
	w := pinWorld{srv: srv, repo: filepath.Join(dir, "dotfiles"), cfg: filepath.Join(dir, "config.toml")}
	if err := os.MkdirAll(filepath.Join(w.repo, "hosts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, from := range files {
		data, err := os.ReadFile(filepath.Join("../../testdata/pins", from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(w.repo, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"config", "user.name", "Ada Lovelace"}, {"config", "user.email", "ada@example.invalid"}, {"add", "-A"}, {"commit", "-q", "-m", "my configuration"}} {
		git(t, w.repo, args...)
	}
	keyring := filepath.Join(dir, "keyring.asc")
	if err := os.WriteFile(keyring, srv.Keyring(), 0o644); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("[kernelorg]\nurl = %q\ngit_url = %q\nkeyring = %q\nfingerprint = %q\ntimeout = \"30s\"\n\n[nixpkgs]\ncache_dir = %q\n",
		srv.URL, srv.URL, keyring, srv.Fingerprint(), filepath.Join(dir, "cache"))
	if err := os.WriteFile(w.cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-04-20T00:00:00Z", "GIT_COMMITTER_DATE=2026-04-20T00:00:00Z", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// pinRun runs kupdate in the repository (files are named relative to it)
// with a fixed clock.
func (w pinWorld) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	now := func() time.Time { return time.Date(2026, 4, 21, 12, 0, 0, 0, time.UTC) }
	env := map[string]string{"GIT_CONFIG_NOSYSTEM": "1"}
	abs := make([]string, len(args))
	for i, a := range args {
		abs[i] = a
		if strings.HasSuffix(a, ".nix") && !filepath.IsAbs(a) {
			abs[i] = filepath.Join(w.repo, a)
		}
	}
	code = runWith(context.Background(), append([]string{"--config", w.cfg, "pin"}, abs...), &out, &errb, func(k string) string { return env[k] }, now)
	rel := func(s string) string { return strings.ReplaceAll(s, w.repo+"/", "") }
	return code, rel(out.String()), rel(errb.String())
}

func (w pinWorld) read(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.repo, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func wantPins(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../testdata/pins", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// `kupdate pin` moves each pin to the newest release of its series in one
// commit titled in nixpkgs' style, as the repository's git user, with the
// bytes of the goldens; a bad kernel beside them is reported with its line
// (exit 2) and left alone; a second run changes nothing.
func TestPinCommits(t *testing.T) {
	t.Parallel()
	w := pinSetup(t, map[string]string{"kernel.nix": "manual-moddir.nix", "hosts/board.nix": "mixed.nix"})
	head := git(t, w.repo, "rev-parse", "HEAD")
	code, stdout, stderr := w.run(t, "kernel.nix", "hosts/board.nix")
	if code != 2 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, want := git(t, w.repo, "log", "--format=%s|%an <%ae>", head+"..HEAD"), "linux_vm: 6.1.55 -> 6.1.163|Ada Lovelace <ada@example.invalid>\nlinux_custom: 6.1.55 -> 6.1.163|Ada Lovelace <ada@example.invalid>"; got != want {
		t.Errorf("commits, newest first:\n%s\nwant:\n%s", got, want)
	}
	first := git(t, w.repo, "rev-parse", "HEAD~1")
	last := git(t, w.repo, "rev-parse", "HEAD")
	want := "committed " + first[:12] + ": linux_custom: 6.1.55 -> 6.1.163 (kernel.nix:3)\n" +
		"committed " + last[:12] + ": linux_vm: 6.1.55 -> 6.1.163 (hosts/board.nix:14)\n" +
		"error: hosts/board.nix:5: src is \"pkgs.fetchgit …\", not a fetchurl of kernel.org's release tarball (https://cdn.kernel.org/pub/linux/kernel/vN.x/linux-X.Y.Z.tar.xz): kupdate pins only those\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	if !strings.HasSuffix(stderr, "\nkupdate pin: 1 input(s) kupdate cannot pin, left untouched (see above)\n") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if got := w.read(t, "kernel.nix"); got != wantPins(t, "manual-moddir.want.nix") {
		t.Errorf("kernel.nix:\n%s", got)
	}
	if got := w.read(t, "hosts/board.nix"); got != wantPins(t, "mixed.want.nix") {
		t.Errorf("hosts/board.nix:\n%s", got)
	}
	if got := git(t, w.repo, "show", "--format=", "--name-only", "HEAD"); got != "hosts/board.nix" {
		t.Errorf("the last commit touches %q", got)
	}
	body := git(t, w.repo, "log", "-1", "--format=%b", "HEAD~1")
	// The title and the trailer, as every kupdate commit (docs/design.md).
	if body != "Prepared-by: kupdate" {
		t.Errorf("commit body:\n%s", body)
	}
	if got := git(t, w.repo, "status", "--porcelain", "--untracked-files=all"); got != "" {
		t.Errorf("not clean:\n%s", got)
	}

	code, stdout, _ = w.run(t, "kernel.nix", "hosts/board.nix")
	if code != 2 || !strings.HasPrefix(stdout, "current: kernel.nix:3: linux_custom 6.1.163-custom is the newest 6.1\ncurrent: hosts/board.nix:14: linux_vm 6.1.163 is the newest 6.1\nerror: hosts/board.nix:5: ") {
		t.Errorf("second run: exit %d\n%s", code, stdout)
	}
	if git(t, w.repo, "rev-parse", "HEAD") != last {
		t.Error("the second run committed")
	}
}

// Two kernels sharing one version string move in one commit, the first's;
// the second is said to have moved with it.
func TestPinSharedVersion(t *testing.T) {
	t.Parallel()
	w := pinSetup(t, map[string]string{"kernels.nix": "shared-let.nix"})
	code, stdout, stderr := w.run(t, "kernels.nix")
	head := git(t, w.repo, "rev-parse", "HEAD")
	want := "committed " + head[:12] + ": linux_guest: 6.1.55 -> 6.1.163 (kernels.nix:3)\n" +
		"current: kernels.nix:3: linux_host: moved with the kernel before it: they share their version string\n"
	if code != 0 || stdout != want {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := git(t, w.repo, "rev-list", "--count", "HEAD"); got != "2" {
		t.Errorf("%s commits, want 2", got)
	}
	if got := w.read(t, "kernels.nix"); got != wantPins(t, "shared-let.want.nix") {
		t.Errorf("kernels.nix:\n%s", got)
	}
}

// --check changes nothing and exits 3 while a pin is behind, naming file,
// line, current and newest; 0 once it is current. --json says the same for
// scripts.
func TestPinCheck(t *testing.T) {
	t.Parallel()
	w := pinSetup(t, map[string]string{"kernel.nix": "manual-custom.nix"})
	before := w.read(t, "kernel.nix")
	code, stdout, stderr := w.run(t, "--check", "kernel.nix")
	if code != 3 || stdout != "behind: kernel.nix:3: linux_custom 6.1.55, newest 6.1 is 6.1.163\n" || stderr != "kupdate pin: 1 pin(s) behind, 0 on an end-of-life series\n" {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = w.run(t, "kernel.nix", "--check", "--json")
	wantJSON := `{
  "pins": [
    {
      "file": "kernel.nix",
      "line": 3,
      "attr": "linux_custom",
      "version": "6.1.55",
      "series": "6.1",
      "newest": "6.1.163",
      "status": "behind",
      "title": "linux_custom: 6.1.55 -> 6.1.163"
    }
  ]
}
`
	if code != 3 || stdout != wantJSON {
		t.Errorf("--json: exit %d\n%s", code, stdout)
	}
	if w.read(t, "kernel.nix") != before || git(t, w.repo, "rev-list", "--count", "HEAD") != "1" {
		t.Error("--check changed something")
	}
	if code, stdout, stderr = w.run(t, "kernel.nix", "--json"); code != 0 || !strings.Contains(stdout, `"status": "committed"`) {
		t.Fatalf("pin: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := git(t, w.repo, "log", "-1", "--format=%s"); got != "linux_custom: 6.1.55 -> 6.1.163" {
		t.Errorf("title %q", got)
	}
	code, stdout, _ = w.run(t, "--check", "kernel.nix")
	if code != 0 || stdout != "current: kernel.nix:3: linux_custom 6.1.163 is the newest 6.1\n" {
		t.Errorf("after the pin: exit %d\n%s", code, stdout)
	}
}

// An end-of-life series is reported, never moved (exit 3 under --check);
// a release whose checksum kernel.org has not signed yet is held; --series
// latest moves across series.
func TestPinSeries(t *testing.T) {
	t.Parallel()
	w := pinSetup(t, map[string]string{"old.nix": "literal-url-nix32.nix", "hosts/six.nix": "argsoverride-hex.nix"})
	// literal-url-nix32 pins 5.15, which this kernel.org no longer lists.
	code, stdout, _ := w.run(t, "--check", "old.nix")
	if code != 3 || stdout != "eol: old.nix:5: linux_custom 5.15.190-custom: kernel.org no longer lists series 5.15 (end of life): move to a maintained series with --series X.Y or --series latest\n" {
		t.Errorf("--check: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = w.run(t, "old.nix", "hosts/six.nix")
	if code != 0 || !strings.HasPrefix(stdout, "eol: old.nix:5: ") || !strings.HasSuffix(stdout, "held: hosts/six.nix:15: linux_custom: 6.6.30 -> 6.6.125: kernel.org has not signed the checksum of linux-6.6.125.tar.xz yet; run again later\n") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	if git(t, w.repo, "rev-list", "--count", "HEAD") != "1" {
		t.Error("an EOL or held pin was committed")
	}
	code, stdout, stderr := w.run(t, "--series", "latest", "old.nix")
	if code != 0 || !strings.HasSuffix(stdout, ": linux_custom: 5.15.190 -> 7.0.1 (old.nix:5)\n") {
		t.Fatalf("--series latest: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := w.read(t, "old.nix"); got != wantPins(t, "literal-url-nix32.latest.want.nix") {
		t.Errorf("old.nix:\n%s", got)
	}
}

// A file with uncommitted changes is refused before anything is written;
// --no-commit edits it without committing; bad flags are usage errors.
func TestPinDirtyAndNoCommit(t *testing.T) {
	t.Parallel()
	w := pinSetup(t, map[string]string{"kernel.nix": "manual-custom.nix"})
	path := filepath.Join(w.repo, "kernel.nix")
	mine := w.read(t, "kernel.nix") + "# my unfinished work\n"
	if err := os.WriteFile(path, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := w.run(t, "kernel.nix")
	if code != 1 || stdout != "failed: kernel.nix:3: kernel.nix has uncommitted changes (modified) in the repository "+w.repo+": commit or stash them (or pass --no-commit), then run kupdate pin again\n" {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	if w.read(t, "kernel.nix") != mine {
		t.Error("the user's file was changed")
	}
	code, stdout, _ = w.run(t, "--no-commit", "kernel.nix")
	if code != 0 || stdout != "applied: linux_custom: 6.1.55 -> 6.1.163 (kernel.nix:3)\n" {
		t.Errorf("--no-commit: exit %d\n%s", code, stdout)
	}
	if got := w.read(t, "kernel.nix"); got != wantPins(t, "manual-custom.want.nix")+"# my unfinished work\n" {
		t.Errorf("kernel.nix:\n%s", got)
	}
	if git(t, w.repo, "rev-list", "--count", "HEAD") != "1" {
		t.Error("--no-commit committed")
	}
	bad := filepath.Join(w.repo, "broken.nix")
	if err := os.WriteFile(bad, []byte("{ pkgs, ... }:\n{\n  a = ;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := w.run(t, "broken.nix"); code != 2 || !strings.HasPrefix(stdout, "error: broken.nix:3: broken.nix does not parse: nix-instantiate --parse") {
		t.Errorf("a file that does not parse: exit %d\n%s", code, stdout)
	}
	outside := filepath.Join(t.TempDir(), "kernel.nix")
	if err := os.WriteFile(outside, []byte(wantPins(t, "manual-custom.nix")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = w.run(t, outside, "missing.nix")
	if want := "failed: " + outside + ":3: " + outside + " is not in a git repository: pass --no-commit to edit it without committing\nerror: missing.nix: open missing.nix: no such file or directory\n"; code != 1 || stdout != want {
		t.Errorf("outside a repository: exit %d\n%s\nwant\n%s", code, stdout, want)
	}
	for args, want := range map[string]string{
		"":                        "kupdate pin: want at least one FILE: the Nix files holding the kernels to pin\n",
		"--series six kernel.nix": "kupdate pin: --series \"six\": want X.Y or latest\n",
	} {
		code, _, stderr := w.run(t, strings.Fields(args)...)
		if code != 2 || !strings.HasSuffix(stderr, want) {
			t.Errorf("%q: exit %d\n%s", args, code, stderr)
		}
	}
}
