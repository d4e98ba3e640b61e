package hardened

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

const releasesPath = "/repos/anthraxx/linux-hardened/releases"

// hardenedOnSim is GitHub reading a GitHub simulator that has two
// linux-hardened releases; its waits are recorded, not slept.
type hardenedOnSim struct {
	srv *githubtest.Server
	src *GitHub

	mu    sync.Mutex
	waits []time.Duration
}

func newHardenedOnSim(t *testing.T) *hardenedOnSim {
	t.Helper()
	srv, err := githubtest.New(githubtest.Options{Root: t.TempDir(), Clock: func() time.Time { return time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := srv.CreateRepo("anthraxx", "linux-hardened", "main"); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v6.12.63-hardened1", "v6.12.64-hardened1"} {
		name := "linux-hardened-" + tag + ".patch"
		if err := srv.PublishRelease("anthraxx", "linux-hardened", githubtest.Release{Tag: tag, Assets: []githubtest.Asset{{Name: name, Data: hardenedPatchBytes(tag)}}}); err != nil {
			t.Fatal(err)
		}
	}
	h := &hardenedOnSim{srv: srv}
	h.src = NewGitHub(srv.APIURL(), "kupdate-test")
	h.src.HTTP = srv.Client()
	h.src.Sleep = func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		h.waits = append(h.waits, d)
		h.mu.Unlock()
		return ctx.Err()
	}
	return h
}

// statuses is what the simulator answered, request by request.
func (h *hardenedOnSim) statuses() []string {
	var out []string
	for _, r := range h.srv.Requests() {
		out = append(out, r.String()+" "+http.StatusText(r.Status))
	}
	return out
}

func tags(rels []Release) []string {
	var out []string
	for _, r := range rels {
		out = append(out, r.Tag)
	}
	return out
}

func TestGitHubRetries(t *testing.T) {
	list := "GET " + releasesPath + "?per_page=100 "
	for _, c := range []struct {
		name      string
		fault     githubtest.Fault
		wantWaits []time.Duration
		wantReqs  []string
	}{{
		name:      "502 twice, then OK",
		fault:     githubtest.Fault{Path: releasesPath, Status: 502, Times: 2},
		wantWaits: []time.Duration{2 * time.Second, 4 * time.Second},
		wantReqs:  []string{list + "Bad Gateway", list + "Bad Gateway", list + "OK"},
	}, {
		name:      "Retry-After longer than the backoff",
		fault:     githubtest.Fault{Path: releasesPath, Status: 429, RetryAfter: 7},
		wantWaits: []time.Duration{7 * time.Second},
		wantReqs:  []string{list + "Too Many Requests", list + "OK"},
	}, {
		name:      "secondary rate limit as a 403",
		fault:     githubtest.Fault{Path: releasesPath, Status: 403, RetryAfter: 3},
		wantWaits: []time.Duration{3 * time.Second},
		wantReqs:  []string{list + "Forbidden", list + "OK"},
	}, {
		name:      "503 with a short Retry-After: the backoff is longer",
		fault:     githubtest.Fault{Path: releasesPath, Status: 503, RetryAfter: 1},
		wantWaits: []time.Duration{2 * time.Second},
		wantReqs:  []string{list + "Service Unavailable", list + "OK"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHardenedOnSim(t)
			h.srv.AddFault(c.fault)
			var logs bytes.Buffer
			h.src.Log = slog.New(slog.NewTextHandler(&logs, nil))
			rels, err := h.src.Releases(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// A retry is announced as a retry, never as giving up.
			if got := strings.Count(logs.String(), "retrying"); got != len(c.wantWaits) || strings.Contains(logs.String(), "gave up") {
				t.Errorf("log has %d retry lines, want %d, and no \"gave up\":\n%s", got, len(c.wantWaits), logs.String())
			}
			if d := cmp.Diff([]string{"v6.12.64-hardened1", "v6.12.63-hardened1"}, tags(rels)); d != "" {
				t.Errorf("releases (-want +got):\n%s", d)
			}
			if d := cmp.Diff(c.wantWaits, h.waits); d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
			if d := cmp.Diff(c.wantReqs, h.statuses()); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
		})
	}
}

// A spent primary rate limit that resets soon is waited out.
func TestGitHubWaitsOutAShortPrimaryRateLimit(t *testing.T) {
	h := newHardenedOnSim(t)
	h.srv.AddFault(githubtest.Fault{Path: releasesPath, Status: 403, Primary: true, RetryAfter: 30})
	if _, err := h.src.Releases(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Until X-RateLimit-Reset (30 s away, whole seconds) and a second more.
	if len(h.waits) != 1 || h.waits[0] < 29*time.Second || h.waits[0] > 31*time.Second {
		t.Errorf("waits = %v, want one of about 31s", h.waits)
	}
}

func TestGitHubErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(h *hardenedOnSim)
		want  string // %s is the release list's URL
		reqs  int
	}{{
		name:  "persistent 502",
		setup: func(h *hardenedOnSim) { h.srv.AddFault(githubtest.Fault{Path: releasesPath, Status: 502, Times: 10}) },
		want:  "GET %s: GitHub answered 502 Bad Gateway: Bad Gateway (gave up after 4 tries; GitHub is failing, the next cycle tries again)",
		reqs:  4,
	}, {
		name: "persistent 502, fewer attempts",
		setup: func(h *hardenedOnSim) {
			h.src.Attempts = 2
			h.srv.AddFault(githubtest.Fault{Path: releasesPath, Status: 502, Times: 10, Message: "Server Error"})
		},
		want: "GET %s: GitHub answered 502 Bad Gateway: Server Error (gave up after 2 tries; GitHub is failing, the next cycle tries again)",
		reqs: 2,
	}, {
		name: "wrong token",
		setup: func(h *hardenedOnSim) {
			h.srv.AddToken("ghp_good", "kupdate-bot")
			h.src.Token = "ghp_wrong"
		},
		want: "GET %s: GitHub answered 401 Unauthorized: Bad credentials (GitHub refused the token: replace the one in the environment variable named by github.token_env, or unset it (linux-hardened's releases are public))",
		reqs: 1,
	}, {
		name:  "no token where one is needed",
		setup: func(h *hardenedOnSim) { h.srv.AddToken("ghp_good", "kupdate-bot") },
		want:  "GET %s: GitHub answered 401 Unauthorized: Bad credentials (GitHub asks for credentials: set a token in the environment variable named by github.token_env)",
		reqs:  1,
	}, {
		name: "forbidden",
		setup: func(h *hardenedOnSim) {
			h.srv.AddFault(githubtest.Fault{Path: releasesPath, Status: 403, Message: "Resource protected by organization SAML enforcement."})
		},
		want: "GET %s: GitHub answered 403 Forbidden: Resource protected by organization SAML enforcement. (GitHub refused access: check the token in the environment variable named by github.token_env, or unset it (linux-hardened's releases are public))",
		reqs: 1,
	}, {
		name: "secondary rate limit longer than kupdate waits",
		setup: func(h *hardenedOnSim) {
			h.srv.AddFault(githubtest.Fault{Path: releasesPath, Status: 403, RetryAfter: 600})
		},
		want: "GET %s: GitHub answered 403 Forbidden: You have exceeded a secondary rate limit. Please wait a few minutes before you try again. (GitHub asks to wait 10m0s, longer than kupdate waits for one request (2m0s); the next cycle tries again)",
		reqs: 1,
	}, {
		name: "waits add up to more than MaxWait",
		setup: func(h *hardenedOnSim) {
			h.src.MaxWait = 5 * time.Second // 2 s, then 4 s would make 6 s
			h.srv.AddFault(githubtest.Fault{Path: releasesPath, Status: 500, Times: 10})
		},
		want: "GET %s: GitHub answered 500 Internal Server Error: Internal Server Error (gave up after 2 tries; the next try would wait 4s, longer than kupdate waits for one request (5s); the next cycle tries again)",
		reqs: 2,
	}, {
		name:  "no such repository",
		setup: func(h *hardenedOnSim) { h.src.Repo = "anthraxx/linux-hardend" },
		want:  "GET %s: GitHub answered 404 Not Found: Not Found (no repository anthraxx/linux-hardend at {api}: check github.api_url)",
		reqs:  1,
	}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHardenedOnSim(t)
			c.setup(h)
			_, err := h.src.Releases(context.Background())
			url := h.srv.APIURL() + strings.TrimPrefix(releasesPath, "/") + "?per_page=100"
			url = strings.Replace(url, "linux-hardened", strings.TrimPrefix(h.src.Repo, "anthraxx/"), 1)
			want := strings.ReplaceAll(strings.Replace(c.want, "%s", url, 1), "{api}", h.srv.APIURL())
			if err == nil || err.Error() != want {
				t.Errorf("err = %v\nwant  %s", err, want)
			}
			if h.src.Token != "" && err != nil && strings.Contains(err.Error(), h.src.Token) {
				t.Errorf("the error shows the token: %v", err)
			}
			if n := len(h.srv.Requests()); n != c.reqs {
				t.Errorf("%d requests, want %d: %v", n, c.reqs, h.statuses())
			}
		})
	}
}

// A spent primary rate limit that resets beyond MaxWait is not waited out:
// the error says until when, and what a token would change.
func TestGitHubPrimaryRateLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "4102444800") // 2100-01-01
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"API rate limit exceeded for 203.0.113.7. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`))
	}))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		token, hint string
	}{
		{"", "rate limited until 2100-01-01T00:00:00Z: set a token in the environment variable named by github.token_env for a higher limit; the next cycle tries again"},
		{"ghp_x", "the token's rate limit is spent until 2100-01-01T00:00:00Z; the next cycle tries again"},
	} {
		src := NewGitHub(srv.URL, "kupdate-test")
		src.Token = c.token
		src.Sleep = func(context.Context, time.Duration) error { t.Error("waited"); return nil }
		_, err := src.Releases(context.Background())
		want := "GET " + srv.URL + releasesPath + "?per_page=100: GitHub answered 403 Forbidden: API rate limit exceeded for 203.0.113.7. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.) (" + c.hint + ")"
		if err == nil || err.Error() != want {
			t.Errorf("token %q: err = %v\nwant  %s", c.token, err, want)
		}
	}
}

// The context wins over any wait: cancelled during a backoff, or with a
// deadline nearer than the next wait.
func TestGitHubContextWins(t *testing.T) {
	h := newHardenedOnSim(t)
	h.srv.AddFault(githubtest.Fault{Path: releasesPath, Status: 502, Times: 10})
	ctx, cancel := context.WithCancel(context.Background())
	h.src.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	_, err := h.src.Releases(ctx)
	url := h.srv.APIURL() + "repos/anthraxx/linux-hardened/releases?per_page=100"
	if err == nil || err.Error() != "GET "+url+": context canceled" {
		t.Errorf("cancelled: err = %v", err)
	}

	h = newHardenedOnSim(t)
	h.srv.AddFault(githubtest.Fault{Path: releasesPath, Status: 502, Times: 10})
	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	h.src.Backoff = 2 * time.Hour
	h.src.MaxWait = 3 * time.Hour
	_, err = h.src.Releases(ctx)
	url = h.srv.APIURL() + "repos/anthraxx/linux-hardened/releases?per_page=100"
	want := "GET " + url + ": GitHub answered 502 Bad Gateway: Bad Gateway (the next try would wait 2h0m0s, past the cycle's deadline; the next cycle tries again)"
	if err == nil || err.Error() != want {
		t.Errorf("deadline: err = %v\nwant  %s", err, want)
	}
	if len(h.waits) != 0 {
		t.Errorf("waited %v", h.waits)
	}
}

// The release list is asked for conditionally: an unchanged list costs a
// 304, which GitHub does not count against the rate limit.
func TestGitHubConditionalList(t *testing.T) {
	h := newHardenedOnSim(t)
	ctx := context.Background()
	first, err := h.src.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.src.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first, second); d != "" {
		t.Errorf("from the 304 (-first +second):\n%s", d)
	}
	list := "GET " + releasesPath + "?per_page=100 "
	if d := cmp.Diff([]string{list + "OK", list + "Not Modified"}, h.statuses()); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if reqs := h.srv.Requests(); reqs[1].Counted {
		t.Errorf("the 304 counted against the rate limit")
	}
}

func TestGitHubDownload(t *testing.T) {
	h := newHardenedOnSim(t)
	ctx := context.Background()
	rels, err := h.src.Releases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.src.Download(ctx, rels[0].DownloadURL)
	if err != nil || string(got) != string(hardenedPatchBytes("v6.12.64-hardened1")) {
		t.Errorf("Download = %q, %v", got, err)
	}
	missing := h.srv.ReleaseAssetURL("anthraxx", "linux-hardened", "v6.12.65-hardened1", "linux-hardened-v6.12.65-hardened1.patch")
	_, err = h.src.Download(ctx, missing)
	want := "GET " + missing + ": GitHub answered 404 Not Found: 404 page not found (no such release asset: the release's tag or asset was renamed or deleted since it was listed; the next cycle lists the releases again)"
	if err == nil || err.Error() != want {
		t.Errorf("missing asset: err = %v\nwant  %s", err, want)
	}
	h.src.MaxBytes = 10
	_, err = h.src.Download(ctx, rels[0].DownloadURL)
	if want := "GET " + rels[0].DownloadURL + ": larger than 10 bytes: refusing it"; err == nil || err.Error() != want {
		t.Errorf("too large: err = %v\nwant  %s", err, want)
	}
}

func hardenedPatchBytes(tag string) []byte {
	return []byte("linux-hardened patch for " + tag + "\n--- a/Makefile\n+++ b/Makefile\n")
}

// A release list that does not decode is not kept: the next cycle asks for
// it in full, so a bad answer GitHub replaced is not served again from a
// 304.
func TestGitHubBadListIsNotKept(t *testing.T) {
	var mu sync.Mutex
	var inm []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inm = append(inm, r.Header.Get("If-None-Match"))
		mu.Unlock()
		if r.Header.Get("If-None-Match") == `"bad"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"bad"`)
		w.Write([]byte(`[{"tag_name": "v6.12.64-hardened1", "assets": `))
	}))
	t.Cleanup(srv.Close)
	src := NewGitHub(srv.URL, "kupdate-test")
	for range 2 {
		_, err := src.Releases(context.Background())
		want := "GET " + srv.URL + releasesPath + "?per_page=100: decoding the release list: unexpected end of JSON input"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant  %s", err, want)
		}
	}
	if d := cmp.Diff([]string{"", ""}, inm); d != "" {
		t.Errorf("If-None-Match of the two requests (-want +got):\n%s", d)
	}
}
