package build

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kupdate/kupdate/config"
)

// needNix skips a test when Nix is not installed. CI installs it, so there
// these tests always run.
func needNix(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
}

func treeDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs("testdata/tree")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// uniqueMarker is a sleep duration no other process on the machine has in
// its command line: "300.<random>".
func uniqueMarker(t testing.TB) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1e9))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("300.%09d", n.Int64())
}

// treeArgs make every derivation of the test tree new (nonce) and name the
// slow ones' sleep (marker).
func treeArgs(nonce, marker string) []string {
	return []string{"--argstr", "nonce", nonce, "--argstr", "marker", marker}
}

// testConfig is the [build] section for the test tree: the default command
// templates plus the tree's arguments, no binary cache.
func testConfig(nonce, marker string, tiers ...string) config.Build {
	args := treeArgs(nonce, marker)
	with := func(argv ...string) []string {
		return append(append([]string{argv[0]}, args...), argv[1:]...)
	}
	return config.Build{
		Tiers: tiers,
		Commands: map[string][]string{
			"eval":       with("nix-instantiate", "-A", "linuxKernel.kernels.{attr}"),
			"configfile": with("nix-build", "--no-out-link", "-A", "linuxKernel.kernels.{attr}.configfile"),
			"kernel":     with("nix-build", "--no-out-link", "-A", "linuxKernel.kernels.{attr}"),
			"test":       with("nix-build", "--no-out-link", "-A", "nixosTests.kernel-generic.{attr}"),
		},
		Concurrency: 2,
		MaxJobs:     1,
		Timeout:     config.Duration(2 * time.Minute),
		LogLines:    3,
		Options:     map[string]string{"substituters": "", "sandbox": "false"},
	}
}

// instantiate is the .drv of attrPath in the test tree, as Nix computes it.
func instantiate(t *testing.T, nonce, marker, attrPath string) string {
	t.Helper()
	args := append([]string{"--option", "substituters", ""}, treeArgs(nonce, marker)...)
	cmd := exec.Command("nix-instantiate", append(args, "-A", attrPath)...)
	cmd.Dir = treeDir(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-instantiate -A %s: %v\n%s", attrPath, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

// argv is what the Runner runs for a tier of the test config.
func argv(cfg config.Build, tier, attr string, flags ...string) []string {
	tmpl := cfg.Commands[tier]
	if len(flags) == 0 {
		flags = []string{"--max-jobs", "1", "--option", "sandbox", "false", "--option", "substituters", ""}
	}
	out := append([]string{tmpl[0]}, flags...)
	for _, a := range tmpl[1:] {
		out = append(out, strings.ReplaceAll(a, "{attr}", attr))
	}
	return out
}

// ignoreTiming leaves out what differs from run to run.
var ignoreTiming = cmpopts.IgnoreFields(Result{}, "Duration")

func TestRunTiers(t *testing.T) {
	needNix(t)
	nonce, marker := uniqueMarker(t), "300"
	cfg := testConfig(nonce, marker, "eval", "configfile", "kernel", "test")
	failDrv := instantiate(t, nonce, marker, "linuxKernel.kernels.linux_fail.configfile")
	depDrv := instantiate(t, nonce, marker, "linuxKernel.kernels.linux_depfail")
	// The dependency that fails is named in the .drv of the kernel.
	patchDrv := dependency(t, depDrv, "kupdate-test-linux_depfail-patch.drv")

	var mu sync.Mutex
	var events []Progress
	r := New(cfg, WithProgress(func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, p)
	}, 0))
	attrs := []string{"linux_pass", "linux_fail", "linux_evalfail", "linux_depfail", "linux_pass"}
	rep := r.Run(context.Background(), treeDir(t), attrs)

	res := func(attr, tier string, s Status, rest ...func(*Result)) Result {
		r := Result{Attr: attr, Tier: tier, Status: s, Command: argv(cfg, tier, attr)}
		for _, f := range rest {
			f(&r)
		}
		return r
	}
	skipped := func(after string) func(*Result) {
		return func(r *Result) { r.Error = "skipped: " + after + " failed" }
	}
	want := []Result{
		res("linux_pass", "eval", Passed),
		res("linux_pass", "configfile", Passed),
		res("linux_pass", "kernel", Passed),
		res("linux_pass", "test", Passed),

		res("linux_fail", "eval", Passed),
		res("linux_fail", "configfile", Failed, func(r *Result) {
			r.Error = "exit status 100"
			r.Drv = failDrv
			r.LogTail = "generating .config for linux_fail\n" +
				"error: option CONFIG_KUPDATE_TEST_GONE is not set correctly\n" +
				"error: builder for '" + failDrv + "' failed with exit code 2"
		}),
		res("linux_fail", "kernel", Skipped, skipped("configfile")),
		res("linux_fail", "test", Skipped, skipped("configfile")),

		res("linux_evalfail", "eval", Failed, func(r *Result) {
			r.Error = "exit status 1"
			r.LogTail = "error: linux_evalfail: this attribute fails to evaluate"
		}),
		res("linux_evalfail", "configfile", Skipped, skipped("eval")),
		res("linux_evalfail", "kernel", Skipped, skipped("eval")),
		res("linux_evalfail", "test", Skipped, skipped("eval")),

		res("linux_depfail", "eval", Passed),
		res("linux_depfail", "configfile", Passed),
		res("linux_depfail", "kernel", Failed, func(r *Result) {
			r.Error = "exit status 100"
			r.Drv = patchDrv
			r.LogTail = "patch does not apply\n" +
				"error: builder for '" + patchDrv + "' failed with exit code 1\n" +
				"error: 1 dependencies of derivation '" + depDrv + "' failed to build"
		}),
		res("linux_depfail", "test", Skipped, skipped("kernel")),
	}
	if diff := cmp.Diff(want, rep.Results, ignoreTiming); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	for _, r := range rep.Results {
		if r.Status == Passed && r.Duration <= 0 {
			t.Errorf("%s %s: duration %v, want > 0", r.Attr, r.Tier, r.Duration)
		}
	}

	if got, want := rep.Attrs(), []string{"linux_pass", "linux_fail", "linux_evalfail", "linux_depfail"}; !cmp.Equal(got, want) {
		t.Errorf("Attrs() = %v, want %v", got, want)
	}
	for attr, want := range map[string]Status{"linux_pass": Passed, "linux_fail": Failed, "linux_depfail": Failed, "linux_nope": ""} {
		if got := rep.Status(attr); got != want {
			t.Errorf("Status(%s) = %q, want %q", attr, got, want)
		}
	}
	if rep.OK() {
		t.Error("OK() = true for a report with failures")
	}

	// Every tier that ran said so with its process group before its outcome;
	// every tier, run or not, reported its outcome once.
	type ev struct {
		Tier   string
		Status Status
		Group  bool
	}
	got := map[string][]ev{}
	for _, e := range events {
		got[e.Attr] = append(got[e.Attr], ev{e.Tier, e.Status, e.Pgid > 0})
	}
	wantEvents := map[string][]ev{
		"linux_pass": {
			{"eval", Running, true}, {"eval", Passed, false},
			{"configfile", Running, true}, {"configfile", Passed, false},
			{"kernel", Running, true}, {"kernel", Passed, false},
			{"test", Running, true}, {"test", Passed, false},
		},
		"linux_fail": {
			{"eval", Running, true}, {"eval", Passed, false},
			{"configfile", Running, true}, {"configfile", Failed, false},
			{"kernel", Skipped, false}, {"test", Skipped, false},
		},
		"linux_evalfail": {
			{"eval", Running, true}, {"eval", Failed, false},
			{"configfile", Skipped, false}, {"kernel", Skipped, false}, {"test", Skipped, false},
		},
		"linux_depfail": {
			{"eval", Running, true}, {"eval", Passed, false},
			{"configfile", Running, true}, {"configfile", Passed, false},
			{"kernel", Running, true}, {"kernel", Failed, false},
			{"test", Skipped, false},
		},
	}
	if diff := cmp.Diff(wantEvents, got); diff != "" {
		t.Errorf("progress events (-want +got):\n%s", diff)
	}
}

// dependency is the input derivation of drv whose name ends in suffix.
func dependency(t *testing.T, drv, suffix string) string {
	t.Helper()
	out, err := exec.Command("nix-store", "--query", "--references", drv).Output()
	if err != nil {
		t.Fatalf("nix-store --query --references %s: %v", drv, err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasSuffix(p, suffix) {
			return p
		}
	}
	t.Fatalf("%s has no input %s:\n%s", drv, suffix, out)
	return ""
}

// TestNixFlags: the configured distribution settings reach Nix's programs
// as flags, right after the program name; other programs get none.
func TestNixFlags(t *testing.T) {
	cfg := config.Build{
		Tiers: []string{"eval", "configfile", "kernel"},
		Commands: map[string][]string{
			"eval":       {"nix-instantiate", "-A", "linuxKernel.kernels.{attr}"},
			"configfile": {"/usr/bin/nix-build", "-A", "linuxKernel.kernels.{attr}.configfile", "--arg", "x", "{attr}{attr}"},
			"kernel":     {"./ci/build-kernel", "{attr}"},
		},
		MaxJobs:  0,
		Cores:    8,
		Builders: "ssh-ng://builder@farm x86_64-linux - 16; ssh-ng://b2 aarch64-linux",
		Options:  map[string]string{"substituters": "", "builders-use-substitutes": "true"},
	}
	r := New(cfg)
	flags := []string{"--max-jobs", "0", "--cores", "8",
		"--option", "builders", "ssh-ng://builder@farm x86_64-linux - 16; ssh-ng://b2 aarch64-linux",
		"--option", "builders-use-substitutes", "true", "--option", "substituters", ""}
	for _, tt := range []struct {
		tier string
		want []string
	}{
		{"eval", append(append([]string{"nix-instantiate"}, flags...), "-A", "linuxKernel.kernels.linux_6_12")},
		{"configfile", append(append([]string{"/usr/bin/nix-build"}, flags...), "-A", "linuxKernel.kernels.linux_6_12.configfile", "--arg", "x", "linux_6_12linux_6_12")},
		{"kernel", []string{"./ci/build-kernel", "linux_6_12"}},
	} {
		got, err := r.command(tt.tier, "linux_6_12")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.tier, diff)
		}
	}
	// Cores 0 and no builders: Nix's own settings stand.
	got, _ := New(config.Build{Commands: map[string][]string{"eval": {"nix-instantiate", "{attr}"}}, MaxJobs: 2}).command("eval", "linux_6_1")
	if want := []string{"nix-instantiate", "--max-jobs", "2", "linux_6_1"}; !cmp.Equal(got, want) {
		t.Errorf("command = %q, want %q", got, want)
	}
}

// TestAttrValidation: names that are not linux_* attributes never reach a
// command; every tier of them fails or is skipped, and the others build.
func TestAttrValidation(t *testing.T) {
	cfg := config.Build{
		Tiers:    []string{"eval", "configfile"},
		Commands: map[string][]string{"eval": {"true", "{attr}"}, "configfile": {"true", "{attr}"}},
		MaxJobs:  1,
	}
	bad := []string{"--impure", "linux_6_12 --arg", "linux_6_12;rm", "../linux_6_12", "linux-6.12", "Linux_6_12", "linux_", "pkgs.linux_6_12", ""}
	rep := New(cfg).Run(context.Background(), t.TempDir(), append(bad, "linux_6_12"))
	for _, a := range bad {
		want := []Result{
			{Attr: a, Tier: "eval", Status: Failed, Error: fmt.Sprintf("invalid attribute name %q: want linux_<lower-case letters, digits and _>", a)},
			{Attr: a, Tier: "configfile", Status: Skipped, Error: "skipped: eval failed"},
		}
		if diff := cmp.Diff(want, rep.For(a), ignoreTiming); diff != "" {
			t.Errorf("%q (-want +got):\n%s", a, diff)
		}
	}
	if got := rep.Status("linux_6_12"); got != Passed {
		t.Errorf("linux_6_12: %v, want passed", rep.For("linux_6_12"))
	}
}

// TestMissingCommand: a tier without a command, or whose program does not
// exist, fails with a reason that says so.
func TestMissingCommand(t *testing.T) {
	cfg := config.Build{
		Tiers:    []string{"eval", "kernel"},
		Commands: map[string][]string{"eval": {"kupdate-no-such-program-xyz", "{attr}"}},
	}
	rep := New(cfg).Run(context.Background(), t.TempDir(), []string{"linux_6_12"})
	want := []Result{
		{Attr: "linux_6_12", Tier: "eval", Status: Failed, Command: []string{"kupdate-no-such-program-xyz", "linux_6_12"},
			Error: `exec: "kupdate-no-such-program-xyz": executable file not found in $PATH`},
		{Attr: "linux_6_12", Tier: "kernel", Status: Skipped, Error: "skipped: eval failed"},
	}
	if diff := cmp.Diff(want, rep.Results, ignoreTiming); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	rep = New(config.Build{Tiers: []string{"test"}}).Run(context.Background(), t.TempDir(), []string{"linux_6_12"})
	if got, want := rep.Results[0].Error, `build.commands has no command for tier "test"`; got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
}

// procInfo is one live process as /proc shows it.
type procInfo struct {
	pid, pgid int
	state     string
	cmdline   string
}

func (p procInfo) String() string {
	return fmt.Sprintf("pid %d pgid %d state %s: %s", p.pid, p.pgid, p.state, p.cmdline)
}

// processes lists the processes that are not zombies. (A zombie has exited;
// on a machine whose init does not reap, it stays in /proc.)
func processes(t *testing.T) []procInfo {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		pgid, _ := strconv.Atoi(f[2])
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out = append(out, procInfo{pid: pid, pgid: pgid, state: f[0], cmdline: strings.ReplaceAll(string(cmdline), "\x00", " ")})
	}
	return out
}

// leftovers are the live processes in one of the groups or with marker in
// their command line.
func leftovers(t *testing.T, groups []int, marker string) []procInfo {
	var out []procInfo
	for _, p := range processes(t) {
		if (slices.Contains(groups, p.pgid) || strings.Contains(p.cmdline, marker)) && p.pid != os.Getpid() {
			out = append(out, p)
		}
	}
	return out
}

// assertGone fails unless every process of the groups and every process
// with marker is gone. SIGKILL is delivered asynchronously, so it allows
// the kernel a moment, polling; it does not time anything.
func assertGone(t *testing.T, groups []int, marker string) {
	t.Helper()
	var left []procInfo
	for range 100 {
		if left = leftovers(t, groups, marker); len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("processes left behind:\n%v", left)
	for _, p := range left {
		_ = syscallKill(p.pid)
	}
}

// waitFor polls until cond holds; the test fails after a long bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 600 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}
