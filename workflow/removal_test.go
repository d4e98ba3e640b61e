package workflow_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/updater"
)

var removal = vanilla.Made(family.Change{
	Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247",
	Files: []string{"pkgs/os-specific/linux/kernel/kernels-org.json", "pkgs/top-level/aliases.nix", "pkgs/top-level/linux-kernels.nix"},
})

// TestRemovalPR: a removal has nothing to build, and its body says so; it
// tells the reviewer what to check instead, with the exact commands.
func TestRemovalPR(t *testing.T) {
	f := newFixture(t)
	u := f.push("kupdate/staging-nixos/linux_5_10-remove", removal)
	res := syncOK(t, f.workflow(), u)
	pr, err := f.sim.PR("NixOS", "nixpkgs", res[0].Number)
	must(t, err)
	if pr.Title != "linux_5_10: remove" {
		t.Errorf("title %q", pr.Title)
	}
	golden(t, "removal-pr.md", f.stable(pr.Body))
	if strings.Contains(pr.Body, "nix-build") || strings.Contains(pr.Body, "build it") {
		t.Errorf("a removal's body speaks of building it:\n%s", pr.Body)
	}
	if got := f.sim.Statuses("NixOS", "nixpkgs", u.Head); len(got) != 0 {
		t.Errorf("statuses on a removal that was not built: %+v", got)
	}
}

// TestRemovalCommandsWithNix runs the body's check commands against the
// sample nixpkgs tree with real Nix: on the base each evaluates, after the
// removal (written by updater) each fails with the removal message.
func TestRemovalCommandsWithNix(t *testing.T) {
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate is not on PATH")
	}
	f := newFixture(t)
	u := f.push("kupdate/staging-nixos/linux_5_10-remove", removal)
	res := syncOK(t, f.workflow(), u)
	var cmds [][]string
	for _, line := range strings.Split(res[0].Body, "\n") {
		if strings.HasPrefix(line, "nix-instantiate ") {
			cmds = append(cmds, strings.Fields(line))
		}
	}
	if len(cmds) != 4 {
		t.Fatalf("%d nix-instantiate commands in the body, want 4:\n%s", len(cmds), res[0].Body)
	}

	dir := t.TempDir()
	must(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "testdata", "nixpkgs"))))
	run := func(args []string) (string, error) {
		// The reviewer's command, kept off the network and the store's roots.
		args = append(append([]string{}, args...), "--option", "substituters", "", "--readonly-mode")
		cmd := exec.CommandContext(context.Background(), args[0], args[1:]...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	for _, c := range cmds {
		if out, err := run(c); err != nil {
			t.Errorf("on the base, %s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}

	reg := family.Registry{vanilla.New(nil)}
	tree, err := reg.LoadFS(os.DirFS(dir))
	must(t, err)
	files, _, err := updater.Apply(reg, tree, removal)
	must(t, err)
	must(t, updater.WriteFiles(dir, files))
	for _, c := range cmds {
		out, err := run(c)
		if err == nil || !strings.Contains(out, "error: linux 5.10 was removed because it") {
			t.Errorf("after the removal, %s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
}
