package pin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kupdate/kupdate/kernelorg"
)

// Bad input is reported with file and line, and nothing of it is a pin;
// the good kernel next to a bad one in the same file is still found.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file  string
		pins  int
		probs []string
	}{
		{"bad/github-src.nix", 0, []string{`bad/github-src.nix:11: src is "pkgs.fetchFromGitHub …", not a fetchurl of kernel.org's release tarball (https://cdn.kernel.org/pub/linux/kernel/vN.x/linux-X.Y.Z.tar.xz): kupdate pins only those`}},
		{"bad/inherit-from.nix", 0, []string{`bad/inherit-from.nix:7: src comes from linux_6_1: the kernel follows it, there is nothing here to pin`}},
		{"bad/no-kernel.nix", 0, []string{`bad/no-kernel.nix:1: no custom kernel found: kupdate looks for linuxPackages_custom, linuxManualConfig, buildLinux and linuxKernel.manualConfig calls and argsOverride sets with a version and src = fetchurl { … }`}},
		{"bad/rc.nix", 0, []string{`bad/rc.nix:4: version "4.4.0-rc5" is a release candidate: kupdate pins releases only`}},
		{"bad/unparsable-version.nix", 0, []string{`bad/unparsable-version.nix:3: version "latest-custom" does not start with a kernel release (X.Y or X.Y.Z)`}},
		{"bad/not-parsing.nix", 0, []string{`bad/not-parsing.nix:8: does not parse: bad/not-parsing.nix: 1 unclosed bracket(s) at the end of the file`}},
		{"mixed.nix", 1, []string{`mixed.nix:5: src is "pkgs.fetchgit …", not a fetchurl of kernel.org's release tarball (https://cdn.kernel.org/pub/linux/kernel/vN.x/linux-X.Y.Z.tar.xz): kupdate pins only those`}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(pins, c.file))
			if err != nil {
				t.Fatal(err)
			}
			found, probs := Find(c.file, src)
			if len(found) != c.pins {
				t.Errorf("%d pins, want %d", len(found), c.pins)
			}
			var got []string
			for _, p := range probs {
				got = append(got, p.Error())
			}
			if len(got) != len(c.probs) {
				t.Fatalf("problems:\n%q\nwant:\n%q", got, c.probs)
			}
			for i := range got {
				if got[i] != c.probs[i] {
					t.Errorf("problem\n%s\nwant\n%s", got[i], c.probs[i])
				}
			}
		})
	}
}

// A url naming another release than the version, a modDirVersion that is
// not the source's: kupdate cannot tell which one the user meant.
func TestInconsistentPins(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ src, want string }{
		{`pkgs.linuxPackages_custom { version = "5.11.20-lqx"; src = builtins.fetchurl { url = "https://cdn.kernel.org/pub/linux/kernel/v5.x/linux-5.11.tar.xz"; sha256 = "1d37w0zvmf8c1l99xvy1hy6p55icjhmbsv7f0amxy2nly1a7pw04"; }; }`,
			`f.nix:1: src's url names linux-5.11 but the version is 5.11.20-lqx: kupdate cannot tell which one to follow`},
		{`pkgs.linuxPackages_custom rec { version = "6.1.55"; modDirVersion = "6.1.54"; src = pkgs.fetchurl { url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz"; hash = "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc="; }; }`,
			`f.nix:1: modDirVersion "6.1.54" is not the source's version 6.1.55`},
		{`pkgs.linuxPackages_custom rec { version = "6.1.55"; src = pkgs.fetchurl { url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz"; hash = lib.fakeHash; }; }`,
			`f.nix:1: hash is not a literal hash string`},
		{`pkgs.linuxPackages_custom rec { version = "6.1.55"; src = pkgs.fetchurl { url = "https://example.org/linux-${version}.tar.xz"; hash = "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc="; }; }`,
			`f.nix:1: src's url "https://example.org/linux-${version}.tar.xz" is not kernel.org's release tarball (https://cdn.kernel.org/pub/linux/kernel/vN.x/linux-X.Y.Z.tar.xz): kupdate pins only those`},
		{`pkgs.linuxPackages_custom { inherit version; src = pkgs.fetchurl { url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.55.tar.xz"; hash = "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc="; }; }`,
			`f.nix:1: version is not bound in this file (an argument, or from another file): kupdate cannot follow it`},
	} {
		found, probs := Find("f.nix", []byte(c.src))
		if len(found) != 0 || len(probs) != 1 || probs[0].Error() != c.want {
			t.Errorf("%s\n%d pins, problems %v\nwant %s", c.src, len(found), probs, c.want)
		}
	}
}

// A series kernel.org lists as end of life, or no longer lists, is
// reported and never moved; --series latest skips end-of-life series.
func TestDecideSeries(t *testing.T) {
	t.Parallel()
	p := Pin{Upstream: kernelorg.MustParseVersion("5.10.200")}
	d, err := Decide(p, releases(), "")
	if err != nil || d.Status != EOL || d.Newest.String() != "5.10.250" {
		t.Errorf("5.10: %+v %v", d, err)
	}
	p.Upstream = kernelorg.MustParseVersion("4.19.300")
	d, err = Decide(p, releases(), "")
	if err != nil || d.Status != EOL || d.Reason != "kernel.org no longer lists series 4.19 (end of life): move to a maintained series with --series X.Y or --series latest" {
		t.Errorf("4.19: %+v %v", d, err)
	}
	d, err = Decide(p, releases(), Latest)
	if err != nil || d.Status != Behind || d.Newest.String() != "7.0.1" {
		t.Errorf("latest: %+v %v", d, err)
	}
	if _, err := Decide(p, releases(), "six"); err == nil || err.Error() != `--series "six": want X.Y or latest` {
		t.Errorf("bad series: %v", err)
	}
}

func TestFormatHash(t *testing.T) {
	t.Parallel()
	h := "sha256:0xxxiv763ffg0rhrz0kwn7rrkxy66fxb6kmljgx1cvwn0dmk6170"
	for form, want := range map[HashForm]string{
		SRI:         "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc=",
		SRIUnpadded: "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc",
		Nix32:       "0xxxiv763ffg0rhrz0kwn7rrkxy66fxb6kmljgx1cvwn0dmk6170",
		Prefixed:    h,
		Hex:         "e004336b03966f16fa93b44eb3ba33c6f799f3b17c829f6106cfb961ce8ebd77",
	} {
		got, err := FormatHash(form, h)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", form, got, err, want)
		}
		if f, err := formOf(want); err != nil || f != form {
			t.Errorf("formOf(%q) = %s %v, want %s", want, f, err, form)
		}
	}
}
