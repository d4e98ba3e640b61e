package check

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/updater"
)

// sampleTree is the repository's sample nixpkgs tree: the base of every test
// pull request.
const sampleTree = "../testdata/nixpkgs"

// The simulated kernel.org "now": 6.19 is out (so releases.json lists no
// rc), 6.17 is end of life, and earlier point releases (6.12.65, 6.19-rc5)
// have dropped out of releases.json but stay in the signed checksum list and
// on git.kernel.org, as on the real site.
var (
	earlierReleases = []kernelorgtest.Spec{
		{Version: "6.19-rc5"},
		{Version: "6.18.6"},
		{Version: "6.12.65", Moniker: "longterm"},
		{Version: "6.12.63", Moniker: "longterm"},
		{Version: "6.7.12", EOL: true},
	}
	currentReleases = []kernelorgtest.Spec{
		{Version: "6.19"},
		{Version: "6.18.7"},
		{Version: "6.17.13", EOL: true},
		{Version: "6.12.66", Moniker: "longterm"},
		{Version: "6.6.120", Moniker: "longterm"},
		{Version: "6.1.160", Moniker: "longterm"},
		{Version: "5.15.198", Moniker: "longterm"},
		{Version: "5.10.248", Moniker: "longterm"},
	}
)

func newKernelOrg(t *testing.T) (*kernelorgtest.Server, *kernelorg.Client) {
	t.Helper()
	sim, err := kernelorgtest.New(earlierReleases...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if err := sim.SetReleases(currentReleases...); err != nil {
		t.Fatal(err)
	}
	c, err := kernelorg.New(kernelorg.Options{
		URL: sim.URL, GitURL: sim.URL,
		Keyring: sim.Keyring(), Fingerprint: sim.Fingerprint(),
		MaxAttempts: 1, RetryBackoff: time.Millisecond,
		CacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// prRepo is a git repository whose main branch is the sample tree, and a
// pull request branch built on it commit by commit.
type prRepo struct {
	*testRepo
	base  string
	files map[string][]byte // the kernel files at the tip of the PR branch
}

func newPRRepo(t *testing.T) *prRepo {
	t.Helper()
	tr := newTestRepo(t)
	base := tr.commitDir("sample tree", sampleTree)
	tr.run("checkout", "-q", "-b", "pr")
	files := map[string][]byte{}
	for _, p := range kernelFiles {
		b, err := os.ReadFile(filepath.Join(sampleTree, filepath.FromSlash(p)))
		if err == nil {
			files[p] = b
		}
	}
	return &prRepo{testRepo: tr, base: base, files: files}
}

// apply makes c with the updater (exactly what kupdate writes), lets edit
// change the result, and commits it titled title ("" = c's own title).
func (p *prRepo) apply(title string, c updater.Change, edit func(files map[string][]byte)) string {
	p.t.Helper()
	tree, err := updater.LoadFiles(p.files)
	if err != nil {
		p.t.Fatal(err)
	}
	tree.Now = func() time.Time { return time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC) }
	if c.Title == "" {
		c.Title = updater.Title(c)
	}
	changed, err := tree.Apply(c)
	if err != nil {
		p.t.Fatalf("Apply(%s): %v", c.Title, err)
	}
	maps.Copy(p.files, changed)
	if edit != nil {
		edit(p.files)
	}
	if title == "" {
		title = c.Title
	}
	return p.commitFiles(title)
}

// edit changes the files by hand and commits them.
func (p *prRepo) edit(title string, edit func(files map[string][]byte)) string {
	p.t.Helper()
	edit(p.files)
	return p.commitFiles(title)
}

func (p *prRepo) commitFiles(title string) string {
	p.t.Helper()
	return p.commit(title, p.files)
}

// replace is an edit that replaces old with new in one file, exactly once.
func replace(t *testing.T, path, old, new string) func(map[string][]byte) {
	return func(files map[string][]byte) {
		s := string(files[path])
		if strings.Count(s, old) != 1 {
			t.Fatalf("%s: %q occurs %d times, want once", path, old, strings.Count(s, old))
		}
		files[path] = []byte(strings.Replace(s, old, new, 1))
	}
}

func bump(branch, from, to string, lts bool) updater.Change {
	h := kernelorgtest.FlatHash(to)
	if strings.Contains(to, "-rc") {
		h = kernelorgtest.NARHash(to)
	}
	return updater.Change{Kind: updater.Bump, Attr: updater.Attr(branch), Branch: branch, From: from, To: to, Hash: h, LTS: lts}
}

const kj = KernelsOrgJSON

func TestCheck(t *testing.T) {
	_, client := newKernelOrg(t)
	fh := kernelorgtest.FlatHash

	for _, tc := range []struct {
		name     string
		pr       func(t *testing.T, p *prRepo)
		want     []string // Finding.String() of each finding, in order
		verified int
	}{
		{
			name: "correct bumps",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump("6.12", "6.12.64", "6.12.66", true), nil)
				p.apply("", bump("6.18", "6.18.5", "6.18.7", false), nil)
				p.apply("", bump("testing", "6.19-rc4", "6.19-rc5", false), nil)
			},
			verified: 3,
		},
		{
			// 6.12.65 is no longer in releases.json, but its signed checksum is real.
			name:     "bump to a point release releases.json no longer lists",
			pr:       func(t *testing.T, p *prRepo) { p.apply("", bump("6.12", "6.12.64", "6.12.65", true), nil) },
			verified: 1,
		},
		{
			name: "wrong hash",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("", bump("6.12", "6.12.64", "6.12.66", true), replace(t, kj, fh("6.12.66"), fh("6.12.65")))
			},
			want: []string{
				kj + `:27: "6.12" hash ` + fh("6.12.65") + ` does not match kernel.org's signed checksum for linux-6.12.66.tar.xz (` + fh("6.12.66") + `); run kupdate update or fix the hash`,
			},
		},
		{
			name: "typo in a version",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("linux_6_12: 6.12.64 -> 6.12.66", bump("6.12", "6.12.64", "6.12.66", true), replace(t, kj, `"6.12.66"`, `"6.12.606"`))
			},
			want: []string{
				kj + `:27: "6.12" 6.12.606 is not a kernel.org release: releases.json does not list it and kernel.org's signed checksum list has no linux-6.12.606.tar.xz; fix the version`,
				kj + `:27: commit %s "linux_6_12: 6.12.64 -> 6.12.66": the title does not say what the commit does; it changes "6.12" from 6.12.64 to 6.12.606: title it "linux_6_12: 6.12.64 -> 6.12.606"`,
			},
		},
		{
			name: "unparsable version",
			pr: func(t *testing.T, p *prRepo) {
				p.apply("linux_6_12: 6.12.64 -> 6.12.66", bump("6.12", "6.12.64", "6.12.66", true), replace(t, kj, `"6.12.66"`, `"6.12.6a"`))
			},
			want: []string{
				kj + `:27: "6.12": invalid kernel version "6.12.6a": want MAJOR.MINOR, MAJOR.MINOR.PATCH or MAJOR.MINOR-rcN (e.g. 6.12.64, 6.19, 6.19-rc4); fix the version`,
				kj + `:27: commit %s "linux_6_12: 6.12.64 -> 6.12.66": the title does not say what the commit does; it changes "6.12" from 6.12.64 to 6.12.6a: title it "linux_6_12: 6.12.64 -> 6.12.6a"`,
			},
		},
		{
			name: "downgrade",
			pr:   func(t *testing.T, p *prRepo) { p.apply("", bump("6.12", "6.12.64", "6.12.63", true), nil) },
			want: []string{
				kj + `:27: "6.12" goes backwards: 6.12.63 is older than 6.12.64 at the base; a kernel update never downgrades (a typo in the version?)`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPRRepo(t)
			tc.pr(t, p)
			head := p.run("rev-parse", "HEAD")
			ck := &Checker{Repo: &Repo{Dir: p.dir}, Upstream: client}
			rep, err := ck.Check(context.Background(), "main", "pr")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.String())
			}
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				if strings.Contains(w, "commit %s") {
					w = fmt.Sprintf(w, short(head))
				}
				want[i] = w
			}
			if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			if len(rep.Unverified) > 0 {
				t.Errorf("unverified: %v", rep.Unverified)
			}
			if len(tc.want) == 0 && rep.Conclusion != Pass || len(tc.want) > 0 && rep.Conclusion != Fail {
				t.Errorf("conclusion %s with %d findings", rep.Conclusion, len(rep.Findings))
			}
			if tc.verified > 0 && len(rep.Verified) != tc.verified {
				t.Errorf("verified %d entries, want %d: %+v", len(rep.Verified), tc.verified, rep.Verified)
			}
			if rep.MergeBase != p.base || rep.Head != head {
				t.Errorf("report is of %s..%s, want %s..%s", rep.MergeBase, rep.Head, p.base, head)
			}
		})
	}
}
