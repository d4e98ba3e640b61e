package zen_test

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
	"github.com/kupdate/kupdate/family/zen"
	"github.com/kupdate/kupdate/fetch"
	"github.com/kupdate/kupdate/srcarchive/srcarchivetest"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// world is zen-kernel on the GitHub simulator and the source reading it.
type world struct {
	gh  *githubtest.Server
	src *zen.GitHub
}

func newWorld(t testing.TB, tags ...string) *world {
	t.Helper()
	gh, err := githubtest.New(githubtest.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	if err := gh.CreateRepo("zen-kernel", "zen-kernel", "main"); err != nil {
		t.Fatal(err)
	}
	w := &world{gh: gh}
	for _, tag := range tags {
		w.publish(t, tag)
	}
	w.src = zen.NewGitHub(gh.APIURL(), "kupdate-test")
	w.src.HTTP = gh.Client()
	w.src.Hasher.TempDir = t.TempDir()
	w.src.Retry = fetch.Retry{Sleep: func(context.Context, time.Duration) error { return nil }}
	return w
}

func (w *world) publish(t testing.TB, tag string) {
	t.Helper()
	top := "zen-kernel-" + strings.TrimPrefix(tag, "v")
	if err := w.gh.PublishRelease("zen-kernel", "zen-kernel", githubtest.Release{Tag: tag, Source: srcarchivetest.Kernel(top, tag)}); err != nil {
		t.Fatal(err)
	}
}

// nixHash is what Nix computes for tag's tarball: nix-hash of the tree tar
// unpacks, top-level directory stripped (fetchzip).
func nixHash(t *testing.T, tag string) string {
	t.Helper()
	dir := t.TempDir()
	top := "zen-kernel-" + strings.TrimPrefix(tag, "v")
	if err := os.WriteFile(filepath.Join(dir, "a.tar.gz"), srcarchivetest.Kernel(top, tag), 0o644); err != nil {
		t.Fatal(err)
	}
	tar := exec.Command("tar", "-xzf", "a.tar.gz")
	tar.Dir = dir
	if out, err := tar.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	out, err := exec.Command("nix-hash", "--type", "sha256", "--base32", filepath.Join(dir, top)).Output()
	if err != nil {
		t.Fatalf("nix-hash: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func toSRI(t *testing.T, nix32 string) string {
	t.Helper()
	out, err := exec.Command("nix-hash", "--type", "sha256", "--to-base16", nix32).Output()
	if err != nil {
		t.Fatalf("nix-hash --to-base16: %v", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return "sha256-" + base64.StdEncoding.EncodeToString(raw)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tree(t testing.TB, b []byte) *family.Tree {
	t.Helper()
	tr, err := family.Registry{zen.New(nil)}.Load(map[string][]byte{zen.Path: b})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func plan(t *testing.T, f *zen.Family, tr *family.Tree) *family.Plan {
	t.Helper()
	p, err := f.Plan(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func apply(t *testing.T, f *zen.Family, tr *family.Tree, c family.Change) []byte {
	t.Helper()
	out, err := f.Apply(tr, c)
	if err != nil {
		t.Fatal(err)
	}
	return out[zen.Path]
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

// The replay on nixpkgs' real zen-kernels.nix: each variant moves to its
// newest release, with exactly the bytes update-zen.py's lines would hold
// (the hash in the file's own encoding, nix32 here) and nothing else; the
// titles are nixpkgs'; a second plan on the result changes nothing.
func TestReplayBump(t *testing.T) {
	w := newWorld(t, "v6.17.9-zen1", "v6.17.9-lqx1", "v6.18.2-zen1", "v6.17.10-lqx1")
	orig := readTestdata(t, "zen-kernels-6.17.9.nix")
	f := zen.New(w.src)
	tr := tree(t, orig)
	p := plan(t, f, tr)
	var titles []string
	for _, c := range p.Changes {
		titles = append(titles, c.Title)
	}
	want := []string{
		"linuxKernel.kernels.linux_zen: 6.17.9-zen1 -> 6.18.2-zen1",
		"linuxKernel.kernels.linux_lqx: 6.17.9-lqx1 -> 6.17.10-lqx1",
	}
	if diff := cmp.Diff(want, titles); diff != "" || len(p.Held)+len(p.Skipped) != 0 {
		t.Fatalf("titles (-want +got):\n%s\nheld %v skipped %v", diff, p.Held, p.Skipped)
	}
	zenBytes := apply(t, f, tr, p.Changes[0])
	wantZen := replace(t, orig,
		`version = "6.17.9"; # zen`, `version = "6.18.2"; # zen`,
		`sha256 = "0xrmhs2kabiszdldqx7c4bj3zicbslvvgmw8j77zlc49zddxhz1q"; # zen`, `sha256 = "`+nixHash(t, "v6.18.2-zen1")+`"; # zen`)
	if diff := cmp.Diff(string(wantZen), string(zenBytes)); diff != "" {
		t.Errorf("zen bump (-want +got):\n%s", diff)
	}
	tr2 := tr.With(map[string][]byte{zen.Path: zenBytes})
	lqxBytes := apply(t, f, tr2, p.Changes[1])
	wantBoth := replace(t, wantZen,
		`version = "6.17.9"; # lqx`, `version = "6.17.10"; # lqx`,
		`sha256 = "0c1b73yzj5g783qrz3pydq2ilk57bmb867y48spxr1jxncxml8dz"; # lqx`, `sha256 = "`+nixHash(t, "v6.17.10-lqx1")+`"; # lqx`)
	if diff := cmp.Diff(string(wantBoth), string(lqxBytes)); diff != "" {
		t.Errorf("lqx bump (-want +got):\n%s", diff)
	}
	c := p.Changes[0]
	if c.Key != (family.Key{Family: "zen", Attr: "linux_zen", Target: "6.18.2-zen1"}) || c.Own != "update" || c.Hash != "sha256:"+nixHash(t, "v6.18.2-zen1") {
		t.Errorf("change: key %v, own %q, hash %q", c.Key, c.Own, c.Hash)
	}
	if got := f.EvalChecks(c); !cmp.Equal(got, []string{"p.linuxKernel.kernels.linux_zen.drvPath"}) {
		t.Errorf("EvalChecks = %v", got)
	}
	again := plan(t, f, tree(t, lqxBytes))
	if len(again.Changes)+len(again.Held)+len(again.Skipped) != 0 {
		t.Errorf("second plan: %+v", again)
	}
	if !f.Ahead(tr, c.Key) || f.Ahead(tree(t, lqxBytes), c.Key) || f.Ahead(family.NewTree(nil), c.Key) {
		t.Error("Ahead: want true on the old tree only")
	}
}

// update-zen.py's newest convention, `hash = "sha256-…"; # zen`, gets an SRI
// hash; the replay also starts from the older 6.16.1 file.
func TestReplaySRIAndOlderFile(t *testing.T) {
	w := newWorld(t, "v6.18.2-zen1")
	f := zen.New(w.src)
	orig := readTestdata(t, "zen-kernels-sri.nix")
	tr := tree(t, orig)
	p := plan(t, f, tr)
	if len(p.Changes) != 1 {
		t.Fatalf("plan: %+v", p)
	}
	got := apply(t, f, tr, p.Changes[0])
	want := replace(t, orig,
		`version = "6.17.9"; # zen`, `version = "6.18.2"; # zen`,
		`hash = "sha256-Bt9ed6KsvTTpkDJdAO2CIdtg2o+UKr6oJ7RV2nbJfZs="; # zen`, `hash = "`+toSRI(t, nixHash(t, "v6.18.2-zen1"))+`"; # zen`)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	old := readTestdata(t, "zen-kernels-6.16.1.nix")
	p = plan(t, f, tree(t, old))
	if len(p.Changes) != 1 || p.Changes[0].Title != "linuxKernel.kernels.linux_zen: 6.16.1-zen1 -> 6.18.2-zen1" {
		t.Fatalf("plan on 6.16.1: %+v", p)
	}
}

// A tag that looks like the variant's but does not parse is named and
// skipped, never written; a release of an older series published later is
// never taken; a tree ahead of zen-kernel is never moved back.
func TestHostileOlderAndBackwards(t *testing.T) {
	w := newWorld(t, "v6.18.2-zen1", `v6.18.3-zen1"; x = "`, "v6.17.12-zen1", "v6.17.10-lqx1")
	f := zen.New(w.src)
	p := plan(t, f, tree(t, readTestdata(t, "zen-kernels-6.17.9.nix")))
	if len(p.Changes) != 2 || p.Changes[0].To != "6.18.2-zen1" || p.Changes[1].To != "6.17.10-lqx1" {
		t.Fatalf("changes: %+v", p.Changes)
	}
	wantSkip := []string{`zen: zen-kernel's tag "v6.18.3-zen1\"; x = \"" is not v<X.Y[.Z]>-zen<N>: skipped, never written`}
	if diff := cmp.Diff(wantSkip, notes(p.Skipped)); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}

	ahead := replace(t, readTestdata(t, "zen-kernels-6.17.9.nix"), `version = "6.17.9"; # zen`, `version = "6.18.4"; # zen`)
	p = plan(t, f, tree(t, ahead))
	wantSkip = append(wantSkip, "zen: the tree has 6.18.4-zen1, newer than zen-kernel's newest 6.18.2-zen1; never going backwards")
	if diff := cmp.Diff(wantSkip, notes(p.Skipped)); diff != "" || len(p.Changes) != 1 {
		t.Errorf("skipped (-want +got):\n%s\nchanges %+v", diff, p.Changes)
	}

	// Only an older series than the tree's: nothing, and no note.
	newSeries := replace(t, readTestdata(t, "zen-kernels-6.17.9.nix"), `version = "6.17.9"; # zen`, `version = "6.19.1"; # zen`)
	w2 := newWorld(t, "v6.18.9-zen1")
	p = plan(t, zen.New(w2.src), tree(t, newSeries))
	if len(p.Changes)+len(p.Skipped)+len(p.Held) != 0 {
		t.Errorf("older series: %+v", p)
	}
}

func notes(ns []family.Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.String())
	}
	return out
}

// The release list is asked for conditionally: an unchanged list is a 304,
// which GitHub does not count against the rate limit; a tarball is hashed
// once per process.
func TestConditionalAndOnce(t *testing.T) {
	w := newWorld(t, "v6.18.2-zen1")
	f := zen.New(w.src)
	tr := tree(t, readTestdata(t, "zen-kernels-6.17.9.nix"))
	plan(t, f, tr)
	w.gh.ResetRequests()
	p := plan(t, f, tr)
	if len(p.Changes) != 1 {
		t.Fatalf("plan: %+v", p)
	}
	reqs := w.gh.Requests()
	if len(reqs) != 1 || reqs[0].Status != http.StatusNotModified || reqs[0].Counted {
		t.Errorf("requests of the second plan: %+v, want one uncounted 304", reqs)
	}
}

// A failing release list is retried under the shared policy; one that
// keeps failing holds every zen change, naming the URL and GitHub's answer.
func TestSourceFailure(t *testing.T) {
	w := newWorld(t, "v6.18.2-zen1")
	w.gh.AddFault(githubtest.Fault{Path: "/repos/zen-kernel/zen-kernel/releases", Status: 502, Times: 1})
	f := zen.New(w.src)
	tr := tree(t, readTestdata(t, "zen-kernels-6.17.9.nix"))
	if p := plan(t, f, tr); len(p.Changes) != 1 {
		t.Fatalf("after one 502: %+v", p)
	}
	w2 := newWorld(t, "v6.18.2-zen1")
	w2.gh.AddFault(githubtest.Fault{Path: "/repos/zen-kernel/zen-kernel/releases", Status: 503, Times: 10})
	p := plan(t, zen.New(w2.src), tr)
	if len(p.Changes) != 0 || len(p.Held) != 1 || !p.Held[0].SourceFailure() {
		t.Fatalf("plan: %+v", p)
	}
	msg := p.Held[0].Reason
	for _, want := range []string{"listing zen-kernel releases: GET " + w2.gh.APIURL() + "repos/zen-kernel/zen-kernel/releases?per_page=100", "503", "4 tries"} {
		if !strings.Contains(msg, want) {
			t.Errorf("reason %q lacks %q", msg, want)
		}
	}
}

// Parse errors name the file, the line and what to do.
func TestParseErrors(t *testing.T) {
	orig := string(readTestdata(t, "zen-kernels-6.17.9.nix"))
	for _, tt := range []struct{ name, from, to, want string }{
		{"suffix", `suffix = "zen1"; # zen`, `suffix = "lqx1"; # zen`, `pkgs/os-specific/linux/kernel/zen-kernels.nix:20: variant zen: suffix "lqx1": want zen followed by a number (zen1)`},
		{"version", `version = "6.17.9"; # zen`, `version = "6.17.9-rc1"; # zen`, `pkgs/os-specific/linux/kernel/zen-kernels.nix:19: variant zen: version "6.17.9-rc1" is not a kernel release: want MAJOR.MINOR or MAJOR.MINOR.PATCH`},
		{"no hash", `sha256 = "0xrmhs2kabiszdldqx7c4bj3zicbslvvgmw8j77zlc49zddxhz1q"; # zen`, `sha256 = lib.fakeHash;`, "pkgs/os-specific/linux/kernel/zen-kernels.nix: variant zen lacks its hash line (`… = \"…\"; # zen`)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := zen.Parse([]byte(strings.Replace(orig, tt.from, tt.to, 1)))
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

// A zen-kernels.nix kupdate cannot read loads (the kernel.org kernels go
// on), and holds every zen change as a failure naming the line.
func TestUnreadableFileHoldsZen(t *testing.T) {
	w := newWorld(t, "v6.18.2-zen1")
	bad := replace(t, readTestdata(t, "zen-kernels-6.17.9.nix"), `suffix = "zen1"; # zen`, `suffix = "zen-one"; # zen`)
	tr := tree(t, bad)
	p := plan(t, zen.New(w.src), tr)
	want := []string{`zen: pkgs/os-specific/linux/kernel/zen-kernels.nix:20: variant zen: suffix "zen-one": want zen followed by a number (zen1): kupdate cannot update the zen kernels until the file has the lines update-zen.py writes`}
	if diff := cmp.Diff(want, notes(p.Held)); diff != "" || len(p.Changes) != 0 || !p.Held[0].SourceFailure() {
		t.Errorf("held (-want +got):\n%s\n%+v", diff, p)
	}
	if got := w.gh.Requests(); len(got) != 0 {
		t.Errorf("requests for a tree zen cannot read: %v", got)
	}
}
