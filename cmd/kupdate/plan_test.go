package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// -update rewrites golden files; other test files of this package may
// declare it too, so it is registered only once.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateGolden() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}

// planSetup starts kernel.org and GitHub simulators (GitHub with no
// linux-hardened releases), copies the sample nixpkgs tree into a git
// repository with a fixed first commit, and writes a config for them.
func planSetup(t *testing.T) (srv *kernelorgtest.Server, cfg, tree string) {
	t.Helper()
	srv, err := kernelorgtest.New(
		kernelorgtest.Spec{Version: "7.1-rc1"},
		kernelorgtest.Spec{Version: "7.0.1"},
		kernelorgtest.Spec{Version: "6.19.12", EOL: true},
		kernelorgtest.Spec{Version: "6.18.9"},
		kernelorgtest.Spec{Version: "6.12.70", Moniker: "longterm"},
		kernelorgtest.Spec{Version: "6.6.125", Moniker: "longterm"},
		kernelorgtest.Spec{Version: "6.1.163", Moniker: "longterm"},
		kernelorgtest.Spec{Version: "5.15.200", Moniker: "longterm"},
		kernelorgtest.Spec{Version: "5.10.250", Moniker: "longterm", EOL: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.SetFault(kernelorgtest.ChecksumsPath("6.6.125"), kernelorgtest.Fault{OmitFiles: []string{"linux-6.6.125.tar.xz"}})
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/repos/anthraxx/linux-hardened/releases":
			w.Write([]byte("[]"))
		case "/repos/zen-kernel/zen-kernel/releases": // the sample tree's own: nothing to bump
			w.Write([]byte(`[{"tag_name": "v6.18.4-zen1"}, {"tag_name": "v6.18.3-lqx1"}]`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(gh.Close)

	dir := t.TempDir()
	tree = filepath.Join(dir, "nixpkgs")
	if err := os.CopyFS(tree, os.DirFS("../../testdata/nixpkgs")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "master"}, {"add", "-A"}, {"commit", "-q", "-m", "sample tree"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = tree
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid",
			"GIT_AUTHOR_DATE=2026-04-20T00:00:00Z", "GIT_COMMITTER_DATE=2026-04-20T00:00:00Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	keyring := filepath.Join(dir, "keyring.asc")
	if err := os.WriteFile(keyring, srv.Keyring(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "config.toml")
	text := fmt.Sprintf("[kernelorg]\nurl = %q\ngit_url = %q\nkeyring = %q\nfingerprint = %q\ntimeout = \"30s\"\n\n[nixpkgs]\ncache_dir = %q\n\n[github]\napi_url = %q\n",
		srv.URL, srv.URL, keyring, srv.Fingerprint(), filepath.Join(dir, "cache"), gh.URL+"/")
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, cfg, tree
}

func TestPlanJSON(t *testing.T) {
	t.Parallel()
	_, cfg, tree := planSetup(t)
	code, stdout, stderr := runKupdate(t, "--config", cfg, "plan", "--nixpkgs", tree, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	head := gitRevParse(t, tree)
	if !strings.Contains(stdout, `"base": "`+head+`"`) {
		t.Errorf("base is not the checkout's HEAD %s", head)
	}
	goldenFile(t, "plan.json", strings.Replace(stdout, head, "<HEAD>", 1))
	// The schema, exactly: other tools read it.
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	changes := doc["changes"].([]any)
	for k := range changes[0].(map[string]any) {
		keys = append(keys, "changes[]."+k)
	}
	want := []string{"base", "changes", "changes[].attr", "changes[].branch", "changes[].files", "changes[].from", "changes[].hash", "changes[].kind", "changes[].lts", "changes[].title", "changes[].to"}
	if d := cmp.Diff(want, keys, cmpSorted); d != "" {
		t.Errorf("schema (-want +got):\n%s", d)
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestPlanText(t *testing.T) {
	t.Parallel()
	_, cfg, tree := planSetup(t)
	code, stdout, stderr := runKupdate(t, "--config", cfg, "plan", "--nixpkgs", tree)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	goldenFile(t, "plan.txt", strings.Replace(stdout, "base "+gitRevParse(t, tree)+"\n", "base <HEAD>\n", 1))
}

func TestPlanFailures(t *testing.T) {
	t.Parallel()
	srv, cfg, tree := planSetup(t)
	// A tampered checksum list: no hash, no change, and the command fails
	// after printing the rest of the plan.
	srv.SetFault(kernelorgtest.ChecksumsPath("5.15.200"), kernelorgtest.Fault{TamperPlaintext: true})
	code, stdout, stderr := runKupdate(t, "--config", cfg, "plan", "--nixpkgs", tree)
	if code != 1 || !strings.Contains(stdout, "held: 5.15: no verified hash for 5.15.200: ") || strings.Contains(stdout, "linux_5_15: 5.15.197 -> 5.15.200") ||
		!strings.Contains(stdout, "linux_6_12: 6.12.64 -> 6.12.70") || !strings.Contains(stderr, "kupdate plan: 1 change(s) held back by failures") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// A bad tree: the error names the file and line.
	p := filepath.Join(tree, "pkgs/os-specific/linux/kernel/kernels-org.json")
	data, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(data), `"5.15": {`, `"6.1": {`, 1)), 0o644)
	code, _, stderr = runKupdate(t, "--config", cfg, "plan", "--nixpkgs", tree)
	if code != 1 || !strings.Contains(stderr, `pkgs/os-specific/linux/kernel/kernels-org.json:12: duplicate key "6.1" (first at line 7)`) {
		t.Errorf("bad tree: exit %d\n%s", code, stderr)
	}

	code, _, stderr = runKupdate(t, "--config", cfg, "plan")
	if code != 2 || !strings.Contains(stderr, "no nixpkgs checkout: pass --nixpkgs DIR or set nixpkgs.path") {
		t.Errorf("no tree: exit %d\n%s", code, stderr)
	}
}

func TestUpdateNoCommit(t *testing.T) {
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
	srv, cfg, tree := planSetup(t)
	t.Setenv("KUPDATE_KERNEL_MIRROR", srv.URL) // the sample tree evaluates linux_testing's snapshot
	code, stdout, stderr := runKupdate(t, "--config", cfg, "update", "--nixpkgs", tree, "--no-commit")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	goldenFile(t, "update.txt", stdout)
	cmd := exec.Command("git", "status", "--porcelain", "--untracked-files=all")
	cmd.Dir = tree
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := " M pkgs/os-specific/linux/kernel/kernels-org.json\n M pkgs/top-level/aliases.nix\n M pkgs/top-level/linux-kernels.nix\n"
	if string(out) != want {
		t.Errorf("git status:\n%s\nwant:\n%s", out, want)
	}
	// Idempotent: a second run finds nothing to do.
	code, stdout, stderr = runKupdate(t, "--config", cfg, "update", "--nixpkgs", tree, "--no-commit")
	if code != 0 || stdout != "nothing to do\nheld: 6.6: 6.6.125 not yet signed on kernel.org\n" {
		t.Errorf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func gitRevParse(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
