package pin

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/updater"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/pins")

const pins = "../testdata/pins"

// releases is kernel.org as the tests see it.
func releases() []kernelorg.Release {
	var out []kernelorg.Release
	for _, r := range []struct {
		v   string
		eol bool
	}{{"7.0.1", false}, {"6.19.12", true}, {"6.12.70", false}, {"6.6.125", false}, {"6.1.163", false}, {"5.15.200", false}, {"5.10.250", true}} {
		v := kernelorg.MustParseVersion(r.v)
		out = append(out, kernelorg.Release{Version: v, Branch: v.Series(), EOL: r.eol, Moniker: "longterm"})
	}
	return out
}

func parses(t *testing.T, name string, src []byte) {
	t.Helper()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
	if err := updater.ParseNix(context.Background(), name, src); err != nil {
		t.Errorf("%v", err)
	}
}

// Every shape in testdata/pins is found, decided and bumped byte-exactly
// (the .want files are the goldens), the result parses, and bumping the
// result again finds nothing to do.
func TestBumpShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file, series string
		attr, from   string
		form         HashForm
		want         Status
		to           string
	}{
		{file: "manual-custom.nix", attr: "linux_custom", from: "6.1.55", form: SRI, want: Behind, to: "6.1.163"},
		{file: "manual-moddir.nix", attr: "linux_custom", from: "6.1.55-custom", form: SRI, want: Behind, to: "6.1.163"},
		{file: "argsoverride-sri.nix", attr: "lts", from: "6.1.66", form: SRI, want: Behind, to: "6.1.163"},
		{file: "argsoverride-hex.nix", attr: "linux_custom", from: "6.6.30", form: Hex, want: Behind, to: "6.6.125"},
		{file: "let-suffix-manualconfig.nix", attr: "linux_custom", from: "6.1.120-gerg", form: SRI, want: Behind, to: "6.1.163"},
		{file: "let-first-release-hex.nix", attr: "linux_custom", from: "6.12", form: Hex, want: Behind, to: "6.12.70"},
		{file: "literal-url-nix32.nix", attr: "linux_custom", from: "5.15.190-custom", form: Nix32, want: Behind, to: "5.15.200"},
		{file: "literal-url-nix32.nix", series: "latest", attr: "linux_custom", from: "5.15.190-custom", form: Nix32, want: Behind, to: "7.0.1"},
		{file: "buildlinux-args-prefixed.nix", attr: "customLinuxF", from: "6.6.30", form: Prefixed, want: Behind, to: "6.6.125"},
		{file: "buildlinux-args-prefixed.nix", series: "6.12", attr: "customLinuxF", from: "6.6.30", form: Prefixed, want: Behind, to: "6.12.70"},
		{file: "buildlinux-pad-sri.nix", attr: "linux_custom", from: "6.6.30", form: SRI, want: Behind, to: "6.6.125"},
		{file: "mixed.nix", attr: "linux_vm", from: "6.1.55", form: SRI, want: Behind, to: "6.1.163"},
		{file: "shared-let.nix", attr: "linux_guest", from: "6.1.55", form: SRI, want: Behind, to: "6.1.163"},
		{file: "overlay-inherit-src.nix", attr: "linux_vm", from: "6.12.70", form: SRI, want: Current},
		{file: "argsoverride-sri.nix", series: "6.19", attr: "lts", from: "6.1.66", form: SRI, want: EOL},
		{file: "argsoverride-sri.nix", series: "5.15", attr: "lts", from: "6.1.66", form: SRI, want: Current},
	}
	for _, c := range cases {
		name := c.file
		if c.series != "" {
			name += "@" + c.series
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(pins, c.file)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			parses(t, path, src)
			found, probs := Find(c.file, src)
			if len(probs) != wantProblems[c.file] || len(found) != max(1, wantPinCount[c.file]) {
				t.Fatalf("found %d pins, problems %v", len(found), probs)
			}
			p := found[0]
			if p.Attr != c.attr || p.Version != c.from || p.HashForm != c.form {
				t.Errorf("pin %s %q %s, want %s %q %s", p.Attr, p.Version, p.HashForm, c.attr, c.from, c.form)
			}
			d, err := Decide(p, releases(), c.series)
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != c.want || (c.want == Behind && d.Newest.String() != c.to) {
				t.Fatalf("decision %s %s, want %s %s", d.Status, d.Newest, c.want, c.to)
			}
			if d.Status != Behind {
				return
			}
			got, err := Rewrite(src, p, d.Newest, kernelorgtest.FlatHash(c.to))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(path, ".nix")+wantSuffix(c.series), got)
			parses(t, path, got)
			again, probs := Find(c.file, got)
			if len(probs) != wantProblems[c.file] || len(again) != len(found) {
				t.Fatalf("after the bump: %d pins, problems %v", len(again), probs)
			}
			if d2, _ := Decide(again[0], releases(), c.series); d2.Status != Current {
				t.Errorf("after the bump: %s, want current", d2.Status)
			}
			if h, _ := FormatHash(c.form, kernelorgtest.FlatHash(c.to)); again[0].Hash != h {
				t.Errorf("after the bump the hash reads %s, want %s", again[0].Hash, h)
			}
		})
	}
}

// wantProblems counts the bad kernels beside the good one (TestBadInput
// checks them).
var wantProblems = map[string]int{"mixed.nix": 1}

// wantPinCount is how many kernels a file has, when not one.
var wantPinCount = map[string]int{"shared-let.nix": 2}

func wantSuffix(series string) string {
	if series == "" {
		return ".want.nix"
	}
	return "." + series + ".want.nix"
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}
