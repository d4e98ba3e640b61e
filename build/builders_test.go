package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRemoteBuilder: build.builders and max_jobs = 0 hand the build to a
// remote machine through Nix's own build hook. The "machine" is a Nix store
// in a directory (a chroot store, which Nix builds in with its sandbox), so
// the test needs no ssh; with ssh-ng://host it is the same machinery. The
// outputs exist in that store: the build happened there, not here.
func TestRemoteBuilder(t *testing.T) {
	needNix(t)
	remote := t.TempDir()
	nonce := uniqueMarker(t)
	cfg := testConfig(nonce, "300", "configfile", "kernel")
	cfg.MaxJobs = 0
	cfg.Builders = "local?root=" + remote
	cfg.Options["sandbox-paths"] = sandboxPaths()

	rep := New(cfg).Run(context.Background(), treeDir(t), []string{"linux_pass"})
	flags := []string{"--max-jobs", "0", "--option", "builders", "local?root=" + remote,
		"--option", "sandbox", "false", "--option", "sandbox-paths", sandboxPaths(), "--option", "substituters", ""}
	want := []Result{
		{Attr: "linux_pass", Tier: "configfile", Status: Passed, Command: argv(cfg, "configfile", "linux_pass", flags...)},
		{Attr: "linux_pass", Tier: "kernel", Status: Passed, Command: argv(cfg, "kernel", "linux_pass", flags...)},
	}
	if diff := cmp.Diff(want, rep.Results, ignoreTiming); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	for _, name := range []string{"kupdate-test-linux_pass-config", "kupdate-test-linux_pass"} {
		m, err := filepath.Glob(filepath.Join(remote, "nix/store", "*-"+name))
		if err != nil || len(m) != 1 {
			t.Errorf("%s in the remote store: %v, %v; want it built there", name, m, err)
		}
	}
}

// TestStoreOption: [build.options] store = "<url>" builds everything in
// another store (for a farm, "ssh-ng://builder@farm"); here a directory.
func TestStoreOption(t *testing.T) {
	needNix(t)
	store := t.TempDir()
	cfg := testConfig(uniqueMarker(t), "300", "eval", "kernel")
	cfg.Options["store"] = "local?root=" + store
	cfg.Options["sandbox-paths"] = sandboxPaths()
	rep := New(cfg).Run(context.Background(), treeDir(t), []string{"linux_pass"})
	if !rep.OK() {
		t.Fatalf("results: %+v", rep.Results)
	}
	for _, pat := range []string{"*-kupdate-test-linux_pass.drv", "*-kupdate-test-linux_pass"} {
		if m, _ := filepath.Glob(filepath.Join(store, "nix/store", pat)); len(m) != 1 {
			t.Errorf("%s in the store: %v, want one", pat, m)
		}
	}
}

// sandboxPaths is what a store in a directory needs in its build sandbox:
// the test tree's builders run /bin/sh and coreutils from the host.
func sandboxPaths() string {
	var paths []string
	for _, p := range []string{"/bin", "/usr", "/lib", "/lib64"} {
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	return strings.Join(paths, " ")
}
