package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// releasesSetup starts a kernel.org simulator and writes a config.toml that
// points [kernelorg] at it, with its keyring and fingerprint.
func releasesSetup(t *testing.T) (*kernelorgtest.Server, string) {
	t.Helper()
	srv, err := kernelorgtest.New(
		kernelorgtest.Spec{Version: "6.19-rc4", Date: "2026-01-04"},
		kernelorgtest.Spec{Version: "6.18.5", Date: "2026-01-08"},
		kernelorgtest.Spec{Version: "6.12.64", Moniker: "longterm"},
		kernelorgtest.Spec{Version: "5.4.301", Moniker: "longterm", EOL: true},
		kernelorgtest.Spec{Version: "next-20260105"},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	keyring := filepath.Join(dir, "keyring.asc")
	if err := os.WriteFile(keyring, srv.Keyring(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("[kernelorg]\nurl = %q\ngit_url = %q\nkeyring = %q\nfingerprint = %q\ntimeout = \"30s\"\n\n[nixpkgs]\ncache_dir = %q\n",
		srv.URL, srv.URL, keyring, srv.Fingerprint(), filepath.Join(dir, "cache"))
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, path
}

func runKupdate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestReleasesTable(t *testing.T) {
	t.Parallel()
	srv, cfg := releasesSetup(t)
	// kernel.org has not signed 6.18.5's checksum yet, and git.kernel.org
	// has not made 6.19-rc4's snapshot: shown, not an error.
	srv.SetFault(kernelorgtest.ChecksumsPath("6.18.5"), kernelorgtest.Fault{OmitFiles: []string{"linux-6.18.5.tar.xz"}})
	srv.SetFault(kernelorgtest.TarballPath("6.19-rc4"), kernelorgtest.Fault{Status: 404})
	code, stdout, stderr := runKupdate(t, "--config", cfg, "releases")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	want := fmt.Sprintf(`BRANCH   VERSION   MONIKER   EOL  LTS  RELEASED    HASH
5.4      5.4.301   longterm  yes  yes  2026-01-05  %s
6.12     6.12.64   longterm  no   yes  2026-01-05  %s
6.18     6.18.5    stable    no   no   2026-01-08  not yet: no signed checksum on kernel.org
testing  6.19-rc4  mainline  no   no   2026-01-04  not yet: no snapshot on git.kernel.org
`, kernelorgtest.FlatHash("5.4.301"), kernelorgtest.FlatHash("6.12.64"))
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if ua := srv.LastUserAgent(); !strings.HasPrefix(ua, "kupdate/") {
		t.Errorf("User-Agent %q does not name kupdate", ua)
	}
}

func TestReleasesJSON(t *testing.T) {
	t.Parallel()
	srv, cfg := releasesSetup(t)
	srv.SetFault(kernelorgtest.ChecksumsPath("5.4.301"), kernelorgtest.Fault{WrongSigner: true})
	code, stdout, stderr := runKupdate(t, "--config", cfg, "releases", "--json")
	if code != 1 {
		t.Errorf("exit %d, want 1 for a hash that failed verification\n%s", code, stderr)
	}
	var got []releaseRow
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	sums := srv.URL + "/pub/linux/kernel/v5.x/sha256sums.asc"
	badSigner := "linux 5.4.301: " + sums + ": signed by key " + srv.OtherFingerprint() + ", not by the pinned key " + srv.Fingerprint() + " (kernelorg.fingerprint): refusing it"
	v := func(v, dir string) (string, string) {
		d := srv.URL + "/pub/linux/kernel/" + dir + "/"
		return d + "linux-" + v + ".tar.xz", d + "ChangeLog-" + v
	}
	src54, cl54 := v("5.4.301", "v5.x")
	src612, cl612 := v("6.12.64", "v6.x")
	src618, cl618 := v("6.18.5", "v6.x")
	want := []releaseRow{
		{Branch: "5.4", Version: "5.4.301", Moniker: "longterm", EOL: true, LTS: true, Released: "2026-01-05", Source: src54, ChangeLog: cl54, Status: "error", Error: badSigner},
		{Branch: "6.12", Version: "6.12.64", Moniker: "longterm", LTS: true, Released: "2026-01-05", Source: src612, ChangeLog: cl612, Hash: kernelorgtest.FlatHash("6.12.64"), Status: "ok"},
		{Branch: "6.18", Version: "6.18.5", Moniker: "stable", Released: "2026-01-08", Source: src618, ChangeLog: cl618, Hash: kernelorgtest.FlatHash("6.18.5"), Status: "ok"},
		{Branch: "testing", Version: "6.19-rc4", Moniker: "mainline", Released: "2026-01-04", Source: srv.TarballURL("6.19-rc4"), Hash: kernelorgtest.NARHash("6.19-rc4"), Status: "ok"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if wantErr := "kupdate releases: " + badSigner + "\nkupdate releases: 1 of 4 hashes could not be verified\n"; !strings.HasSuffix(stderr, wantErr) {
		t.Errorf("stderr:\n%s\nwant it to end with:\n%s", stderr, wantErr)
	}
	// The field names are a contract.
	if !strings.Contains(stdout, `"branch": "5.4",`) || !strings.Contains(stdout, `"changelog": "",`) {
		t.Errorf("JSON field names changed:\n%s", stdout)
	}
}

func TestReleasesErrors(t *testing.T) {
	t.Parallel()
	srv, cfg := releasesSetup(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte(fmt.Sprintf("[kernelorg]\nurl = %q\nkeyring = %q\n", srv.URL, filepath.Join(dir, "missing.asc"))), 0o644)
	if code, _, stderr := runKupdate(t, "--config", bad, "releases"); code != 2 || !strings.Contains(stderr, "kernelorg.keyring: open ") {
		t.Errorf("missing keyring: exit %d\n%s", code, stderr)
	}
	if code, _, _ := runKupdate(t, "--config", cfg, "releases", "extra"); code != 2 {
		t.Errorf("stray argument: exit %d, want 2", code)
	}
	srv.SetFault("/releases.json", kernelorgtest.Fault{Body: []byte("<html>")})
	code, stdout, stderr := runKupdate(t, "--config", cfg, "releases")
	if want := "kupdate releases: " + srv.URL + "/releases.json: not releases.json: "; code != 1 || stdout != "" || !strings.HasPrefix(stderr, want) {
		t.Errorf("garbage releases.json: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
