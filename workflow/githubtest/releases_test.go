package githubtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v92/github"

	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

func patch(tag string) []byte { return []byte("linux-hardened patch " + tag + "\n") }

func hardenedRelease(tag string) githubtest.Release {
	name := "linux-hardened-" + tag + ".patch"
	return githubtest.Release{Tag: tag, Assets: []githubtest.Asset{
		{Name: name, Data: patch(tag)},
		{Name: name + ".sig", Data: []byte("sig of " + tag)},
	}}
}

func newReleaseServer(t *testing.T) *githubtest.Server {
	t.Helper()
	s, err := githubtest.New(githubtest.Options{Root: t.TempDir(), Clock: func() time.Time { return time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.CreateRepo("anthraxx", "linux-hardened", "main"); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v6.12.63-hardened1", "v6.12.64-hardened1"} {
		if err := s.PublishRelease("anthraxx", "linux-hardened", hardenedRelease(tag)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PublishRelease("anthraxx", "linux-hardened", githubtest.Release{Tag: "v6.19-rc1-hardened1", Prerelease: true,
		Assets: []githubtest.Asset{{Name: "linux-hardened-v6.19-rc1-hardened1.patch", Data: []byte("pre")}}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// The hardened source kupdate plans with reads the simulator as it reads
// GitHub: newest first, prereleases skipped, digests and signatures found,
// downloads from the browser_download_url, patches.json URLs on github.com.
func TestReleasesThroughTheHardenedSource(t *testing.T) {
	s := newReleaseServer(t)
	ctx := context.Background()
	src := hardened.NewGitHub(s.APIURL(), "kupdate-test")
	src.HTTP = s.Client()
	got, err := src.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []hardened.Release
	for _, tag := range []string{"v6.12.64-hardened1", "v6.12.63-hardened1"} {
		name := "linux-hardened-" + tag + ".patch"
		sum := sha256.Sum256(patch(tag))
		want = append(want, hardened.Release{
			Tag: tag, PatchName: name,
			URL:         "https://github.com/anthraxx/linux-hardened/releases/download/" + tag + "/" + name,
			DownloadURL: s.URL() + "/anthraxx/linux-hardened/releases/download/" + tag + "/" + name,
			Digest:      "sha256:" + hex.EncodeToString(sum[:]),
			SigURL:      s.URL() + "/anthraxx/linux-hardened/releases/download/" + tag + "/" + name + ".sig",
		})
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Releases (-want +got):\n%s", d)
	}
	data, err := src.Download(ctx, got[0].DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(patch("v6.12.64-hardened1")) {
		t.Errorf("downloaded %q", data)
	}
	if _, err := src.Download(ctx, s.ReleaseAssetURL("anthraxx", "linux-hardened", "v6.12.64-hardened1", "missing.patch")); err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("missing asset: err = %v, want a 404", err)
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].String() != "GET /repos/anthraxx/linux-hardened/releases?per_page=100" {
		t.Errorf("API requests = %v; downloads are not API requests", reqs)
	}
}

// go-github decodes the list as GitHub's, with paging.
func TestListReleasesPaged(t *testing.T) {
	s := newReleaseServer(t)
	gh, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	rels, resp, err := gh.Repositories.ListReleases(context.Background(), "anthraxx", "linux-hardened", &github.ListOptions{PerPage: 2})
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range rels {
		tags = append(tags, r.TagName)
	}
	if d := cmp.Diff([]string{"v6.19-rc1-hardened1", "v6.12.64-hardened1"}, tags); d != "" || resp.NextPage != 2 || !rels[0].Prerelease {
		t.Errorf("page 1: tags (-want +got):\n%s next=%d prerelease=%v", d, resp.NextPage, rels[0].Prerelease)
	}
	a := rels[1].Assets[0]
	if a.GetName() != "linux-hardened-v6.12.64-hardened1.patch" || a.GetSize() != len(patch("v6.12.64-hardened1")) || a.GetState() != "uploaded" {
		t.Errorf("asset = %v", a)
	}
	resp2, err := s.Client().Get(a.GetBrowserDownloadURL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusOK || string(body) != string(patch("v6.12.64-hardened1")) {
		t.Errorf("download: %s %q", resp2.Status, body)
	}
	if _, _, err := gh.Repositories.ListReleases(context.Background(), "anthraxx", "nothing", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown repository: err = %v, want 404", err)
	}
}

func TestPublishReleaseRefusesBadInput(t *testing.T) {
	s := newReleaseServer(t)
	for _, tc := range []struct {
		owner, name string
		rel         githubtest.Release
		want        string
	}{
		{"anthraxx", "nope", hardenedRelease("v1.0-hardened1"), "githubtest: no repository anthraxx/nope (CreateRepo it first)"},
		{"anthraxx", "linux-hardened", hardenedRelease("v6.12.64-hardened1"), "githubtest: anthraxx/linux-hardened already has a release v6.12.64-hardened1"},
		{"anthraxx", "linux-hardened", githubtest.Release{Tag: ""}, `githubtest: release tag "": want a non-empty tag without slashes`},
		{"anthraxx", "linux-hardened", githubtest.Release{Tag: "v1", Assets: []githubtest.Asset{{Name: "a"}, {Name: "a"}}}, `githubtest: release v1: asset name "a" is empty, has a slash or is repeated`},
	} {
		err := s.PublishRelease(tc.owner, tc.name, tc.rel)
		if err == nil || err.Error() != tc.want {
			t.Errorf("PublishRelease(%s/%s, %q) = %v, want %q", tc.owner, tc.name, tc.rel.Tag, err, tc.want)
		}
	}
}

// A release's Source is served where fetchFromGitHub fetches a tag's
// tarball, under both of github.com's paths; another tag is a 404.
func TestReleaseArchive(t *testing.T) {
	s := newReleaseServer(t)
	if err := s.CreateRepo("zen-kernel", "zen-kernel", "main"); err != nil {
		t.Fatal(err)
	}
	src := []byte("\x1f\x8b tarball of v6.18.2-zen1")
	if err := s.PublishRelease("zen-kernel", "zen-kernel", githubtest.Release{Tag: "v6.18.2-zen1", Source: src}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		s.ArchiveURL("zen-kernel", "zen-kernel", "v6.18.2-zen1"),
		s.URL() + "/zen-kernel/zen-kernel/archive/refs/tags/v6.18.2-zen1.tar.gz",
		s.ArchiveURL("zen-kernel", "zen-kernel", "v6.18.3-zen1"),
		s.ArchiveURL("anthraxx", "linux-hardened", "v6.12.64-hardened1"),
	} {
		resp, err := s.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusNotFound
		if strings.Contains(u, "v6.18.2-zen1") {
			want = http.StatusOK
			if string(body) != string(src) {
				t.Errorf("GET %s: body %q, want %q", u, body, src)
			}
		}
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", u, resp.StatusCode, want)
		}
	}
}
