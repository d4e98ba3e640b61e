package zen

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kupdate/kupdate/fetch"
	"github.com/kupdate/kupdate/srcarchive"
)

// GitHub lists zen-kernel's releases through GitHub's REST API
// (GET /repos/zen-kernel/zen-kernel/releases, conditionally: GitHub does
// not count a 304 against the rate limit) and hashes a tag's tarball from
// where fetchFromGitHub fetches it, {web}/{repo}/archive/{tag}.tar.gz, the
// web host being the one the API names in each release's html_url. Every
// read follows fetch's retry policy in GitHub's dialect. A tag's hash is
// computed once per process.
type GitHub struct {
	HTTP      *http.Client // nil: http.DefaultClient
	APIURL    string       // https://api.github.com/
	Repo      string       // zen-kernel/zen-kernel
	Token     string       // optional, for the API's rate limit only; never sent with a download. Never logged.
	UserAgent string
	// MaxBytes caps one tarball download (0: 1 GiB; zen's are ~250 MB).
	MaxBytes int64
	Hasher   srcarchive.Hasher
	Retry    fetch.Retry
	Log      *slog.Logger // nil: discard

	lists fetch.Bodies    // the last release list, for conditional requests
	sums  srcarchive.Sums // by archive URL
}

// NewGitHub is the source for zen-kernel/zen-kernel at apiURL.
func NewGitHub(apiURL, userAgent string) *GitHub {
	return &GitHub{APIURL: apiURL, Repo: "zen-kernel/zen-kernel", UserAgent: userAgent}
}

type ghRelease struct {
	TagName    string `json:"tag_name"`
	HTMLURL    string `json:"html_url"`
	Draft      bool   `json:"draft"`
	Prerelease bool   `json:"prerelease"`
}

// Releases returns the newest 100 published releases (GitHub's first page).
func (g *GitHub) Releases(ctx context.Context) ([]Release, error) {
	url := strings.TrimSuffix(g.APIURL, "/") + "/repos/" + g.Repo + "/releases?per_page=100"
	var rels []ghRelease
	if err := g.client(g.Token).GetJSON(ctx, fetch.Request{
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
		web, _, ok := strings.Cut(r.HTMLURL, "/"+g.Repo+"/releases/")
		if !ok || !strings.HasPrefix(web, "http") {
			web = "https://github.com"
		}
		out = append(out, Release{Tag: r.TagName, HTMLURL: r.HTMLURL,
			ArchiveURL: web + "/" + g.Repo + "/archive/" + r.TagName + ".tar.gz"})
	}
	return out, nil
}

// Hash downloads r's tarball and hashes it as fetchzip unpacks it.
func (g *GitHub) Hash(ctx context.Context, r Release) ([]byte, error) {
	start := time.Now()
	sum, fresh, err := g.sums.Fetch(ctx, g.client(""), g.Hasher, fetch.Request{
		URL: r.ArchiveURL, Accept: "application/octet-stream", Limit: g.MaxBytes,
		NotFound: "no tarball for the tag: it was deleted or renamed since it was listed; the next cycle lists the releases again",
	})
	if err != nil {
		return nil, err
	}
	if fresh {
		g.log().Info("hashed zen-kernel tarball", "url", r.ArchiveURL, "hash", srcarchive.SRI(sum), "took", time.Since(start).Round(time.Millisecond))
	}
	return sum, nil
}

// client is fetch's client for GitHub with token (""; none).
func (g *GitHub) client(token string) *fetch.Client {
	return &fetch.Client{
		Server:    "GitHub",
		HTTP:      g.HTTP,
		UserAgent: g.UserAgent,
		Dialect: &fetch.GitHub{
			Token:        token,
			TokenSetting: "the environment variable named by github.token_env",
			Public:       "zen-kernel's releases are public",
		},
		Retry: g.Retry,
		Log:   g.Log,
	}
}

func (g *GitHub) log() *slog.Logger {
	if g.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Log
}
