package pin

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// Real Nix fetches the new tarball (from kernel.org's simulator, on
// loopback) with the hash string exactly as Rewrite writes it, in every
// form a file may use, and refuses the string written for another release:
// the hash kupdate writes is the tarball's, whatever the form.
func TestNixAcceptsWrittenHashes(t *testing.T) {
	if _, err := exec.LookPath("nix-build"); err != nil {
		t.Skip("nix-build not on PATH")
	}
	srv, err := kernelorgtest.New(kernelorgtest.Spec{Version: "6.1.163", Moniker: "longterm"}, kernelorgtest.Spec{Version: "6.1.162", Moniker: "longterm"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A fresh name per run: Nix would otherwise find the fixed-output path
	// of an earlier run valid and not fetch at all.
	run := time.Now().UnixNano()
	fetch := func(form HashForm, v, tag string) (string, error) {
		h, err := FormatHash(form, kernelorgtest.FlatHash(v))
		if err != nil {
			t.Fatal(err)
		}
		attr := "sha256"
		if form == SRI || form == SRIUnpadded {
			attr = "hash"
		}
		expr := fmt.Sprintf(`import <nix/fetchurl.nix> { name = "pin-%d-%s-%s"; url = %q; %s = %q; }`, run, strings.ReplaceAll(string(form), ":", "-"), tag, srv.TarballURL("6.1.163"), attr, h)
		out, err := exec.Command("nix-build", "--option", "substituters", "", "--no-out-link", "-E", expr).CombinedOutput()
		return string(out), err
	}
	for _, form := range []HashForm{SRI, SRIUnpadded, Nix32, Prefixed, Hex} {
		if out, err := fetch(form, "6.1.163", "right"); err != nil {
			t.Errorf("%s: %v\n%s", form, err, out)
		}
	}
	if out, err := fetch(Hex, "6.1.162", "wrong"); err == nil || !strings.Contains(out, "hash mismatch") {
		t.Errorf("the hash of another release: %v\n%s", err, out)
	}
}
