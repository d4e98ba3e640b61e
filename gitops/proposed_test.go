package gitops_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
)

// A push reports what the fork's branch held before: kupdate's commits,
// oldest first, read from the fork when a fresh clone lacks them, as deep
// as the branch's Reach (the kept rule needs all of them, also when the
// branch as built now holds fewer).
func TestPushReadsPrevious(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, "http")
	w.cycle(day1, plan1())
	rolling := gitops.RollingBranch(base)
	proposed := []gitops.Proposed{
		{Key: family.Key{Family: "kernel.org", Attr: "linux_6_12", Target: "6.12.64"}, Title: "linux_6_12: 6.12.63 -> 6.12.64"},
		{Key: family.Key{Family: "kernel.org", Attr: "linux_6_18", Target: "6.18.3"}, Title: "linux_6_18: 6.18.2 -> 6.18.3"},
	}

	// A new process: the managed clone is fetched afresh and lacks the
	// fork's commits; the branch as built now holds one of the two.
	if err := os.RemoveAll(w.cache); err != nil {
		t.Fatal(err)
	}
	r := w.open(day1.Add(time.Hour))
	bs := build(t, r, plan1()[1:2])
	bs[0].Reach = 8
	rs := r.PushDryRun(ctx, w.forkRemote(), bs)
	if diff := cmp.Diff(proposed, rs[0].Previous); diff != "" {
		t.Errorf("Previous (-want +got):\n%s", diff)
	}
	if got := gitCmd(t, w.fork, "rev-parse", rolling); rs[0].Head.String() != got {
		t.Errorf("Head = %s, want the fork's %s", rs[0].Head, got)
	}

	// A maintainer's commit on top: kupdate's commits are not the head's.
	gitCmd(t, w.root, "clone", "-q", "--branch", rolling, w.fork, "work")
	work := filepath.Join(w.root, "work")
	if err := os.WriteFile(filepath.Join(work, "README"), []byte("fixup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, work, "add", "README")
	gitCmd(t, work, "commit", "-q", "-m", "fixup by a maintainer")
	gitCmd(t, work, "push", "-q", "origin", rolling)
	rs = r.PushDryRun(ctx, w.forkRemote(), bs)
	if rs[0].Outcome != gitops.SkippedForeign || len(rs[0].Previous) != 0 {
		t.Errorf("with a foreign head: %s, %+v", rs[0].Outcome, rs[0].Previous)
	}

	// The fork unreachable: an error naming it, without the token.
	rs = r.PushDryRun(ctx, gitops.Remote{URL: "http://127.0.0.1:1/fork.git"}, bs)
	if rs[0].Outcome != gitops.Rejected || rs[0].Err == nil || !startsWith(rs[0].Err.Error(), "reading the branches of http://127.0.0.1:1/fork.git: ") {
		t.Errorf("unreachable fork: %s, %v", rs[0].Outcome, rs[0].Err)
	}
}

// A branch an earlier kupdate pushed, its commits without the Key
// trailers: the same commits as far as a push goes (no force-push after an
// upgrade), and read back by their titles.
func TestLegacyCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, "http")
	legacy := plan1()
	for i := range legacy {
		legacy[i].Change.Key = family.Key{}
	}
	w.cycle(day1, legacy)
	rolling := gitops.RollingBranch(base)
	if msg := gitCmd(t, w.fork, "log", "-1", "--format=%B", rolling); strings.Contains(msg, "Kupdate-") {
		t.Fatalf("the legacy commit has a key:\n%s", msg)
	}

	r := w.open(day1.Add(time.Hour))
	rs := r.PushDryRun(ctx, w.forkRemote(), build(t, r, plan1()))
	if got := outcomes(rs); got[rolling] != gitops.Unchanged {
		t.Errorf("outcomes with keys over legacy commits: %v", got)
	}
	want := []gitops.Proposed{
		{Key: family.Key{Family: "kernel.org", Attr: "linux_6_12", Target: "6.12.64"}, Title: "linux_6_12: 6.12.63 -> 6.12.64"},
		{Key: family.Key{Family: "kernel.org", Attr: "linux_6_18", Target: "6.18.3"}, Title: "linux_6_18: 6.18.2 -> 6.18.3"},
	}
	if diff := cmp.Diff(want, rs[0].Previous); diff != "" {
		t.Errorf("Previous (-want +got):\n%s", diff)
	}
	// A changed change is still pushed over them.
	other := plan1()
	other[1] = bumpCommit("linux_6_18", "6.18", "6.18.2", "6.18.4", json2+" ")
	if got := outcomes(r.PushDryRun(ctx, w.forkRemote(), build(t, r, other))); got[rolling] != gitops.WouldPush {
		t.Errorf("outcomes of another change: %v", got)
	}
}

func startsWith(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

// UserIdentity resolves user.name and user.email as git does: system, then
// global (XDG, then ~/.gitconfig; GIT_CONFIG_GLOBAL instead), then the
// repository's config, each overriding the one before.
func TestUserIdentity(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	home := t.TempDir()
	xdg := filepath.Join(t.TempDir(), "xdg")
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	system := filepath.Join(t.TempDir(), "gitconfig")
	write(system, "[user]\n\tname = System User\n\temail = system@example.org\n")
	env := map[string]string{"HOME": home, "GIT_CONFIG_SYSTEM": system}
	getenv := func(k string) string { return env[k] }
	check := func(name string, want gitops.Identity, wantOK bool) {
		t.Helper()
		got, ok, err := gitops.UserIdentity(dir, getenv)
		if err != nil || ok != wantOK || got != want {
			t.Errorf("%s: UserIdentity = %+v, %v, %v; want %+v, %v", name, got, ok, err, want, wantOK)
		}
	}
	check("system only", gitops.Identity{Name: "System User", Email: "system@example.org"}, true)

	write(filepath.Join(home, ".config/git/config"), "[user]\n\temail = xdg@example.org\n")
	check("~/.config/git/config", gitops.Identity{Name: "System User", Email: "xdg@example.org"}, true)

	write(filepath.Join(home, ".gitconfig"), "[user]\n\tname = Ada Maintainer\n")
	check("~/.gitconfig over XDG", gitops.Identity{Name: "Ada Maintainer", Email: "xdg@example.org"}, true)

	env["XDG_CONFIG_HOME"] = xdg // another XDG directory, without a git config
	check("XDG_CONFIG_HOME", gitops.Identity{Name: "Ada Maintainer", Email: "system@example.org"}, true)

	gitCmd(t, dir, "config", "user.email", "ada@example.org")
	check("the repository's config", gitops.Identity{Name: "Ada Maintainer", Email: "ada@example.org"}, true)

	env["GIT_CONFIG_GLOBAL"] = "/dev/null"
	env["GIT_CONFIG_NOSYSTEM"] = "1"
	check("no global, no system", gitops.Identity{Email: "ada@example.org"}, false)

	write(filepath.Join(home, "broken"), "[user\n")
	env["GIT_CONFIG_GLOBAL"] = filepath.Join(home, "broken")
	if _, _, err := gitops.UserIdentity(dir, getenv); err == nil || !startsWith(err.Error(), "reading git config "+filepath.Join(home, "broken")+": ") {
		t.Errorf("a broken config: %v", err)
	}
}
