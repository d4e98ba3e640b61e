package cycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/families"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/updater"
)

// UpdateOptions are what Update and PlanUpdate need beyond the
// configuration and the tree. Only the zero value's defaults are needed in
// production; tests inject the simulators.
type UpdateOptions struct {
	// NoCommit writes the changes into the tree without committing them;
	// the tree need not be a git checkout.
	NoCommit bool
	// Build builds the kernels of the changes that stuck, in the tree, in
	// the tiers of [build], after all of them are in.
	Build bool
	// Requests, when set, replace the plan with the changes maintainers
	// asked for (kupdate propose): kernel.org is not asked, and a request
	// the families refuse is an error before anything is written (a
	// *family.RefusedError).
	Requests []family.Request

	Log    *slog.Logger        // nil discards
	Getenv func(string) string // github.token_env; nil means os.Getenv
	// Now dates the commits and removals' "# Added" comments; nil means
	// time.Now.
	Now       func() time.Time
	UserAgent string // for kernel.org and the hardened source

	// KernelOrg is the kernel.org client; nil builds one from [kernelorg].
	KernelOrg *kernelorg.Client
	// Hardened is where linux-hardened releases come from, for trees with
	// hardened kernels; nil means GitHub's anthraxx/linux-hardened at
	// github.api_url.
	Hardened hardened.Source
	// Families replaces the registry of kernel families; nil means
	// families.New over the sources above.
	Families family.Registry

	// BuildEnv is added to the environment of Nix (validation and builds),
	// e.g. KUPDATE_KERNEL_MIRROR=<url> for the sample tree. Nix gets only
	// the allow-listed part of kupdate's own (childproc.Env), never a
	// variable an *_env key names.
	BuildEnv []string
	// Progress sees every build.Progress event; ProgressEvery is how often
	// while a tier runs (0: at start and end only).
	Progress      func(build.Progress)
	ProgressEvery time.Duration
}

func (o UpdateOptions) fill(cfg *config.Config) (UpdateOptions, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KernelOrg == nil {
		ko, err := newKernelOrg(cfg, o.Log, o.UserAgent, nil)
		if err != nil {
			return o, err
		}
		o.KernelOrg = ko
	}
	if o.Families == nil {
		o.Families = families.New(families.Sources{Config: cfg, KernelOrg: o.KernelOrg, UserAgent: o.UserAgent,
			Getenv: o.Getenv, Log: o.Log, Hardened: o.Hardened})
	}
	return o, nil
}

// UpdatePlan is what Update would do to a nixpkgs tree on disk: the plan
// for the tree as its files are (not as HEAD has them).
type UpdatePlan struct {
	// Base is the commit checked out in the tree, "" when the tree is not a
	// git checkout kupdate can open.
	Base string
	*family.Plan

	tree *family.Tree
}

// Err is the failures that held changes back (not the changes that merely
// wait for kernel.org), nil when there are none.
func (p *UpdatePlan) Err() error { return heldErr(p.Held) }

// heldErr makes held changes that failed a failure, after everything else
// was done and said.
func heldErr(held []family.Note) error {
	n := 0
	for _, h := range held {
		if h.Err != nil {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%d change(s) held back by failures (see \"held:\" above; they are retried next run)", n)
	}
	return nil
}

// PlanUpdate reads the nixpkgs tree at dir, asks kernel.org (and, for a
// tree with hardened kernels, the hardened source) what is new, and plans:
// `kupdate plan`. It writes nothing.
func PlanUpdate(ctx context.Context, cfg *config.Config, dir string, o UpdateOptions) (*UpdatePlan, error) {
	o, err := o.fill(cfg)
	if err != nil {
		return nil, err
	}
	p, err := planDir(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	repo, err := gitops.OpenLocal(ctx, dir, gitops.Options{Identity: identity(cfg), Logger: o.Log})
	if err != nil {
		o.Log.Debug("the tree has no base commit", "dir", dir, "error", err)
		return p, nil
	}
	defer repo.Close()
	p.Base = repo.Base().String()
	return p, nil
}

func planDir(ctx context.Context, dir string, o UpdateOptions) (*UpdatePlan, error) {
	tree, err := o.Families.LoadFS(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	tree.Now = o.Now
	pl, err := plan(ctx, o.Families, o.Log, tree, o.Requests)
	if err != nil {
		return nil, err
	}
	return &UpdatePlan{Plan: pl, tree: tree}, nil
}

func identity(cfg *config.Config) gitops.Identity {
	return gitops.Identity{Name: cfg.Git.AuthorName, Email: cfg.Git.AuthorEmail}
}

// checkoutIdentity is who Update commits as in a maintainer's checkout: the
// maintainer, as git would commit there (user.name and user.email of the
// checkout's, the global and the system config), like update.sh with
// COMMIT=1; [git] author_name and author_email when git has none. The
// commits still say "Prepared-by: kupdate". (The branches `kupdate run`
// pushes are always kupdate's own: that is how it knows its commits.)
func checkoutIdentity(cfg *config.Config, dir string, o UpdateOptions) gitops.Identity {
	id, ok, err := gitops.UserIdentity(dir, o.Getenv)
	switch {
	case err != nil:
		o.Log.Warn("update: the checkout's git identity is unreadable; committing as [git] author_name", "error", err)
	case ok:
		o.Log.Debug("update: committing as the checkout's git user", "name", id.Name, "email", id.Email)
		return id
	}
	return identity(cfg)
}

// UpdateReport is what Update did to the tree.
type UpdateReport struct {
	Committed bool           // the changes that stuck were committed (not NoCommit)
	Changes   []UpdateChange // every planned change, in plan order
	Held      []family.Note  // changes that wait (Err nil) or failed before planning
	// Builds are the build results of the changes that stuck, in plan order
	// (Build only).
	Builds []ChangeBuild
}

// UpdateChange is one planned change.
type UpdateChange struct {
	Change family.Change
	Commit string // its commit; "" with NoCommit or when it failed
	// Err is why the change was rolled back: it did not apply, evaluate or
	// commit, and nothing of it is left in the tree. The next change was
	// applied to the tree without it.
	Err error
}

// Update is `kupdate update`: the plan applied to the nixpkgs tree at dir,
// change by change, like nixpkgs' update.sh with COMMIT=1. Each change is
// written into the tree and validated there with Nix, then committed on the
// current branch (unless NoCommit) as the checkout's git user
// (checkoutIdentity); one that fails is rolled back and the others go on.
// With Build, the kernels of the changes that stuck are then built in the
// tree.
//
// Before anything is written, a checkout whose files the changes touch
// differ from HEAD is refused (a *gitops.DirtyError): kupdate would
// overwrite the maintainer's work, and could not commit its own.
//
// The error is what stopped Update as a whole; the report says what became
// of each change (UpdateReport.Err).
func Update(ctx context.Context, cfg *config.Config, dir string, o UpdateOptions) (*UpdateReport, error) {
	o, err := o.fill(cfg)
	if err != nil {
		return nil, err
	}
	var repo *gitops.Repo
	if !o.NoCommit {
		repo, err = gitops.OpenLocal(ctx, dir, gitops.Options{Identity: checkoutIdentity(cfg, dir, o), Now: o.Now, Logger: o.Log})
		if err != nil {
			return nil, fmt.Errorf("%w (pass --no-commit to edit a tree without committing)", err)
		}
		defer repo.Close()
	}
	p, err := planDir(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	rep := &UpdateReport{Committed: repo != nil, Held: p.Held}
	if len(p.Changes) == 0 {
		return rep, nil
	}
	if o.NoCommit {
		if err := checkStaged(ctx, cfg, dir, touched(p.Changes), o); err != nil {
			return nil, err
		}
	}

	opts := updater.ApplyOptions{Validate: updater.ValidateOptions{Env: o.BuildEnv, Secrets: cfg.SecretEnvNames()}, Recheck: o.KernelOrg}
	commits := map[string]string{} // title -> commit
	if repo != nil {
		if err := repo.CheckClean(ctx, touched(p.Changes)); err != nil {
			if d := (*gitops.DirtyError)(nil); errors.As(err, &d) {
				d.Or = "pass --no-commit"
			}
			return nil, err
		}
		opts.After = func(ctx context.Context, c family.Change, files map[string][]byte) error {
			hashes, err := repo.CommitWritten(ctx, []gitops.Commit{{Change: c, Files: files}})
			if len(hashes) == 0 {
				return err // nothing was committed: the change is rolled back
			}
			commits[c.Title] = hashes[0].String()
			if err != nil {
				// The commit is made, with the files as written: they stay.
				o.Log.Warn("update: committed, but the index was not updated", "title", c.Title, "error", err)
			}
			return nil
		}
	}
	var applied []family.Change
	outs, _ := updater.ApplyToDir(ctx, o.Families, dir, p.tree, p.Changes, opts)
	for _, out := range outs {
		rep.Changes = append(rep.Changes, UpdateChange{Change: out.Change, Commit: commits[out.Change.Title], Err: out.Err})
		if out.Err == nil {
			applied = append(applied, out.Change)
		}
	}
	if o.Build && len(applied) > 0 {
		bopts := []build.Option{build.WithLogger(progressLogger(o.Log, o.Progress != nil)), build.WithEnv(o.BuildEnv...), build.WithSecrets(cfg.SecretEnvNames()...)}
		if o.Progress != nil {
			bopts = append(bopts, build.WithProgress(o.Progress, o.ProgressEvery))
		}
		rep.Builds = buildChanges(ctx, build.New(cfg.Build, bopts...), dir, applied)
	}
	return rep, nil
}

// touched is every path the changes touch, sorted.
func touched(changes []family.Change) []string {
	paths := each(changes, func(c family.Change) []string { return c.Files })
	slices.Sort(paths)
	return paths
}

// Err sums up the failures of the update: changes that were rolled back,
// a build that failed, changes held back by a failure; nil when everything
// went through (also when there was nothing to do, or changes only wait for
// kernel.org).
func (r *UpdateReport) Err() error {
	failed := 0
	for _, c := range r.Changes {
		if c.Err != nil {
			failed++
		}
	}
	switch {
	case failed > 0 && r.Committed:
		return fmt.Errorf("%d change(s) failed and were neither committed nor left in the checkout", failed)
	case failed > 0:
		return fmt.Errorf("%d change(s) failed and were rolled back", failed)
	}
	for _, b := range r.Builds {
		if !b.OK() {
			if r.Committed {
				return errors.New("a build failed (see above); the commits stay: fix them up or drop them with git")
			}
			return errors.New("a build failed (see above); the changes stay in the tree")
		}
	}
	return heldErr(r.Held)
}

// Write writes the report for a terminal: a line per change (committed,
// applied or failed), the held changes, then a line per build (with the log
// tail of what failed).
func (r *UpdateReport) Write(w io.Writer) error {
	var b strings.Builder
	if len(r.Changes) == 0 {
		b.WriteString("nothing to do\n")
	}
	for _, c := range r.Changes {
		switch {
		case c.Err != nil:
			fmt.Fprintf(&b, "failed: %s: %v\n", c.Change.Title, c.Err)
		case c.Commit != "":
			fmt.Fprintf(&b, "committed %s: %s\n", short(c.Commit), c.Change.Title)
		default:
			fmt.Fprintf(&b, "applied: %s\n", c.Change.Title)
		}
	}
	for _, n := range r.Held {
		fmt.Fprintf(&b, "held: %s\n", n)
	}
	for _, res := range r.Builds {
		fmt.Fprintf(&b, "build %s: %s\n", res.Change.Title, buildLine(res))
		for _, x := range res.Report.Results {
			if x.Status == build.Failed && x.LogTail != "" {
				fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(strings.TrimRight(x.LogTail, "\n"), "\n", "\n    "))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// buildLine sums up a change's build: "passed", "nothing to build", or the
// first attribute and tier that did not pass ("linux_6_18 configfile
// failed: ...").
func buildLine(res ChangeBuild) string {
	if len(res.Report.Results) == 0 {
		return "nothing to build"
	}
	for _, x := range res.Report.Results {
		if x.Status != build.Passed {
			s := fmt.Sprintf("%s %s %s", x.Attr, x.Tier, x.Status)
			if x.Error != "" {
				s += ": " + x.Error
			}
			return s
		}
	}
	return "passed"
}

// ChangeBuild is the build of one change: the results of the attributes
// the change lists in its Build field, in that order.
type ChangeBuild struct {
	Change family.Change
	Report build.Report
}

// OK reports whether every tier of every attribute of the change passed. A
// change with nothing to build (a removal) is OK.
func (c ChangeBuild) OK() bool { return c.Report.OK() }

// buildChanges builds the attributes of all changes in one run over the
// tree at dir (an attribute that several changes share is built once) and
// maps the results back: one ChangeBuild per change, in order.
func buildChanges(ctx context.Context, r *build.Runner, dir string, changes []family.Change) []ChangeBuild {
	rep := r.Run(ctx, dir, buildAttrs(changes))
	out := make([]ChangeBuild, len(changes))
	for i, c := range changes {
		out[i].Change = c
		for _, a := range slices.Compact(slices.Clone(c.Build)) {
			out[i].Report.Results = append(out[i].Report.Results, rep.For(a)...)
		}
	}
	return out
}

// checkStaged refuses, with --no-commit, a checkout whose index differs
// from HEAD at a path the changes touch: kupdate writes the worktree only,
// so the index would keep the maintainer's staged edit beneath kupdate's
// and go stale. An unstaged worktree edit is built upon. A tree that is not
// a git checkout has no index to check.
func checkStaged(ctx context.Context, cfg *config.Config, dir string, paths []string, o UpdateOptions) error {
	if _, err := os.Stat(filepath.Join(dir, ".git")); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	repo, err := gitops.OpenLocal(ctx, dir, gitops.Options{Identity: identity(cfg), Now: o.Now, Logger: o.Log})
	if err != nil {
		return err
	}
	defer repo.Close()
	err = repo.CheckStaged(ctx, paths)
	if d := (*gitops.DirtyError)(nil); errors.As(err, &d) {
		d.Or = "unstage them with git restore --staged to have kupdate edit on top of them"
	}
	return err
}
