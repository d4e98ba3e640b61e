package gitops_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/gitops"
)

// report renders what the fork has on each pushed branch, read back with the
// git CLI: head, then per commit its subject and the files it touches.
func report(t *testing.T, w *world, rs []gitops.PushResult) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s head=%s\n", r.Branch, r.Outcome, r.Head)
		if r.Head.IsZero() {
			continue
		}
		log := gitCmd(t, w.fork, "log", "--reverse", "--format=  %H %s", "--name-status", base+".."+r.Head.String())
		for _, line := range strings.Split(log, "\n") {
			if line != "" {
				b.WriteString(strings.Replace(line, "\t", "    ", 1) + "\n")
			}
		}
	}
	return b.String()
}

func TestCycle(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"file", "http"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, proto)
			upstreamHead := gitCmd(t, w.upstream, "rev-parse", base)

			// First cycle: a fresh clone, three changes, two branches.
			r, built, rs := w.cycle(day1, plan1())
			if got := r.Base().String(); got != upstreamHead {
				t.Fatalf("Base() = %s, want upstream's %s", got, upstreamHead)
			}
			if got := gitCmd(t, w.cache, "rev-parse", "--is-shallow-repository"); got != "true" {
				t.Errorf("managed clone shallow = %s, want true", got)
			}
			if got := gitCmd(t, w.cache, "rev-parse", "--is-bare-repository"); got != "true" {
				t.Errorf("managed clone bare = %s, want true", got)
			}
			for _, x := range rs {
				if x.Outcome != gitops.Pushed || x.Err != nil || x.Head != x.Built {
					t.Errorf("%s: outcome %s, err %v, head %s, built %s; want pushed", x.Branch, x.Outcome, x.Err, x.Head, x.Built)
				}
			}
			// Same inputs, same clock: the same hashes whichever transport.
			golden(t, "cycle1.golden", report(t, w, rs))

			// Exact messages, read back with git.
			rolling := "kupdate/staging-nixos/updates"
			if got, want := gitCmd(t, w.fork, "log", "-1", "--format=%B", rolling+"~1"), "linux_6_12: 6.12.63 -> 6.12.64\n\n"+
				"Prepared-by: kupdate\nKupdate-Family: kernel.org\nKupdate-Attr: linux_6_12\nKupdate-Target: 6.12.64"; got != want {
				t.Errorf("message:\n%s\nwant:\n%s", got, want)
			}
			if got := gitCmd(t, w.fork, "log", "-1", "--format=%(trailers:key=Prepared-by,valueonly)", rolling); got != "kupdate" {
				t.Errorf("Prepared-by trailer = %q, want kupdate", got)
			}
			// git reads the Key as trailers too.
			if got := gitCmd(t, w.fork, "log", "-1", "--format=%(trailers:key=Kupdate-Attr,valueonly)%(trailers:key=Kupdate-Target,valueonly)", rolling); got != "linux_6_18\n6.18.3" {
				t.Errorf("Kupdate-Attr, Kupdate-Target trailers = %q", got)
			}
			if got := gitCmd(t, w.fork, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%ad", "--date=iso-strict", rolling); got != "kupdate <kupdate@users.noreply.github.com>|kupdate <kupdate@users.noreply.github.com>|2026-11-20T12:00:00+00:00" {
				t.Errorf("author, committer, date = %q", got)
			}
			// The init is one commit with all its files.
			initBranch := "kupdate/staging-nixos/linux_7_0-init"
			if got := gitCmd(t, w.fork, "log", "--format=%s", base+".."+initBranch); got != "linux_7_0: init at 7.0" {
				t.Errorf("init branch commits = %q", got)
			}
			if got := gitCmd(t, w.fork, "show", "--format=", "--name-only", initBranch); got != strings.Join([]string{kernelsOrg, aliases, kernelsNix}, "\n") {
				t.Errorf("init commit files = %q", got)
			}
			if got := gitCmd(t, w.fork, "show", initBranch+":"+kernelsOrg); got+"\n" != json3 {
				t.Errorf("init kernels-org.json = %q", got)
			}
			if got := gitCmd(t, w.fork, "show", rolling+":"+kernelsOrg); got+"\n" != json2 {
				t.Errorf("rolling kernels-org.json = %q", got)
			}
			gitCmd(t, w.fork, "fsck", "--strict")
			if got := gitCmd(t, w.fork, "rev-parse", base); got != upstreamHead {
				t.Errorf("fork's base moved to %s", got)
			}

			// The diff a dry run prints is git's own.
			d, err := r.Diff(ctx, built[1].Head())
			if err != nil {
				t.Fatal(err)
			}
			if want := gitCmd(t, w.fork, "show", "--full-index", "--format=", built[1].Head().String()); strings.TrimSpace(d) != want {
				t.Errorf("Diff:\n%s\nwant (git show):\n%s", d, want)
			}

			// Second cycle, an hour later, nothing new upstream: same trees
			// and titles, so nothing is pushed.
			before := w.receivePacks.Load()
			_, _, rs2 := w.cycle(day1.Add(time.Hour), plan1())
			for _, x := range rs2 {
				if x.Outcome != gitops.Unchanged || x.Err != nil {
					t.Errorf("second cycle %s: %s %v, want unchanged", x.Branch, x.Outcome, x.Err)
				}
				if x.Head == x.Built {
					t.Errorf("second cycle %s: built the same hash at another time", x.Branch)
				}
			}
			if n := w.receivePacks.Load() - before; n != 0 {
				t.Errorf("second cycle made %d receive-pack requests, want 0", n)
			}

			// Upstream moves, in a file kupdate's commits do not touch: the
			// next cycle fetches only what changed, and both branches stay
			// on their older base; no push, so the PRs' CI is not restarted.
			heads := map[string]string{}
			for _, x := range rs {
				heads[x.Branch] = x.Head.String()
			}
			unrelated := w.upstreamCommit("unrelated: update", map[string][]byte{"pkgs/tools/misc/new.nix": []byte("{ }\n")})
			fetched, before := w.upstreamFetchBytes.Load(), w.receivePacks.Load()
			r3, _, rs3 := w.cycle(day1.Add(2*time.Hour), plan1())
			if r3.Base().String() != unrelated {
				t.Fatalf("third cycle Base() = %s, want %s", r3.Base(), unrelated)
			}
			if w.overHTTP {
				// The new base's thin pack, and the commits between the
				// bases (commit objects only).
				if n := w.upstreamFetchBytes.Load() - fetched; n > 4096 {
					t.Errorf("fetching one new upstream commit took %d bytes, want a thin pack under 4 KiB", n)
				}
			}
			for _, x := range rs3 {
				if x.Outcome != gitops.Unchanged || x.Err != nil || x.Head.String() != heads[x.Branch] {
					t.Errorf("third cycle %s: %s %v head %s, want unchanged at %s", x.Branch, x.Outcome, x.Err, x.Head, heads[x.Branch])
				}
			}
			if n := w.receivePacks.Load() - before; n != 0 {
				t.Errorf("third cycle made %d receive-pack requests, want 0", n)
			}

			// Upstream moves again, and this time changes kernels-org.json
			// (a maintainer's edit): both branches touch it, so both are
			// rebuilt on the new base and force-pushed with a lease.
			newBase := w.upstreamCommit("linux_6_6: 6.6.118 -> 6.6.119", map[string][]byte{kernelsOrg: []byte("{\n  \"6.6\": { \"version\": \"6.6.119\" }\n}\n")})
			gitCmd(t, w.fork, "fetch", "-q", w.upstream, base+":"+base) // a GitHub fork shares upstream's objects
			_, _, rs4 := w.cycle(day1.Add(3*time.Hour), plan1())
			for _, x := range rs4 {
				if x.Outcome != gitops.Pushed || x.Err != nil {
					t.Errorf("fourth cycle %s: %s %v, want pushed", x.Branch, x.Outcome, x.Err)
				}
				if got := gitCmd(t, w.fork, "rev-parse", x.Branch+"~"+fmt.Sprint(len(x.Changes))); got != newBase {
					t.Errorf("fourth cycle %s is based on %s, want %s", x.Branch, got, newBase)
				}
			}

			// Upstream takes the first change itself: rebuilt on it, the
			// change would be empty, and nothing is built or pushed.
			w.upstreamCommit("linux_6_12: 6.12.63 -> 6.12.64 (by hand)", map[string][]byte{kernelsOrg: []byte(json1)})
			before = w.receivePacks.Load()
			r5 := w.open(day1.Add(4 * time.Hour))
			_, err = r5.Build(ctx, r5.Base(), gitops.PlanBranches(base, plan1()[:1])[0])
			if want := `building kupdate/staging-nixos/updates on `; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), `: change "linux_6_12: 6.12.63 -> 6.12.64": its files are already as planned; nothing to commit`) {
				t.Errorf("Build of a change the base has: %v", err)
			}
			if n := w.receivePacks.Load() - before; n != 0 {
				t.Errorf("%d receive-pack requests, want 0", n)
			}
			gitCmd(t, w.cache, "fsck", "--connectivity-only")
			gitCmd(t, w.fork, "fsck", "--strict")
		})
	}
}

func TestPushDryRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "http")
	r := w.open(day1)
	built := build(t, r, plan1())
	rs := r.PushDryRun(context.Background(), w.forkRemote(), built)
	if diff := cmp.Diff(map[string]gitops.Outcome{
		"kupdate/staging-nixos/updates":        gitops.WouldPush,
		"kupdate/staging-nixos/linux_7_0-init": gitops.WouldPush,
	}, outcomes(rs)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if n := w.receivePacks.Load(); n != 0 {
		t.Errorf("dry run made %d receive-pack requests", n)
	}
	if out := gitCmd(t, w.fork, "branch", "--list", "kupdate/*"); out != "" {
		t.Errorf("dry run created branches: %s", out)
	}
}

// The branch moved between kupdate reading it and pushing: once before the
// push's ref advertisement (kupdate's own check), once after it (the
// server's atomic check of the old value kupdate sends).
func TestPushLeaseFailed(t *testing.T) {
	t.Parallel()
	for _, when := range []string{"advertisement", "pack"} {
		t.Run(when, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "http")
			w.cycle(day1, plan1())
			rolling := "kupdate/staging-nixos/updates"
			was := gitCmd(t, w.fork, "rev-parse", rolling)
			// Someone (kupdate elsewhere) moves the branch to its parent.
			moved := gitCmd(t, w.fork, "rev-parse", rolling+"~1")
			w.setHook(func(_ http.ResponseWriter, r *http.Request) bool {
				hit := when == "advertisement" && r.Method == http.MethodGet && strings.Contains(r.URL.RawQuery, "git-receive-pack") ||
					when == "pack" && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "git-receive-pack")
				if hit {
					if out, err := exec.Command("git", "-C", w.fork, "update-ref", "refs/heads/"+rolling, moved).CombinedOutput(); err != nil {
						t.Errorf("update-ref: %v %s", err, out)
					}
				}
				return false
			})
			// The base changes the file both branches touch: both are rebuilt.
			w.upstreamCommit("linux_6_6: 6.6.118 -> 6.6.119", map[string][]byte{kernelsOrg: []byte("{ }\n")})
			_, _, rs := w.cycle(day1.Add(time.Hour), plan1())
			got := rs[0]
			if got.Branch != rolling || got.Outcome != gitops.LeaseFailed {
				t.Fatalf("%s: %s %v, want lease-failed", got.Branch, got.Outcome, got.Err)
			}
			want := fmt.Sprintf("push of %s to %s: lease failed: the branch moved from %s to %s since kupdate read it; kupdate left it as is, and the next cycle starts from what is there", rolling, w.forkURL, was[:12], moved[:12])
			if when == "pack" {
				if !strings.HasPrefix(errText(got.Err), want+" (the server said: ") {
					t.Errorf("error:\n%s\nwant prefix:\n%s (the server said: ", got.Err, want)
				}
			} else if errText(got.Err) != want {
				t.Errorf("error:\n%s\nwant:\n%s", got.Err, want)
			}
			if got.Head.String() != moved {
				t.Errorf("Head = %s, want the moved %s", got.Head, moved)
			}
			if now := gitCmd(t, w.fork, "rev-parse", rolling); now != moved {
				t.Errorf("fork branch = %s, want it left at %s", now, moved)
			}
			// The other branch is unaffected.
			if rs[1].Outcome != gitops.Pushed {
				t.Errorf("%s: %s %v, want pushed", rs[1].Branch, rs[1].Outcome, rs[1].Err)
			}
		})
	}
}

// Commits kupdate did not make are never pushed away.
func TestPushLeavesForeignCommits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, clone string) // in a checkout of the kupdate branch
		want  string                           // the error after "branch ... on ...: "
	}{
		{
			name: "commit on top",
			setup: func(t *testing.T, clone string) {
				gitCmd(t, clone, "commit", "-q", "--allow-empty", "-m", "linux_6_12: fix hash")
			},
			want: `its head %s ("linux_6_12: fix hash" by Maintainer <maintainer@example.org>) was not made by kupdate`,
		},
		{
			name: "amended by a person",
			setup: func(t *testing.T, clone string) {
				gitCmd(t, clone, "commit", "-q", "--amend", "--no-edit", "--allow-empty")
			},
			want: `its head %s ("linux_6_18: 6.18.2 -> 6.18.3" by kupdate <kupdate@users.noreply.github.com>) was not made by kupdate`,
		},
		{
			name: "merge of the base",
			setup: func(t *testing.T, clone string) {
				gitCmd(t, clone, "merge", "-q", "--no-ff", "-m", "Merge staging-nixos", "origin/"+base)
			},
			want: `its head %s ("Merge staging-nixos" by Maintainer <maintainer@example.org>) was not made by kupdate`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "http")
			w.cycle(day1, plan1())
			rolling := "kupdate/staging-nixos/updates"
			clone := t.TempDir()
			gitCmd(t, clone, "clone", "-q", "-b", rolling, w.fork, ".")
			if tc.name == "merge of the base" {
				w.upstreamCommit("upstream work", map[string][]byte{"README.md": []byte("x\n")})
				gitCmd(t, w.fork, "fetch", "-q", w.upstream, base+":"+base)
				gitCmd(t, clone, "fetch", "-q", "origin")
			}
			tc.setup(t, clone)
			gitCmd(t, clone, "push", "-q", "-f", "origin", rolling)
			theirs := gitCmd(t, w.fork, "rev-parse", rolling)

			before := w.receivePacks.Load()
			plan := append(plan1()[:2:2], bumpCommit("linux_6_18", "6.18", "6.18.3", "6.18.4", json2+"\n"))
			_, _, rs := w.cycle(day1.Add(time.Hour), plan)
			got := rs[0]
			want := fmt.Sprintf("branch %s on %s: "+tc.want+"; kupdate left it alone: merge or close its pull request, or delete the branch, and kupdate rebuilds it on the next cycle", rolling, w.forkURL, theirs[:12])
			if got.Outcome != gitops.SkippedForeign || errText(got.Err) != want {
				t.Errorf("%s: %s\n%v\nwant skipped-foreign-commits:\n%s", got.Branch, got.Outcome, got.Err, want)
			}
			if now := gitCmd(t, w.fork, "rev-parse", rolling); now != theirs {
				t.Errorf("fork branch moved to %s, want %s", now, theirs)
			}
			if got.Head.String() != theirs {
				t.Errorf("Head = %s, want %s", got.Head, theirs)
			}
			if n := w.receivePacks.Load() - before; n != 0 {
				t.Errorf("%d receive-pack requests, want 0 (the init branch is unchanged)", n)
			}
		})
	}
}

func TestPushRejected(t *testing.T) {
	t.Parallel()
	t.Run("http 403", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, "http")
		w.setHook(func(rw http.ResponseWriter, r *http.Request) bool {
			if strings.Contains(r.URL.String(), "git-receive-pack") {
				http.Error(rw, "Permission to fork denied", http.StatusForbidden)
				return true
			}
			return false
		})
		_, _, rs := w.cycle(day1, plan1())
		for _, x := range rs {
			want := fmt.Sprintf("push of %s to %s rejected: authorization failed: Permission to fork denied; check that the push token can write to the fork and that no branch protection or hook refuses kupdate/ branches", x.Branch, w.forkURL)
			if x.Outcome != gitops.Rejected || errText(x.Err) != want {
				t.Errorf("%s: %s\n%v\nwant rejected:\n%s", x.Branch, x.Outcome, x.Err, want)
			}
			if strings.Contains(errText(x.Err), token) {
				t.Errorf("error shows the token: %v", x.Err)
			}
		}
	})
	t.Run("pre-receive hook", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, "file")
		hook := w.fork + "/hooks/pre-receive"
		writeExecutable(t, hook, "#!/bin/sh\necho 'branch protection: kupdate/* is locked' >&2\nexit 1\n")
		_, _, rs := w.cycle(day1, plan1())
		for _, x := range rs {
			want := fmt.Sprintf("push of %s to %s rejected: command error on refs/heads/%s: pre-receive hook declined; check that the push token can write to the fork and that no branch protection or hook refuses kupdate/ branches", x.Branch, w.forkURL, x.Branch)
			if x.Outcome != gitops.Rejected || errText(x.Err) != want {
				t.Errorf("%s: %s\n%v\nwant rejected:\n%s", x.Branch, x.Outcome, x.Err, want)
			}
		}
		if out := gitCmd(t, w.fork, "branch", "--list", "kupdate/*"); out != "" {
			t.Errorf("branches created despite the hook: %s", out)
		}
	})
}

// kupdate never pushes to the base or outside kupdate/, whatever it is given.
func TestPushGuard(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "http")
	r := w.open(day1)
	b, err := r.Build(context.Background(), r.Base(), gitops.Branch{Name: "kupdate/x", Base: base, Commits: plan1()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	var bad []gitops.BuiltBranch
	for _, name := range []string{base, "master", "kupdate/", "kupdate/a..b"} {
		bb := b
		bb.Name = name
		bad = append(bad, bb)
	}
	bb := b
	bb.Name, bb.Base = "kupdate/staging", "kupdate/staging"
	bad = append(bad, bb)
	rs := r.Push(context.Background(), w.forkRemote(), bad)
	want := []string{
		`refusing to push "staging-nixos": kupdate pushes only to branches under kupdate/`,
		`refusing to push "master": kupdate pushes only to branches under kupdate/`,
		`refusing to push "kupdate/": kupdate pushes only to branches under kupdate/`,
		`refusing to push "kupdate/a..b": not a valid branch name: invalid reference name`,
		`refusing to push "kupdate/staging": it is the base branch, which kupdate never pushes to`,
	}
	for i, x := range rs {
		if x.Outcome != gitops.Rejected || errText(x.Err) != want[i] {
			t.Errorf("%s: %s %v, want rejected: %s", x.Branch, x.Outcome, x.Err, want[i])
		}
	}
	if n := w.receivePacks.Load(); n != 0 {
		t.Errorf("%d receive-pack requests, want 0", n)
	}
}

// The fork sees the token as HTTP basic auth, user x-access-token; a fork
// that demands it still takes the push.
func TestPushSendsToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "http")
	var unauthorized atomic.Int64
	w.setHook(func(rw http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.String(), "git-receive-pack") {
			return false
		}
		if user, pass, ok := r.BasicAuth(); !ok || user != "x-access-token" || pass != token {
			unauthorized.Add(1)
			rw.Header().Set("WWW-Authenticate", `Basic realm="fork"`)
			http.Error(rw, "authentication required", http.StatusUnauthorized)
			return true
		}
		return false
	})
	_, _, rs := w.cycle(day1, plan1())
	for _, x := range rs {
		if x.Outcome != gitops.Pushed {
			t.Errorf("%s: %s %v", x.Branch, x.Outcome, x.Err)
		}
	}
	if n := unauthorized.Load(); n != 0 {
		t.Errorf("%d receive-pack requests without the token", n)
	}
}

// `run --nixpkgs DIR`: the cycle from a maintainer's full clone. Reading the
// fork's branches must not make their clone shallow.
func TestPushFromCheckout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, "http")
	w.cycle(day1, plan1())
	dir := t.TempDir()
	gitCmd(t, dir, "clone", "-q", "-b", base, w.upstream, ".")
	r, err := gitops.OpenLocal(ctx, dir, opts(day1.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	plan := append(plan1(), bumpCommit("linux_6_18", "6.18", "6.18.3", "6.18.4", json2+"\n"))
	rs := r.Push(ctx, w.forkRemote(), build(t, r, plan))
	if diff := cmp.Diff(map[string]gitops.Outcome{
		"kupdate/staging-nixos/updates":        gitops.Pushed,
		"kupdate/staging-nixos/linux_7_0-init": gitops.Unchanged,
	}, outcomes(rs)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if got := gitCmd(t, dir, "rev-parse", "--is-shallow-repository"); got != "false" {
		t.Errorf("the checkout became shallow")
	}
	gitCmd(t, dir, "fsck", "--connectivity-only")
	if got := gitCmd(t, w.fork, "log", "--format=%s", base+"..kupdate/staging-nixos/updates"); got != "linux_6_18: 6.18.3 -> 6.18.4\nlinux_6_18: 6.18.2 -> 6.18.3\nlinux_6_12: 6.12.63 -> 6.12.64" {
		t.Errorf("fork's rolling branch:\n%s", got)
	}
}
