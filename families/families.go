// Package families is the registry: the kernel families kupdate keeps
// current, in the order their changes are planned, each with its source.
// A new family is its own package plus a line here.
package families

import (
	"log/slog"
	"net/http"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/family/xanmod"
	"github.com/kupdate/kupdate/family/zen"
	"github.com/kupdate/kupdate/kernelorg"
)

// Sources are what the families' sources are made of. KernelOrg is
// required; a nil override means the source the configuration names.
type Sources struct {
	Config    *config.Config
	KernelOrg *kernelorg.Client
	// GitHubTransport carries requests to GitHub (linux-hardened's
	// releases); nil: http.DefaultTransport.
	GitHubTransport http.RoundTripper
	UserAgent       string
	Getenv          func(string) string // reads github.token_env
	Log             *slog.Logger

	// Hardened replaces GitHub's anthraxx/linux-hardened as the source of
	// linux-hardened releases.
	Hardened hardened.Source
	// Zen replaces GitHub's zen-kernel/zen-kernel as the source of zen
	// releases.
	Zen zen.Source
	// GitLabTransport carries requests to GitLab (xanmod's releases); nil:
	// http.DefaultTransport.
	GitLabTransport http.RoundTripper
	// Xanmod replaces GitLab's xanmod/linux as the source of xanmod
	// releases.
	Xanmod xanmod.Source
}

// New is the registry: the kernel.org kernels, then linux-hardened (its
// inits may build on a new kernel.org branch of the same plan), then the
// zen and xanmod kernels (zen-kernels.nix, xanmod-kernels.nix; a tree
// without the file has no such family).
func New(s Sources) family.Registry {
	h := s.Hardened
	if h == nil {
		h = githubHardened(s)
	}
	k := vanilla.New(s.KernelOrg)
	if s.Config != nil {
		k.AliasThrows(s.Config.Nixpkgs.AliasThrows)
	}
	z := s.Zen
	if z == nil {
		z = githubZen(s)
	}
	x := s.Xanmod
	if x == nil {
		x = gitlabXanmod(s)
	}
	return family.Registry{
		k,
		hardened.New(h, s.KernelOrg),
		zen.New(z),
		xanmod.New(x),
	}
}

// gitlabXanmod is xanmod/linux on GitLab at gitlab.api_url.
func gitlabXanmod(s Sources) xanmod.Source {
	gl := xanmod.NewGitLab(s.Config.GitLab.APIURL, s.UserAgent)
	gl.Log = s.Log
	if s.GitLabTransport != nil {
		gl.HTTP = &http.Client{Transport: s.GitLabTransport}
	}
	if s.Getenv != nil {
		gl.Token = s.Config.GitLab.TokenEnv.Lookup(s.Getenv)
	}
	if dir, err := s.Config.CacheDir(); err == nil {
		gl.Hasher.TempDir = dir
	}
	return gl
}

// githubZen is zen-kernel/zen-kernel on GitHub at github.api_url; its
// tarballs are unpacked for hashing under the cache directory.
func githubZen(s Sources) zen.Source {
	gh := zen.NewGitHub(s.Config.GitHub.APIURL, s.UserAgent)
	gh.Log = s.Log
	if s.GitHubTransport != nil {
		gh.HTTP = &http.Client{Transport: s.GitHubTransport}
	}
	if s.Getenv != nil {
		gh.Token = s.Config.GitHub.TokenEnv.Lookup(s.Getenv)
	}
	if dir, err := s.Config.CacheDir(); err == nil {
		gh.Hasher.TempDir = dir
	}
	return gh
}

// githubHardened is anthraxx/linux-hardened on GitHub at github.api_url.
func githubHardened(s Sources) hardened.Source {
	gh := hardened.NewGitHub(s.Config.GitHub.APIURL, s.UserAgent)
	gh.Log = s.Log // its retries are worth a warning in the cycle's log
	if s.GitHubTransport != nil {
		gh.HTTP = &http.Client{Transport: s.GitHubTransport}
	}
	if s.Getenv != nil {
		gh.Token = s.Config.GitHub.TokenEnv.Lookup(s.Getenv) // optional: raises GitHub's rate limit
	}
	return gh
}
