package hardened

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kupdate/kupdate/fetch"
)

// Defaults of GitHub's retry settings: fetch's, which every source shares
// (four tries, doubling backoff from 2 s, at most two minutes of waiting
// for one request; a primary rate limit that resets later is not waited
// out: the next cycle tries again).
const (
	DefaultHardenedAttempts = fetch.DefaultAttempts
	DefaultHardenedBackoff  = fetch.DefaultBackoff
	DefaultHardenedMaxWait  = fetch.DefaultMaxWait
)

// GitHub lists linux-hardened releases through GitHub's REST API
// (GET /repos/{owner}/{repo}/releases) and downloads their assets, through
// fetch in GitHub's dialect: two endpoints do not need a client library.
//
// Reads follow fetch's retry policy (5xx, 408, 429, a rate limit, a network
// failure or a body cut short are retried, honouring Retry-After and
// X-RateLimit-Reset, within MaxWait and never past the context's
// deadline), and fail with a *fetch.Error. The release list is requested
// conditionally (If-None-Match): GitHub does not count a 304 against the
// rate limit, which matters without a token (60 requests an hour).
type GitHub struct {
	HTTP      *http.Client // nil: http.DefaultClient
	APIURL    string       // https://api.github.com/
	WebURL    string       // https://github.com: the base of the URLs written into patches.json
	Repo      string       // anthraxx/linux-hardened
	Token     string       // optional; raises the rate limit. Never logged.
	UserAgent string
	// MaxBytes caps one asset download (0: 64 MiB).
	MaxBytes int64
	// Attempts bounds the tries of one request (0: DefaultHardenedAttempts).
	Attempts int
	// Backoff is the wait before the second try, doubling after (0:
	// DefaultHardenedBackoff); a longer Retry-After wins.
	Backoff time.Duration
	// MaxWait bounds the waiting of one request, all retries together (0:
	// DefaultHardenedMaxWait). A wait GitHub asks for beyond it is not made.
	MaxWait time.Duration
	Log     *slog.Logger // nil: discard

	// Sleep waits d or until ctx is done; nil: a timer. Tests record waits.
	Sleep func(ctx context.Context, d time.Duration) error

	lists fetch.Bodies // the last release list, for conditional requests
}

// NewGitHub is the source for anthraxx/linux-hardened at apiURL.
func NewGitHub(apiURL, userAgent string) *GitHub {
	return &GitHub{APIURL: apiURL, WebURL: "https://github.com", Repo: "anthraxx/linux-hardened", UserAgent: userAgent}
}

type ghAsset struct {
	Name               string `json:"name"`
	BrowserDownloadURL string `json:"browser_download_url"`
	Digest             string `json:"digest"`
}

type ghRelease struct {
	TagName    string    `json:"tag_name"`
	Draft      bool      `json:"draft"`
	Prerelease bool      `json:"prerelease"`
	Assets     []ghAsset `json:"assets"`
}

// Releases returns the newest 100 published releases (GitHub's first page,
// newest first): far more than the two branches nixpkgs keeps need.
func (g *GitHub) Releases(ctx context.Context) ([]Release, error) {
	url := strings.TrimSuffix(g.APIURL, "/") + "/repos/" + g.Repo + "/releases?per_page=100"
	var rels []ghRelease
	if err := g.client().GetJSON(ctx, fetch.Request{
		URL: url, Accept: "application/vnd.github+json", Limit: 16 << 20,
		NotFound: fmt.Sprintf("no repository %s at %s: check github.api_url", g.Repo, g.APIURL),
	}, &g.lists, "the release list", &rels); err != nil {
		return nil, err
	}
	var out []Release
	for _, r := range rels {
		if r.Draft || r.Prerelease {
			continue
		}
		hr := Release{Tag: r.TagName}
		for _, a := range r.Assets {
			if strings.HasSuffix(a.Name, ".patch") && strings.HasPrefix(a.Name, "linux-hardened-") {
				hr.PatchName, hr.DownloadURL, hr.Digest = a.Name, a.BrowserDownloadURL, a.Digest
			}
		}
		if hr.PatchName == "" {
			continue
		}
		for _, a := range r.Assets {
			if a.Name == hr.PatchName+".sig" {
				hr.SigURL = a.BrowserDownloadURL
			}
		}
		web := g.WebURL
		if web == "" {
			web = "https://github.com"
		}
		hr.URL = strings.TrimSuffix(web, "/") + "/" + g.Repo + "/releases/download/" + r.TagName + "/" + hr.PatchName
		out = append(out, hr)
	}
	return out, nil
}

// Download fetches one release asset.
func (g *GitHub) Download(ctx context.Context, url string) ([]byte, error) {
	limit := g.MaxBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	return g.client().GetBody(ctx, fetch.Request{
		URL: url, Accept: "application/octet-stream", Limit: limit,
		NotFound: "no such release asset: the release's tag or asset was renamed or deleted since it was listed; the next cycle lists the releases again",
	}, nil)
}

// client is fetch's client for GitHub as g's fields say now (tests and
// callers set them after NewGitHub).
func (g *GitHub) client() *fetch.Client {
	return &fetch.Client{
		Server:    "GitHub",
		HTTP:      g.HTTP,
		UserAgent: g.UserAgent,
		Dialect: &fetch.GitHub{
			Token:        g.Token,
			TokenSetting: "the environment variable named by github.token_env",
			Public:       "linux-hardened's releases are public",
		},
		Retry: fetch.Retry{Attempts: g.Attempts, Backoff: g.Backoff, MaxWait: g.MaxWait, Sleep: g.Sleep},
		Log:   g.Log,
	}
}
