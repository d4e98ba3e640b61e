package gitlabtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/fetch"
	"github.com/kupdate/kupdate/gitlabtest"
)

func newServer(t *testing.T) *gitlabtest.Server {
	t.Helper()
	s := gitlabtest.New()
	t.Cleanup(s.Close)
	if err := s.CreateProject("xanmod/linux"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []gitlabtest.Release{
		{Tag: "6.12.60-xanmod1", Links: []gitlabtest.Link{{Name: "https://sourceforge.net/projects/xanmod/files/releases/lts/6.12.60-xanmod1/"}}, Source: []byte("lts tarball")},
		{Tag: "6.17.9-xanmod1", Links: []gitlabtest.Link{{Name: "https://sourceforge.net/projects/xanmod/files/releases/main/6.17.9-xanmod1/"}}},
	} {
		if err := s.PublishRelease("xanmod/linux", r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func get(t *testing.T, s *gitlabtest.Server, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// The release list has GitLab's shape, newest first, by path or id; an
// unchanged list is a 304 to If-None-Match.
func TestReleases(t *testing.T) {
	s := newServer(t)
	resp, body := get(t, s, s.APIURL()+"projects/xanmod%2Flinux/releases")
	var rels []struct {
		TagName string `json:"tag_name"`
		Assets  struct {
			Links []struct {
				Name string `json:"name"`
			} `json:"links"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(body, &rels); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %v %s", resp.Status, err, body)
	}
	var tags []string
	for _, r := range rels {
		tags = append(tags, r.TagName+" "+r.Assets.Links[0].Name)
	}
	want := []string{
		"6.17.9-xanmod1 https://sourceforge.net/projects/xanmod/files/releases/main/6.17.9-xanmod1/",
		"6.12.60-xanmod1 https://sourceforge.net/projects/xanmod/files/releases/lts/6.12.60-xanmod1/",
	}
	if d := cmp.Diff(want, tags); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	again, _ := get(t, s, s.APIURL()+"projects/51590166/releases", "If-None-Match", resp.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("by id with the ETag: %s", again.Status)
	}
	if r, _ := get(t, s, s.APIURL()+"projects/xanmod%2Fnope/releases"); r.StatusCode != 404 {
		t.Errorf("unknown project: %s", r.Status)
	}
}

// A tag's archive is served through the API and where fetchFromGitLab
// fetches it; a tag without one is a 404.
func TestArchives(t *testing.T) {
	s := newServer(t)
	for u, want := range map[string]int{
		s.APIURL() + "projects/xanmod%2Flinux/repository/archive.tar.gz?sha=6.12.60-xanmod1": 200,
		s.ArchiveURL("xanmod/linux", "6.12.60-xanmod1"):                                      200,
		s.ArchiveURL("xanmod/linux", "6.17.9-xanmod1"):                                       404,
		s.URL() + "/xanmod/linux/-/archive/6.12.60-xanmod1/other-6.12.60-xanmod1.tar.gz":     404,
	} {
		resp, body := get(t, s, u)
		if resp.StatusCode != want || want == 200 && string(body) != "lts tarball" {
			t.Errorf("GET %s: %s %q, want %d", u, resp.Status, body, want)
		}
	}
}

// The rate limit fault speaks GitLab's dialect: fetch retries it after
// Retry-After, and gives up naming GitLab's message when it persists.
func TestRateLimitFault(t *testing.T) {
	s := newServer(t)
	path := "/projects/xanmod%2Flinux/releases"
	s.AddFault(gitlabtest.Fault{Path: path, Status: 429, RetryAfter: 7})
	var waits []time.Duration
	c := &fetch.Client{Server: "GitLab", HTTP: s.Client(), Dialect: &fetch.GitLab{TokenSetting: "gitlab.token_env"},
		Retry: fetch.Retry{Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}}
	if _, err := c.GetBody(context.Background(), fetch.Request{URL: s.APIURL() + strings.TrimPrefix(path, "/")}, nil); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] < 6*time.Second || waits[0] > 8*time.Second {
		t.Errorf("waits %v, want one of about 7s", waits)
	}
	var statuses []int
	for _, r := range s.Requests() {
		statuses = append(statuses, r.Status)
	}
	if d := cmp.Diff([]int{429, 200}, statuses); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	s.AddFault(gitlabtest.Fault{Path: path, Status: 503, Times: 10})
	_, err := c.GetBody(context.Background(), fetch.Request{URL: s.APIURL() + strings.TrimPrefix(path, "/")}, nil)
	if err == nil || !strings.Contains(err.Error(), "GitLab answered 503 Service Unavailable: Service Unavailable") {
		t.Errorf("err = %v", err)
	}
}
