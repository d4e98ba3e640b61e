package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
)

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// groups records the process groups a run reports.
type groups struct {
	mu  sync.Mutex
	ids []int
}

func (g *groups) progress(p Progress) {
	if p.Pgid > 0 {
		g.mu.Lock()
		g.ids = append(g.ids, p.Pgid)
		g.mu.Unlock()
	}
}

func (g *groups) list() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.ids...)
}

// markerCount is how many live processes have marker in their command line.
func markerCount(t *testing.T, marker string) int {
	n := 0
	for _, p := range processes(t) {
		if strings.Contains(p.cmdline, marker) && p.pid != os.Getpid() {
			n++
		}
	}
	return n
}

// TestTierTimeout: a nix-build that runs past build.timeout is terminated
// with everything it started: its own group, and the builder Nix ran in a
// session of its own with a background process.
func TestTierTimeout(t *testing.T) {
	needNix(t)
	nonce, marker := uniqueMarker(t), uniqueMarker(t)
	cfg := testConfig(nonce, marker, "configfile", "kernel")
	cfg.Timeout = config.Duration(5 * time.Second)
	slowDrv := instantiate(t, nonce, marker, "linuxKernel.kernels.linux_slow.configfile")

	var g groups
	// The tier's timeout fires once the builder's sleeps run (a loaded
	// machine may take longer than any wall-clock bound to start them),
	// and Nix has had a moment to say it is building, so the test sees a
	// timeout of a running build every time.
	var seen bool
	stop := make(chan struct{})
	r := New(cfg, WithProgress(g.progress, 0))
	r.expire = func(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
		tctx, cancel := context.WithCancel(ctx)
		go func() {
			for {
				if markerCount(t, marker) >= 2 {
					seen = true
					select {
					case <-time.After(2 * time.Second):
					case <-stop:
					}
					cancel()
					return
				}
				select {
				case <-stop:
					return
				case <-tctx.Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		return tctx, cancel
	}
	rep := r.Run(context.Background(), treeDir(t), []string{"linux_slow"})
	close(stop)

	if !seen {
		t.Error("the slow builder's processes never appeared: the test proved nothing")
	}
	want := []Result{
		{Attr: "linux_slow", Tier: "configfile", Status: TimedOut, Command: argv(cfg, "configfile", "linux_slow"),
			Error: "timed out after 5s", Drv: slowDrv,
			LogTail: "  " + slowDrv + "\nbuilding '" + slowDrv + "'...\nerror: interrupted by the user"},
		{Attr: "linux_slow", Tier: "kernel", Status: Skipped, Command: argv(cfg, "kernel", "linux_slow"),
			Error: "skipped: configfile timed-out"},
	}
	if diff := cmp.Diff(want, rep.Results, ignoreTiming); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(g.list()) == 0 {
		t.Fatal("no process group reported")
	}
	assertGone(t, g.list(), marker)
}

// TestCancel: cancelling the run (what SIGTERM to kupdate does) stops the
// running nix-build and its builder, and nothing else starts.
func TestCancel(t *testing.T) {
	needNix(t)
	nonce, marker := uniqueMarker(t), uniqueMarker(t)
	cfg := testConfig(nonce, marker, "eval", "configfile", "kernel")
	cfg.Concurrency = 1

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g groups
	go func() {
		// Cancel once the builder and its background process run.
		for ctx.Err() == nil && markerCount(t, marker) < 2 {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	rep := New(cfg, WithProgress(g.progress, 0)).Run(ctx, treeDir(t), []string{"linux_slow", "linux_pass"})

	type row struct {
		Attr, Tier string
		Status     Status
		Error      string
	}
	var got []row
	for _, r := range rep.Results {
		got = append(got, row{r.Attr, r.Tier, r.Status, r.Error})
	}
	cancelled := rep.For("linux_slow")[1]
	want := []row{
		{"linux_slow", "eval", Passed, ""},
		{"linux_slow", "configfile", Cancelled, cancelled.Error},
		{"linux_slow", "kernel", Cancelled, "cancelled before it started"},
		{"linux_pass", "eval", Cancelled, "cancelled before it started"},
		{"linux_pass", "configfile", Cancelled, "cancelled before it started"},
		{"linux_pass", "kernel", Cancelled, "cancelled before it started"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(cancelled.Error, "cancelled after ") || !strings.HasSuffix(cancelled.LogTail, "error: interrupted by the user") {
		t.Errorf("cancelled tier: Error %q, LogTail %q", cancelled.Error, cancelled.LogTail)
	}
	if n := len(g.list()); n != 2 {
		t.Errorf("%d process groups started, want 2 (eval and configfile of linux_slow)", n)
	}
	assertGone(t, g.list(), marker)
}

// TestKillEscalates: a command that ignores SIGTERM gets SIGKILL after the
// grace period, and so does the orphaned grandchild it left in its group.
func TestKillEscalates(t *testing.T) {
	marker := uniqueMarker(t)
	script, err := filepath.Abs("testdata/orphan.sh")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Build{
		Tiers:    []string{"kernel", "test"},
		Commands: map[string][]string{"kernel": {script, "{attr}", marker}, "test": {"true"}},
		Timeout:  config.Duration(time.Hour),
		LogLines: 10,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil && markerCount(t, marker) < 2 {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	var g groups
	rep := New(cfg, WithProgress(g.progress, 0), WithKillGrace(300*time.Millisecond)).Run(ctx, t.TempDir(), []string{"linux_6_12"})

	r := rep.Results[0]
	if r.Status != Cancelled || r.LogTail != "started linux_6_12" {
		t.Errorf("result = %+v, want cancelled with its output", r)
	}
	if got := rep.Results[1].Status; got != Cancelled {
		t.Errorf("later tier: %s, want cancelled", got)
	}
	assertGone(t, g.list(), marker)
}

// TestOrphanAfterExit: a command that exits on its own, leaving a process
// in its group, passes, and the process does not outlive the tier.
func TestOrphanAfterExit(t *testing.T) {
	marker := uniqueMarker(t)
	script, _ := filepath.Abs("testdata/orphan.sh")
	cfg := config.Build{
		Tiers:    []string{"kernel"},
		Commands: map[string][]string{"kernel": {script, "{attr}", marker, "leave"}},
	}
	var g groups
	rep := New(cfg, WithProgress(g.progress, 0)).Run(context.Background(), t.TempDir(), []string{"linux_6_1"})
	want := []Result{{Attr: "linux_6_1", Tier: "kernel", Status: Passed, Command: []string{script, "linux_6_1", marker, "leave"}}}
	if diff := cmp.Diff(want, rep.Results, ignoreTiming); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	assertGone(t, g.list(), marker)
}

// TestProgressTicks: with an interval, a long tier reports that it is
// still running, with its elapsed time, until it ends.
func TestProgressTicks(t *testing.T) {
	marker := uniqueMarker(t)
	script, _ := filepath.Abs("testdata/orphan.sh")
	cfg := config.Build{
		Tiers:    []string{"kernel"},
		Commands: map[string][]string{"kernel": {script, "{attr}", marker}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var ticks []Progress
	fn := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Status == Running && p.Elapsed > 0 {
			ticks = append(ticks, p)
			if len(ticks) == 3 {
				cancel()
			}
		}
	}
	var g groups
	both := func(p Progress) { g.progress(p); fn(p) }
	New(cfg, WithProgress(both, 10*time.Millisecond), WithKillGrace(100*time.Millisecond)).Run(ctx, t.TempDir(), []string{"linux_6_1"})
	mu.Lock()
	defer mu.Unlock()
	if len(ticks) < 3 {
		t.Fatalf("ticks = %v, want at least 3", ticks)
	}
	for i, p := range ticks {
		if p.Attr != "linux_6_1" || p.Tier != "kernel" || p.Pgid == 0 || (i > 0 && p.Elapsed < ticks[i-1].Elapsed) {
			t.Errorf("tick %d = %+v", i, p)
		}
	}
	assertGone(t, g.list(), marker)
}
