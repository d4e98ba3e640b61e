package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/lock"
	"github.com/kupdate/kupdate/runlog"
	"github.com/kupdate/kupdate/server"
)

func TestScheduledCycleFires(t *testing.T) {
	cfg := testConfig()
	cfg.Serve.Jitter = config.Duration(5 * time.Minute)
	var jitterMax []time.Duration
	h := start(t, cfg, server.WithJitter(func(max time.Duration) time.Duration {
		jitterMax = append(jitterMax, max)
		return 90 * time.Second
	}))

	// 10:05 now, "17 * * * *": the slot is 10:17, plus 90 s of jitter.
	tm := h.clock.nextTimer(t)
	want := time.Date(2026, 11, 2, 10, 18, 30, 0, time.UTC)
	if !tm.deadline.Equal(want) {
		t.Fatalf("first cycle at %v, want %v", tm.deadline, want)
	}
	if got := h.status(t).NextRun; !got.Equal(want) {
		t.Errorf("status next_run = %v, want %v", got, want)
	}
	h.clock.fire(tm)
	c := h.cycler.next(t, server.StepCycle)
	id := runlog.ID(c.ctx)
	if id == "" {
		t.Error("the cycle's context carries no step id")
	}
	if st := h.status(t); st.Running == nil || st.Running.Trigger != "schedule" || !st.Running.Start.Equal(want) {
		t.Errorf("status while the cycle runs: running = %+v", st.Running)
	}
	// The next slot is scheduled while the cycle runs.
	if tm := h.clock.nextTimer(t); !tm.deadline.Equal(want.Add(time.Hour)) {
		t.Errorf("second cycle at %v, want %v", tm.deadline, want.Add(time.Hour))
	}
	end := want.Add(2*time.Minute + 3*time.Second)
	h.clock.set(end)
	c.done <- nil

	got := h.step(t)
	wantStep := server.StepStatus{Step: "cycle", Trigger: "schedule", Start: want, End: end, Outcome: "success"}
	if diff := cmp.Diff(wantStep, got); diff != "" {
		t.Errorf("step (-want +got):\n%s", diff)
	}
	if st := h.status(t); st.LastCycle == nil || !cmp.Equal(*st.LastCycle, wantStep) || st.Running != nil {
		t.Errorf("status after the cycle: last_cycle %+v, running %+v", st.LastCycle, st.Running)
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Minute, 5 * time.Minute}, jitterMax); diff != "" {
		t.Errorf("jitter asked for (-want +got):\n%s", diff)
	}
	if calls, _ := h.cycler.history(); !cmp.Equal(calls, []string{"cycle"}) {
		t.Errorf("calls = %v", calls)
	} // The server's own lines of the step carry the id the cycle was given.
	for _, msg := range []string{"step started", "step finished"} {
		if want := "msg=\"" + msg + "\" step=cycle trigger=schedule cycle=" + id; !strings.Contains(h.logs.String(), want) {
			t.Errorf("no line %q in the log", want)
		}
	}
}

// Overlapping triggers: a tick while the cycle runs is skipped; webhook
// promotions queue behind it, at most one, and run after it, never beside it.
func TestOverlappingTriggersDoNotOverlap(t *testing.T) {
	cfg := testConfig()
	cfg.Serve.Schedule = "* * * * *"
	h := start(t, cfg)

	h.clock.fire(h.clock.nextTimer(t)) // 10:06
	cycle := h.cycler.next(t, server.StepCycle)
	h.clock.fire(h.clock.nextTimer(t)) // 10:07, while the cycle runs
	skipped := h.step(t)
	wantSkip := server.StepStatus{Step: "cycle", Trigger: "schedule", Start: t0.Add(2 * time.Minute), End: t0.Add(2 * time.Minute),
		Outcome: "skipped", Error: "the previous cycle (started 2026-11-02T10:06:00Z) is still running"}
	if diff := cmp.Diff(wantSkip, skipped); diff != "" {
		t.Errorf("skipped tick (-want +got):\n%s", diff)
	}
	if !strings.Contains(h.logs.String(), `msg="scheduled cycle skipped: the previous cycle (started 2026-11-02T10:06:00Z) is still running"`) {
		t.Errorf("the skip was not logged:\n%s", h.logs)
	}
	h.clock.nextTimer(t) // 10:08: the scheduler goes on

	pr := `{"action":"closed","number":7,"pull_request":{"merged":true,"base":{"ref":"staging-nixos"}},"repository":{"full_name":"NixOS/nixpkgs"}}`
	for i, want := range []string{
		"promotion queued: webhook pull_request #7 merged into staging-nixos, delivery d1\n",
		"a promotion is already queued (webhook pull_request #7 merged into staging-nixos, delivery d1); it will see this change too\n",
		"a promotion is already queued (webhook pull_request #7 merged into staging-nixos, delivery d1); it will see this change too\n",
	} {
		code, body := h.webhook(t, "pull_request", "d"+string(rune('1'+i)), pr, "")
		if code != http.StatusAccepted || body != want {
			t.Errorf("delivery %d: %d %q, want 202 %q", i+1, code, body, want)
		}
	}
	st := h.status(t)
	if diff := cmp.Diff([]server.Pending{{Step: "promote", Trigger: "webhook pull_request #7 merged into staging-nixos, delivery d1"}}, st.Queued); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}

	cycle.done <- nil
	if s := h.step(t); s.Outcome != "success" || s.Step != "cycle" {
		t.Errorf("cycle step = %+v", s)
	}
	promote := h.cycler.next(t, server.StepPromote)
	promote.done <- nil
	if s := h.step(t); s.Outcome != "success" || s.Step != "promote" {
		t.Errorf("promote step = %+v", s)
	}
	h.idle(t)
	calls, maxActive := h.cycler.history()
	if !cmp.Equal(calls, []string{"cycle", "promote"}) || maxActive != 1 {
		t.Errorf("calls %v with up to %d at once, want [cycle promote] one at a time", calls, maxActive)
	}
}

// Another process (a maintainer's kupdate run) holds the lock: the
// scheduled cycle gives up and says who is in the way; a promotion waits.
func TestLockHeldByAnother(t *testing.T) {
	h := start(t, testConfig())
	held, err := lock.TryLock(h.lockDir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()

	h.clock.fire(h.clock.nextTimer(t))
	s := h.step(t)
	if s.Outcome != "locked" || !strings.HasPrefix(s.Error, "another kupdate is running: pid ") || !strings.Contains(s.Error, lock.Path(h.lockDir)) {
		t.Errorf("step with the lock held = %+v", s)
	}

	code, _ := h.webhook(t, "push", "d1", `{"ref":"refs/heads/staging-nixos","after":"0123456789abcdef","repository":{"full_name":"NixOS/nixpkgs"}}`, "")
	if code != http.StatusAccepted {
		t.Fatalf("push webhook: %d", code)
	}
	held.Unlock()
	h.cycler.next(t, server.StepPromote).done <- nil
	if s := h.step(t); s.Step != "promote" || s.Outcome != "success" {
		t.Errorf("promotion after the lock was released: %+v", s)
	}
	if calls, _ := h.cycler.history(); !cmp.Equal(calls, []string{"promote"}) {
		t.Errorf("calls = %v, want only the promotion", calls)
	}
}

func TestPanicFailsTheStepOnly(t *testing.T) {
	cfg := testConfig()
	cfg.Serve.Schedule = "* * * * *"
	h := start(t, cfg)
	h.cycler.mu.Lock()
	h.cycler.panicNext = true
	h.cycler.mu.Unlock()
	h.clock.fire(h.clock.nextTimer(t))
	if s := h.step(t); s.Outcome != "failure" || s.Error != "cycle panicked: boom" {
		t.Errorf("panicking cycle: %+v", s)
	}
	h.clock.fire(h.clock.nextTimer(t))
	h.cycler.next(t, server.StepCycle).done <- errors.New("kernel.org: 503")
	if s := h.step(t); s.Outcome != "failure" || s.Error != "kernel.org: 503" {
		t.Errorf("failing cycle: %+v", s)
	}
	// The lock was released both times.
	l, err := lock.TryLock(h.lockDir)
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
}

// SIGTERM while a cycle runs: new work is refused at once, the cycle gets
// serve.shutdown_timeout to finish undisturbed, then Serve returns.
func TestShutdownWaitsForRunningCycle(t *testing.T) {
	h := start(t, testConfig())
	h.clock.fire(h.clock.nextTimer(t))
	c := h.cycler.next(t, server.StepCycle)
	h.clock.nextTimer(t) // the next slot

	h.cancel()
	grace := h.clock.nextTimer(t) // made once the server drains
	if grace.d != 30*time.Second {
		t.Errorf("grace = %v, want serve.shutdown_timeout 30s", grace.d)
	}
	code, body := h.webhook(t, "push", "d1", `{"ref":"refs/heads/staging-nixos","repository":{"full_name":"NixOS/nixpkgs"}}`, "")
	if code != http.StatusServiceUnavailable || body != "kupdate is shutting down; redeliver this event once it is back\n" {
		t.Errorf("webhook while draining: %d %q", code, body)
	}
	st := h.status(t)
	if !st.ShuttingDown || !st.NextRun.IsZero() || st.Running == nil {
		t.Errorf("status while draining: shutting_down %v, next_run %v, running %+v", st.ShuttingDown, st.NextRun, st.Running)
	}
	select {
	case err := <-h.done:
		t.Fatalf("Serve returned %v while the cycle still ran", err)
	default:
	}
	if err := c.ctx.Err(); err != nil {
		t.Fatalf("the cycle's context was cancelled within the grace period: %v", err)
	}
	c.done <- nil
	if err := h.served(t); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if s := h.step(t); s.Outcome != "success" {
		t.Errorf("the cycle's outcome = %+v, want success", s)
	}
	if calls, _ := h.cycler.history(); !cmp.Equal(calls, []string{"cycle"}) {
		t.Errorf("calls = %v: the webhook during shutdown must not run", calls)
	}
}

func TestShutdownCancelsAfterGrace(t *testing.T) {
	h := start(t, testConfig())
	h.clock.fire(h.clock.nextTimer(t))
	c := h.cycler.next(t, server.StepCycle)
	h.clock.nextTimer(t)
	h.cancel()
	h.clock.fire(h.clock.nextTimer(t)) // the grace runs out
	select {
	case <-c.ctx.Done():
	case <-time.After(wait):
		t.Fatal("the cycle's context was not cancelled after the grace period")
	}
	c.done <- c.ctx.Err() // a cycle stopping at its next safe point
	if err := h.served(t); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if s := h.step(t); s.Outcome != "cancelled" || s.Error != "context canceled" {
		t.Errorf("step = %+v, want cancelled", s)
	}
}

func TestShutdownAbandonsAStepThatWillNotStop(t *testing.T) {
	h := start(t, testConfig())
	h.clock.fire(h.clock.nextTimer(t))
	c := h.cycler.next(t, server.StepCycle)
	h.clock.nextTimer(t)
	h.cancel()
	h.clock.fire(h.clock.nextTimer(t)) // grace
	hard := h.clock.nextTimer(t)
	if hard.d != 10*time.Second {
		t.Errorf("wait after cancelling = %v, want 10s", hard.d)
	}
	h.clock.fire(hard)
	err := h.served(t)
	if want := "server: the running step did not stop within 10s of being cancelled; exiting without waiting for it"; err == nil || err.Error() != want {
		t.Errorf("Serve = %v, want %q", err, want)
	}
	c.done <- nil
}

func TestShutdownIdle(t *testing.T) {
	h := start(t, testConfig())
	h.clock.nextTimer(t)
	h.cancel()
	if err := h.served(t); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if _, err := http.Get(h.url + "/healthz"); err == nil {
		t.Error("HTTP still answers after Serve returned")
	}
}

func TestHealthz(t *testing.T) {
	cfg := testConfig()
	cfg.Serve.Schedule = "17 10 * * *" // daily: no tick while the clock jumps 12h
	h := start(t, cfg)
	if code, _, body := h.get(t, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("idle: %d %q", code, body)
	}
	h.clock.fire(h.clock.nextTimer(t)) // 10:17
	c := h.cycler.next(t, server.StepCycle)
	h.clock.set(t0.Add(12*time.Minute + 12*time.Hour)) // exactly stuck_after: still fine
	if code, _, body := h.get(t, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("running 12h: %d %q", code, body)
	}
	h.clock.set(t0.Add(12*time.Minute + 12*time.Hour + time.Second))
	code, _, body := h.get(t, "/healthz")
	want := "stuck: the cycle started 2026-11-02T10:17:00Z (trigger: schedule) has been running for 12h0m1s, longer than serve.stuck_after (12h0m0s)\n"
	if code != http.StatusServiceUnavailable || body != want {
		t.Errorf("running 12h0m1s: %d %q, want 503 %q", code, body, want)
	}
	c.done <- nil
	h.step(t)
	if code, _, body := h.get(t, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("after the cycle: %d %q", code, body)
	}
}

func TestNewErrors(t *testing.T) {
	cfg := testConfig()
	cfg.Serve.Schedule = "every hour"
	if _, err := server.New(cfg, newFakeCycler(), nil, nil, server.WithLockDir(t.TempDir())); err == nil || !strings.HasPrefix(err.Error(), `serve.schedule "every hour": `) {
		t.Errorf("bad schedule: %v", err)
	}
	if _, err := server.New(testConfig(), nil, nil, nil); err == nil || err.Error() != "server: no Cycler" {
		t.Errorf("nil cycler: %v", err)
	}
}

func TestServeTwice(t *testing.T) {
	cfg := testConfig()
	cfg.Serve.Listen = "127.0.0.1:0"
	srv, err := server.New(cfg, newFakeCycler(), nil, nil, server.WithLockDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run starts, finds nothing running and returns
	if err := srv.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := srv.Run(ctx); err == nil || err.Error() != "server: Serve called twice" {
		t.Errorf("second Run: %v", err)
	}
}
