package xanmod

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/kupdate/kupdate/fetch"
	"github.com/kupdate/kupdate/srcarchive"
)

// GitLab lists xanmod/linux's releases through GitLab's REST API
// (GET /projects/xanmod%2Flinux/releases, conditionally on the ETag; the
// first page, 20 releases, newest first, as update-xanmod.sh reads it) and
// hashes a tag's archive from where fetchFromGitLab fetches it
// ({web}/xanmod/linux/-/archive/{tag}/linux-{tag}.tar.gz, the web host the
// API names in each release's _links.self). Reads follow fetch's retry
// policy in GitLab's dialect. A tag's hash is computed once per process.
type GitLab struct {
	HTTP      *http.Client // nil: http.DefaultClient
	APIURL    string       // https://gitlab.com/api/v4/
	Project   string       // xanmod/linux
	Token     string       // optional, API requests only; never logged
	UserAgent string
	MaxBytes  int64 // one archive download (0: 1 GiB)
	Hasher    srcarchive.Hasher
	Retry     fetch.Retry
	Log       *slog.Logger

	lists fetch.Bodies
	sums  srcarchive.Sums // by archive URL
}

// NewGitLab is the source for xanmod/linux at apiURL.
func NewGitLab(apiURL, userAgent string) *GitLab {
	return &GitLab{APIURL: apiURL, Project: "xanmod/linux", UserAgent: userAgent}
}

type glRelease struct {
	TagName         string `json:"tag_name"`
	UpcomingRelease bool   `json:"upcoming_release"`
	Assets          struct {
		Links []struct {
			Name string `json:"name"`
		} `json:"links"`
	} `json:"assets"`
	Links struct {
		Self string `json:"self"`
	} `json:"_links"`
}

// variantRE reads a release's variant from its first asset link, as
// update-xanmod.sh does: …/releases/<variant>/<version>-<suffix>/.
var variantRE = regexp.MustCompile(`/releases/([a-z]+)/[^/]+/?$`)

// Releases lists the newest releases.
func (g *GitLab) Releases(ctx context.Context) ([]Release, error) {
	u := strings.TrimSuffix(g.APIURL, "/") + "/projects/" + url.PathEscape(g.Project) + "/releases"
	var rels []glRelease
	if err := g.client(g.Token).GetJSON(ctx, fetch.Request{URL: u, Accept: "application/json", Limit: 16 << 20,
		NotFound: fmt.Sprintf("no project %s at %s: check gitlab.api_url", g.Project, g.APIURL)}, &g.lists, "the release list", &rels); err != nil {
		return nil, err
	}
	name := g.Project[strings.LastIndex(g.Project, "/")+1:]
	var out []Release
	for _, r := range rels {
		if r.UpcomingRelease {
			continue
		}
		rel := Release{Tag: r.TagName, WebURL: r.Links.Self}
		if len(r.Assets.Links) > 0 {
			if m := variantRE.FindStringSubmatch(r.Assets.Links[0].Name); m != nil {
				rel.Variant = m[1]
			}
		}
		web, _, ok := strings.Cut(r.Links.Self, "/"+g.Project+"/-/releases/")
		if !ok || !strings.HasPrefix(web, "http") {
			web = "https://gitlab.com"
		}
		rel.ArchiveURL = web + "/" + g.Project + "/-/archive/" + url.PathEscape(r.TagName) + "/" + name + "-" + url.PathEscape(r.TagName) + ".tar.gz"
		out = append(out, rel)
	}
	return out, nil
}

// Hash downloads r's archive and hashes it as fetchzip unpacks it.
func (g *GitLab) Hash(ctx context.Context, r Release) ([]byte, error) {
	sum, _, err := g.sums.Fetch(ctx, g.client(""), g.Hasher, fetch.Request{URL: r.ArchiveURL, Limit: g.MaxBytes,
		NotFound: "no archive for the tag: it was deleted since it was listed; the next cycle lists the releases again"})
	return sum, err
}

func (g *GitLab) client(token string) *fetch.Client {
	return &fetch.Client{
		Server: "GitLab", HTTP: g.HTTP, UserAgent: g.UserAgent,
		Dialect: &fetch.GitLab{Token: token, TokenSetting: "the environment variable named by gitlab.token_env", Public: "xanmod's releases are public"},
		Retry:   g.Retry, Log: g.Log,
	}
}
