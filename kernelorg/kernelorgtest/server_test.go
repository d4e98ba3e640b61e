package kernelorgtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
)

func start(t *testing.T, specs ...Spec) *Server {
	t.Helper()
	s, err := New(specs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, url string, hdr ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConditionalRequests(t *testing.T) {
	s := start(t, Spec{Version: "6.18.5"}, Spec{Version: "6.19-rc4"})
	r := get(t, s.URL+"/releases.json")
	b := body(t, r)
	etag, lm := r.Header.Get("ETag"), r.Header.Get("Last-Modified")
	if r.StatusCode != 200 || etag == "" || lm == "" || !bytes.Contains(b, []byte(`"version": "6.19-rc4"`)) {
		t.Fatalf("GET releases.json: %s, ETag %q, Last-Modified %q\n%s", r.Status, etag, lm, b)
	}
	for _, h := range [][]string{{"If-None-Match", etag}, {"If-Modified-Since", lm}} {
		r := get(t, s.URL+"/releases.json", h...)
		if b := body(t, r); r.StatusCode != 304 || len(b) != 0 {
			t.Errorf("%s: %s with %d bytes, want 304 and no body", h[0], r.Status, len(b))
		}
	}
	if got := s.Bytes("/releases.json"); got != int64(len(b)) {
		t.Errorf("Bytes = %d, want %d (the 304s sent none)", got, len(b))
	}
	if err := s.Upsert(Spec{Version: "6.18.6"}); err != nil {
		t.Fatal(err)
	}
	r = get(t, s.URL+"/releases.json", "If-None-Match", etag)
	if b := body(t, r); r.StatusCode != 200 || !bytes.Contains(b, []byte(`"version": "6.18.6"`)) || bytes.Contains(b, []byte(`"6.18.5"`)) {
		t.Errorf("after Upsert: %s\n%s", r.Status, b)
	}
	if r.Header.Get("Last-Modified") == lm {
		t.Errorf("Last-Modified did not move")
	}
	if r := get(t, s.URL+"/releases.json", "If-Modified-Since", lm); r.StatusCode != 200 {
		t.Errorf("If-Modified-Since an older time: %s", r.Status)
	}
	if n := s.Requests("/releases.json"); n != 5 {
		t.Errorf("Requests = %d, want 5", n)
	}
}

func TestChecksumsAreSigned(t *testing.T) {
	s := start(t, Spec{Version: "6.12.64", Moniker: "longterm"}, Spec{Version: "6.18.5"}, Spec{Version: "5.10.247", Moniker: "longterm"})
	kr, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(s.Keyring()))
	if err != nil || len(kr) != 2 {
		t.Fatalf("keyring: %d keys, %v", len(kr), err)
	}
	r := get(t, s.URL+ChecksumsPath("6.12.64"))
	data := body(t, r)
	block, _ := clearsign.Decode(data)
	if block == nil {
		t.Fatalf("not clearsigned:\n%s", data)
	}
	signer, err := block.VerifySignature(kr, nil)
	if err != nil || fingerprint(signer) != s.Fingerprint() {
		t.Fatalf("VerifySignature: %v", err)
	}
	xz := get(t, s.TarballURL("6.12.64"))
	line := fmt.Sprintf("%s  linux-6.12.64.tar.xz\n", hexSum(body(t, xz)))
	if !bytes.Contains(block.Plaintext, []byte(line)) || bytes.Contains(block.Plaintext, []byte("5.10.247")) {
		t.Errorf("plaintext lacks %q or lists another folder:\n%s", line, block.Plaintext)
	}
	// The same file twice: same bytes, so the ETag holds.
	if again := body(t, get(t, s.URL+ChecksumsPath("6.12.64"))); !bytes.Equal(again, data) {
		t.Errorf("an unchanged checksum file changed its bytes")
	}
	// A release that left releases.json stays listed, as on kernel.org.
	if err := s.Upsert(Spec{Version: "6.12.65", Moniker: "longterm"}); err != nil {
		t.Fatal(err)
	}
	data = body(t, get(t, s.URL+ChecksumsPath("6.12.64")))
	if !bytes.Contains(data, []byte("linux-6.12.64.tar.xz")) || !bytes.Contains(data, []byte("linux-6.12.65.tar.xz")) {
		t.Errorf("after the bump:\n%s", data)
	}

	s.SetFault(ChecksumsPath("6.12.64"), Fault{WrongSigner: true, Times: 1})
	block, _ = clearsign.Decode(body(t, get(t, s.URL+ChecksumsPath("6.12.64"))))
	if signer, err := block.VerifySignature(kr, nil); err != nil || fingerprint(signer) != s.OtherFingerprint() {
		t.Errorf("WrongSigner: signed by %v, %v", signer, err)
	}
	s.SetFault(ChecksumsPath("6.12.64"), Fault{BadSignature: true, Times: 1})
	block, _ = clearsign.Decode(body(t, get(t, s.URL+ChecksumsPath("6.12.64"))))
	if _, err := block.VerifySignature(kr, nil); err == nil {
		t.Errorf("BadSignature verifies")
	}
	// Times ran out: the file is good again.
	block, _ = clearsign.Decode(body(t, get(t, s.URL+ChecksumsPath("6.12.64"))))
	if _, err := block.VerifySignature(kr, nil); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

func TestFaults(t *testing.T) {
	s := start(t, Spec{Version: "6.19-rc4"})
	p := TarballPath("6.19-rc4")
	s.SetFault(p, Fault{Status: 503, Times: 2})
	for i, want := range []int{503, 503, 200} {
		if r := get(t, s.URL+p); r.StatusCode != want {
			t.Errorf("request %d: %s, want %d", i+1, r.Status, want)
		}
	}
	s.SetFault(p, Fault{Truncate: 10})
	r := get(t, s.URL+p)
	if _, err := io.ReadAll(r.Body); err == nil {
		t.Errorf("a truncated body read without error")
	}
	s.ClearFault(p)
	if r := get(t, s.URL+"/torvalds/t/linux-6.20-rc1.tar.gz"); r.StatusCode != 404 {
		t.Errorf("an rc never released: %s", r.Status)
	}
	// A held request ends when the server closes.
	s.SetFault("/releases.json", Fault{Delay: time.Hour})
	done := make(chan error)
	go func() {
		_, err := http.Get(s.URL + "/releases.json")
		done <- err
	}()
	for s.Requests("/releases.json") == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	<-done
}

func TestUpsert(t *testing.T) {
	s := start(t, Spec{Version: "6.19-rc4"}, Spec{Version: "6.18.5"}, Spec{Version: "6.12.64", Moniker: "longterm"})
	for _, sp := range []Spec{{Version: "6.19-rc5"}, {Version: "6.12.65", Moniker: "longterm"}, {Version: "6.19"}, {Version: "6.18.6"}, {Version: "5.4.301", Moniker: "longterm", EOL: true}} {
		if err := s.Upsert(sp); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, sp := range s.Releases() {
		got = append(got, sp.Moniker+" "+sp.Version)
	}
	if want := "mainline 6.19, stable 6.18.6, longterm 6.12.65, longterm 5.4.301"; strings.Join(got, ", ") != want {
		t.Errorf("releases = %s, want %s", strings.Join(got, ", "), want)
	}
	// Superseded snapshots stay downloadable, as on git.kernel.org.
	if r := get(t, s.TarballURL("6.19-rc4")); r.StatusCode != 200 {
		t.Errorf("old rc: %s", r.Status)
	}
	if err := s.Upsert(Spec{Version: "6.x"}); err == nil {
		t.Errorf("Upsert of a version of unknown form without a moniker succeeded")
	}
}

// Real Nix fetches from the simulator and checks the hashes it exposes: a
// flat fetchurl of a .tar.xz, and builtins.fetchTarball (unpack, strip the
// top directory, NAR hash) of an rc snapshot. (<nix/fetchurl.nix> with
// unpack = true expects a NAR, not a tarball.)
func TestNixFetchesWithExposedHashes(t *testing.T) {
	if _, err := exec.LookPath("nix-build"); err != nil {
		t.Skip("nix-build not on PATH")
	}
	s := start(t, Spec{Version: "6.12.64", Moniker: "longterm"}, Spec{Version: "6.19-rc4"})
	// A fresh name per run: Nix would otherwise find the fixed-output path
	// of an earlier run valid and not fetch at all.
	run := time.Now().UnixNano()
	nix := func(args ...string) (string, error) {
		out, err := exec.Command(args[0], append([]string{"--option", "substituters", ""}, args[1:]...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := nix("nix-build", "--no-out-link", "-E", fmt.Sprintf(`import <nix/fetchurl.nix> { name = "kernelorgtest-%d.tar.xz"; url = %q; hash = %q; }`, run, s.TarballURL("6.12.64"), FlatHash("6.12.64"))); err != nil {
		t.Errorf("fetchurl of 6.12.64: %v\n%s", err, out)
	}
	if out, err := nix("nix-instantiate", "--eval", "-E", fmt.Sprintf(`builtins.fetchTarball { name = "kernelorgtest-%d-rc"; url = %q; sha256 = %q; }`, run, s.TarballURL("6.19-rc4"), NARHash("6.19-rc4"))); err != nil {
		t.Errorf("fetchTarball of 6.19-rc4: %v\n%s", err, out)
	}
	// And refuses wrong ones.
	out, err := nix("nix-instantiate", "--eval", "-E", fmt.Sprintf(`builtins.fetchTarball { name = "kernelorgtest-%d-rc-wrong"; url = %q; sha256 = %q; }`, run, s.TarballURL("6.19-rc4"), NARHash("6.19-rc5")))
	if err == nil || !strings.Contains(out, "hash mismatch") {
		t.Errorf("fetchTarball with a wrong hash: %v\n%s", err, out)
	}
	out, err = nix("nix-build", "--no-out-link", "-E", fmt.Sprintf(`import <nix/fetchurl.nix> { name = "kernelorgtest-%d-wrong"; url = %q; hash = %q; }`, run, s.TarballURL("6.12.64"), FlatHash("6.12.65")))
	if err == nil || !strings.Contains(out, "hash mismatch") {
		t.Errorf("a wrong hash: %v\n%s", err, out)
	}
}
