package families_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/families"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/updater"
)

// nixpkgs.alias_throws reaches the kernel.org family: a removal leaves
// aliases.nix alone by default and turns its aliases into throws with it.
func TestAliasThrowsSetting(t *testing.T) {
	for _, tc := range []struct {
		toml  string
		files []string
	}{
		{"", []string{kernelfiles.KernelsJSONPath, kernelfiles.LinuxKernelsPath}},
		{"[nixpkgs]\nalias_throws = true\n", []string{kernelfiles.KernelsJSONPath, kernelfiles.AliasesPath, kernelfiles.LinuxKernelsPath}},
	} {
		cfg, err := config.Parse("c.toml", []byte(tc.toml))
		if err != nil {
			t.Fatal(err)
		}
		reg := families.New(families.Sources{Config: cfg, Hardened: noHardened{}})
		tr, err := reg.LoadFS(os.DirFS("../testdata/nixpkgs"))
		if err != nil {
			t.Fatal(err)
		}
		tr.Now = func() time.Time { return time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC) }
		files, _, err := updater.Apply(reg, tr, vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247", LTS: true}))
		if err != nil {
			t.Fatal(err)
		}
		if got := updater.ChangedFiles(files); strings.Join(got, " ") != strings.Join(tc.files, " ") {
			t.Errorf("%q: the removal changed %v, want %v", tc.toml, got, tc.files)
		}
	}
}

// noHardened is a linux-hardened source that is never asked.
type noHardened struct{}

func (noHardened) Releases(context.Context) ([]hardened.Release, error) { return nil, nil }
func (noHardened) Download(context.Context, string) ([]byte, error)     { return nil, nil }
