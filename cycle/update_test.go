package cycle_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

const kernelsJSON = "pkgs/os-specific/linux/kernel/kernels-org.json"

// updateOptions are Update's options in this world: Nix fetches from
// mirror (kernel.org when "").
func (f *fixture) updateOptions(mirror string, more ...func(*cycle.UpdateOptions)) cycle.UpdateOptions {
	if mirror == "" {
		mirror = f.ko.URL
	}
	o := cycle.UpdateOptions{
		Log:      slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv:   f.options().Getenv, // the token for linux-hardened's releases
		Now:      func() time.Time { return epoch },
		BuildEnv: []string{"KUPDATE_KERNEL_MIRROR=" + mirror, "KUPDATE_GITHUB_MIRROR=" + f.gh.URL()},
	}
	for _, m := range more {
		m(&o)
	}
	return o
}

// checkout is a maintainer's clone of upstream's staging-nixos.
func (f *fixture) checkout(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "nixpkgs")
	gitOut(t, ".", "clone", "--quiet", "--branch", "staging-nixos", f.gh.GitURL("NixOS", "nixpkgs"), dir)
	return dir
}

// written is rep as Write writes it, its commits named by plan order (their
// messages carry kernel.org's ChangeLog URL, whose port changes).
func written(t *testing.T, rep *cycle.UpdateReport) string {
	t.Helper()
	var b strings.Builder
	must(t, rep.Write(&b))
	s := b.String()
	for i, c := range rep.Changes {
		if c.Commit != "" {
			s = strings.ReplaceAll(s, c.Commit[:12], fmt.Sprintf("COMMIT-%d", i+1))
		}
	}
	return s
}

func outcomes(rep *cycle.UpdateReport) []string {
	var out []string
	for _, c := range rep.Changes {
		switch {
		case c.Err != nil:
			out = append(out, c.Change.Title+": failed")
		case c.Commit != "":
			out = append(out, c.Change.Title+": committed")
		default:
			out = append(out, c.Change.Title+": applied")
		}
	}
	return out
}

// Update commits each change on the checkout's branch, in plan order, with
// nixpkgs' titles, kupdate's identity and the given clock, and leaves the
// checkout clean; a second run has nothing to do; a release whose hash
// cannot be verified is held back, and that is the update's failure.
func TestUpdate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := f.checkout(t)
	head := gitOut(t, dir, "rev-parse", "HEAD")
	rep, err := cycle.Update(context.Background(), f.cfg, dir, f.updateOptions(""))
	if err != nil {
		t.Fatalf("Update: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
	golden(t, "update.txt", written(t, rep))
	var want, lines []string
	seen := map[string]bool{}
	for _, c := range rep.Changes {
		want = append(want, c.Commit+" "+c.Change.Title)
		lines = append(lines, "committed "+c.Commit[:12]+": "+c.Change.Title)
		if seen[c.Commit] {
			t.Errorf("commit %s reported for two changes", c.Commit)
		}
		seen[c.Commit] = true
	}
	// Each line names its own commit.
	var b strings.Builder
	must(t, rep.Write(&b))
	if got := strings.TrimSuffix(b.String(), "\n"); got != strings.Join(lines, "\n") {
		t.Errorf("Write:\n%s\nwant:\n%s", got, strings.Join(lines, "\n"))
	}
	if got := gitOut(t, dir, "log", "--reverse", "--format=%H %s", head+"..HEAD"); got != strings.Join(want, "\n") {
		t.Errorf("commits, oldest first:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if got := gitOut(t, dir, "log", "-1", "--format=%an <%ae> %aI %cI"); got != "kupdate <kupdate@users.noreply.github.com> 2026-01-10T09:30:00Z 2026-01-10T09:30:00Z" && got != "kupdate <kupdate@users.noreply.github.com> 2026-01-10T09:30:00+00:00 2026-01-10T09:30:00+00:00" {
		t.Errorf("last commit: %s", got)
	}
	if got := gitOut(t, dir, "status", "--porcelain", "--untracked-files=all"); got != "" {
		t.Errorf("the checkout is not clean:\n%s", got)
	}
	if got := gitOut(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/staging-nixos" {
		t.Errorf("HEAD = %s", got)
	}

	rep, err = cycle.Update(context.Background(), f.cfg, dir, f.updateOptions(""))
	if err != nil || rep.Err() != nil || written(t, rep) != "nothing to do\n" {
		t.Errorf("second run: %v, %v\n%s", err, rep.Err(), written(t, rep))
	}

	must(t, f.ko.Upsert(kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}))
	f.ko.SetFault(kernelorgtest.ChecksumsPath("6.12.66"), kernelorgtest.Fault{TamperPlaintext: true})
	rep, err = cycle.Update(context.Background(), f.cfg, dir, f.updateOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	if got := written(t, rep); !strings.HasPrefix(got, "nothing to do\nheld: 6.12: no verified hash for 6.12.66: ") {
		t.Errorf("a tampered checksum list:\n%s", got)
	}
	if err := rep.Err(); errText(err) != `1 change(s) held back by failures (see "held:" above; they are retried next run)` {
		t.Errorf("Err() = %v", err)
	}
}

// A change that does not evaluate is rolled back: not committed, nothing of
// it left in the checkout; the others go on. Without committing, the others
// stay in the tree.
func TestUpdateRollsBackFailingChange(t *testing.T) {
	t.Parallel()
	// 6.19-rc6 is evaluated by this test only: Nix must not have its
	// snapshot. kernel.org serves it to kupdate's hashing; the mirror Nix
	// fetches from does not have it.
	f := newFixture(t, specs(kernelorgtest.Spec{Version: "6.19-rc6"})...)
	u, err := url.Parse(f.ko.URL)
	must(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == kernelorgtest.TarballPath("6.19-rc6") {
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(mirror.Close)
	const failing = "linux_testing: 6.19-rc4 -> 6.19-rc6"
	want := []string{"linux_testing: 6.19-rc4 -> 6.19-rc6: failed", "linux_6_18: 6.18.5 -> 6.18.6: committed", "linux_6_12: 6.12.64 -> 6.12.65: committed"}
	original, err := os.ReadFile(filepath.Join("../testdata/nixpkgs", kernelsJSON))
	must(t, err)

	t.Run("commit", func(t *testing.T) {
		dir := f.checkout(t)
		head := gitOut(t, dir, "rev-parse", "HEAD")
		rep, err := cycle.Update(context.Background(), f.cfg, dir, f.updateOptions(mirror.URL))
		if err != nil {
			t.Fatalf("Update: %v\n%s", err, f.logs)
		}
		if d := cmp.Diff(want, outcomes(rep)); d != "" {
			t.Errorf("outcomes (-want +got):\n%s", d)
		}
		if e := rep.Changes[0].Err; !strings.Contains(errText(e), failing+": evaluating what it touched failed") {
			t.Errorf("the failure: %v", e)
		}
		if got := gitOut(t, dir, "log", "--format=%s", head+"..HEAD"); got != "linux_6_12: 6.12.64 -> 6.12.65\nlinux_6_18: 6.18.5 -> 6.18.6" {
			t.Errorf("commits:\n%s", got)
		}
		if got := gitOut(t, dir, "status", "--porcelain", "--untracked-files=all"); got != "" {
			t.Errorf("the rolled-back change left:\n%s", got)
		}
		if err := rep.Err(); errText(err) != "1 change(s) failed and were neither committed nor left in the checkout" {
			t.Errorf("Err() = %v", err)
		}
		if got := written(t, rep); !strings.HasPrefix(got, "failed: "+failing+": "+failing+": evaluating what it touched failed") ||
			!strings.HasSuffix(got, "\ncommitted COMMIT-2: linux_6_18: 6.18.5 -> 6.18.6\ncommitted COMMIT-3: linux_6_12: 6.12.64 -> 6.12.65\n") {
			t.Errorf("Write:\n%s", got)
		}
	})
	t.Run("no commit", func(t *testing.T) {
		dir := f.checkout(t)
		head := gitOut(t, dir, "rev-parse", "HEAD")
		rep, err := cycle.Update(context.Background(), f.cfg, dir, f.updateOptions(mirror.URL, func(o *cycle.UpdateOptions) { o.NoCommit = true }))
		if err != nil {
			t.Fatalf("Update: %v\n%s", err, f.logs)
		}
		applied := strings.ReplaceAll(strings.Join(want, "\n"), ": committed", ": applied")
		if got := strings.Join(outcomes(rep), "\n"); got != applied {
			t.Errorf("outcomes:\n%s\nwant:\n%s", got, applied)
		}
		if got := gitOut(t, dir, "rev-parse", "HEAD"); got != head {
			t.Errorf("HEAD moved to %s", got)
		}
		if got := gitOut(t, dir, "status", "--porcelain", "--untracked-files=all"); got != "M "+kernelsJSON {
			t.Errorf("status:\n%s", got)
		}
		// Exactly the two bumps: the testing entry is as it was.
		got, err := os.ReadFile(filepath.Join(dir, kernelsJSON))
		must(t, err)
		if d := cmp.Diff(strings.Split(string(original), "\n"), strings.Split(string(got), "\n")); !strings.Contains(d, "6.18.6") || !strings.Contains(d, "6.12.65") || strings.Contains(d, "rc") {
			t.Errorf("kernels-org.json (-before +after):\n%s", d)
		}
		if err := rep.Err(); errText(err) != "1 change(s) failed and were rolled back" {
			t.Errorf("Err() = %v", err)
		}
	})
}

// Uncommitted work in a file kupdate would change: refused before anything
// is written, naming the files (gitops' check); a tree that is not a
// checkout is refused unless nothing is to be committed.
func TestUpdateRefusesDirtyCheckout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := f.checkout(t)
	must(t, os.WriteFile(filepath.Join(dir, kernelsJSON), []byte("{}\n"), 0o644))
	aliases := filepath.Join(dir, "pkgs/top-level/aliases.nix")
	orig, err := os.ReadFile(aliases)
	must(t, err)
	must(t, os.WriteFile(aliases, append(orig, "# mine\n"...), 0o644))
	gitOut(t, dir, "add", "pkgs/top-level/aliases.nix")
	before := checkoutState(t, dir)
	rep, err := cycle.Update(context.Background(), f.cfg, dir, f.updateOptions(""))
	want := fmt.Sprintf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s, pkgs/top-level/aliases.nix (staged); commit or stash them (or pass --no-commit), then run kupdate again", dir, kernelsJSON)
	if rep != nil || errText(err) != want {
		t.Errorf("Update: %v, error:\n%v\nwant:\n%s", rep, err, want)
	}
	var dirty *gitops.DirtyError
	if !errors.As(err, &dirty) {
		t.Errorf("%T is not a *gitops.DirtyError", err)
	}
	if d := cmp.Diff(before, checkoutState(t, dir)); d != "" {
		t.Errorf("the checkout changed (-before +after):\n%s", d)
	}

	plain := t.TempDir()
	must(t, os.CopyFS(plain, os.DirFS("../testdata/nixpkgs")))
	if _, err := cycle.Update(context.Background(), f.cfg, plain, f.updateOptions("")); !strings.Contains(errText(err), "(pass --no-commit to edit a tree without committing)") {
		t.Errorf("a tree that is not a checkout: %v", err)
	}
}

// PlanUpdate plans for the files as they are, and names the commit checked
// out ("" for a tree that is not a checkout).
func TestPlanUpdate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := f.checkout(t)
	plain := t.TempDir()
	must(t, os.CopyFS(plain, os.DirFS("../testdata/nixpkgs")))
	var titles [2][]string
	for i, d := range []string{dir, plain} {
		p, err := cycle.PlanUpdate(context.Background(), f.cfg, d, f.updateOptions(""))
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if d == dir {
			want = gitOut(t, dir, "rev-parse", "HEAD")
		}
		if p.Base != want || p.Err() != nil {
			t.Errorf("%s: Base = %q, want %q; Err() = %v", d, p.Base, want, p.Err())
		}
		for _, c := range p.Changes {
			titles[i] = append(titles[i], c.Title)
		}
	}
	if want := []string{"linux_6_18: 6.18.5 -> 6.18.6", "linux_6_12: 6.12.64 -> 6.12.65", "linux_6_19: init at 6.19"}; !cmp.Equal(titles[0], want) || !cmp.Equal(titles[1], want) {
		t.Errorf("changes: %q and %q, want %q", titles[0], titles[1], want)
	}
}

// With Build, the kernels of the changes that stuck are built in the tree:
// a line per change, the failure's log tail, the update's failure; the
// commits stay.
func TestUpdateBuild(t *testing.T) {
	t.Parallel()
	// 6.18.92 is built by this test only: Nix must not have its tarball.
	f := newFixture(t, specs(kernelorgtest.Spec{Version: "6.18.92"})...)
	f.ko.SetFault(kernelorgtest.TarballPath("6.18.92"), kernelorgtest.Fault{Body: []byte("not the tarball kernel.org signed\n")})
	dir := f.checkout(t)
	var mu sync.Mutex
	var progress []string
	rep, err := cycle.Update(context.Background(), f.cfg, dir, f.updateOptions("", func(o *cycle.UpdateOptions) {
		o.Build = true
		o.Progress = func(p build.Progress) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, p.String())
		}
	}))
	if err != nil {
		t.Fatalf("Update: %v\n%s", err, f.logs)
	}
	var lines []string
	for _, b := range rep.Builds {
		lines = append(lines, b.Change.Title+": "+fmt.Sprint(b.OK()))
	}
	if want := []string{"linux_6_18: 6.18.5 -> 6.18.92: false", "linux_6_12: 6.12.64 -> 6.12.65: true", "linux_6_19: init at 6.19: true"}; !cmp.Equal(lines, want) {
		t.Errorf("builds: %q, want %q", lines, want)
	}
	got := written(t, rep)
	for _, want := range []string{
		"build linux_6_19: init at 6.19: passed\n",
		"build linux_6_18: 6.18.5 -> 6.18.92: linux_6_18 configfile failed: ",
		"build linux_6_12: 6.12.64 -> 6.12.65: passed\n",
		"\n    ", // the log tail, indented
		"hash mismatch",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if err := rep.Err(); errText(err) != "a build failed (see above); the commits stay: fix them up or drop them with git" {
		t.Errorf("Err() = %v", err)
	}
	if n := len(strings.Split(gitOut(t, dir, "log", "--format=%s", "origin/staging-nixos..HEAD"), "\n")); n != 3 {
		t.Errorf("%d commits, want 3", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(progress) == 0 || !strings.Contains(strings.Join(progress, "\n"), "building linux_6_19 eval") {
		t.Errorf("progress:\n%s", strings.Join(progress, "\n"))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// In a maintainer's checkout, Update commits as the maintainer, as git
// would (the checkout's config over the global one), like update.sh with
// COMMIT=1; the commits still say kupdate prepared them.
func TestUpdateCommitsAsTheCheckoutsUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := f.checkout(t)
	home := t.TempDir()
	must(t, os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = Ada Maintainer\n\temail = ada@home.example\n"), 0o644))
	gitOut(t, dir, "config", "user.email", "ada@work.example")
	getenv := f.options().Getenv
	rep, err := cycle.Update(context.Background(), f.cfg, dir, f.updateOptions("", func(o *cycle.UpdateOptions) {
		o.Getenv = func(k string) string {
			switch k {
			case "HOME":
				return home
			case "GIT_CONFIG_NOSYSTEM":
				return "1"
			}
			return getenv(k)
		}
	}))
	if err != nil || rep.Err() != nil {
		t.Fatalf("Update: %v, %v\n%s", err, rep.Err(), f.logs)
	}
	got := gitOut(t, dir, "log", "--format=%an <%ae>|%cn <%ce>|%(trailers:key=Prepared-by,valueonly,separator=%x2C)", "origin/staging-nixos..HEAD")
	got = strings.ReplaceAll(got, "\n\n", "\n") // the trailer's own line end
	want := strings.TrimSuffix(strings.Repeat("Ada Maintainer <ada@work.example>|Ada Maintainer <ada@work.example>|kupdate\n", 3), "\n")
	if got != want {
		t.Errorf("authors, committers, trailers:\n%s\nwant:\n%s", got, want)
	}
}

// With --no-commit a staged edit of a file kupdate would change is refused
// too (the index would keep it beneath kupdate's edit, stale); once it is
// unstaged, the worktree edit is built upon.
func TestUpdateNoCommitRefusesStaged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := f.checkout(t)
	path := filepath.Join(dir, kernelsJSON)
	orig, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(path, append(orig, '\n'), 0o644))
	gitOut(t, dir, "add", kernelsJSON)
	before := checkoutState(t, dir)
	noCommit := func(o *cycle.UpdateOptions) { o.NoCommit = true }
	rep, err := cycle.Update(context.Background(), f.cfg, dir, f.updateOptions("", noCommit))
	want := fmt.Sprintf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s (staged); commit or stash them (or unstage them with git restore --staged to have kupdate edit on top of them), then run kupdate again", dir, kernelsJSON)
	if rep != nil || errText(err) != want {
		t.Errorf("Update --no-commit: %v, error:\n%v\nwant:\n%s", rep, err, want)
	}
	if d := cmp.Diff(before, checkoutState(t, dir)); d != "" {
		t.Errorf("the checkout changed (-before +after):\n%s", d)
	}

	gitOut(t, dir, "restore", "--staged", kernelsJSON)
	rep, err = cycle.Update(context.Background(), f.cfg, dir, f.updateOptions("", noCommit))
	if err != nil {
		t.Fatalf("Update --no-commit on an unstaged edit: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
	if got := gitOut(t, dir, "diff", "--cached", "--name-only"); got != "" {
		t.Errorf("staged after --no-commit: %q", got)
	}
}
