package cycle_test

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/srcarchive/srcarchivetest"
	"github.com/kupdate/kupdate/workflow"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// epoch is the fixed time of every cycle in these tests: commits, PR titles
// and the simulator's objects are the same on every run.
var epoch = time.Date(2026, 1, 10, 9, 30, 0, 0, time.UTC)

const (
	token    = "ghp_kupdate_cycle_test"
	tokenEnv = "KUPDATE_TEST_GITHUB_TOKEN"
	rolling  = "kupdate/staging-nixos/updates"
	initBr   = "kupdate/staging-nixos/linux_6_19-init"
)

// upstream is kernel.org for most tests: a new major (6.19, an init), two
// point releases (6.18.6, 6.12.65, in the rolling branch) and the other
// branches as the sample tree has them; no rc, so testing stays.
var upstream = []kernelorgtest.Spec{
	{Version: "6.19"},
	{Version: "6.18.6"},
	{Version: "6.12.65", Moniker: "longterm"},
	{Version: "6.6.119", Moniker: "longterm"},
	{Version: "6.1.159", Moniker: "longterm"},
	{Version: "5.15.197", Moniker: "longterm"},
	{Version: "5.10.247", Moniker: "longterm"},
}

// fixture is the world of a cycle: kernel.org, GitHub with upstream
// NixOS/nixpkgs (the sample tree on master, staging-nixos and release-25.11)
// and the fork kupdate-bot/nixpkgs, linux-hardened's (empty) releases, and a
// cache directory.
type fixture struct {
	t        testing.TB
	ko       *kernelorgtest.Server
	gh       *githubtest.Server
	cfg      *config.Config
	cache    string
	receives atomic.Int64 // git-receive-pack requests to the fork: pushes
	gitReqs  atomic.Int64 // every git request to the fork
	refuse   atomic.Bool  // the fork refuses pushes (403 to git-receive-pack)
	logs     *syncBuffer
	forkURL  string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func needNix(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH: the cycle validates and builds with real Nix")
	}
}

func newFixture(t testing.TB, specs ...kernelorgtest.Spec) *fixture {
	t.Helper()
	needNix(t)
	if specs == nil {
		specs = upstream
	}
	f := &fixture{t: t, logs: &syncBuffer{}}
	var err error
	f.ko, err = kernelorgtest.New(specs...)
	must(t, err)
	t.Cleanup(f.ko.Close)

	f.gh, err = githubtest.New(githubtest.Options{Root: t.TempDir(), Clock: func() time.Time { return epoch }})
	must(t, err)
	t.Cleanup(f.gh.Close)
	must(t, f.gh.CreateRepo("NixOS", "nixpkgs", "master"))
	files := map[string]string{}
	must(t, fs.WalkDir(os.DirFS("../testdata/nixpkgs"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join("../testdata/nixpkgs", p))
		files[p] = string(b)
		return err
	}))
	_, err = f.gh.Commit("NixOS", "nixpkgs", "master", files, "sample nixpkgs")
	must(t, err)
	for _, b := range []string{"staging-nixos", "release-25.11"} {
		must(t, f.gh.CreateBranch("NixOS", "nixpkgs", b, "master"))
	}
	must(t, f.gh.ForkRepo("NixOS", "nixpkgs", "kupdate-bot"))
	f.gh.AddToken(token, "kupdate-bot")

	// The fork is reached through a counter, so tests see every push.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.gitReqs.Add(1)
		if strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			f.receives.Add(1)
			if f.refuse.Load() {
				http.Error(w, "pushes refused by the test", http.StatusForbidden)
				return
			}
		}
		f.gh.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	f.forkURL = front.URL + "/kupdate-bot/nixpkgs.git"

	// linux-hardened, with no releases yet: the sample tree's hardened
	// kernels stay as they are.
	must(t, f.gh.CreateRepo("anthraxx", "linux-hardened", "main"))
	// zen-kernel, with the sample tree's own releases: its zen kernels stay
	// as they are.
	must(t, f.gh.CreateRepo("zen-kernel", "zen-kernel", "main"))
	for _, tag := range []string{"v6.18.3-lqx1", "v6.18.4-zen1"} {
		top := "zen-kernel-" + strings.TrimPrefix(tag, "v")
		must(t, f.gh.PublishRelease("zen-kernel", "zen-kernel", githubtest.Release{Tag: tag, Source: srcarchivetest.Kernel(top, tag)}))
	}

	dir := t.TempDir()
	keyring := filepath.Join(dir, "keyring.asc")
	must(t, os.WriteFile(keyring, f.ko.Keyring(), 0o644))
	f.cache = filepath.Join(dir, "cache")
	cfg := config.Default()
	cfg.KernelOrg.URL, cfg.KernelOrg.GitURL, cfg.KernelOrg.CDNURL = f.ko.URL, f.ko.URL, f.ko.URL
	cfg.KernelOrg.Keyring = keyring
	cfg.KernelOrg.Fingerprint = f.ko.Fingerprint()
	cfg.Nixpkgs.Remote = f.gh.GitURL("NixOS", "nixpkgs")
	cfg.Nixpkgs.Fork = f.forkURL
	cfg.Nixpkgs.CacheDir = f.cache
	cfg.GitHub.APIURL = f.gh.APIURL()
	cfg.GitHub.ForkOwner = "kupdate-bot"
	cfg.GitHub.TokenEnv = tokenEnv
	cfg.Build.Options = map[string]string{"substituters": ""}
	f.cfg = &cfg
	return f
}

// options are the cycle's options in this world; more adjusts them.
func (f *fixture) options(more ...func(*cycle.Options)) cycle.Options {
	o := cycle.Options{
		Log: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv: func(k string) string {
			if k == tokenEnv {
				return token
			}
			return ""
		},
		Now:             func() time.Time { return epoch },
		GitHubTransport: f.gh.Client().Transport,
		GitHub:          workflow.Options{Backoff: time.Millisecond, Attempts: 2, Platform: "x86_64-linux"},
		BuildEnv:        []string{"KUPDATE_KERNEL_MIRROR=" + f.ko.URL, "KUPDATE_GITHUB_MIRROR=" + f.gh.URL()},
	}
	for _, m := range more {
		m(&o)
	}
	return o
}

func (f *fixture) cycle(more ...func(*cycle.Options)) *cycle.Cycle {
	f.t.Helper()
	c, err := cycle.New(f.cfg, f.options(more...))
	must(f.t, err)
	return c
}

// run runs a whole cycle and fails the test when it stops or reports a
// failure.
func (f *fixture) run(more ...func(*cycle.Options)) *cycle.Report {
	f.t.Helper()
	rep, err := f.cycle(more...).Run(context.Background())
	if err != nil {
		f.t.Fatalf("cycle stopped: %v\nlog:\n%s", err, f.logs)
	}
	if err := rep.Err(); err != nil {
		f.t.Fatalf("cycle failed: %v\nlog:\n%s", err, f.logs)
	}
	return rep
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// world is what the cycle leaves behind that anyone can see: the PRs and
// the fork's branches, the statuses on their heads.
type world struct {
	PRs      []githubtest.PullRequest
	Branches map[string]string
	Statuses map[string][]githubtest.Status
	Labels   []string
}

func (f *fixture) world() world {
	w := world{PRs: f.gh.PRs("NixOS", "nixpkgs"), Branches: f.forkBranches(), Statuses: map[string][]githubtest.Status{}, Labels: f.gh.Labels("NixOS", "nixpkgs")}
	for _, p := range w.PRs {
		w.Statuses[p.HeadSHA] = f.gh.Statuses("NixOS", "nixpkgs", p.HeadSHA)
	}
	return w
}

// forkBranches are the fork's kupdate/ branches: name -> commit.
func (f *fixture) forkBranches() map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(gitOut(f.t, f.gh.RepoDir("kupdate-bot", "nixpkgs"), "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/kupdate/"), "\n") {
		if name, sha, ok := strings.Cut(line, " "); ok {
			out[name] = sha
		}
	}
	return out
}

// writes are the GitHub API requests that were not reads.
func (f *fixture) writes() []string {
	var out []string
	for _, r := range f.gh.Requests() {
		if r.Method != "GET" {
			out = append(out, r.String())
		}
	}
	return out
}

func gitOut(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// stable replaces what changes between runs (the servers' ports, the cache
// directory) in text.
func (f *fixture) stable(s string) string {
	s = strings.ReplaceAll(s, f.forkURL, "FORK")
	s = strings.ReplaceAll(s, f.gh.URL(), "GITHUB")
	s = strings.ReplaceAll(s, f.ko.URL, "KERNELORG")
	s = strings.ReplaceAll(s, f.cache, "CACHE")
	return s
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
