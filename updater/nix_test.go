package updater

import (
	"context"
	"encoding/json"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// These tests run real Nix on the sample tree: kupdate writes hashes it got
// from the kernel.org simulator (signed sha256sums.asc, rc NAR hashes), and
// Nix fetches every source from the simulator and checks those hashes.

func needNix(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH (CI installs nix-bin)")
	}
}

// scenarioSpecs is scenarioReleases as kernel.org simulator rows.
func scenarioSpecs() []kernelorgtest.Spec {
	var out []kernelorgtest.Spec
	for _, r := range scenarioReleases() {
		out = append(out, kernelorgtest.Spec{Version: r.Version.String(), Moniker: r.Moniker, EOL: r.EOL})
	}
	return out
}

func startKernelOrg(t *testing.T, specs []kernelorgtest.Spec) (*kernelorgtest.Server, *kernelorg.Client) {
	t.Helper()
	srv, err := kernelorgtest.New(specs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := kernelorg.New(kernelorg.Options{URL: srv.URL, GitURL: srv.URL, Keyring: srv.Keyring(), Fingerprint: srv.Fingerprint(),
		CacheDir: t.TempDir(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func gitInit(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", "sample tree"},
	} {
		if out, err := run(t, dir, nil, "git", args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

func gitStatus(t *testing.T, dir string) []string {
	t.Helper()
	out, err := run(t, dir, nil, "git", "status", "--porcelain", "--untracked-files=all")
	if err != nil {
		t.Fatalf("git status: %v\n%s", err, out)
	}
	var files []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l != "" {
			files = append(files, l)
		}
	}
	return files
}

func nixBuild(t *testing.T, dir string, env []string, attr string) (string, error) {
	t.Helper()
	return run(t, dir, env, "nix-build", "--option", "substituters", "", "--no-out-link", "-A", attr)
}

func TestNixBuildsEveryChange(t *testing.T) {
	needNix(t)
	ctx := context.Background()
	srv, client := startKernelOrg(t, scenarioSpecs())
	srv.SetFault(kernelorgtest.ChecksumsPath("6.6.125"), kernelorgtest.Fault{OmitFiles: []string{"linux-6.6.125.tar.xz"}})
	dir := copyTree(t)
	gh := newGHSim(t, scenarioHardenedTags...)
	if err := os.WriteFile(filepath.Join(dir, kernelfiles.HardenedKeyPath), gh.armoredKey(t), 0o644); err != nil {
		t.Fatal(err)
	}
	gitInit(t, dir)

	reg := family.Registry{vanilla.New(client), hardened.New(gh.source(), client)}
	plan, err := (&Planner{Families: reg}).Plan(ctx, loadTree(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	// The real kernel.org client plans exactly what the golden scenario says.
	var want struct{ Changes []family.Change }
	data, err := os.ReadFile("testdata/scenario/plan.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want.Changes, plan.Changes, cmpJSONFields); d != "" {
		t.Fatalf("plan differs from testdata/scenario/plan.json (-want +got):\n%s", d)
	}
	if held := planSummary(&family.Plan{Held: plan.Held}); held != "held: 6.6: 6.6.125 not yet signed on kernel.org (failed: false)\n" {
		t.Errorf("held = %q", held)
	}

	env := []string{"KUPDATE_KERNEL_MIRROR=" + srv.URL, "KUPDATE_GITHUB_MIRROR=" + gh.URL}
	tr := loadTree(t, dir)
	touched := map[string]bool{}
	for _, c := range plan.Changes {
		files, next, err := Apply(reg, tr, c)
		if err != nil {
			t.Fatal(err)
		}
		tr = next
		if err := WriteFiles(dir, files); err != nil {
			t.Fatal(err)
		}
		if err := Validate(ctx, reg, dir, c, ValidateOptions{Env: env}); err != nil {
			t.Fatalf("Validate(%s): %v", c.Title, err)
		}
		for _, f := range c.Files {
			touched[f] = true
		}
		for _, a := range c.Build {
			// the tiers of [build.commands]: configfile, kernel, test
			for _, attr := range []string{"linuxKernel.kernels." + a + ".configfile", "linuxKernel.kernels." + a, "nixosTests.kernel-generic." + a} {
				if out, err := nixBuild(t, dir, env, attr); err != nil {
					t.Fatalf("%s: nix-build -A %s: %v\n%s", c.Title, attr, err, out)
				}
			}
		}
	}
	// The new kernel's package set, its NixOS test stand-in and its aliases build.
	for _, attr := range []string{"linuxKernel.packages.linux_7_0", "nixosTests.kernel-generic.linux_7_0", "linux_7_0", "linuxPackages_7_0_hardened.kernel", "nixosTests.kernel-generic.linux_testing"} {
		if out, err := nixBuild(t, dir, env, attr); err != nil {
			t.Fatalf("nix-build -A %s: %v\n%s", attr, err, out)
		}
	}
	// The removed kernel is a throw now.
	if out, err := run(t, dir, nil, "nix-instantiate", "--eval", "-A", "linuxKernel.kernels.linux_5_10"); err == nil || !strings.Contains(out, "linux 5.10 was removed because it has reached its end of life upstream") {
		t.Errorf("linux_5_10 after removal: err=%v\n%s", err, out)
	}
	// git sees exactly the files the changes list, and nothing else.
	var want2 []string
	for f := range touched {
		want2 = append(want2, " M "+f)
	}
	slices.Sort(want2)
	if d := cmp.Diff(want2, gitStatus(t, dir)); d != "" {
		t.Errorf("git status (-want +got):\n%s", d)
	}
}

var cmpJSONFields = cmp.FilterPath(func(p cmp.Path) bool {
	switch p.Last().String() {
	case ".ChangeLog", ".Build", ".Payload", ".Key", ".Own", ".Gone", ".Intro":
		return true
	}
	return false
}, cmp.Ignore())

func TestNixTamperedChecksumsWriteNothing(t *testing.T) {
	needNix(t)
	ctx := context.Background()
	srv, client := startKernelOrg(t, []kernelorgtest.Spec{{Version: "6.12.71", Moniker: "longterm"}, {Version: "6.18.6"}})
	srv.SetFault(kernelorgtest.ChecksumsPath("6.12.71"), kernelorgtest.Fault{TamperPlaintext: true})
	dir := copyTree(t)
	gitInit(t, dir)
	reg := family.Registry{vanilla.New(client)}
	plan, err := (&Planner{Families: reg}).Plan(ctx, loadTree(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	// The v6.x list is tampered: neither 6.12.71 nor 6.18.6 gets a hash.
	if len(plan.Changes) != 0 {
		t.Fatalf("planned %s", planSummary(plan))
	}
	failed := plan.Failed()
	if len(failed) != 2 || !strings.Contains(failed[1].Reason, "no verified hash for 6.12.71") {
		t.Fatalf("held = %s", planSummary(plan))
	}
	if st := gitStatus(t, dir); len(st) != 0 {
		t.Errorf("git status not clean: %v", st)
	}

	// Had kupdate written the tampered hash, Nix itself would have refused
	// the download: proof that the builds above check what kupdate wrote.
	tampered := kernelorgtest.FlatHash("6.12.70") // any hash but the tarball's
	tr := loadTree(t, dir)
	c := bump("6.12", "6.12.64", "6.12.71")
	c.Hash = tampered
	files, _, err := Apply(reg, tr, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	out, err := nixBuild(t, dir, []string{"KUPDATE_KERNEL_MIRROR=" + srv.URL}, "linuxKernel.kernels.linux_6_12")
	if err == nil || !strings.Contains(out, "hash mismatch") {
		t.Errorf("nix-build with a wrong hash: err=%v\n%s", err, out)
	}
}
