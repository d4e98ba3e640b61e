// Package cycle is kupdate's whole cycle, the data flow of docs/design.md: poll
// kernel.org, plan against the nixpkgs tree at the base branch, apply each
// change (validated), build the candidates with Nix, commit on deterministic
// branches, push them to the fork, bring their pull requests up to date and,
// when enabled, promote the staging branch.
//
// Every change is isolated: one that does not apply or validate is reported
// and left out of its branch (nothing is committed for it), and the others
// go on. A change whose build fails is still committed, pushed and proposed:
// the PR (always a draft: a ready one is converted back) shows the failure
// and its log tail, and the kupdate/build status is failure.
//
// Branches are processed one after the other, each through build, push and
// PR. A cycle is idempotent: a second one with nothing new upstream makes no
// commit, no push and no GitHub write (gitops sees the same commits on the
// fork; the build result of the same content is reused from the cache
// directory; workflow writes only what differs). A cycle cut short at any
// point is completed by the next one, to the same end state.
//
// The package implements server.Cycler for `kupdate serve`, and backs
// `kupdate run` and `kupdate status`. It never takes the cache-directory
// lock itself: its callers do.
//
// Update and PlanUpdate are the same plan applied to a tree on disk, a
// maintainer's checkout (`kupdate update` and `kupdate plan`): each change
// written and validated there, then committed on the current branch.
package cycle

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/families"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/runlog"
	"github.com/kupdate/kupdate/state"
	"github.com/kupdate/kupdate/updater"
	"github.com/kupdate/kupdate/workflow"
)

// Step is a boundary of the cycle that Options.AfterStep sees.
type Step string

const (
	StepPlanned  Step = "planned"  // the plan is made (branch "")
	StepBuilt    Step = "built"    // a branch's candidates were built (or the build was reused)
	StepPushed   Step = "pushed"   // a branch was pushed, found up to date, or refused
	StepSynced   Step = "synced"   // a branch's PR was brought up to date
	StepPromoted Step = "promoted" // the promotion step ran (branch "")
)

// Options are what New needs beyond the configuration. Only the zero value's
// defaults are needed in production; tests and `kupdate demo` inject the
// simulators' transports, clocks and a build environment.
type Options struct {
	// DryRun reads kernel.org, the nixpkgs remote, the fork and GitHub and
	// reports exactly what a cycle would do, writing nothing: no push, no
	// GitHub write, no build, no state file, nothing in a checkout's
	// worktree, index or refs.
	DryRun  bool
	NoBuild bool     // skip validation by evaluation and the builds
	Only    []string // limit the cycle to changes of these attributes (linux_6_12)
	// Requests, when set, replace the plan: the cycle proposes exactly the
	// changes maintainers asked for (kupdate propose ... --pr), each on
	// its own branch and PR, and leaves the state, the other branches and
	// the promotion alone. A request the families refuse stops the cycle
	// before anything is written (a *family.RefusedError).
	Requests []family.Request
	// Nixpkgs is a local checkout to start from (its HEAD commit); "" means
	// nixpkgs.path, and when that is empty too, the managed clone of
	// nixpkgs.remote in the cache directory. The checkout's worktree, index
	// and refs are never touched; its object store receives kupdate's
	// (unreferenced) commit objects.
	Nixpkgs string

	Log    *slog.Logger        // nil discards
	Getenv func(string) string // secrets (git.token_env, github.token_env); nil means os.Getenv
	// Now stamps commits, PR titles, removals' "# Added" dates and the
	// state; nil means time.Now.
	Now       func() time.Time
	UserAgent string // for kernel.org and the hardened source; "" = kernelorg's default

	// KernelOrg is the kernel.org client; nil builds one from [kernelorg]
	// with UpstreamTransport. One client should serve every cycle.
	KernelOrg         *kernelorg.Client
	UpstreamTransport http.RoundTripper // nil: http.DefaultTransport
	// GitHub configures the workflow; Getenv, Log, Clock, Transport,
	// CacheDir and DryRun are filled in from these Options when unset.
	GitHub          workflow.Options
	GitHubTransport http.RoundTripper // nil: http.DefaultTransport
	// Hardened is where linux-hardened releases come from, for trees with
	// hardened kernels; nil means GitHub's anthraxx/linux-hardened at
	// github.api_url.
	Hardened hardened.Source
	// Families replaces the registry of kernel families (package
	// families); nil means families.New over the sources above.
	Families family.Registry

	// BuildEnv is added to the environment of Nix (validation and builds),
	// e.g. KUPDATE_KERNEL_MIRROR=<url> for the sample tree. Nix gets only
	// the allow-listed part of kupdate's own (childproc.Env), never a
	// variable an *_env key names.
	BuildEnv []string
	// Progress sees every build.Progress event (a CLI prints them);
	// ProgressEvery is how often while a tier runs (0: at start and end only).
	Progress      func(build.Progress)
	ProgressEvery time.Duration
	// Metrics records changes and builds; nil records nothing.
	Metrics Metrics
	// AfterStep is called at each step boundary; the cycle checks its
	// context right after. Tests cancel there to cut a cycle short.
	AfterStep func(step Step, branch string)
}

// Cycle runs kupdate's cycle for one configuration. Its methods may be called
// from several goroutines, but Run, Cycle and Promote must not overlap (the
// server and `kupdate run` serialise them with the lock).
type Cycle struct {
	cfg      *config.Config
	o        Options
	log      *slog.Logger
	tag      *runlog.Tagger // under log: adds the running step's id to every line
	now      func() time.Time
	cacheDir string
	stateDir string            // state.json and builds.json (config.StateDir)
	local    string            // the checkout, "" for the managed clone
	ko       *kernelorg.Client // the families' source, and rc hashes rechecked
	wf       forge
	runner   builder
	families family.Registry
	getenv   func(string) string

	mu   sync.Mutex
	last *state.State // the last finished cycle's state
}

// New prepares a cycle for cfg. Its errors are configuration errors: a
// keyring that does not read, a credential that is missing, an --only that is
// not an attribute, a checkout that is not a directory.
func New(cfg *config.Config, o Options) (*Cycle, error) {
	c := &Cycle{cfg: cfg, o: o, now: o.Now, getenv: o.Getenv}
	base := slog.Handler(slog.DiscardHandler)
	if o.Log != nil {
		base = o.Log.Handler()
	}
	// Every part of the cycle is built with this logger, so each of their
	// lines carries the id of the step that runs (begin).
	c.tag = runlog.NewTagger(base)
	c.log = slog.New(c.tag)
	if c.now == nil {
		c.now = time.Now
	}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if err := checkOptions(cfg, o); err != nil {
		return nil, err
	}
	dir, err := cfg.CacheDir()
	if err != nil {
		return nil, err
	}
	c.cacheDir = dir
	if c.stateDir, err = cfg.StateDir(); err != nil {
		return nil, err
	}
	if c.local, err = checkout(cfg, o); err != nil {
		return nil, err
	}
	c.ko = o.KernelOrg
	if c.ko == nil {
		if c.ko, err = newKernelOrg(cfg, c.log, o.UserAgent, o.UpstreamTransport); err != nil {
			return nil, err
		}
	}
	wf, err := workflow.New(cfg, c.workflowOptions())
	if err != nil {
		return nil, err
	}
	c.wf = wf
	c.families = o.Families
	if c.families == nil {
		c.families = families.New(families.Sources{Config: cfg, KernelOrg: c.ko, GitHubTransport: o.GitHubTransport,
			UserAgent: o.UserAgent, Getenv: c.getenv, Log: c.log, Hardened: o.Hardened})
	}
	c.runner = c.newRunner()
	if st, err := state.Read(c.stateDir); err == nil {
		c.last = st
	} else if !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("the last cycle's state is unreadable; starting without it", "error", err)
	}
	return c, nil
}

// checkOptions refuses what New cannot start with: a push token variable
// that did not pass validation (a Config built in code: refused before a
// push error could print it), an --only that is not an attribute.
func checkOptions(cfg *config.Config, o Options) error {
	if err := cfg.Git.TokenEnv.Check(); err != nil {
		return fmt.Errorf("git.token_env: %w", err)
	}
	for _, a := range o.Only {
		if !family.ValidAttr(a) {
			return fmt.Errorf("--only %q: not a kernel attribute (want e.g. linux_6_12, linux_testing, linux_6_12_hardened)", a)
		}
	}
	return nil
}

// checkout is the maintainer's checkout the cycle starts from (--nixpkgs,
// else nixpkgs.path), "" for the managed clone.
func checkout(cfg *config.Config, o Options) (string, error) {
	dir := o.Nixpkgs
	if dir == "" {
		dir = cfg.Nixpkgs.Path
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return "", fmt.Errorf("nixpkgs checkout %s: not a directory (check --nixpkgs or nixpkgs.path)", dir)
		}
	}
	return dir, nil
}

// workflowOptions are Options.GitHub, completed from the cycle's options.
func (c *Cycle) workflowOptions() workflow.Options {
	wo := c.o.GitHub
	if wo.Getenv == nil {
		wo.Getenv = c.getenv
	}
	if wo.Log == nil {
		wo.Log = c.log
	}
	if wo.Clock == nil {
		wo.Clock = c.now
	}
	if wo.Transport == nil {
		wo.Transport = c.o.GitHubTransport
	}
	if wo.CacheDir == "" {
		wo.CacheDir = filepath.Join(c.cacheDir, "github-etags")
	}
	wo.DryRun = c.o.DryRun
	return wo
}

// newRunner is the builder of [build], with the cycle's progress,
// environment and secrets to keep from it.
func (c *Cycle) newRunner() *build.Runner {
	bopts := []build.Option{build.WithLogger(progressLogger(c.log, c.o.Progress != nil)), build.WithEnv(c.o.BuildEnv...), build.WithSecrets(c.cfg.SecretEnvNames()...)}
	if c.o.Progress != nil {
		bopts = append(bopts, build.WithProgress(c.o.Progress, c.o.ProgressEvery))
	}
	return build.New(c.cfg.Build, bopts...)
}

// Metrics is where a cycle counts its changes and builds
// (*server.Metrics).
type Metrics interface {
	ObserveChange(kind, outcome string)
	ObserveBuild(tier, status string)
	// ObservePromotion counts a promotion step the cycle ran:
	// "success", "failure" or "cancelled".
	ObservePromotion(outcome string)
	// ObserveLag records how long after kernel.org's release a version
	// reached stage (StageProposed, StageMerged, StagePromoted).
	ObserveLag(stage string, d time.Duration)
}

// Paths inside the cache directory, then the state directory.
const (
	cloneDir   = "nixpkgs.git" // the managed clone
	exportDir  = "tree"        // the tree Nix evaluates and builds (tree-1 ... while a process holds it: gitops.ExportFree)
	stateFile  = "state.json"  // the last cycle, for status
	buildsFile = "builds.json" // build results by content
)

// Cycle runs one whole cycle for the server: an error when anything failed,
// ctx's error when it was cut short.
func (c *Cycle) Cycle(ctx context.Context) error {
	rep, err := c.Run(ctx)
	if err != nil {
		return err
	}
	return rep.Err()
}

// Promote runs the promotion step alone (promote.pairs, whether or not
// promote.enabled puts it in the cycle).
func (c *Cycle) Promote(ctx context.Context) error {
	defer c.begin(ctx)()
	t0 := time.Now()
	res, err := c.wf.Promote(ctx)
	c.logPromotions(res, err, t0)
	if !c.o.DryRun && len(res) > 0 {
		if werr := c.savePromotions(res); werr != nil {
			return errors.Join(err, werr)
		}
	}
	return err
}

// savePromotions puts the promotions of a step run alone into the state, so
// the status page shows what it did (a merged PR as merged) before the
// next cycle.
func (c *Cycle) savePromotions(res []workflow.PromoteResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &state.State{Version: state.Version}
	if c.last != nil {
		cp := *c.last
		st = &cp
	}
	st.Promotions = nil
	for _, p := range res {
		st.Promotions = append(st.Promotions, promotionRecord(p))
	}
	st.Attrs = cloneAttrs(st.Attrs) // the last state is shared with readers
	c.promoted(st, res, c.now())
	if err := state.Write(c.stateDir, st); err != nil {
		return err
	}
	c.last = st
	return nil
}

// logPromotions logs each pair's promotion, once: workflow returns the
// results and leaves the telling to its caller.
func (c *Cycle) logPromotions(res []workflow.PromoteResult, err error, t0 time.Time) {
	for _, r := range res {
		args := []any{"from", r.From, "to", r.To, "outcome", r.Outcome}
		if r.Number != 0 {
			args = append(args, "pr", r.Number)
		}
		if r.Reason != "" {
			args = append(args, "reason", r.Reason)
		}
		if r.Err != nil {
			c.log.Error("cycle: promotion", append(args, "error", r.Err)...)
			continue
		}
		c.log.Info("cycle: promotion", args...)
	}
	if err != nil && len(res) == 0 {
		c.log.Error("cycle: promotion", "error", err, "took", runlog.Since(t0))
	}
}

// begin tags every log line with the step's id (the one ctx carries, from
// the service, else a new one) until the returned func is called.
func (c *Cycle) begin(ctx context.Context) (end func()) {
	id := runlog.ID(ctx)
	if id == "" {
		id = runlog.NewID()
	}
	c.tag.Set(id)
	return c.tag.Clear
}

// State is the last finished cycle's state (or the state file a previous
// process left), nil before any: the service's status page reads it. It
// does no I/O and is safe for concurrent use; the caller must not modify
// it.
func (c *Cycle) State() *state.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// repo opens the tree the cycle starts from.
func (c *Cycle) repo(ctx context.Context) (*gitops.Repo, error) {
	opts := gitops.Options{
		Identity: gitops.Identity{Name: c.cfg.Git.AuthorName, Email: c.cfg.Git.AuthorEmail},
		Now:      c.now,
		Logger:   c.log,
	}
	if c.local != "" {
		return gitops.OpenLocal(ctx, c.local, opts)
	}
	return gitops.OpenManaged(ctx, filepath.Join(c.cacheDir, cloneDir), gitops.Remote{URL: c.cfg.Nixpkgs.Remote}, c.cfg.Nixpkgs.Base, opts)
}

// fork is where branches are pushed: nixpkgs.fork, else nixpkgs.remote,
// with the token of git.token_env when it is set.
func (c *Cycle) fork() gitops.Remote {
	r := gitops.Remote{URL: c.cfg.Nixpkgs.Fork}
	if r.URL == "" {
		r.URL = c.cfg.Nixpkgs.Remote
	}
	if tok := c.cfg.Git.TokenEnv.Lookup(c.getenv); tok != "" {
		r.Auth = gitops.TokenAuth(tok)
	}
	return r
}

// newKernelOrg is the kernel.org client of [kernelorg], for callers that
// bring none.
func newKernelOrg(cfg *config.Config, log *slog.Logger, userAgent string, transport http.RoundTripper) (*kernelorg.Client, error) {
	ko, err := kernelorg.OptionsFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	ko.Logger = log
	ko.UserAgent = userAgent
	if transport != nil {
		ko.HTTPClient = &http.Client{Transport: transport}
	}
	return kernelorg.New(ko)
}

// plan asks every family of the tree what it needs, or, with requests,
// for the changes maintainers asked for instead.
func plan(ctx context.Context, reg family.Registry, log *slog.Logger, tree *family.Tree, requests []family.Request) (*family.Plan, error) {
	p := &updater.Planner{Families: reg, Log: log}
	if len(requests) > 0 {
		return p.Propose(ctx, tree, requests)
	}
	return p.Plan(ctx, tree)
}

// loadTree reads the files the families know at commit.
func loadTree(ctx context.Context, reg family.Registry, repo repository, commit plumbing.Hash) (*family.Tree, error) {
	files := map[string][]byte{}
	for _, p := range reg.Paths() {
		b, err := repo.ReadFile(ctx, commit, p)
		switch {
		case err == nil:
			files[p] = b
		case errors.Is(err, object.ErrFileNotFound):
		default:
			return nil, err
		}
	}
	t, err := reg.Load(files)
	if err != nil {
		return nil, fmt.Errorf("the nixpkgs tree at %s: %w", commit.String()[:12], err)
	}
	return t, nil
}

func (c *Cycle) after(ctx context.Context, s Step, branch string) error {
	if c.o.AfterStep != nil {
		c.o.AfterStep(s, branch)
	}
	return ctx.Err()
}
