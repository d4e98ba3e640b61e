package gitops_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/gitops"
)

// logBuffer collects a Repo's log for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func loggedOpts(now time.Time, logs *logBuffer) gitops.Options {
	o := opts(now)
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return o
}

// When the base moves after kupdate pushed its branches, a branch is kept on
// its older base (unchanged: no push, so its pull request's CI is not
// restarted) only when the new base descends from the old one, the files
// the branch's commits touch are the same on both, and its commits are
// exactly the planned ones; otherwise it is rebuilt on the new base and
// force-pushed with a lease.
func TestPushAfterTheBaseMoved(t *testing.T) {
	t.Parallel()
	const (
		rolling = "kupdate/staging-nixos/updates"
		initBr  = "kupdate/staging-nixos/linux_7_0-init"
	)
	for _, tc := range []struct {
		name string
		// move moves upstream's base after the first cycle.
		move func(t *testing.T, w *world)
		plan func() []gitops.Commit // the second cycle's plan; nil: plan1
		want map[string]gitops.Outcome
		log  string // a line the second cycle logs
	}{
		{
			name: "unrelated commits",
			move: func(t *testing.T, w *world) {
				w.upstreamCommit("hello: 2.12 -> 2.13", map[string][]byte{"pkgs/by-name/he/hello/package.nix": []byte("{ }\n")})
				w.upstreamCommit("nixos/tests: fix", map[string][]byte{"nixos/tests/kernel-generic.nix": []byte("{ }\n")})
			},
			want: map[string]gitops.Outcome{rolling: gitops.Unchanged, initBr: gitops.Unchanged},
			log:  `msg="branch kept on its base: the base moved, but not the files its commits touch" branch=kupdate/staging-nixos/updates`,
		},
		{
			name: "a file only the init touches",
			move: func(t *testing.T, w *world) {
				w.upstreamCommit("linux_latest: comment", map[string][]byte{aliases: []byte("{ }\n")})
			},
			want: map[string]gitops.Outcome{rolling: gitops.Unchanged, initBr: gitops.Pushed},
			log:  `msg="branch rebuilt on the base" branch=kupdate/staging-nixos/linux_7_0-init base=`,
		},
		{
			name: "rewritten base",
			move: func(t *testing.T, w *world) {
				// The same files on a commit that does not descend from the
				// old base (staging-nixos force-pushed).
				x := gitCmd(t, w.upstream, "commit-tree", base+"^{tree}", "-p", base+"~1", "-m", "rewritten")
				gitCmd(t, w.upstream, "update-ref", "refs/heads/"+base, x)
			},
			want: map[string]gitops.Outcome{rolling: gitops.Pushed, initBr: gitops.Pushed},
			log:  `msg="branch rebuilt on the base: it does not descend from the branch's" branch=kupdate/staging-nixos/updates`,
		},
		{
			name: "the planned commit touches fewer files",
			move: func(t *testing.T, w *world) {
				w.upstreamCommit("unrelated", map[string][]byte{"README.md": []byte("moved\n")})
			},
			plan: func() []gitops.Commit {
				p := plan1()
				delete(p[2].Files, aliases)
				p[2].Change.Files = []string{kernelsOrg, kernelsNix}
				return p
			},
			want: map[string]gitops.Outcome{rolling: gitops.Unchanged, initBr: gitops.Pushed},
			log:  `why="commit \"linux_7_0: init at 7.0\" changes pkgs/top-level/aliases.nix, which the planned commit does not"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, "http")
			_, _, first := w.cycle(day1, plan1())
			heads := map[string]string{}
			for _, x := range first {
				heads[x.Branch] = x.Head.String()
			}
			tc.move(t, w)
			moved := gitCmd(t, w.upstream, "rev-parse", base)
			plan := plan1
			if tc.plan != nil {
				plan = tc.plan
			}

			var logs logBuffer
			r, err := gitops.OpenManaged(ctx, w.cache, w.upstreamRemote(), base, loggedOpts(day1.Add(time.Hour), &logs))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			built := build(t, r, plan())
			if dry := r.PushDryRun(ctx, w.forkRemote(), built); len(dry) != 2 {
				t.Fatalf("dry run: %v", dry)
			} else {
				for _, x := range dry {
					want := tc.want[x.Branch]
					if want == gitops.Pushed {
						want = gitops.WouldPush
					}
					if x.Outcome != want {
						t.Errorf("dry run %s: %s %v, want %s", x.Branch, x.Outcome, x.Err, want)
					}
				}
			}
			before := w.receivePacks.Load()
			rs := r.Push(ctx, w.forkRemote(), built)
			if diff := cmp.Diff(tc.want, outcomes(rs)); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s\nlog:\n%s", diff, logs.String())
			}
			pushed := 0
			for _, x := range rs {
				now := gitCmd(t, w.fork, "rev-parse", x.Branch)
				switch x.Outcome {
				case gitops.Unchanged:
					if now != heads[x.Branch] || x.Head.String() != now {
						t.Errorf("%s: fork at %s, Head %s; want both still at %s", x.Branch, now, x.Head, heads[x.Branch])
					}
				case gitops.Pushed:
					pushed++
					if got := gitCmd(t, w.fork, "rev-parse", x.Branch+"~"+fmt.Sprint(len(x.Changes))); got != moved {
						t.Errorf("%s is based on %s, want the new base %s", x.Branch, got, moved)
					}
				}
			}
			if n := w.receivePacks.Load() - before; (pushed == 0) != (n == 0) {
				t.Errorf("%d receive-pack requests for %d pushed branches", n, pushed)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log lacks %s:\n%s", tc.log, logs.String())
			}
		})
	}
}

// A maintainer's full checkout answers whether the base descends from the
// branch's by itself; a shallow one cannot, and the branch is rebuilt (as
// before kupdate kept branches), saying why.
func TestPushAfterTheBaseMovedFromCheckout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		depth []string
		want  gitops.Outcome
		log   string
	}{
		{"full", nil, gitops.Unchanged, `msg="branch kept on its base: the base moved, but not the files its commits touch"`},
		{"shallow", []string{"--depth", "1"}, gitops.Pushed, `msg="branch rebuilt on the base: cannot tell whether the base descends from the branch's"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, "http")
			w.cycle(day1, plan1()[:2])
			w.upstreamCommit("unrelated", map[string][]byte{"README.md": []byte("moved\n")})
			w.upstreamCommit("unrelated again", map[string][]byte{"README.md": []byte("moved again\n")})
			dir := t.TempDir()
			gitCmd(t, dir, append(append([]string{"clone", "-q", "-b", base}, tc.depth...), "file://"+w.upstream, ".")...)
			var logs logBuffer
			r, err := gitops.OpenLocal(ctx, dir, loggedOpts(day1.Add(time.Hour), &logs))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			fetched := w.upstreamFetchBytes.Load()
			rs := r.Push(ctx, w.forkRemote(), build(t, r, plan1()[:2]))
			if len(rs) != 1 || rs[0].Outcome != tc.want || rs[0].Err != nil {
				t.Fatalf("push: %+v, want %s\nlog:\n%s", rs, tc.want, logs.String())
			}
			if n := w.upstreamFetchBytes.Load() - fetched; n != 0 {
				t.Errorf("asked upstream (%d bytes): a checkout has no upstream to ask", n)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log lacks %s:\n%s", tc.log, logs.String())
			}
		})
	}
}
