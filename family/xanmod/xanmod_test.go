package xanmod_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/xanmod"
	"github.com/kupdate/kupdate/fetch"
	"github.com/kupdate/kupdate/gitlabtest"
	"github.com/kupdate/kupdate/srcarchive/srcarchivetest"
)

type world struct {
	gl  *gitlabtest.Server
	src *xanmod.GitLab
}

// release is "<variant> <tag>"; the first asset link names the variant as
// xanmod's releases do.
func newWorld(t testing.TB, releases ...string) *world {
	t.Helper()
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	if err := gl.CreateProject("xanmod/linux"); err != nil {
		t.Fatal(err)
	}
	for _, r := range releases {
		variant, tag, _ := strings.Cut(r, " ")
		if err := gl.PublishRelease("xanmod/linux", gitlabtest.Release{Tag: tag,
			Links:  []gitlabtest.Link{{Name: "https://sourceforge.net/projects/xanmod/files/releases/" + variant + "/" + tag + "/", URL: "https://sourceforge.net/x"}},
			Source: srcarchivetest.Kernel("linux-"+tag, tag)}); err != nil {
			t.Fatal(err)
		}
	}
	src := xanmod.NewGitLab(gl.APIURL(), "kupdate-test")
	src.HTTP = gl.Client()
	src.Hasher.TempDir = t.TempDir()
	src.Retry = fetch.Retry{Sleep: func(context.Context, time.Duration) error { return nil }}
	return &world{gl: gl, src: src}
}

// sri is what nix-hash computes of the tag's archive, unpacked by tar with
// its top directory stripped.
func sri(t *testing.T, tag string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.tar.gz"), srcarchivetest.Kernel("linux-"+tag, tag), 0o644); err != nil {
		t.Fatal(err)
	}
	tar := exec.Command("tar", "-xzf", "a.tar.gz")
	tar.Dir = dir
	if out, err := tar.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	out, err := exec.Command("nix-hash", "--type", "sha256", filepath.Join(dir, "linux-"+tag)).Output()
	if err != nil {
		t.Fatalf("nix-hash: %v", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return "sha256-" + base64.StdEncoding.EncodeToString(raw)
}

func orig(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/xanmod-kernels.nix")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tree(t *testing.T, b []byte) *family.Tree {
	t.Helper()
	tr, err := family.Registry{xanmod.New(nil)}.Load(map[string][]byte{xanmod.Path: b})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func plan(t *testing.T, f *xanmod.Family, tr *family.Tree) *family.Plan {
	t.Helper()
	p, err := f.Plan(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func replace(t *testing.T, b []byte, pairs ...string) []byte {
	t.Helper()
	s := string(b)
	for i := 0; i < len(pairs); i += 2 {
		if strings.Count(s, pairs[i]) != 1 {
			t.Fatalf("%q is not once in the file", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return []byte(s)
}

func notes(ns []family.Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.String())
	}
	return out
}

// The replay on nixpkgs' real xanmod-kernels.nix: lts (isLTS kept) moves
// within its releases, main to a xanmod2 release, which gains a suffix
// line as update-xanmod.sh adds it; the rest of the bytes stay; a second
// plan changes nothing.
func TestReplay(t *testing.T) {
	w := newWorld(t, "lts 6.12.60-xanmod1", "main 6.17.9-xanmod1", "lts 6.12.61-xanmod1", "main 6.17.10-xanmod2")
	f := xanmod.New(w.src)
	tr := tree(t, orig(t))
	p := plan(t, f, tr)
	var titles []string
	for _, c := range p.Changes {
		titles = append(titles, c.Title)
	}
	if d := cmp.Diff([]string{"linuxKernel.kernels.linux_xanmod: 6.12.60 -> 6.12.61", "linuxKernel.kernels.linux_xanmod_latest: 6.17.9 -> 6.17.10-xanmod2"}, titles); d != "" || len(p.Held)+len(p.Skipped) != 0 {
		t.Fatalf("titles (-want +got):\n%s\n%+v", d, p)
	}
	files, err := f.Apply(tr, p.Changes[0])
	if err != nil {
		t.Fatal(err)
	}
	want := replace(t, orig(t), `version = "6.12.60";`, `version = "6.12.61";`,
		"sha256-nS9vsdH76q+uUaWXEp3duikX7osVqv7hjBMFNzdtA7o=", sri(t, "6.12.61-xanmod1"))
	if d := cmp.Diff(string(want), string(files[xanmod.Path])); d != "" {
		t.Errorf("lts (-want +got):\n%s", d)
	}
	tr2 := tr.With(files)
	files, err = f.Apply(tr2, p.Changes[1])
	if err != nil {
		t.Fatal(err)
	}
	want = replace(t, want, `version = "6.17.9";`, `version = "6.17.10";`,
		`      hash = "sha256-M0M8jEflWgGMSUqQ2oEePISaYR5UIJbGrSmphCTIKYI=";
    };`, `      hash = "`+sri(t, "6.17.10-xanmod2")+`";
      suffix = "xanmod2";
    };`)
	if d := cmp.Diff(string(want), string(files[xanmod.Path])); d != "" {
		t.Errorf("main (-want +got):\n%s", d)
	}
	if c := p.Changes[0]; !c.LTS || c.Key != (family.Key{Family: "xanmod", Attr: "linux_xanmod", Target: "6.12.61-xanmod1"}) || c.Own != "update" {
		t.Errorf("lts change: %+v", c)
	}
	if again := plan(t, f, tree(t, files[xanmod.Path])); len(again.Changes)+len(again.Held)+len(again.Skipped) != 0 {
		t.Errorf("second plan: %+v", again)
	}
	// Back to xanmod1: the suffix line goes.
	w.gl.PublishRelease("xanmod/linux", gitlabtest.Release{Tag: "6.17.11-xanmod1",
		Links: []gitlabtest.Link{{Name: "https://sourceforge.net/projects/xanmod/files/releases/main/6.17.11-xanmod1/"}}, Source: srcarchivetest.Kernel("linux-6.17.11-xanmod1", "6.17.11-xanmod1")})
	tr3 := tree(t, files[xanmod.Path])
	p = plan(t, f, tr3)
	if len(p.Changes) != 1 || p.Changes[0].Title != "linuxKernel.kernels.linux_xanmod_latest: 6.17.10-xanmod2 -> 6.17.11" {
		t.Fatalf("plan: %+v", p)
	}
	back, err := f.Apply(tr3, p.Changes[0])
	if err != nil {
		t.Fatal(err)
	}
	want = replace(t, files[xanmod.Path], `version = "6.17.10";`, `version = "6.17.11";`, sri(t, "6.17.10-xanmod2"), sri(t, "6.17.11-xanmod1"),
		"      suffix = \"xanmod2\";\n", "")
	if d := cmp.Diff(string(want), string(back[xanmod.Path])); d != "" {
		t.Errorf("back to xanmod1 (-want +got):\n%s", d)
	}
}

// A hostile tag is named and skipped; an older series is never taken; the
// list is read conditionally (304 the second time).
func TestHostileOlderConditional(t *testing.T) {
	w := newWorld(t, "lts 6.12.61-xanmod1", `lts 6.12.62-xanmod1";x`, "lts 6.6.99-xanmod1", "main 6.17.9-xanmod1")
	f := xanmod.New(w.src)
	tr := tree(t, orig(t))
	p := plan(t, f, tr)
	if len(p.Changes) != 1 || p.Changes[0].To != "6.12.61-xanmod1" {
		t.Fatalf("changes: %+v", p.Changes)
	}
	if d := cmp.Diff([]string{`lts: xanmod's tag "6.12.62-xanmod1\";x" is not <X.Y.Z>-xanmod<N>: skipped, never written`}, notes(p.Skipped)); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	w.gl.ResetRequests()
	plan(t, f, tr)
	if r := w.gl.Requests(); len(r) != 1 || r[0].Status != http.StatusNotModified {
		t.Errorf("second plan's requests: %+v", r)
	}
}

// GitLab failing holds xanmod (after the shared retries); a file kupdate
// cannot read holds it too, and neither stops the tree from loading.
func TestHeld(t *testing.T) {
	w := newWorld(t, "lts 6.12.61-xanmod1")
	w.gl.AddFault(gitlabtest.Fault{Path: "/projects/xanmod%2Flinux/releases", Status: 503, Times: 10})
	p := plan(t, xanmod.New(w.src), tree(t, orig(t)))
	if len(p.Held) != 1 || !p.Held[0].SourceFailure() || !strings.Contains(p.Held[0].Reason, "GitLab answered 503") || !strings.Contains(p.Held[0].Reason, "4 tries") {
		t.Errorf("held: %v", notes(p.Held))
	}
	bad := replace(t, orig(t), `version = "6.12.60";`, `version = "6.12.x";`)
	w2 := newWorld(t, "lts 6.12.61-xanmod1")
	p = plan(t, xanmod.New(w2.src), tree(t, bad))
	want := `xanmod: pkgs/os-specific/linux/kernel/xanmod-kernels.nix:18: variant lts: version "6.12.x": want one MAJOR.MINOR.PATCH: kupdate cannot update the xanmod kernels until the file has the blocks update-xanmod.sh edits`
	if d := cmp.Diff([]string{want}, notes(p.Held)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// kupdate check verifies a xanmod bump against the release and the
// archive's hash.
func TestVerify(t *testing.T) {
	w := newWorld(t, "lts 6.12.61-xanmod1")
	f := xanmod.New(w.src)
	base := orig(t)
	good := replace(t, base, `version = "6.12.60";`, `version = "6.12.61";`, "sha256-nS9vsdH76q+uUaWXEp3duikX7osVqv7hjBMFNzdtA7o=", sri(t, "6.12.61-xanmod1"))
	verify := func(head []byte) *family.Results {
		out := &family.Results{}
		pr := family.PR{Base: family.NewTree(map[string][]byte{xanmod.Path: base}), Head: family.NewTree(map[string][]byte{xanmod.Path: head})}
		if _, err := f.Verify(context.Background(), pr, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := verify(good)
	want := []family.Verified{{File: xanmod.Path, Line: 18, Branch: "lts", From: "6.12.60-xanmod1", To: "6.12.61-xanmod1", Hash: sri(t, "6.12.61-xanmod1")}}
	if d := cmp.Diff(want, out.Verified); d != "" || len(out.Findings) != 0 {
		t.Errorf("verified (-want +got):\n%s\n%v", d, out.Findings)
	}
	wrong := replace(t, base, `version = "6.12.60";`, `version = "6.12.61";`)
	out = verify(wrong)
	if len(out.Findings) != 1 || out.Findings[0].String() != xanmod.Path+":19: linux_xanmod: sha256-nS9vsdH76q+uUaWXEp3duikX7osVqv7hjBMFNzdtA7o= is not the hash of 6.12.61-xanmod1's archive: want "+sri(t, "6.12.61-xanmod1") {
		t.Errorf("findings: %v", out.Findings)
	}
}
