package main

import (
	"strings"
	"testing"

	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// kupdate status before any cycle shows what kernel.org offers (testing
// too) and says that no cycle has run; with kernel.org and GitHub down it
// shows every row of the last cycle, marks the values that are the last
// cycle's, and gives up on each source after two quick tries.
func TestStatusCommand(t *testing.T) {
	t.Parallel()
	world, cfg, env := demoWorld(t)

	code, stdout, stderr := runInWorld(t, world, env, "--config", cfg, "status")
	if code != 1 || !strings.Contains(stdout, "last cycle: none has finished yet") ||
		!strings.Contains(stdout, "\ntesting  linux_testing  -        7.1-rc1     -   -      not seen by a cycle yet\n") ||
		!strings.HasSuffix(stderr, "kupdate status: 1 live read(s) failed and no cycle has finished yet: what could not be read is not shown\n") {
		t.Errorf("status before any cycle: exit %d\n%s\n%s", code, stdout, stderr)
	}

	if code, stdout, stderr := runInWorld(t, world, env, "--config", cfg, "run", "--no-build"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	world.KernelOrg.SetFault("/releases.json", kernelorgtest.Fault{Status: 502})
	world.GitHub.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Status: 502, Times: 100})
	world.KernelOrg.ResetCounts()
	world.GitHub.ResetRequests()
	code, stdout, stderr = runInWorld(t, world, env, "--config", cfg, "status")
	if code != 1 {
		t.Errorf("status with kernel.org and GitHub down: exit %d", code)
	}
	for _, want := range []string{
		"\n6.12     linux_6_12           6.12.64            6.12.70*            #1 draft*  -      linux_6_12: 6.12.64 -> 6.12.70: PR #1 opened\n",
		"\n7.0      linux_7_0            -                  7.0.1*              #3 draft*  -      linux_7_0: init at 7.0.1: PR #3 opened\n",
		"\n* the last cycle's value: kernel.org, github could not be read now\n",
		// The history the run recorded: when 6.12.70 was proposed.
		"\nLag since kernel.org's release:\nATTR ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "\nkupdate status: 2 live read(s) failed; values marked * are the last cycle's (2026-04-30T") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if n := world.KernelOrg.Requests("/releases.json"); n != 2 {
		t.Errorf("%d requests for releases.json, want 2", n)
	}
	if n := len(world.GitHub.Requests()); n != 2 {
		t.Errorf("%d GitHub requests, want 2 (two tries, then no more): %v", n, world.GitHub.Requests())
	}
}
