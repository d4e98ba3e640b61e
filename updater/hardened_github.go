package updater

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// GitHubHardened lists linux-hardened releases through GitHub's REST API
// (GET /repos/{owner}/{repo}/releases) and downloads their assets, with
// plain net/http: two endpoints do not need a client library.
type GitHubHardened struct {
	HTTP      *http.Client // nil: http.DefaultClient
	APIURL    string       // https://api.github.com/
	WebURL    string       // https://github.com: the base of the URLs written into patches.json
	Repo      string       // anthraxx/linux-hardened
	Token     string       // optional; raises the rate limit. Never logged.
	UserAgent string
	// MaxBytes caps one asset download (0: 64 MiB).
	MaxBytes int64
}

// NewGitHubHardened is the source for anthraxx/linux-hardened at apiURL.
func NewGitHubHardened(apiURL, userAgent string) *GitHubHardened {
	return &GitHubHardened{APIURL: apiURL, WebURL: "https://github.com", Repo: "anthraxx/linux-hardened", UserAgent: userAgent}
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
func (g *GitHubHardened) Releases(ctx context.Context) ([]HardenedRelease, error) {
	url := strings.TrimSuffix(g.APIURL, "/") + "/repos/" + g.Repo + "/releases?per_page=100"
	body, err := g.get(ctx, url, "application/vnd.github+json", 16<<20)
	if err != nil {
		return nil, err
	}
	var rels []ghRelease
	if err := json.Unmarshal(body, &rels); err != nil {
		return nil, fmt.Errorf("GET %s: decoding the release list: %w", url, err)
	}
	var out []HardenedRelease
	for _, r := range rels {
		if r.Draft || r.Prerelease {
			continue
		}
		hr := HardenedRelease{Tag: r.TagName}
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
func (g *GitHubHardened) Download(ctx context.Context, url string) ([]byte, error) {
	limit := g.MaxBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	return g.get(ctx, url, "application/octet-stream", limit)
}

func (g *GitHubHardened) get(ctx context.Context, url, accept string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if g.UserAgent != "" {
		req.Header.Set("User-Agent", g.UserAgent)
	}
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	hc := g.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		msg := strings.TrimSpace(string(snippet))
		switch {
		case resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0",
			resp.StatusCode == http.StatusTooManyRequests:
			return nil, fmt.Errorf("GET %s: rate limited by GitHub (%s): set a token or wait until %s", url, resp.Status, resp.Header.Get("X-RateLimit-Reset"))
		default:
			return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, msg)
		}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d bytes: refusing it", url, limit)
	}
	return data, nil
}
