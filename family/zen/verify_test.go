package zen_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/zen"
)

func verify(t *testing.T, f *zen.Family, base, head []byte) (*family.Results, family.Titler) {
	t.Helper()
	out := &family.Results{}
	pr := family.PR{Base: family.NewTree(map[string][]byte{zen.Path: base}), Head: family.NewTree(map[string][]byte{zen.Path: head}), Log: slog.New(slog.DiscardHandler)}
	tl, err := f.Verify(context.Background(), pr, out)
	if err != nil {
		t.Fatal(err)
	}
	return out, tl
}

// kupdate check verifies a zen bump against zen-kernel: the release is
// published and the hash is its tarball's; a wrong hash, a tag zen-kernel
// does not have and a step back are findings at the line.
func TestVerify(t *testing.T) {
	w := newWorld(t, "v6.17.9-zen1", "v6.18.2-zen1")
	f := zen.New(w.src)
	base := readTestdata(t, "zen-kernels-6.17.9.nix")
	good := replace(t, base, `version = "6.17.9"; # zen`, `version = "6.18.2"; # zen`,
		`0xrmhs2kabiszdldqx7c4bj3zicbslvvgmw8j77zlc49zddxhz1q`, nixHash(t, "v6.18.2-zen1"))
	out, tl := verify(t, f, base, good)
	want := []family.Verified{{File: zen.Path, Line: 19, Branch: "zen", From: "6.17.9-zen1", To: "6.18.2-zen1", Hash: nixHash(t, "v6.18.2-zen1")}}
	if diff := cmp.Diff(want, out.Verified); diff != "" || len(out.Findings)+len(out.Unverified) != 0 {
		t.Errorf("verified (-want +got):\n%s\nfindings %v unverified %v", diff, out.Findings, out.Unverified)
	}
	ct := tl.Titles(family.Commit{Files: []string{zen.Path}, Parent: family.NewTree(map[string][]byte{zen.Path: base}), Tree: family.NewTree(map[string][]byte{zen.Path: good})})
	if len(ct.Want) != 1 || ct.Want[0].Text != "linuxKernel.kernels.linux_zen: 6.17.9-zen1 -> 6.18.2-zen1" || ct.Line != 19 {
		t.Errorf("titles: %+v", ct)
	}
	if !f.ClaimsChange("linuxKernel.kernels.linux_zen: 6.17.9-zen1 -> 6.18.2-zen1") || f.ClaimsChange("linuxKernel.kernels.linux_zen: enable FOO") {
		t.Error("ClaimsChange")
	}

	for _, tt := range []struct {
		name string
		head []byte
		want string
	}{
		{"hash", replace(t, good, nixHash(t, "v6.18.2-zen1"), nixHash(t, "v6.17.9-zen1")),
			zen.Path + ":21: linux_zen: " + nixHash(t, "v6.17.9-zen1") + " is not the hash of v6.18.2-zen1's tarball: want " + toSRI(t, nixHash(t, "v6.18.2-zen1"))},
		{"version", replace(t, good, `version = "6.18.2"; # zen`, `version = "6.18.3"; # zen`),
			zen.Path + ":19: linux_zen: zen-kernel has no published release v6.18.3-zen1 (among its newest 100)"},
		{"downgrade", replace(t, base, `version = "6.17.9"; # zen`, `version = "6.17.8"; # zen`),
			zen.Path + ":19: linux_zen goes back from 6.17.9-zen1 to 6.17.8-zen1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := verify(t, f, base, tt.head)
			var got []string
			for _, fd := range out.Findings {
				got = append(got, fd.String())
			}
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" || len(out.Verified) != 0 {
				t.Errorf("findings (-want +got):\n%s\nverified %v", diff, out.Verified)
			}
		})
	}

	out, _ = verify(t, f, base, []byte(strings.Replace(string(base), `"6.17.9"; # zen`, `"6.17.9"; # zen!`, 1)))
	want2 := []family.Finding{{File: zen.Path, Rule: family.RuleSyntax, Message: "variant zen lacks its version line (`… = \"…\"; # zen`)"}}
	if diff := cmp.Diff(want2, out.Findings); diff != "" {
		t.Errorf("syntax (-want +got):\n%s", diff)
	}
}
