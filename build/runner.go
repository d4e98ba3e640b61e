package build

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kupdate/kupdate/childproc"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/family"
)

// nixPrograms are the commands that take Nix's settings as flags. Other
// programs (a wrapper script) get none: they would not understand them.
var nixPrograms = []string{"nix", "nix-build", "nix-instantiate", "nix-store", "nix-shell"}

const (
	defaultGrace    = 10 * time.Second
	defaultLogLines = 40
)

// Progress is one event of a run, for a CLI to show "building linux_6_12
// configfile (2m10s)". Events of one Runner are delivered one at a time.
type Progress struct {
	Attr    string
	Tier    string
	Status  Status        // Running when it starts and while it runs; then its outcome
	Elapsed time.Duration // time since the tier started
	Pgid    int           // process group of the running command; 0 when none runs
}

// String is a line for a terminal: "building linux_6_12 configfile (2m10s)",
// "linux_6_12 configfile: failed (14s)".
func (p Progress) String() string {
	d := p.Elapsed.Round(time.Second)
	if p.Elapsed > 0 && p.Elapsed < time.Second {
		d = p.Elapsed.Round(time.Millisecond)
	}
	if p.Status == Running {
		return fmt.Sprintf("building %s %s (%s)", p.Attr, p.Tier, d)
	}
	return fmt.Sprintf("%s %s: %s (%s)", p.Attr, p.Tier, p.Status, d)
}

// Option configures a Runner.
type Option func(*Runner)

// WithEnv adds KEY=VALUE entries to the environment of every command, over
// what it gets of kupdate's own (e.g. KUPDATE_KERNEL_MIRROR for the sample
// tree). Commands get only the allow-listed part of kupdate's environment
// (childproc.Env).
func WithEnv(kv ...string) Option {
	return func(r *Runner) { r.extraEnv = append(r.extraEnv, kv...) }
}

// WithSecrets names environment variables no command may see, even when
// allow-listed or given to WithEnv: the variables the *_env keys name
// (config.SecretEnvNames).
func WithSecrets(names ...string) Option {
	return func(r *Runner) { r.secrets = append(r.secrets, names...) }
}

// WithLogger logs each tier's start and outcome to l.
func WithLogger(l *slog.Logger) Option {
	return func(r *Runner) { r.log = l }
}

// WithProgress calls fn when a tier starts and ends and, if every > 0, every
// so often while it runs.
func WithProgress(fn func(Progress), every time.Duration) Option {
	return func(r *Runner) { r.progress, r.every = fn, every }
}

// WithKillGrace is how long a command has to exit after SIGTERM (on timeout
// or cancellation) before its process group gets SIGKILL. Default 10s.
func WithKillGrace(d time.Duration) Option {
	return func(r *Runner) { r.grace = d }
}

// Runner builds attributes in tiers. It holds no state between runs; one
// Runner may serve several runs at once.
type Runner struct {
	cfg      config.Build
	extraEnv []string
	secrets  []string
	log      *slog.Logger
	progress func(Progress)
	every    time.Duration
	grace    time.Duration
	// expire bounds a tier by build.timeout: context.WithTimeout. A test
	// makes the timeout fire when the builder is seen running instead of
	// after a wall-clock time a loaded machine may not honour.
	expire func(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
	mu     sync.Mutex // one progress event at a time
}

// New returns a Runner for cfg, normally the validated [build] section.
func New(cfg config.Build, opts ...Option) *Runner {
	r := &Runner{cfg: cfg, grace: defaultGrace, expire: context.WithTimeout}
	for _, o := range opts {
		o(r)
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.cfg.Concurrency < 1 {
		r.cfg.Concurrency = 1
	}
	if r.cfg.LogLines < 1 {
		r.cfg.LogLines = defaultLogLines
	}
	return r
}

// Run builds each attribute of attrs (duplicates once) in the tree at dir,
// at most build.concurrency attributes at a time, each through the
// configured tiers in order. It always returns a result for every tier of
// every attribute: a bad attribute name, a missing command or a failed start
// is a failed tier, and cancelling ctx cancels what runs and what has not
// started.
func (r *Runner) Run(ctx context.Context, dir string, attrs []string) Report {
	var uniq []string
	for _, a := range attrs {
		if !slices.Contains(uniq, a) {
			uniq = append(uniq, a)
		}
	}
	env := childproc.Env(os.Environ(), r.extraEnv, r.secrets)
	results := make([][]Result, len(uniq))
	sem := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, attr := range uniq {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = r.runAttr(ctx, dir, env, attr) // all cancelled, runs nothing
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = r.runAttr(ctx, dir, env, attr)
		}()
	}
	wg.Wait()
	var rep Report
	for _, rs := range results {
		rep.Results = append(rep.Results, rs...)
	}
	return rep
}

func (r *Runner) runAttr(ctx context.Context, dir string, env []string, attr string) []Result {
	out := make([]Result, 0, len(r.cfg.Tiers))
	var blocker *Result // the tier that did not pass
	for _, tier := range r.cfg.Tiers {
		res := Result{Attr: attr, Tier: tier}
		argv, err := r.command(tier, attr)
		res.Command = argv
		switch {
		case blocker != nil && blocker.Status == Cancelled:
			res.Status, res.Error = Cancelled, "cancelled before it started"
		case blocker != nil:
			res.Status, res.Error = Skipped, fmt.Sprintf("skipped: %s %s", blocker.Tier, blocker.Status)
		case ctx.Err() != nil:
			res.Status, res.Error = Cancelled, "cancelled before it started"
		case err != nil:
			res.Status, res.Error = Failed, err.Error()
		default:
			r.runTier(ctx, dir, env, &res)
		}
		if res.Status != Passed && blocker == nil {
			blocker = &res
		}
		r.report(Progress{Attr: attr, Tier: tier, Status: res.Status, Elapsed: res.Duration})
		out = append(out, res)
	}
	return out
}

func (r *Runner) runTier(ctx context.Context, dir string, env []string, res *Result) {
	tctx := ctx
	if t := r.cfg.Timeout.D(); t > 0 {
		var cancel context.CancelFunc
		tctx, cancel = r.expire(ctx, t)
		defer cancel()
	}
	start := time.Now()
	r.log.Info("build tier started", "attr", res.Attr, "tier", res.Tier)
	r.log.Debug("build command", "attr", res.Attr, "tier", res.Tier, "command", res.CommandLine(), "dir", dir)

	var pgid int
	var pgidMu sync.Mutex
	stopTicks := r.tick(res, start, func() int { pgidMu.Lock(); defer pgidMu.Unlock(); return pgid })
	o := runGroup(tctx, dir, res.Command, env, r.cfg.LogLines, r.grace, func(p int) {
		pgidMu.Lock()
		pgid = p
		pgidMu.Unlock()
		r.report(Progress{Attr: res.Attr, Tier: res.Tier, Status: Running, Pgid: p})
	})
	stopTicks()
	res.Duration = time.Since(start)

	switch {
	case o.stopped && ctx.Err() != nil:
		res.Status, res.Error = Cancelled, fmt.Sprintf("cancelled after %s", res.Duration.Round(time.Second))
	case o.stopped:
		res.Status, res.Error = TimedOut, fmt.Sprintf("timed out after %s", r.cfg.Timeout.D())
	case o.err != nil:
		res.Status, res.Error = Failed, o.err.Error()
	default:
		res.Status = Passed
	}
	if res.Status != Passed {
		res.LogTail = o.log.tail()
		res.Drv = o.log.drv()
		if res.Drv == "" && o.stopped {
			res.Drv = o.log.building // what it was doing when stopped
		}
	}
	args := []any{"attr", res.Attr, "tier", res.Tier, "status", res.Status, "took", res.Duration.Round(time.Millisecond)}
	if res.Drv != "" {
		args = append(args, "drv", res.Drv)
	}
	if res.Error != "" {
		args = append(args, "error", res.Error)
	}
	r.log.Info("build tier finished", args...)
}

// tick reports a running tier every r.every until the returned func is called.
func (r *Runner) tick(res *Result, start time.Time, pgid func() int) (stop func()) {
	if r.progress == nil || r.every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if p := pgid(); p != 0 { // not before the start event
					r.report(Progress{Attr: res.Attr, Tier: res.Tier, Status: Running, Elapsed: time.Since(start), Pgid: p})
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (r *Runner) report(p Progress) {
	if r.progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress(p)
}

// command is the argument vector of tier for attr: the template with
// "{attr}" replaced and, for Nix's own programs, Nix's settings right after
// the program name.
func (r *Runner) command(tier, attr string) ([]string, error) {
	tmpl := r.cfg.Commands[tier]
	if len(tmpl) == 0 || tmpl[0] == "" {
		return nil, fmt.Errorf("build.commands has no command for tier %q", tier)
	}
	// The attribute comes from the plan, but the plan comes from files in a
	// tree, and an argument that began with "-" or held a path would change
	// what Nix does.
	if !family.ValidAttr(attr) {
		return nil, fmt.Errorf("invalid attribute name %q: want %s", attr, family.AttrShape)
	}
	argv := []string{tmpl[0]}
	if slices.Contains(nixPrograms, filepath.Base(tmpl[0])) {
		argv = append(argv, r.nixFlags()...)
	}
	for _, a := range tmpl[1:] {
		argv = append(argv, strings.ReplaceAll(a, "{attr}", attr))
	}
	return argv, nil
}

// nixFlags are build.max_jobs, cores, builders and options as Nix flags.
func (r *Runner) nixFlags() []string {
	f := []string{"--max-jobs", strconv.Itoa(r.cfg.MaxJobs)}
	if r.cfg.Cores > 0 {
		f = append(f, "--cores", strconv.Itoa(r.cfg.Cores))
	}
	if r.cfg.Builders != "" {
		f = append(f, "--option", "builders", r.cfg.Builders)
	}
	names := make([]string, 0, len(r.cfg.Options))
	for n := range r.cfg.Options {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f = append(f, "--option", n, r.cfg.Options[n])
	}
	return f
}
