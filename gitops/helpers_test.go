package gitops_test

import (
	"context"
	"flag"
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

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/gitops/gittest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	base       = "staging-nixos"
	kernelsOrg = "pkgs/os-specific/linux/kernel/kernels-org.json"
	kernelsNix = "pkgs/top-level/linux-kernels.nix"
	aliases    = "pkgs/top-level/aliases.nix"
	token      = "s3cret-push-token"
)

var id = gitops.Identity{Name: "kupdate", Email: "kupdate@users.noreply.github.com"}

// at is a clock fixed at t, for exact hashes.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

var day1 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func opts(now time.Time) gitops.Options {
	return gitops.Options{Identity: id, Now: at(now)}
}

// gitCmd runs the git CLI in dir and returns its trimmed output.
func gitCmd(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := gitRun(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gitRun(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Maintainer", "GIT_AUTHOR_EMAIL=maintainer@example.org",
		"GIT_COMMITTER_NAME=Maintainer", "GIT_COMMITTER_EMAIL=maintainer@example.org",
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+os.TempDir())
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// world is an upstream nixpkgs and a fork, bare repositories served over
// file:// or smart HTTP (the real git http-backend).
type world struct {
	t                  *testing.T
	root               string
	upstream, fork     string // bare repository directories
	upstreamURL        string
	forkURL            string
	receivePacks       atomic.Int64 // receive-pack requests (HTTP only)
	mu                 sync.Mutex
	hook               func(w http.ResponseWriter, r *http.Request) bool
	cache              string // where the managed clone goes
	overHTTP           bool
	upstreamFetchBytes atomic.Int64 // bytes of upload-pack answers from upstream (HTTP only)
}

func newWorld(t *testing.T, proto string) *world {
	t.Helper()
	w := &world{t: t, root: t.TempDir(), cache: filepath.Join(t.TempDir(), "nixpkgs.git")}
	w.upstream = filepath.Join(w.root, "upstream.git")
	w.fork = filepath.Join(w.root, "fork.git")
	if err := (gittest.Synth{Files: 400, Commits: 3, Branch: base, Seed: 7}).Generate(context.Background(), w.upstream); err != nil {
		t.Fatal(err)
	}
	// The fork borrows upstream's objects, as a GitHub fork does: a branch
	// on upstream's newest commit is pushable without sending its history.
	gitCmd(t, w.root, "clone", "-q", "--bare", "--shared", w.upstream, w.fork)
	switch proto {
	case "file":
		w.upstreamURL, w.forkURL = "file://"+w.upstream, "file://"+w.fork
	case "http":
		w.overHTTP = true
		h := &gittest.Handler{Root: w.root, Hook: func(rw http.ResponseWriter, r *http.Request) bool {
			if strings.Contains(r.URL.String(), "git-receive-pack") {
				w.receivePacks.Add(1)
			}
			w.mu.Lock()
			hook := w.hook
			w.mu.Unlock()
			if hook != nil && hook(rw, r) {
				return true
			}
			if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/upstream.git/git-upload-pack") {
				(&gittest.Handler{Root: w.root}).ServeHTTP(countingWriter{rw, &w.upstreamFetchBytes}, r)
				return true
			}
			return false
		}}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		w.upstreamURL, w.forkURL = srv.URL+"/upstream.git", srv.URL+"/fork.git"
	default:
		t.Fatalf("unknown protocol %q", proto)
	}
	return w
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	c.n.Add(int64(len(b)))
	return c.ResponseWriter.Write(b)
}

func (w *world) setHook(h func(http.ResponseWriter, *http.Request) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hook = h
}

func (w *world) upstreamRemote() gitops.Remote { return gitops.Remote{URL: w.upstreamURL} }
func (w *world) forkRemote() gitops.Remote {
	return gitops.Remote{URL: w.forkURL, Auth: gitops.TokenAuth(token)}
}

func (w *world) open(now time.Time) *gitops.Repo {
	w.t.Helper()
	r, err := gitops.OpenManaged(context.Background(), w.cache, w.upstreamRemote(), base, opts(now))
	if err != nil {
		w.t.Fatalf("OpenManaged: %v", err)
	}
	w.t.Cleanup(func() { r.Close() })
	return r
}

// cycle opens the managed clone, builds the plan's branches on the base and
// pushes them.
func (w *world) cycle(now time.Time, plan []gitops.Commit) (*gitops.Repo, []gitops.BuiltBranch, []gitops.PushResult) {
	w.t.Helper()
	r := w.open(now)
	built := build(w.t, r, plan)
	return r, built, r.Push(context.Background(), w.forkRemote(), built)
}

func build(t *testing.T, r *gitops.Repo, plan []gitops.Commit) []gitops.BuiltBranch {
	t.Helper()
	var built []gitops.BuiltBranch
	for _, b := range gitops.PlanBranches(base, plan) {
		bb, err := r.Build(context.Background(), r.Base(), b)
		if err != nil {
			t.Fatalf("Build %s: %v", b.Name, err)
		}
		built = append(built, bb)
	}
	return built
}

// upstreamCommit adds a commit to upstream's base branch that changes an
// unrelated file, as nixpkgs moves between cycles.
func (w *world) upstreamCommit(msg string, files map[string][]byte) string {
	w.t.Helper()
	if err := gittest.Commit(context.Background(), w.upstream, base, msg, day1, files); err != nil {
		w.t.Fatal(err)
	}
	return gitCmd(w.t, w.upstream, "rev-parse", base)
}

// Sample changes, shaped like the planner's.

func bumpCommit(attr, branch, from, to, content string) gitops.Commit {
	return gitops.Commit{
		Change: vanilla.Made(family.Change{
			Kind: vanilla.Bump, Attr: attr, Branch: branch, From: from, To: to,
			Hash:      "sha256:0000000000000000000000000000000000000000000000000000",
			Files:     []string{kernelsOrg},
			ChangeLog: "https://cdn.kernel.org/pub/linux/kernel/v6.x/ChangeLog-" + to,
		}),
		Files: map[string][]byte{kernelsOrg: []byte(content)},
	}
}

const (
	json1 = "{\n  \"6.12\": { \"version\": \"6.12.64\" }\n}\n"
	json2 = "{\n  \"6.12\": { \"version\": \"6.12.64\" },\n  \"6.18\": { \"version\": \"6.18.3\" }\n}\n"
	json3 = "{\n  \"6.12\": { \"version\": \"6.12.64\" },\n  \"6.18\": { \"version\": \"6.18.3\" },\n  \"7.0\": { \"version\": \"7.0\" }\n}\n"
)

// plan1 is two point releases and a new major (squashed: three files).
func plan1() []gitops.Commit {
	return []gitops.Commit{
		bumpCommit("linux_6_12", "6.12", "6.12.63", "6.12.64", json1),
		bumpCommit("linux_6_18", "6.18", "6.18.2", "6.18.3", json2),
		{
			Change: vanilla.Made(family.Change{
				Kind: vanilla.Init, Attr: "linux_7_0", Branch: "7.0", To: "7.0",
				Files: []string{kernelsOrg, aliases, kernelsNix},
			}),
			Files: map[string][]byte{
				kernelsOrg: []byte(json3),
				kernelsNix: []byte("{ linux_7_0 = callPackage ./kernel { version = \"7.0\"; }; }\n"),
				aliases:    []byte("{ linux_latest = linux_7_0; }\n"),
			},
		},
	}
}

func outcomes(rs []gitops.PushResult) map[string]gitops.Outcome {
	m := map[string]gitops.Outcome{}
	for _, r := range rs {
		m[r.Branch] = r.Outcome
	}
	return m
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func writeExecutable(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}
