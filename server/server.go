// Package server is `kupdate serve`: cycles on a cron schedule, promotions on
// GitHub webhooks, and the HTTP side — a status page, /status.json, /healthz
// and /metrics.
//
// One worker runs the steps, one at a time, under the state-directory lock
// (package lock), so a cycle never overlaps another cycle, a promotion, or a
// maintainer's `kupdate run`. A scheduled tick while a cycle runs is skipped
// and logged; webhook promotions queue (at most one waits) behind whatever
// runs.
//
// Shutdown (the context of Serve is done, on SIGTERM) has three stages:
// stop taking work (the scheduler stops, queued steps are dropped, /webhook
// answers 503, the status page stays up); wait up to serve.shutdown_timeout
// for the running step to finish on its own; then cancel its context and wait
// at most a further 10 s for it to reach a safe point. Serve returns within
// shutdown_timeout + 15 s.
package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/lock"
	"github.com/kupdate/kupdate/redact"
	"github.com/kupdate/kupdate/runlog"
)

const (
	// abandonAfter bounds the wait for a cancelled step: a step that ignores
	// its context must not keep the process from exiting.
	abandonAfter = 10 * time.Second
	// httpShutdownTimeout bounds closing the HTTP connections at the end.
	httpShutdownTimeout = 5 * time.Second
)

// Clock is the time the scheduler and the shutdown grace run on. Tests
// replace it to fire the schedule without waiting.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer from a Clock.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// Option configures a Server beyond the configuration file.
type Option func(*Server)

// WithClock replaces the wall clock (tests).
func WithClock(c Clock) Option { return func(s *Server) { s.clock = c } }

// WithJitter replaces the random source of the scheduling jitter: f returns
// a delay in [0, max). The default is uniform (math/rand/v2).
func WithJitter(f func(max time.Duration) time.Duration) Option {
	return func(s *Server) { s.jitter = f }
}

// WithGetenv replaces os.Getenv for reading the webhook secret.
func WithGetenv(f func(string) string) Option { return func(s *Server) { s.getenv = f } }

// WithLockDir puts the lock in dir instead of the configured state directory.
func WithLockDir(dir string) Option { return func(s *Server) { s.lockDir = dir } }

// WithPromotionSource makes the branches f accepts promotion sources too,
// beside promote.pairs[].from: for pairs found at run time (e.g.
// staging-nixos-YY.MM for each stable line).
func WithPromotionSource(f func(branch string) bool) Option {
	return func(s *Server) { s.sourceMatch = f }
}

// WithStepDone calls f after every step (also skipped and locked-out
// cycles) has been recorded; f must not block.
func WithStepDone(f func(StepStatus)) Option { return func(s *Server) { s.stepDone = f } }

// Server is the service. Create it with New, run it with Run or Serve.
type Server struct {
	cfg         config.Serve
	sources     []string                 // promote.pairs[].from: merges and pushes there trigger a promotion
	sourceMatch func(branch string) bool // more sources; nil = none
	promoteOn   bool                     // promote.enabled
	repo        string                   // owner/repo whose webhook events count
	base        string                   // nixpkgs.base
	fork        string                   // where kupdate pushes, as the page names it; "" = repo
	secretEnv   config.EnvName
	secret      []byte // empty: /webhook disabled
	lockDir     string
	sched       cron.Schedule
	cycler      Cycler
	deliveries  *deliveries // webhook deliveries acted on, so a repeat does nothing
	metrics     *Metrics
	log         *slog.Logger
	clock       Clock
	jitter      func(time.Duration) time.Duration
	getenv      func(string) string
	stepDone    func(StepStatus)
	build       *BuildInfo // nil: not named (WithBuildInfo)
	page        *template.Template
	handler     http.Handler
	served      atomic.Bool

	wake chan struct{} // capacity 1: the worker has something to look at

	mu             sync.Mutex
	draining       bool
	nextRun        time.Time
	running        *StepStatus
	lastCycle      *StepStatus
	lastPromotion  *StepStatus
	pendingCycle   *Pending
	pendingPromote *Pending
}

// New builds the service from the whole configuration: [serve] for the
// schedule, listener and webhook, [promote] for which branches' webhooks
// trigger a promotion, [github] for which repository's, and the state
// directory for the lock. metrics may be nil (a registry of its own is made);
// logger may be nil (discarded). The webhook secret is read here, from the
// variable serve.webhook_secret_env names.
func New(cfg *config.Config, cycler Cycler, metrics *Metrics, logger *slog.Logger, opts ...Option) (*Server, error) {
	if cycler == nil {
		return nil, errors.New("server: no Cycler")
	}
	sched, err := cron.ParseStandard(cfg.Serve.Schedule)
	if err != nil {
		return nil, fmt.Errorf("serve.schedule %q: %w", cfg.Serve.Schedule, err)
	}
	s := &Server{
		cfg:        cfg.Serve,
		promoteOn:  cfg.Promote.Enabled,
		repo:       cfg.GitHub.Owner + "/" + cfg.GitHub.Repo,
		base:       cfg.Nixpkgs.Base,
		fork:       forkName(cfg),
		secretEnv:  cfg.Serve.WebhookSecretEnv,
		sched:      sched,
		cycler:     cycler,
		deliveries: newDeliveries(rememberedDeliveries),
		metrics:    metrics,
		log:        logger,
		clock:      realClock{},
		jitter:     func(max time.Duration) time.Duration { return rand.N(max) },
		wake:       make(chan struct{}, 1),
	}
	for _, p := range cfg.Promote.Pairs {
		if !slices.Contains(s.sources, p.From) {
			s.sources = append(s.sources, p.From)
		}
	}
	for _, o := range opts {
		o(s)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics(prometheus.NewRegistry())
	}
	if st := cycler.State(); st != nil {
		s.metrics.SeedLastSuccess(st.LastSuccess)
	}
	s.metrics.watchBehind(cycler.State, func() time.Time { return s.clock.Now() })
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.getenv == nil {
		s.getenv = os.Getenv
	}
	// A name that does not pass validation (a Config built in code) is
	// refused here too: it would be shown on the status page.
	if err := s.secretEnv.Check(); err != nil {
		return nil, fmt.Errorf("server: serve.webhook_secret_env: %w", err)
	}
	if s.secretEnv != "" {
		s.secret = []byte(s.secretEnv.Lookup(s.getenv))
	}
	if s.lockDir == "" {
		if s.lockDir, err = cfg.StateDir(); err != nil {
			return nil, fmt.Errorf("server: the lock lives in the state directory: %w", err)
		}
	}
	if s.build != nil {
		s.metrics.SetBuildInfo(*s.build)
	}
	if s.page, err = parsePage(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the HTTP side: / (status page), /status.json, /healthz,
// /metrics, /webhook.
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on serve.listen and serves until ctx is done; see Serve.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve.listen %q: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve runs the scheduler, the worker and HTTP on ln until ctx is done, then
// shuts down as the package documentation describes. It returns nil after a
// clean shutdown, and an error when HTTP failed or a cancelled step would not
// stop. Serve may be called once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.served.CompareAndSwap(false, true) {
		ln.Close()
		return errors.New("server: Serve called twice")
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "schedule", s.cfg.Schedule, "jitter", s.cfg.Jitter.D(),
		"webhook", s.webhookState(), "lock", lock.Path(s.lockDir))

	// The steps run on a context of their own: shutdown cancels it only after
	// the grace period, not when ctx is done.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	workDone := make(chan struct{})
	go func() { defer close(workDone); s.work(workCtx) }()
	stopSched, schedDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(schedDone); s.schedule(stopSched) }()

	var err error
	select {
	case <-ctx.Done():
	case herr := <-httpDone:
		httpDone = nil
		err = fmt.Errorf("server: HTTP on %s: %w", ln.Addr(), herr)
		s.log.Error("HTTP failed; shutting down", "error", herr)
	}

	// Stage 1: no new work.
	s.mu.Lock()
	s.draining = true
	running := clone(s.running)
	for _, p := range []*Pending{s.pendingPromote, s.pendingCycle} {
		if p != nil {
			s.log.Warn("shutting down: dropped a queued step", "step", p.Step, "trigger", p.Trigger)
		}
	}
	s.pendingPromote, s.pendingCycle = nil, nil
	s.mu.Unlock()
	close(stopSched)
	<-schedDone
	s.signal()
	if running != nil {
		s.log.Info("shutting down: waiting for the running step", "step", running.Step, "since", running.Start, "grace", s.cfg.ShutdownTimeout.D())
	}

	// Stages 2 and 3: wait, then cancel and wait a bounded time.
	if werr := s.awaitWorker(workDone, cancelWork); werr != nil && err == nil {
		err = werr
	}

	if httpDone != nil {
		sctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		if serr := hs.Shutdown(sctx); serr != nil {
			hs.Close()
		}
		if herr := <-httpDone; herr != nil && !errors.Is(herr, http.ErrServerClosed) && err == nil {
			err = fmt.Errorf("server: HTTP on %s: %w", ln.Addr(), herr)
		}
	}
	s.log.Info("stopped")
	return err
}

func (s *Server) awaitWorker(workDone <-chan struct{}, cancelWork context.CancelFunc) error {
	select {
	case <-workDone:
		return nil
	default:
	}
	grace := s.clock.NewTimer(s.cfg.ShutdownTimeout.D())
	defer grace.Stop()
	select {
	case <-workDone:
		return nil
	case <-grace.C():
	}
	s.log.Warn("shutting down: the running step did not finish within serve.shutdown_timeout; cancelling it",
		"shutdown_timeout", s.cfg.ShutdownTimeout.D())
	cancelWork()
	hard := s.clock.NewTimer(abandonAfter)
	defer hard.Stop()
	select {
	case <-workDone:
		return nil
	case <-hard.C():
		return fmt.Errorf("server: the running step did not stop within %s of being cancelled; exiting without waiting for it", abandonAfter)
	}
}

// signal wakes the worker; a wake-up already waiting is enough.
func (s *Server) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// work runs queued steps one at a time until shutdown.
func (s *Server) work(ctx context.Context) {
	for {
		s.mu.Lock()
		if s.draining {
			s.mu.Unlock()
			return
		}
		// A promotion goes first: it was asked for by an event, and is short.
		p := s.pendingPromote
		if p != nil {
			s.pendingPromote = nil
		} else if p = s.pendingCycle; p != nil {
			s.pendingCycle = nil
		}
		var st *StepStatus
		if p != nil {
			// Marked running in the same critical section that unqueues it,
			// so a tick never sees neither.
			st = &StepStatus{Step: p.Step, Trigger: p.Trigger, Start: s.clock.Now()}
			s.running = st
		}
		s.mu.Unlock()
		if st == nil {
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		s.run(ctx, *st)
	}
}

// run runs one step under the lock and records how it went.
func (s *Server) run(ctx context.Context, st StepStatus) {
	// The id ties the step's lines to those of the cycle it runs (which
	// reads it from ctx).
	id := runlog.NewID()
	log := s.log.With("step", st.Step, "trigger", st.Trigger, runlog.Key, id)
	log.Info("step started")
	err := s.locked(runlog.WithID(ctx, id), st.Step, log)
	st.End = s.clock.Now()
	switch {
	case err == nil:
		st.Outcome = OutcomeSuccess
	case errors.Is(err, lock.ErrHeld) && st.Step == StepCycle:
		st.Outcome = OutcomeLocked
	case ctx.Err() != nil:
		st.Outcome = OutcomeCancelled
	default:
		st.Outcome = OutcomeFailure
	}
	if err != nil {
		st.Error = err.Error()
	}
	s.metrics.stepDone(st.Step, st.Outcome, st.Took(), st.End)
	s.mu.Lock()
	s.running = nil
	if st.Step == StepCycle {
		s.lastCycle = &st
	} else {
		s.lastPromotion = &st
	}
	s.mu.Unlock()
	switch st.Outcome {
	case OutcomeSuccess:
		log.Info("step finished", "outcome", st.Outcome, "took", st.Took().Round(time.Millisecond))
	case OutcomeLocked:
		log.Warn("cycle skipped: another process holds the lock", "error", err)
	default:
		log.Error("step finished", "outcome", st.Outcome, "took", st.Took().Round(time.Millisecond), "error", err)
	}
	if s.stepDone != nil {
		s.stepDone(st)
	}
}

// locked takes the lock and runs the step. A cycle gives up when another
// process holds the lock (the next tick tries again); a promotion was asked
// for by an event that will not come again, so it waits.
func (s *Server) locked(ctx context.Context, step string, log *slog.Logger) (err error) {
	l, err := lock.TryLock(s.lockDir)
	if err != nil && errors.Is(err, lock.ErrHeld) && step == StepPromote {
		log.Info("promotion waits for the lock", "holder", err)
		l, err = lock.Lock(ctx, s.lockDir)
	}
	if err != nil {
		return err
	}
	defer func() {
		if uerr := l.Unlock(); uerr != nil {
			log.Warn("unlock", "error", uerr)
		}
	}()
	// A panic in the cycle must not take the service down with it: it fails
	// this step, and the next one starts afresh.
	defer func() {
		if r := recover(); r != nil {
			log.Error("step panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("%s panicked: %v", step, r)
		}
	}()
	if step == StepPromote {
		return s.cycler.Promote(ctx)
	}
	return s.cycler.Cycle(ctx)
}

// schedule fires a cycle at every slot of serve.schedule plus jitter, until
// stop closes.
func (s *Server) schedule(stop <-chan struct{}) {
	defer s.setNextRun(time.Time{})
	var last time.Time
	for {
		now := s.clock.Now()
		slot := s.sched.Next(now)
		if !last.IsZero() && !slot.After(last) {
			// The clock is behind the slot that just fired (a wall-clock
			// step back): never run one slot twice.
			slot = s.sched.Next(last)
		}
		if slot.IsZero() {
			s.log.Error("serve.schedule never fires; no scheduled cycles will run", "schedule", s.cfg.Schedule)
			<-stop
			return
		}
		at := slot
		if j := s.cfg.Jitter.D(); j > 0 {
			at = at.Add(s.jitter(j))
		}
		s.setNextRun(at)
		t := s.clock.NewTimer(at.Sub(now))
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C():
		}
		last = slot
		s.tick()
	}
}

func (s *Server) setNextRun(t time.Time) {
	s.mu.Lock()
	s.nextRun = t
	s.mu.Unlock()
}

// tick queues a scheduled cycle, unless one runs or waits already.
func (s *Server) tick() {
	s.mu.Lock()
	var why string
	switch {
	case s.draining:
		s.mu.Unlock()
		return
	case s.running != nil && s.running.Step == StepCycle:
		why = "the previous cycle (started " + s.running.Start.UTC().Format(time.RFC3339) + ") is still running"
	case s.pendingCycle != nil:
		why = "a cycle is already queued"
	default:
		s.pendingCycle = &Pending{Step: StepCycle, Trigger: "schedule"}
	}
	now := s.clock.Now()
	s.mu.Unlock()
	if why == "" {
		s.signal()
		return
	}
	s.log.Warn("scheduled cycle skipped: "+why, "schedule", s.cfg.Schedule)
	s.metrics.stepDone(StepCycle, OutcomeSkipped, 0, now)
	if s.stepDone != nil {
		s.stepDone(StepStatus{Step: StepCycle, Trigger: "schedule", Start: now, End: now, Outcome: OutcomeSkipped, Error: why})
	}
}

// forkName is where kupdate pushes, as the status page names it: the fork's
// owner/repo on GitHub, else nixpkgs.fork without its credentials.
func forkName(cfg *config.Config) string {
	switch {
	case cfg.GitHub.ForkOwner != "":
		return cfg.GitHub.ForkOwner + "/" + cfg.GitHub.Repo
	case cfg.Nixpkgs.Fork != "":
		return redact.URL(cfg.Nixpkgs.Fork)
	}
	return ""
}

var errDraining = errors.New("kupdate is shutting down")

// requestPromotion queues a promotion. queued is false when one already
// waits (its trigger is returned): that one will see this event's effects too.
func (s *Server) requestPromotion(trigger string) (queued bool, waiting string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false, "", errDraining
	}
	if s.pendingPromote != nil {
		return false, s.pendingPromote.Trigger, nil
	}
	s.pendingPromote = &Pending{Step: StepPromote, Trigger: trigger}
	s.signal()
	return true, "", nil
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

func (s *Server) webhookState() string {
	switch {
	case len(s.secret) == 0:
		return "disabled (" + s.secretEnvName() + " is empty or unset)"
	case !s.promoteOn:
		return "on, but promote.enabled = false: events are acknowledged and ignored"
	default:
		return "on for " + s.repo + ", promotion sources " + strings.Join(s.sources, ", ")
	}
}

func (s *Server) secretEnvName() string {
	if s.secretEnv == "" {
		return "serve.webhook_secret_env"
	}
	return s.secretEnv.String()
}
