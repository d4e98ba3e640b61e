package demo_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/demo"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/updater"
)

func start(t *testing.T, opts ...demo.Option) *demo.Env {
	t.Helper()
	env, err := demo.Start(context.Background(), t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	return env
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// The simulated nixpkgs is a real repository: a git clone gets the sample
// tree byte for byte, on every branch the cycle needs.
func TestCloneTheSimulatedNixpkgs(t *testing.T) {
	env := start(t)
	dir := filepath.Join(t.TempDir(), "nixpkgs")
	git(t, "", "clone", "--quiet", env.Config.Nixpkgs.Remote, dir)

	branches := git(t, dir, "for-each-ref", "--format=%(refname:short)", "refs/remotes/origin/")
	if d := cmp.Diff("origin/HEAD\norigin/master\norigin/release-25.11\norigin/staging-nixos", branches); d != "" {
		t.Errorf("branches (-want +got):\n%s", d)
	}
	master := git(t, dir, "rev-parse", "origin/master")
	for _, b := range []string{"origin/staging-nixos", "origin/release-25.11"} {
		if got := git(t, dir, "rev-parse", b); got != master {
			t.Errorf("%s = %s, want master's %s", b, got, master)
		}
	}
	if env.BranchSHA(demo.Base) != master || env.ForkBranchSHA(demo.Base) != master {
		t.Errorf("BranchSHA(%s) = %s, fork's %s, want %s", demo.Base, env.BranchSHA(demo.Base), env.ForkBranchSHA(demo.Base), master)
	}
	sample, err := demo.FindSampleTree()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{kernelfiles.KernelsJSONPath, kernelfiles.PatchesJSONPath, "pkgs/top-level/linux-kernels.nix", "default.nix"} {
		want, err := os.ReadFile(filepath.Join(sample, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%s in the clone differs from %s", f, filepath.Join(sample, f))
		}
	}
	if n := git(t, dir, "ls-files"); strings.Count(n, "\n")+1 != 13 {
		t.Errorf("the clone has these files, want the sample tree's 13:\n%s", n)
	}

	// The fork takes a push, as kupdate's branches will.
	git(t, dir, "push", "--quiet", env.Config.Nixpkgs.Fork, "origin/master:refs/heads/kupdate/staging-nixos/updates")
	if env.ForkBranchSHA("kupdate/staging-nixos/updates") != master {
		t.Errorf("push to the fork did not land")
	}
}

// kernel.org lists the intended upstream, and verifies with the keyring
// and fingerprint the configuration names.
func TestReleasesAreTheIntendedUpstream(t *testing.T) {
	env := start(t)
	c, rels := releases(t, env)
	var got []string
	for _, r := range rels {
		got = append(got, strings.Join([]string{r.Branch, r.Version.String(), r.Moniker, yes(r.EOL, "eol"), yes(r.LTS, "lts")}, " "))
	}
	want := []string{ // by branch, as the client returns them
		"5.4 5.4.302 longterm eol lts",
		"5.10 5.10.250 longterm eol lts",
		"5.15 5.15.200 longterm - lts",
		"6.1 6.1.163 longterm - lts",
		"6.6 6.6.125 longterm - lts",
		"6.12 6.12.70 longterm - lts",
		"6.18 6.18.9 stable - -",
		"6.19 6.19.12 stable eol -",
		"7.0 7.0.1 stable - -",
		"testing 7.1-rc1 mainline - -",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("releases (-want +got):\n%s", d)
	}
	h, err := c.Hash(context.Background(), rels[5].Version)
	if err != nil || h != kernelorgtest.FlatHash("6.12.70") {
		t.Errorf("Hash(6.12.70) = %q, %v; want the simulator's %s", h, err, kernelorgtest.FlatHash("6.12.70"))
	}
}

func yes(b bool, s string) string {
	if b {
		return s
	}
	return "-"
}

// In the demo world the planner finds exactly the story the demo tells:
// point releases, testing, a new major, an EOL removal and hardened bumps.
func TestPlanInTheDemoWorld(t *testing.T) {
	env := start(t)
	got := planTitles(t, env)
	want := []string{
		"linux_5_10: remove",
		"linux_testing: 6.19-rc4 -> 7.1-rc1",
		"linux_6_18: 6.18.5 -> 6.18.9",
		"linux_6_12: 6.12.64 -> 6.12.70",
		"linux_6_6: 6.6.119 -> 6.6.125",
		"linux_6_1: 6.1.159 -> 6.1.163",
		"linux_5_15: 5.15.197 -> 5.15.200",
		"linux_7_0: init at 7.0.1",
		"linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.70-hardened1",
		"linux/hardened/patches/6.18: v6.18.4-hardened1 -> v6.18.9-hardened1",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}

	// Between cycles: a newer point release and its hardened patch.
	if err := env.PublishRelease(kernelorgtest.Spec{Version: "6.12.71", Moniker: "longterm"}); err != nil {
		t.Fatal(err)
	}
	if err := env.PublishHardened("v6.12.71-hardened1"); err != nil {
		t.Fatal(err)
	}
	got = planTitles(t, env)
	if got[3] != "linux_6_12: 6.12.64 -> 6.12.71" || got[8] != "linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.71-hardened1" {
		t.Errorf("after publishing 6.12.71: %q", got)
	}
}

// releases asks the simulated kernel.org, as a cycle would, through a
// client of its own: no ETag or rc hash remembered from another.
func releases(t *testing.T, env *demo.Env) (*kernelorg.Client, []kernelorg.Release) {
	t.Helper()
	opts, err := kernelorg.OptionsFromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	opts.CacheDir = t.TempDir()
	c, err := kernelorg.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rels, err := c.Releases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c, rels
}

func planTitles(t *testing.T, env *demo.Env) []string {
	t.Helper()
	ctx := context.Background()
	cfg := env.Config
	c, _ := releases(t, env)
	sample, err := demo.FindSampleTree()
	if err != nil {
		t.Fatal(err)
	}
	gh := hardened.NewGitHub(cfg.GitHub.APIURL, "kupdate-test")
	gh.Token = cfg.GitHub.TokenEnv.Lookup(env.Getenv)
	reg := family.Registry{vanilla.New(c), hardened.New(gh, c)}
	tree, err := reg.LoadFS(os.DirFS(sample))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := (&updater.Planner{Families: reg}).Plan(ctx, tree)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Held) > 0 {
		t.Errorf("held: %v", plan.Held)
	}
	var titles []string
	for _, ch := range plan.Changes {
		titles = append(titles, ch.Title)
	}
	return titles
}

// The configuration is valid by config.toml's own rules, points at the
// simulators, and reads its secrets from Getenv only.
func TestConfiguration(t *testing.T) {
	env := start(t)
	cfg := env.Config
	data, err := os.ReadFile(filepath.Join(env.Dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := config.Parse("config.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(cfg, parsed); d != "" {
		t.Errorf("config.toml in Dir differs from Config (-Config +file):\n%s", d)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"kernelorg.url", cfg.KernelOrg.URL, env.KernelOrg.URL},
		{"kernelorg.git_url", cfg.KernelOrg.GitURL, env.KernelOrg.URL},
		{"kernelorg.fingerprint", cfg.KernelOrg.Fingerprint, env.KernelOrg.Fingerprint()},
		{"nixpkgs.remote", cfg.Nixpkgs.Remote, env.GitHub.GitURL("NixOS", "nixpkgs")},
		{"nixpkgs.fork", cfg.Nixpkgs.Fork, env.GitHub.GitURL("kupdate-bot", "nixpkgs")},
		{"nixpkgs.base", cfg.Nixpkgs.Base, "staging-nixos"},
		{"nixpkgs.cache_dir", cfg.Nixpkgs.CacheDir, filepath.Join(env.Dir, "cache")},
		{"github.api_url", cfg.GitHub.APIURL, env.GitHub.APIURL()},
		{"github.fork_owner", cfg.GitHub.ForkOwner, "kupdate-bot"},
		{"build.options.substituters", cfg.Build.Options["substituters"], ""},
		{"build.tiers", strings.Join(cfg.Build.Tiers, ","), "eval,configfile,kernel,test"},
		{"BuildEnv", strings.Join(env.BuildEnv, " "), "KUPDATE_KERNEL_MIRROR=" + env.KernelOrg.URL + " KUPDATE_GITHUB_MIRROR=" + env.GitHub.URL() + " XDG_CACHE_HOME=" + filepath.Join(env.Dir, "cache", "xdg")},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if _, ok := cfg.Build.Options["substituters"]; !ok {
		t.Error("build.options has no substituters: builds would try cache.nixos.org")
	}
	if !cfg.Promote.Enabled || !cfg.Promote.Merge || !cfg.GitHub.Merge {
		t.Errorf("promote.enabled %v, promote.merge %v, github.merge %v: the demo shows merging and promotion", cfg.Promote.Enabled, cfg.Promote.Merge, cfg.GitHub.Merge)
	}
	ghTok, gitTok := cfg.GitHub.TokenEnv.Lookup(env.Getenv), cfg.Git.TokenEnv.Lookup(env.Getenv)
	if !strings.HasPrefix(ghTok, "ghp_demo_") || !strings.HasPrefix(gitTok, "ghp_demo_git_") || env.Getenv("HOME") != "" {
		t.Errorf("Getenv: github %q, git %q, HOME %q", ghTok, gitTok, env.Getenv("HOME"))
	}
	if cfg.GitHub.TokenEnv.Lookup(os.Getenv) != "" || os.Getenv("KUPDATE_KERNEL_MIRROR") != "" {
		t.Error("Start set the process environment")
	}
	if strings.Contains(string(data), ghTok) || strings.Contains(string(data), gitTok) {
		t.Error("config.toml holds a token")
	}
}

func TestMergeAsMaintainer(t *testing.T) {
	env := start(t)
	ctx := context.Background()
	// A branch on the fork, one commit ahead, and a PR from it.
	if err := env.GitHub.CreateBranch("kupdate-bot", "nixpkgs", "topic", demo.Base); err != nil {
		t.Fatal(err)
	}
	if _, err := env.GitHub.Commit("kupdate-bot", "nixpkgs", "topic", map[string]string{"README": "hi\n"}, "add README"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	git(t, "", "clone", "--quiet", env.Config.Nixpkgs.Fork, dir)
	head := git(t, dir, "rev-parse", "origin/topic")
	if err := env.RequireChecks(demo.Base, "ci/hydra"); err != nil {
		t.Fatal(err)
	}
	n := openPR(t, env, "kupdate-bot:topic")
	if err := env.Merge(ctx, n); err == nil || err.Error() != `demo: merging #1: GitHub answered 405 Method Not Allowed: Pull Request is still a draft` {
		t.Fatalf("merging a draft: %v", err)
	}
	if err := env.MarkReady(n); err != nil {
		t.Fatal(err)
	}
	if err := env.Merge(ctx, n); err == nil || !strings.Contains(err.Error(), `Required status check "ci/hydra" is expected.`) {
		t.Fatalf("merging without the required check: %v", err)
	}
	if err := env.SetCheck(head, "ci/hydra", "success"); err != nil {
		t.Fatal(err)
	}
	if err := env.Approve(n); err != nil {
		t.Fatal(err)
	}
	if err := env.Merge(ctx, n); err != nil {
		t.Fatal(err)
	}
	pr, err := env.PR(n)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Merged || env.BranchSHA(demo.Base) != pr.MergeCommit {
		t.Errorf("PR %+v; staging-nixos at %s", pr, env.BranchSHA(demo.Base))
	}
}

// openPR opens a draft PR into the base as the bot would (go-github is for
// package workflow only, so plain JSON here).
func openPR(t *testing.T, env *demo.Env, head string) int {
	t.Helper()
	body := `{"title":"t","head":"` + head + `","base":"` + demo.Base + `","draft":true}`
	req, err := newRequest(env, "POST", "repos/NixOS/nixpkgs/pulls", body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := env.GitHub.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("opening the PR: %s", resp.Status)
	}
	return len(env.PRs())
}

func TestFindSampleTreeOutsideTheModule(t *testing.T) {
	t.Chdir(t.TempDir())
	// Not above the working directory: found next to this package's source.
	dir, err := demo.FindSampleTree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pkgs/top-level/linux-kernels.nix")); err != nil {
		t.Errorf("FindSampleTree = %s: %v", dir, err)
	}
}

func TestStartWithABadTree(t *testing.T) {
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "README"), []byte("not nixpkgs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := demo.Start(context.Background(), t.TempDir(), demo.WithTree(bad))
	if want := "demo: " + bad + " has no default.nix: not a nixpkgs tree"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func newRequest(env *demo.Env, method, path, body string) (*http.Request, error) {
	req, err := http.NewRequest(method, env.GitHub.APIURL()+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+env.Getenv(demo.GitHubTokenEnv))
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// A release published unsigned is left out of its sha256sums.asc until
// Sign, also when two of one major wait together.
func TestUnsignedUntilSigned(t *testing.T) {
	env := start(t)
	listed := func(v string) bool {
		t.Helper()
		resp, err := http.Get(env.KernelOrg.URL + kernelorgtest.ChecksumsPath(v))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return strings.Contains(b.String(), "  linux-"+v+".tar.xz\n")
	}
	for _, v := range []string{"6.6.126", "6.1.164"} {
		if err := env.PublishUnsigned(kernelorgtest.Spec{Version: v, Moniker: "longterm"}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, unsigned []string, want map[string]bool) {
		t.Helper()
		if got := strings.Join(env.Unsigned(), " "); got != strings.Join(unsigned, " ") {
			t.Errorf("%s: Unsigned %q, want %q", when, got, unsigned)
		}
		for v, w := range want {
			if got := listed(v); got != w {
				t.Errorf("%s: sha256sums.asc lists %s: %v, want %v", when, v, got, w)
			}
		}
	}
	check("both unsigned", []string{"6.6.126", "6.1.164"}, map[string]bool{"6.6.126": false, "6.1.164": false, "6.12.70": true})
	env.Sign("6.6.126")
	check("6.6.126 signed", []string{"6.1.164"}, map[string]bool{"6.6.126": true, "6.1.164": false, "6.12.70": true})
	env.Sign("6.1.164")
	check("both signed", nil, map[string]bool{"6.6.126": true, "6.1.164": true})
}

// demo.env holds what the configuration names (the tokens) and the
// mirrors, for the owner only; SaveConfig writes a changed Config back.
func TestEnvFileAndSaveConfig(t *testing.T) {
	env := start(t)
	path, err := env.WriteEnvFile()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 || path != filepath.Join(env.Dir, demo.EnvFile) {
		t.Fatalf("%s: %v, mode %v", path, err, st.Mode())
	}
	data, _ := os.ReadFile(path)
	want := "# kupdate demo: the simulated world's tokens and mirrors; valid while the demo runs.\n" +
		"# set -a; . ./demo.env; kupdate --config ./config.toml status\n" +
		"KUPDATE_DEMO_GITHUB_TOKEN=" + env.Getenv(demo.GitHubTokenEnv) + "\n" +
		"KUPDATE_DEMO_GIT_TOKEN=" + env.Getenv(demo.GitTokenEnv) + "\n" +
		"KUPDATE_KERNEL_MIRROR=" + env.KernelOrg.URL + "\n" +
		"KUPDATE_GITHUB_MIRROR=" + env.GitHub.URL() + "\n"
	if d := cmp.Diff(want, string(data)); d != "" {
		t.Errorf("demo.env (-want +got):\n%s", d)
	}

	env.Config.Serve.Schedule = "@every 20s"
	if err := env.SaveConfig(); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(filepath.Join(env.Dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := config.Parse("config.toml", saved)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(env.Config, parsed); d != "" {
		t.Errorf("config.toml after SaveConfig (-Config +file):\n%s", d)
	}
}
