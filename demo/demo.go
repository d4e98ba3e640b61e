// Package demo is kupdate's offline world: a kernel.org simulator
// (kernelorgtest) with an upstream a few months newer than the sample
// nixpkgs tree, and a GitHub simulator (githubtest) holding that tree as
// NixOS/nixpkgs, its fork kupdate-bot/nixpkgs and anthraxx/linux-hardened's
// releases — plus the configuration that points kupdate at all of it.
//
// `kupdate demo` runs three cycles and a promotion in it; the end-to-end
// tests of the cycle use it too:
//
//	env, err := demo.Start(ctx, t.TempDir())
//	if err != nil { ... }
//	defer env.Close()
//	c, err := cycle.New(env.Config, cycle.Options{
//		Getenv:          env.Getenv,   // the demo's tokens; the process environment is never read
//		Now:             env.Now,      // the world's clock (Epoch, then the real pace)
//		BuildEnv:        env.BuildEnv, // Nix fetches the sources from the simulators
//		GitHubTransport: env.GitHub.Client().Transport,
//	})
//	rep, err := c.Run(ctx) // 3 PRs: the rolling one, linux_7_0 init, linux_5_10 remove
//
//	// Between cycles:
//	env.PublishRelease(kernelorgtest.Spec{Version: "6.12.71", Moniker: "longterm"})
//	env.PublishHardened("v6.12.71-hardened1")
//	env.PublishUnsigned(kernelorgtest.Spec{Version: "6.6.126"}) // not in sha256sums.asc: kupdate holds it
//	env.Sign("6.6.126")                                          // until kernel.org signs it
//	env.SetCheck(env.PRs()[0].HeadSHA, "ci/hydra", "success")
//	env.MarkReady(1); env.Approve(1) // github.merge is on: the next cycle merges #1
//	env.Merge(ctx, 2)               // or a maintainer merges through the API
//
// Nothing is set in the process's environment, and nothing is written
// outside dir but Nix's store. WriteEnvFile writes the tokens and mirrors
// down (dir/demo.env) for kupdate commands run from outside the process
// while the world is up (`kupdate demo --serve`).
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// The simulated GitHub's cast.
const (
	Owner      = "NixOS"           // the repository PRs are opened on
	Repo       = "nixpkgs"         //
	ForkOwner  = "kupdate-bot"     // the fork kupdate pushes its branches to, and its login
	Maintainer = "demo-maintainer" // the person who reviews, approves and merges

	HardenedOwner = "anthraxx" // linux-hardened's releases
	HardenedRepo  = "linux-hardened"
	ZenOwner      = "zen-kernel" // the zen kernels' releases and tag tarballs
	ZenRepo       = "zen-kernel"

	// Base is where kupdate's PRs go; Target is what promotion merges it into.
	Base   = "staging-nixos"
	Target = "master"
	// StableBranch is the newest stable line: its name gives the PRs their
	// backport label.
	StableBranch = "release-25.11"

	// The environment variables the demo configuration names for secrets;
	// Env.Getenv answers them, the process environment is never read.
	GitHubTokenEnv = "KUPDATE_DEMO_GITHUB_TOKEN"
	GitTokenEnv    = "KUPDATE_DEMO_GIT_TOKEN"
)

// Epoch is when the demo world's clock starts, 2026-04-30 09:00 UTC: a week
// after the releases of DefaultReleases. The clock then runs at the real pace
// (Env.Now), so PR titles ("kernel updates for 2026-04-30") and commit dates
// are those of the story, not of the day it runs.
func Epoch() time.Time { return time.Date(2026, 4, 30, 9, 0, 0, 0, time.UTC) }

// DefaultReleases is kernel.org a few months after the sample tree
// (testdata/nixpkgs: 5.10, 5.15, 6.1, 6.6, 6.12, 6.18 and testing at
// 6.19-rc4), in releases.json's order: point releases for every longterm
// and stable branch, 7.0 out (a new major), 7.1-rc1 for testing, 5.10
// end-of-life (removed), 6.19 come and gone while the tree did not have it,
// 5.4 long removed.
func DefaultReleases() []kernelorgtest.Spec {
	return []kernelorgtest.Spec{
		{Version: "7.1-rc1", Moniker: "mainline", Date: "2026-04-26"},
		{Version: "7.0.1", Moniker: "stable", Date: "2026-04-23"},
		{Version: "6.19.12", Moniker: "stable", EOL: true, Date: "2026-04-11"},
		{Version: "6.18.9", Moniker: "stable", Date: "2026-04-23"},
		{Version: "6.12.70", Moniker: "longterm", Date: "2026-04-23"},
		{Version: "6.6.125", Moniker: "longterm", Date: "2026-04-23"},
		{Version: "6.1.163", Moniker: "longterm", Date: "2026-04-23"},
		{Version: "5.15.200", Moniker: "longterm", Date: "2026-04-18"},
		{Version: "5.10.250", Moniker: "longterm", EOL: true, Date: "2026-04-18"},
		{Version: "5.4.302", Moniker: "longterm", EOL: true, Date: "2025-12-06"},
	}
}

// DefaultHardenedTags are anthraxx/linux-hardened's releases, oldest first:
// the two the sample tree has, and one newer for each of its branches.
func DefaultHardenedTags() []string {
	return []string{"v6.12.63-hardened1", "v6.18.4-hardened1", "v6.12.70-hardened1", "v6.18.9-hardened1"}
}

// ZenTags are zen-kernel's releases the world starts with: the sample
// tree's own (zen-kernels.nix's hashes are of these tarballs), so that
// zen has nothing to bump until a test publishes a newer one (PublishZen).
func ZenTags() []string { return []string{"v6.18.3-lqx1", "v6.18.4-zen1"} }

// HardenedPatch is the patch a linux-hardened release of tag carries in the
// simulator: a pure function of the tag, so its hash is reproducible.
func HardenedPatch(tag string) []byte {
	return []byte("linux-hardened patch for " + tag + "\n--- a/Makefile\n+++ b/Makefile\n")
}

// Option changes how Start builds the world.
type Option func(*options)

type options struct {
	releases []kernelorgtest.Spec
	hardened []string
	tree     string
	clock    func() time.Time
}

// WithReleases replaces DefaultReleases.
func WithReleases(specs ...kernelorgtest.Spec) Option {
	return func(o *options) { o.releases = specs }
}

// WithHardenedTags replaces DefaultHardenedTags (oldest first; none: an
// empty release list).
func WithHardenedTags(tags ...string) Option {
	return func(o *options) { o.hardened = tags }
}

// WithTree uses the nixpkgs tree at dir instead of the sample tree.
func WithTree(dir string) Option {
	return func(o *options) { o.tree = dir }
}

// WithClock replaces Env.Now (Epoch, then the real pace): the simulated
// GitHub stamps its objects (PR dates, merge commits) with it. A fixed clock
// makes commit ids reproducible.
func WithClock(clock func() time.Time) Option {
	return func(o *options) { o.clock = clock }
}

// Env is a running offline world. Its knobs are safe for concurrent use.
type Env struct {
	// Dir is the work directory Start was given: the GitHub repositories
	// (github/), kupdate's cache (cache/), the kernel.org keyring and a copy
	// of Config (config.toml). Close leaves it to the caller.
	Dir string

	KernelOrg *kernelorgtest.Server
	GitHub    *githubtest.Server

	// Config points every section at the simulators: kernel.org (URL, keyring,
	// fingerprint), nixpkgs (remote, fork, base, cache_dir under Dir), GitHub
	// (API, fork owner, token variables), builds offline (substituters ""),
	// merging and promotion on. Each call of Start returns a new one; change it
	// freely.
	Config *config.Config

	// Now is the world's clock: give it to cycle.Options.Now and
	// workflow.Options.Clock so kupdate's commits and PR titles agree with
	// the simulated GitHub.
	Now func() time.Time

	// BuildEnv is what Nix needs to fetch the sample tree's sources from the
	// simulators (KUPDATE_KERNEL_MIRROR, KUPDATE_GITHUB_MIRROR) and to keep
	// its user cache under Dir (XDG_CACHE_HOME): give it to build.WithEnv and
	// updater.ValidateOptions.Env (cycle.Options.BuildEnv). It holds no secret.
	BuildEnv []string

	secrets         map[string]string
	maintainerToken string

	mu       sync.Mutex
	hardened []string // tags published, oldest first
	unsigned []string // kernel.org releases published but not signed yet
}

// Start brings the world up under dir (which must exist; it is not removed
// by Close). The tree is the sample tree (FindSampleTree) unless WithTree.
func Start(ctx context.Context, dir string, opts ...Option) (_ *Env, err error) {
	o := options{releases: DefaultReleases(), hardened: DefaultHardenedTags()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		started := time.Now()
		o.clock = func() time.Time { return Epoch().Add(time.Since(started)) }
	}
	if o.tree == "" {
		if o.tree, err = FindSampleTree(); err != nil {
			return nil, err
		}
	}
	files, err := readTree(o.tree)
	if err != nil {
		return nil, err
	}
	ghRoot := filepath.Join(dir, "github")
	if err := os.MkdirAll(ghRoot, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	e := &Env{Dir: dir, Now: o.clock}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.KernelOrg, err = kernelorgtest.New(o.releases...); err != nil {
		return nil, fmt.Errorf("demo: starting the kernel.org simulator: %w", err)
	}
	if e.GitHub, err = githubtest.New(githubtest.Options{Root: ghRoot, Clock: o.clock}); err != nil {
		return nil, fmt.Errorf("demo: starting the GitHub simulator: %w", err)
	}
	if err := e.fillGitHub(ctx, files, o.hardened); err != nil {
		return nil, err
	}
	if err := e.configure(); err != nil {
		return nil, err
	}
	return e, nil
}

// fillGitHub creates NixOS/nixpkgs with the tree on master, staging-nixos
// and the stable line, its fork, linux-hardened's releases and the tokens.
func (e *Env) fillGitHub(ctx context.Context, files map[string]string, hardened []string) error {
	gh := e.GitHub
	if err := gh.CreateRepo(Owner, Repo, Target); err != nil {
		return fmt.Errorf("demo: creating %s/%s: %w", Owner, Repo, err)
	}
	if _, err := gh.Commit(Owner, Repo, Target, files, "nixpkgs: the sample tree\n\nkupdate's testdata/nixpkgs: nixpkgs' kernel files, tiny derivations."); err != nil {
		return fmt.Errorf("demo: committing the sample tree: %w", err)
	}
	for _, b := range []string{Base, StableBranch} {
		if err := gh.CreateBranch(Owner, Repo, b, Target); err != nil {
			return fmt.Errorf("demo: creating branch %s of %s/%s: %w", b, Owner, Repo, err)
		}
	}
	if err := gh.ForkRepo(Owner, Repo, ForkOwner); err != nil {
		return fmt.Errorf("demo: forking %s/%s to %s: %w", Owner, Repo, ForkOwner, err)
	}
	if err := gh.CreateRepo(HardenedOwner, HardenedRepo, "main"); err != nil {
		return fmt.Errorf("demo: creating %s/%s: %w", HardenedOwner, HardenedRepo, err)
	}
	for _, tag := range hardened {
		if err := e.PublishHardened(tag); err != nil {
			return err
		}
	}
	if err := gh.CreateRepo(ZenOwner, ZenRepo, "main"); err != nil {
		return fmt.Errorf("demo: creating %s/%s: %w", ZenOwner, ZenRepo, err)
	}
	for _, tag := range ZenTags() {
		if err := e.PublishZen(tag); err != nil {
			return err
		}
	}
	botToken, err := randomToken("ghp_demo_")
	if err != nil {
		return err
	}
	gitToken, err := randomToken("ghp_demo_git_")
	if err != nil {
		return err
	}
	if e.maintainerToken, err = randomToken("ghp_demo_maint_"); err != nil {
		return err
	}
	gh.AddToken(botToken, ForkOwner)
	gh.AddToken(e.maintainerToken, Maintainer)
	e.secrets = map[string]string{GitHubTokenEnv: botToken, GitTokenEnv: gitToken}
	return ctx.Err()
}

// configure writes the keyring and config.toml under Dir and sets Config
// and BuildEnv.
func (e *Env) configure() error {
	keyring := filepath.Join(e.Dir, "kernelorg-keyring.asc")
	if err := os.WriteFile(keyring, e.KernelOrg.Keyring(), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfg := config.Default()
	k := &cfg.KernelOrg
	k.URL, k.CDNURL, k.GitURL = e.KernelOrg.URL, e.KernelOrg.URL, e.KernelOrg.URL
	k.Keyring, k.Fingerprint = keyring, e.KernelOrg.Fingerprint()
	k.Timeout = config.Duration(time.Minute)
	k.SnapshotTimeout = config.Duration(time.Minute)

	cfg.Nixpkgs.Remote = e.GitHub.GitURL(Owner, Repo)
	cfg.Nixpkgs.Fork = e.GitHub.GitURL(ForkOwner, Repo)
	cfg.Nixpkgs.Base = Base
	cfg.Nixpkgs.CacheDir = filepath.Join(e.Dir, "cache")
	// State beside the caches, named so that a machine's $STATE_DIRECTORY
	// never takes it: the demo leaves nothing outside its directory.
	cfg.Nixpkgs.StateDir = cfg.Nixpkgs.CacheDir
	cfg.Git.TokenEnv = GitTokenEnv

	// Every tier: the sample tree's are tiny, and the kernel tier is where
	// Nix fetches each source and checks the hash kupdate wrote.
	cfg.Build.Tiers = []string{"eval", "configfile", "kernel", "test"}
	cfg.Build.Options = map[string]string{"substituters": ""} // offline
	cfg.Build.Timeout = config.Duration(2 * time.Minute)
	cfg.Build.LogLines = 20

	cfg.GitHub.APIURL = e.GitHub.APIURL()
	cfg.GitHub.Owner, cfg.GitHub.Repo, cfg.GitHub.ForkOwner = Owner, Repo, ForkOwner
	cfg.GitHub.TokenEnv = GitHubTokenEnv
	cfg.GitHub.Reviewers = []string{Maintainer}
	cfg.GitHub.Merge = true // only what Maintainer approved, with every check green
	cfg.Promote.Enabled = true
	cfg.Promote.Merge = true

	// Round-trip through the parser: the configuration is valid by the same
	// rules as an operator's, and config.toml shows what the demo used.
	data, err := toml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("demo: encoding the configuration: %w", err)
	}
	path := filepath.Join(e.Dir, "config.toml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if e.Config, err = config.Parse(path, data); err != nil {
		return fmt.Errorf("demo: the demo configuration is invalid: %w", err)
	}
	e.BuildEnv = []string{
		"KUPDATE_KERNEL_MIRROR=" + e.KernelOrg.URL,
		"KUPDATE_GITHUB_MIRROR=" + e.GitHub.URL(),
		// Nix's own cache (the rc snapshot fetchTarball downloads, its
		// fetcher database) under Dir: nothing of the demo outlives it but
		// the store paths of the tiny derivations.
		"XDG_CACHE_HOME=" + filepath.Join(e.Dir, "cache", "xdg"),
	}
	return nil
}

func randomToken(prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo: making a token: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}

// Getenv answers the variables Config names for secrets (GitHubTokenEnv,
// GitTokenEnv) and "" for anything else: pass it where kupdate takes a
// getenv func (workflow.Options.Getenv).
func (e *Env) Getenv(key string) string { return e.secrets[key] }

// Close stops both simulators. It leaves Dir alone.
func (e *Env) Close() error {
	if e.KernelOrg != nil {
		e.KernelOrg.Close()
	}
	if e.GitHub != nil {
		e.GitHub.Close()
	}
	return nil
}

// errNoTree is wrapped by FindSampleTree's error.
var errNoTree = errors.New("the sample nixpkgs tree (testdata/nixpkgs) was not found")
