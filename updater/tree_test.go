package updater

import (
	"bytes"
	"context"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A change whose anchor is missing fails as a whole: the error names the
// file, the section's line and the anchor, nothing is returned, the tree
// is unchanged, and the checkout on disk is untouched.
func TestApplyAllOrNothing(t *testing.T) {
	dir := copyTree(t)
	gitInit(t, dir)
	tr := loadTree(t, dir)
	reg := kernels(nil, &tableHasher{}, nil)
	// An init whose vanillaPackages entries are gone: the kernels entry and
	// the JSON could be written, the vanillaPackages one cannot.
	lk := strings.NewReplacer(
		"    linux_5_10 = recurseIntoAttrs (packagesFor kernels.linux_5_10);\n", "",
		"    linux_5_15 = recurseIntoAttrs (packagesFor kernels.linux_5_15);\n", "",
		"    linux_6_1 = recurseIntoAttrs (packagesFor kernels.linux_6_1);\n", "",
		"    linux_6_6 = recurseIntoAttrs (packagesFor kernels.linux_6_6);\n", "",
		"    linux_6_12 = recurseIntoAttrs (packagesFor kernels.linux_6_12);\n", "",
		"    linux_6_18 = recurseIntoAttrs (packagesFor kernels.linux_6_18);\n", "",
	).Replace(string(tr.File(kernelfiles.LinuxKernelsPath)))
	tr2 := tr.With(map[string][]byte{kernelfiles.LinuxKernelsPath: []byte(lk)})
	got, next, err := Apply(reg, tr2, initChange("7.0", "7.0"))
	want := "linux_7_0: init at 7.0: pkgs/top-level/linux-kernels.nix:196: section vanillaPackages: no `linux_X_Y = recurseIntoAttrs (packagesFor kernels.linux_X_Y);` entry to place linux_7_0 by"
	if err == nil || err.Error() != want {
		t.Errorf("Apply:\n got %v\nwant %s", err, want)
	}
	if got != nil || next != nil || string(tr2.File(kernelfiles.LinuxKernelsPath)) != lk {
		t.Errorf("the failed Apply changed the tree")
	}
	// A stale change (the tree moved on) is refused too.
	stale := bump("6.12", "6.12.63", "6.12.65")
	stale.Title = "t"
	if _, _, err := Apply(reg, tr, stale); err == nil ||
		err.Error() != `t: pkgs/os-specific/linux/kernel/kernels-org.json:27: branch "6.12" is at 6.12.64, not 6.12.63: the change is stale` {
		t.Errorf("stale bump: %v", err)
	}
	// Re-adding a removed kernel is refused by the editor as well.
	readd := initChange("6.17", "6.17.13")
	readd.Title = "t"
	if _, _, err := Apply(reg, tr, readd); err == nil ||
		!strings.Contains(err.Error(), "linux_6_17 was removed from the tree (pkgs/top-level/linux-kernels.nix:165): kupdate never adds it back") {
		t.Errorf("re-adding 6.17: %v", err)
	}
	for _, p := range []string{kernelfiles.KernelsJSONPath, kernelfiles.LinuxKernelsPath, kernelfiles.AliasesPath} {
		if b, _ := os.ReadFile(filepath.Join(dir, p)); !bytes.Equal(tr.File(p), b) {
			t.Errorf("%s changed", p)
		}
	}
	if st := gitStatus(t, dir); len(st) != 0 {
		t.Errorf("git status: %v", st)
	}
}

func TestWriteFilesAtomic(t *testing.T) {
	dir := copyTree(t)
	gitInit(t, dir)
	// One path cannot be written (its directory is a file): nothing is.
	err := WriteFiles(dir, map[string][]byte{
		kernelfiles.KernelsJSONPath: []byte("{}\n"),
		"default.nix/cannot-be":     []byte("x"),
		"pkgs/top-level/../../..":   []byte("x"),
	})
	if err == nil {
		t.Fatal("WriteFiles succeeded")
	}
	if st := gitStatus(t, dir); len(st) != 0 {
		t.Errorf("git status after a failed write: %v", st)
	}
	if err := WriteFiles(dir, map[string][]byte{kernelfiles.KernelsJSONPath: []byte("{}\n")}); err != nil {
		t.Fatal(err)
	}
	if st := gitStatus(t, dir); !cmp.Equal(st, []string{" M " + kernelfiles.KernelsJSONPath}) {
		t.Errorf("git status: %v", st)
	}
}

func TestParseNixFromMemory(t *testing.T) {
	needNix(t)
	if err := ParseNix(context.Background(), "x.nix", []byte("{ a = 1; }")); err != nil {
		t.Error(err)
	}
	tr := loadTree(t, copyTree(t))
	reg := kernels(nil, &tableHasher{}, nil)
	files, _, err := Apply(reg, tr, initChange("7.0", "7.0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFiles(context.Background(), reg, files); err != nil {
		t.Error(err)
	}
	files[kernelfiles.AliasesPath] = append(files[kernelfiles.AliasesPath], "}"...)
	if err := CheckFiles(context.Background(), reg, files); err == nil || !strings.Contains(err.Error(), "pkgs/top-level/aliases.nix does not parse") {
		t.Errorf("CheckFiles with a broken aliases.nix: %v", err)
	}
	err = ParseNix(context.Background(), "pkgs/top-level/x.nix", []byte("{ a = 1; "))
	if err == nil || !strings.Contains(err.Error(), "pkgs/top-level/x.nix does not parse") || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("ParseNix: %v", err)
	}
}

func TestApplyToDirRollsBackAFailedChange(t *testing.T) {
	needNix(t)
	dir := copyTree(t)
	gitInit(t, dir)
	tr := loadTree(t, dir)
	changes := []family.Change{
		// evaluates fine
		bump("6.1", "6.1.159", "6.1.160"),
		// applies, but names an attribute that does not evaluate: rolled back
		bump("6.6", "6.6.119", "6.6.120", "linux_6_6_missing"),
		// builds on the tree without the rolled-back change
		bump("6.12", "6.12.64", "6.12.65"),
	}
	var committed []string
	reg := kernels(nil, &tableHasher{}, nil)
	outs, tr := ApplyToDir(context.Background(), reg, dir, tr, changes, ApplyOptions{After: func(ctx context.Context, c family.Change, files map[string][]byte) error {
		committed = append(committed, c.Title)
		return nil
	}})
	var errs []string
	for _, o := range outs {
		if o.Err != nil {
			errs = append(errs, o.Change.Title)
			if !strings.Contains(o.Err.Error(), "linux_6_6_missing") {
				t.Errorf("error does not name the attribute: %v", o.Err)
			}
		}
	}
	if d := cmp.Diff([]string{"linux_6_6: 6.6.119 -> 6.6.120"}, errs); d != "" {
		t.Errorf("failed (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"linux_6_1: 6.1.159 -> 6.1.160", "linux_6_12: 6.12.64 -> 6.12.65"}, committed); d != "" {
		t.Errorf("committed (-want +got):\n%s", d)
	}
	disk, err := kernelfiles.Read(loadTree(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	mem, err := kernelfiles.Read(tr)
	if err != nil {
		t.Fatal(err)
	}
	for branch, want := range map[string]string{"6.1": "6.1.160", "6.6": "6.6.119", "6.12": "6.12.65"} {
		if e, _ := disk.Entry(branch); e.Version.String() != want {
			t.Errorf("on disk %s = %s, want %s", branch, e.Version, want)
		}
		if e, _ := mem.Entry(branch); e.Version.String() != want {
			t.Errorf("in the tree %s = %s, want %s", branch, e.Version, want)
		}
	}
	if st := gitStatus(t, dir); !cmp.Equal(st, []string{" M " + kernelfiles.KernelsJSONPath}) {
		t.Errorf("git status: %v", st)
	}
}
