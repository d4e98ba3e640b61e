package workflow_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/workflow"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var epoch = time.Date(2026, 1, 10, 9, 30, 0, 0, time.UTC)

const token = "ghp_kupdate_test_token"

// clock is a settable clock shared by the simulator and the workflow.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fixture is upstream NixOS/nixpkgs (master, staging-nixos, release-25.05,
// release-25.11) and the fork kupdate-bot/nixpkgs that kupdate pushes to,
// both real bare repositories behind the simulator.
type fixture struct {
	t     testing.TB
	sim   *githubtest.Server
	cfg   *config.Config
	clock *clock
	work  string // a clone of the fork, for pushing branches with the git CLI
	opts  workflow.Options
}

func newFixture(t testing.TB, configure ...func(*config.Config)) *fixture {
	t.Helper()
	clk := &clock{t: epoch}
	sim, err := githubtest.New(githubtest.Options{Root: t.TempDir(), Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	f := &fixture{t: t, sim: sim, clock: clk}
	must(t, sim.CreateRepo("NixOS", "nixpkgs", "master"))
	_, err = sim.Commit("NixOS", "nixpkgs", "master", map[string]string{
		"pkgs/os-specific/linux/kernel/kernels-org.json": kernelsJSON(map[string]string{"linux_6_12": "6.12.63", "linux_6_18": "6.18.2"}),
	}, "init nixpkgs")
	must(t, err)
	for _, b := range []string{"staging-nixos", "release-25.05", "release-25.11"} {
		must(t, sim.CreateBranch("NixOS", "nixpkgs", b, "master"))
	}
	must(t, sim.ForkRepo("NixOS", "nixpkgs", "kupdate-bot"))
	sim.AddToken(token, "kupdate-bot")

	f.work = filepath.Join(t.TempDir(), "work")
	f.git("", "clone", "--quiet", sim.GitURL("kupdate-bot", "nixpkgs"), f.work)

	cfg := config.Default()
	cfg.GitHub.APIURL = sim.APIURL()
	cfg.GitHub.ForkOwner = "kupdate-bot"
	cfg.GitHub.TokenEnv = "KUPDATE_TEST_GITHUB_TOKEN"
	for _, c := range configure {
		c(&cfg)
	}
	f.cfg = &cfg
	f.opts = workflow.Options{
		Getenv: func(k string) string {
			if k == "KUPDATE_TEST_GITHUB_TOKEN" {
				return token
			}
			return ""
		},
		Clock:     clk.Now,
		Transport: sim.Client().Transport,
		Backoff:   time.Millisecond,
		Platform:  "x86_64-linux",
	}
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) workflow() *workflow.Workflow {
	f.t.Helper()
	w, err := workflow.New(f.cfg, f.opts)
	must(f.t, err)
	return w
}

// git runs the git CLI in the work clone with a fixed identity and date, so
// commit ids (which the golden bodies show) are the same on every run.
func (f *fixture) git(dir string, args ...string) string {
	f.t.Helper()
	if dir == "" {
		dir = f.work
	}
	cmd := exec.Command("git", args...)
	if _, err := os.Stat(dir); err == nil {
		cmd.Dir = dir
	}
	date := epoch.Format(time.RFC3339)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=kupdate", "GIT_AUTHOR_EMAIL=kupdate@users.noreply.github.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=kupdate", "GIT_COMMITTER_EMAIL=kupdate@users.noreply.github.com", "GIT_COMMITTER_DATE="+date)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		f.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// kernelsJSON is a small stand-in for kernels-org.json: attribute -> version.
func kernelsJSON(v map[string]string) string {
	var b strings.Builder
	b.WriteString("{\n")
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		sep := ","
		if i == len(keys)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %q: %q%s\n", k, v[k], sep)
	}
	b.WriteString("}\n")
	return b.String()
}

// push does what gitops does for a rolling branch: one commit per change on
// top of the fork's staging-nixos, force-pushed over smart HTTP to branch.
// It returns the BranchUpdate gitops would report.
func (f *fixture) push(branch string, cs ...family.Change) workflow.BranchUpdate {
	f.t.Helper()
	f.git("", "checkout", "--quiet", "-B", "work", "origin/staging-nixos")
	v := map[string]string{"linux_6_12": "6.12.63", "linux_6_18": "6.18.2"}
	for _, c := range cs {
		v[c.Attr] = c.To
		path := filepath.Join(f.work, "pkgs/os-specific/linux/kernel/kernels-org.json")
		must(f.t, os.WriteFile(path, []byte(kernelsJSON(v)), 0o644))
		f.git("", "commit", "--quiet", "-a", "-m", c.Title)
	}
	f.git("", "push", "--quiet", "--force", "origin", "work:refs/heads/"+branch)
	return workflow.BranchUpdate{Branch: branch, Head: f.git("", "rev-parse", "HEAD"), Changes: cs, Pushed: true}
}

func bump(attr, from, to string) family.Change {
	series := to[:strings.LastIndex(to, ".")]
	return vanilla.Made(family.Change{
		Kind: vanilla.Bump, Attr: attr, Branch: series, From: from, To: to, Hash: "sha256:0000000000000000000000000000000000000000000000000000",
		Files:     []string{"pkgs/os-specific/linux/kernel/kernels-org.json"},
		ChangeLog: "https://cdn.kernel.org/pub/linux/kernel/v6.x/ChangeLog-" + to, Build: []string{attr},
	})
}

// passed is a build report where every tier of every attribute passed.
func passed(attrs ...string) build.Report {
	var r build.Report
	for _, a := range attrs {
		for _, tier := range []string{"eval", "configfile"} {
			r.Results = append(r.Results, build.Result{Attr: a, Tier: tier, Status: build.Passed, Duration: 3 * time.Second,
				Command: []string{"nix-build", "-A", "linuxKernel.kernels." + a}})
		}
	}
	return r
}

const rolling = "kupdate/staging-nixos/updates"

// requests are the API requests made since the last call, as
// "METHOD path?query status".
func (f *fixture) requests() []string {
	var out []string
	for _, r := range f.sim.Requests() {
		out = append(out, fmt.Sprintf("%s %d", r, r.Status))
	}
	f.sim.ResetRequests()
	return out
}

func (f *fixture) wantRequests(want ...string) {
	f.t.Helper()
	if diff := cmp.Diff(want, f.requests()); diff != "" {
		f.t.Errorf("API requests (-want +got):\n%s", diff)
	}
}

// writes are the non-GET requests among reqs.
func writes(reqs []githubtest.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Method != "GET" {
			out = append(out, r.String())
		}
	}
	return out
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

func syncOK(t testing.TB, w *workflow.Workflow, us ...workflow.BranchUpdate) []workflow.PRResult {
	t.Helper()
	res, err := w.Sync(context.Background(), us)
	must(t, err)
	return res
}

// stable replaces the simulator's address (a random port) in text.
func (f *fixture) stable(text string) string {
	return strings.ReplaceAll(text, f.sim.URL()+"/", "https://github.com/")
}
