package gitops_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/gitops/gittest"
)

// The benchmark's steps run in a child process (this test binary again, or
// the git CLI) so that each one's peak RSS can be read from its rusage.
const childEnv = "KUPDATE_GITOPS_BENCH_CHILD"

func TestMain(m *testing.M) {
	if step := os.Getenv(childEnv); step != "" {
		if err := benchChild(step); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchChild is one step of kupdate's git work, as the service does it.
func benchChild(step string) error {
	ctx := context.Background()
	dir, upstream, fork := os.Getenv("BENCH_DIR"), os.Getenv("BENCH_UPSTREAM"), os.Getenv("BENCH_FORK")
	r, err := gitops.OpenManaged(ctx, dir, gitops.Remote{URL: upstream}, base, gitops.Options{Identity: id})
	if err != nil {
		return err
	}
	defer r.Close()
	switch step {
	case "clone":
		return nil
	case "export":
		return r.Export(ctx, r.Base(), filepath.Join(dir, "tree"))
	}
	plan := []gitops.Commit{
		bumpCommit("linux_6_12", "6.12", "6.12.63", "6.12.64", json1),
		bumpCommit("linux_6_18", "6.18", "6.18.2", "6.18.3", json2),
	}
	var built []gitops.BuiltBranch
	for _, b := range gitops.PlanBranches(base, plan) {
		bb, err := r.Build(ctx, r.Base(), b)
		if err != nil {
			return err
		}
		built = append(built, bb)
	}
	for _, res := range r.Push(ctx, gitops.Remote{URL: fork}, built) {
		if res.Outcome != gitops.Pushed {
			return fmt.Errorf("%s: %s: %v", res.Branch, res.Outcome, res.Err)
		}
	}
	return nil
}

// cliCycle is the same cycle with the git CLI: fetch, two commits built
// through a temporary index (no worktree), push with a lease.
const cliCycle = `set -e
git fetch -q --depth 1 "$BENCH_UPSTREAM" "+refs/heads/$BASE:refs/heads/$BASE"
export GIT_INDEX_FILE="$BENCH_DIR/kupdate-index"
git read-tree "refs/heads/$BASE"
parent=$(git rev-parse "refs/heads/$BASE")
for v in 1 2; do
	blob=$(printf '{ "v": %s }\n' $v | git hash-object -w --stdin)
	git update-index --cacheinfo "100644,$blob,pkgs/os-specific/linux/kernel/kernels-org.json"
	parent=$(printf 'bump %s\n' $v | git commit-tree "$(git write-tree)" -p "$parent")
done
rm -f "$GIT_INDEX_FILE"
git push -q --force-with-lease="refs/heads/kupdate/$BASE/updates:" "$BENCH_FORK" "$parent:refs/heads/kupdate/$BASE/updates"
`

// cliExport is the export with the git CLI: fetch, then the base's files
// into a directory.
const cliExport = `set -e
git fetch -q --depth 1 "$BENCH_UPSTREAM" "+refs/heads/$BASE:refs/heads/$BASE"
mkdir tree
git archive "refs/heads/$BASE" | tar -x -C tree
`

// run runs cmd and returns its peak RSS in MiB.
func run(b *testing.B, cmd *exec.Cmd) float64 {
	b.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// diskUsage is the bytes of the files below dir (0 if it does not exist).
func diskUsage(b *testing.B, dir string) int64 {
	b.Helper()
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// BenchmarkGit measures the git work of one cycle on a nixpkgs-sized
// repository (40,000 files, 300 commits), go-git next to the git CLI, both
// over smart HTTP to the real git http-backend:
//
//   - clone: the first cycle's shallow, single-branch, bare clone;
//   - cycle: a later cycle on the kept clone, after upstream changed 200
//     files: fetch the base, build 2 commits, push them to the fork;
//   - export: the same fetch, then the base's 40,000 files written into a
//     directory for Nix (Repo.Export; git archive | tar -x).
//
// Each step runs in a child process; peak-MiB is its peak RSS. Run:
//
//	go test ./gitops -run '^$' -bench BenchmarkGit -benchtime 3x
func BenchmarkGit(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	start := time.Now()
	upstream := filepath.Join(root, "upstream.git")
	if err := (gittest.Synth{Files: 40000, Commits: 300, Branch: base, Seed: 1}).Generate(ctx, upstream); err != nil {
		b.Fatal(err)
	}
	gitCmd(b, root, "clone", "-q", "--bare", "--shared", upstream, filepath.Join(root, "fork.git"))
	b.Logf("generated the repository in %s", time.Since(start).Round(time.Millisecond))
	srv := httptest.NewServer(&gittest.Handler{Root: root})
	defer srv.Close()
	upURL, forkURL := srv.URL+"/upstream.git", srv.URL+"/fork.git"

	// The kept clones the cycles start from, made before upstream moves.
	kept := map[string]string{"go-git": filepath.Join(root, "kept-gogit"), "git-cli": filepath.Join(root, "kept-cli")}
	if err := benchCmd("go-git", "clone", kept["go-git"], upURL, forkURL).Run(); err != nil {
		b.Fatal(err)
	}
	gitCmd(b, root, "clone", "-q", "--bare", "--depth", "1", "--single-branch", "--branch", base, upURL, kept["git-cli"])
	moved := map[string][]byte{}
	files := strings.Split(gitCmd(b, upstream, "ls-tree", "-r", "--name-only", base), "\n")
	for i := 0; i < 200; i++ {
		moved[files[(i*197)%len(files)]] = []byte(fmt.Sprintf("{ changed = %d; }\n", i))
	}
	if err := gittest.Commit(ctx, upstream, base, "upstream moves", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), moved); err != nil {
		b.Fatal(err)
	}
	// A synced fork (the git CLI refuses to push from a shallow clone to a
	// remote whose refs do not reach the base: "shallow update not allowed").
	gitCmd(b, root, "--git-dir=fork.git", "update-ref", "refs/heads/"+base, gitCmd(b, upstream, "rev-parse", base))

	for _, step := range []string{"clone", "cycle", "export"} {
		for _, tool := range []string{"go-git", "git-cli"} {
			b.Run(step+"/"+tool, func(b *testing.B) {
				var peak float64
				var grew int64
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					dir := filepath.Join(b.TempDir(), "clone")
					if step != "clone" {
						if out, err := exec.Command("cp", "-a", kept[tool], dir).CombinedOutput(); err != nil {
							b.Fatalf("cp: %v %s", err, out)
						}
						gitRun(filepath.Join(root, "fork.git"), "update-ref", "-d", "refs/heads/kupdate/"+base+"/updates")
					}
					cmd := benchCmd(tool, step, dir, upURL, forkURL)
					before := diskUsage(b, dir)
					b.StartTimer()
					rss := run(b, cmd)
					b.StopTimer()
					peak = max(peak, rss)
					grew = max(grew, diskUsage(b, dir)-before)
					b.StartTimer()
				}
				b.ReportMetric(peak, "peak-MiB")
				// What the step added to the clone: the whole snapshot for a
				// clone, only what changed for a cycle's fetch.
				b.ReportMetric(float64(grew)/1024, "disk-KiB")
			})
		}
	}
}

func benchCmd(tool, step, dir, upURL, forkURL string) *exec.Cmd {
	var cmd *exec.Cmd
	switch {
	case tool == "go-git":
		cmd = exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+step)
	case step == "clone":
		cmd = exec.Command("git", "clone", "-q", "--bare", "--depth", "1", "--single-branch", "--branch", base, upURL, dir)
	case step == "export":
		cmd = exec.Command("sh", "-c", cliExport)
		cmd.Dir = dir
	default:
		cmd = exec.Command("sh", "-c", cliCycle)
		cmd.Dir = dir
	}
	cmd.Env = append(cmd.Env, os.Environ()...)
	cmd.Env = append(cmd.Env, "BENCH_DIR="+dir, "BENCH_UPSTREAM="+upURL, "BENCH_FORK="+forkURL, "BASE="+base,
		"GIT_AUTHOR_NAME=kupdate", "GIT_AUTHOR_EMAIL=kupdate@example.org",
		"GIT_COMMITTER_NAME=kupdate", "GIT_COMMITTER_EMAIL=kupdate@example.org", "GIT_CONFIG_NOSYSTEM=1")
	return cmd
}
