package gitops_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
	w.cycle(day1, plan1())
	rolling := gitops.RollingBranch(base)
	var legacy []string
	for _, c := range plan1()[:2] {
		legacy = append(legacy, c.Change.Title+"\n\n"+c.Change.ChangeLog+"\n\n"+
			"This commit was prepared by kupdate, an automated tool; a person reviews it before merge.\n\nPrepared-by: kupdate\n")
	}
	reword(t, w.fork, rolling, legacy)
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

// Branches an earlier kupdate pushed with the commit messages of its day
// (the title, the ChangeLog link, the disclosure and the trailers, with the
// Key and before it): the same commits, so an upgrade pushes nothing, nor
// does a branch kept on an older base get rebuilt for its messages alone.
func TestFormerMessagesAreTheSame(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const disclosure = "This commit was prepared by kupdate, an automated tool; a person reviews it before merge."
	for _, tc := range []struct {
		name  string
		keyed bool
	}{{"with the key", true}, {"before the key", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "http")
			w.cycle(day1, plan1())
			rolling := gitops.RollingBranch(base)
			var msgs []string
			for _, c := range plan1()[:2] {
				m := c.Change.Title + "\n\n" + c.Change.ChangeLog + "\n\n" + disclosure + "\n\nPrepared-by: kupdate\n"
				if tc.keyed {
					m += "Kupdate-Family: kernel.org\nKupdate-Attr: " + c.Change.Attr + "\nKupdate-Target: " + c.Change.To + "\n"
				}
				msgs = append(msgs, m)
			}
			reword(t, w.fork, rolling, msgs)
			if got := gitCmd(t, w.fork, "log", "-1", "--format=%B", rolling); !strings.Contains(got, disclosure) {
				t.Fatalf("the reworded commit:\n%s", got)
			}

			// The same plan a day later, the base unchanged: nothing to push.
			r := w.open(day1.Add(24 * time.Hour))
			if got := outcomes(r.PushDryRun(ctx, w.forkRemote(), build(t, r, plan1()))); got[rolling] != gitops.Unchanged {
				t.Errorf("outcomes over the former messages: %v", got)
			}
			// The base moved on elsewhere: the branch is kept on its older base.
			w.upstreamCommit("unrelated", map[string][]byte{"README.md": []byte("moved\n")})
			r = w.open(day1.Add(48 * time.Hour))
			if got := outcomes(r.PushDryRun(ctx, w.forkRemote(), build(t, r, plan1()))); got[rolling] != gitops.Unchanged {
				t.Errorf("outcomes over the former messages on an older base: %v", got)
			}
			// A title of another change is another commit.
			msgs[1] = strings.Replace(msgs[1], "6.18.3", "6.18.4", 1)
			reword(t, w.fork, rolling, msgs)
			r = w.open(day1.Add(72 * time.Hour))
			if got := outcomes(r.PushDryRun(ctx, w.forkRemote(), build(t, r, plan1()))); got[rolling] != gitops.WouldPush {
				t.Errorf("outcomes over another title: %v", got)
			}
		})
	}
}

// reword rewrites the last len(msgs) commits of branch in the bare
// repository dir with msgs (oldest first), keeping their trees, authors,
// committers and dates: what an earlier kupdate would have pushed.
func reword(t *testing.T, dir, branch string, msgs []string) {
	t.Helper()
	parent := gitCmd(t, dir, "rev-parse", fmt.Sprintf("%s~%d", branch, len(msgs)))
	for i, msg := range msgs {
		c := fmt.Sprintf("%s~%d", branch, len(msgs)-1-i)
		id := strings.Split(gitCmd(t, dir, "log", "-1", "--date=raw", "--format=%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd", c), "\x00")
		cmd := exec.Command("git", "commit-tree", gitCmd(t, dir, "rev-parse", c+"^{tree}"), "-p", parent, "-F", "-")
		cmd.Dir, cmd.Stdin = dir, strings.NewReader(msg)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+os.TempDir(),
			"GIT_AUTHOR_NAME="+id[0], "GIT_AUTHOR_EMAIL="+id[1], "GIT_AUTHOR_DATE="+id[2],
			"GIT_COMMITTER_NAME="+id[3], "GIT_COMMITTER_EMAIL="+id[4], "GIT_COMMITTER_DATE="+id[5])
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git commit-tree: %v", err)
		}
		parent = strings.TrimSpace(string(out))
	}
	gitCmd(t, dir, "update-ref", "refs/heads/"+branch, parent)
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
