package zen_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/family/zen"
)

// copySample copies kupdate's sample nixpkgs tree to a temporary directory.
func copySample(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "nixpkgs")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func nixBuild(t *testing.T, dir, mirror, attr string) (string, error) {
	t.Helper()
	cmd := exec.Command("nix-build", "--option", "substituters", "", "--no-out-link", "-A", attr)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUPDATE_GITHUB_MIRROR="+mirror)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The sample tree's zen kernels fetch their source with fetchFromGitHub
// from the simulator: Nix itself checks the hash kupdate writes, and
// refuses a wrong one.
func TestSampleTreeBuildsTheBump(t *testing.T) {
	if _, err := exec.LookPath("nix-build"); err != nil {
		t.Fatalf("nix-build is needed: %v", err)
	}
	w := newWorld(t, "v6.18.4-zen1", "v6.18.3-lqx1", "v6.18.9-zen1")
	dir := copySample(t)
	if out, err := nixBuild(t, dir, w.gh.URL(), "linuxKernel.kernels.linux_lqx"); err != nil {
		t.Fatalf("the sample's lqx as it is: %v\n%s", err, out)
	}
	path := filepath.Join(dir, filepath.FromSlash(zen.Path))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := zen.New(w.src)
	tr := tree(t, orig)
	p := plan(t, f, tr)
	if len(p.Changes) != 1 || p.Changes[0].Title != "linuxKernel.kernels.linux_zen: 6.18.4-zen1 -> 6.18.9-zen1" {
		t.Fatalf("plan: %+v", p)
	}
	bumped := apply(t, f, tr, p.Changes[0])
	if err := os.WriteFile(path, bumped, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := nixBuild(t, dir, w.gh.URL(), "linuxKernel.kernels.linux_zen"); err != nil {
		t.Fatalf("the bumped zen: %v\n%s", err, out)
	}

	// The hash of another tag: Nix refuses the source.
	wrong := replace(t, bumped, "sha256-oscx6pKBXa24U2xEmVYf1cCEw1gBlPtSSHpkvawmZkQ=", "sha256-pAddOc2WneZbvp1VIcX+BOEzO2lSDnYvFgBnI0bUCUk=")
	if err := os.WriteFile(path, wrong, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := nixBuild(t, dir, w.gh.URL(), "linuxKernel.kernels.linux_zen")
	if err == nil || !strings.Contains(out, "hash mismatch") {
		t.Errorf("a wrong hash built (err %v):\n%s", err, out)
	}
}
