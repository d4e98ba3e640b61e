package build

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
)

// TestSampleTree evaluates kernels of the sample nixpkgs tree with the
// default eval template. Only eval: building would fetch the sources from
// kernel.org (or the simulator KUPDATE_KERNEL_MIRROR names). linux_testing is
// left out: its rc snapshot is fetched (and its NAR hash checked) at
// evaluation time, so evaluating it needs a mirror serving that very snapshot;
// the updater and cycle tests cover it against the simulator.
func TestSampleTree(t *testing.T) {
	needNix(t)
	dir, err := filepath.Abs("../testdata/nixpkgs")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default().Build
	cfg.Tiers = []string{"eval"}
	cfg.Options = map[string]string{"substituters": ""}
	rep := New(cfg, WithEnv("KUPDATE_KERNEL_MIRROR=http://127.0.0.1:9")).Run(context.Background(), dir,
		[]string{"linux_6_12", "linux_6_12_hardened", "linux_6_17"})

	cmd := func(attr string) []string {
		return []string{"nix-instantiate", "--max-jobs", "1", "--option", "substituters", "", "-A", "linuxKernel.kernels." + attr}
	}
	want := []Result{
		{Attr: "linux_6_12", Tier: "eval", Status: Passed, Command: cmd("linux_6_12")},
		{Attr: "linux_6_12_hardened", Tier: "eval", Status: Passed, Command: cmd("linux_6_12_hardened")},
		{Attr: "linux_6_17", Tier: "eval", Status: Failed, Command: cmd("linux_6_17"), Error: "exit status 1",
			LogTail: "error: linux 6.17 was removed because it has reached its end of life upstream"},
	}
	if diff := cmp.Diff(want, rep.Results, ignoreTiming); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestEnv: WithEnv reaches the commands (the sample tree reads its mirror
// from the environment the same way).
func TestEnv(t *testing.T) {
	needNix(t)
	cfg := testConfig("env", "300", "eval")
	t.Setenv("KUPDATE_TEST_ENV", "no")
	without := New(cfg).Run(context.Background(), treeDir(t), []string{"linux_env"})
	if r := without.Results[0]; r.Status != Failed || r.LogTail != "error: linux_env: KUPDATE_TEST_ENV is not yes" {
		t.Errorf("without the variable: %+v", r)
	}
	with := New(cfg, WithEnv("KUPDATE_TEST_ENV=yes")).Run(context.Background(), treeDir(t), []string{"linux_env"})
	if r := with.Results[0]; r.Status != Passed {
		t.Errorf("with KUPDATE_TEST_ENV=yes over the process's =no: %+v", r)
	}
}
