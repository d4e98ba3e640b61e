package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/childproc"
	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/demo"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/lock"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// demoCI is the status context the simulated CI posts on the promotion PR.
const demoCI = "ci/hydra (simulated)"

// runDemo is `kupdate demo`: kupdate's whole cycle against the simulators of
// package demo, told as a story — three cycles and a promotion, with what
// happens between them (a release, a review, CI) done by the demo itself and
// labelled as simulated; with --serve, then the service against the same
// world until ctx is done.
func runDemo(ctx context.Context, e *env, args []string) (err error) {
	f, err := parseDemoFlags(e, args)
	if err != nil {
		return err
	}
	var front net.Listener
	if f.serve {
		// Bound first: a busy --listen is found before the story, not after.
		if front, err = (&net.ListenConfig{}).Listen(ctx, "tcp", f.listen); err != nil {
			return usageErrorf("--listen %s: %v", f.listen, err)
		}
		defer front.Close()
	}
	start := time.Now()
	dir, cleanup, err := demoDir(f.keep)
	if err != nil {
		return err
	}
	defer cleanup()

	var opts []demo.Option
	if f.tree != "" {
		opts = append(opts, demo.WithTree(f.tree))
	}
	world, err := demo.Start(ctx, dir, opts...)
	if err != nil {
		return err
	}
	defer world.Close()

	out, log, kept := e.stdout, quietUnlessVerbose(ctx, e.log), f.keep != ""
	skipBuild, nixNote := demoNix(f.noBuild, world.Config.Build.Tiers)
	printWorld(out, world, dir, kept, nixNote)
	carrier, err := tellStory(ctx, out, log, world, skipBuild)
	if err != nil {
		return err
	}
	printPRs(out, world)
	if err := printExample(ctx, out, world, carrier, dir, kept); err != nil {
		return err
	}
	if err := printTarget(ctx, out, world); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nDone in %s.\n", time.Since(start).Round(100*time.Millisecond))
	if f.serve {
		svc := &demoService{out: out, world: world, log: log, noBuild: skipBuild, front: front, every: f.every, kept: kept}
		if err := svc.run(ctx); err != nil {
			return err
		}
	}
	if kept {
		fmt.Fprintf(out, "Everything is in %s\n(config.toml, the GitHub repositories under github/, kupdate's cache under cache/).\n", dir)
	} else {
		fmt.Fprintf(out, "The simulators are stopped and %s is removed; --keep DIR keeps it.\n", dir)
	}
	return nil
}

type demoFlags struct {
	keep, tree, listen string
	noBuild, serve     bool
	every              time.Duration
}

// parseDemoFlags parses demo's flags; a mistake (a tree that is not there,
// the service's flags without --serve) is the caller's (exit 2), found
// before the simulators start.
func parseDemoFlags(e *env, args []string) (*demoFlags, error) {
	var f demoFlags
	fs := newFlagSet(e, "demo")
	fs.StringVar(&f.keep, "keep", "", "work in `DIR` and keep it (repositories, cache, config.toml) instead of a temporary directory")
	fs.StringVar(&f.tree, "tree", "", "the nixpkgs tree to start from (default: the sample tree, testdata/nixpkgs of this clone)")
	fs.BoolVar(&f.noBuild, "no-build", false, "skip Nix (evaluation and builds); the default when nix-build is not on PATH")
	fs.BoolVar(&f.serve, "serve", false, "after the story, keep the world up and run kupdate serve against it, with knobs to act as kernel.org, CI and reviewer, until Ctrl-C")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8380", "with --serve: the `ADDR` of the status page and the knobs (/demo/)")
	fs.DurationVar(&f.every, "every", 20*time.Second, "with --serve: run a cycle this often")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := serveFlags(fs, f.serve, f.every); err != nil {
		return nil, err
	}
	if f.tree == "" {
		return &f, nil
	}
	if st, err := os.Stat(f.tree); err != nil || !st.IsDir() {
		return nil, usageErrorf("--tree %s: not a directory (want a nixpkgs tree; the default is testdata/nixpkgs of this clone)", f.tree)
	}
	if _, err := os.Stat(filepath.Join(f.tree, filepath.FromSlash(kernelfiles.KernelsJSONPath))); err != nil {
		return nil, usageErrorf("--tree %s: not a nixpkgs tree: it has no %s", f.tree, kernelfiles.KernelsJSONPath)
	}
	return &f, nil
}

// demoNix says whether the demo skips Nix (--no-build, or Nix not on PATH)
// and how the world's description says it.
func demoNix(noBuild bool, tiers []string) (skip bool, note string) {
	if noBuild {
		return true, "skipped (--no-build)"
	}
	for _, p := range []string{"nix-build", "nix-instantiate"} {
		if _, err := exec.LookPath(p); err != nil {
			return true, "skipped: " + p + " is not on PATH (install Nix, e.g. Debian's nix-bin, to see the builds)"
		}
	}
	return false, "real Nix: each change is evaluated, then built in tiers " + strings.Join(tiers, ", ")
}

// tellStory runs the story's cycles under the state directory's lock (as
// `kupdate run` and `kupdate serve` take it; the demo's own, so it never
// waits) and returns the PR carrying most changes.
func tellStory(ctx context.Context, out io.Writer, log *slog.Logger, world *demo.Env, noBuild bool) (carrier int, err error) {
	c, err := cycle.New(world.Config, cycle.Options{
		NoBuild:         noBuild,
		Log:             log,
		Getenv:          world.Getenv,
		Now:             world.Now,
		UserAgent:       "kupdate/" + buildVersion() + " (demo)",
		GitHubTransport: world.GitHub.Client().Transport,
		BuildEnv:        world.BuildEnv,
	})
	if err != nil {
		return 0, &exitError{code: exitUsage, err: err}
	}
	l, err := lock.TryLock(world.Config.Nixpkgs.StateDir)
	if err != nil {
		return 0, err
	}
	defer l.Unlock() // released before the service, which takes it for each step
	st := &story{out: out, world: world, c: c, log: log, noBuild: noBuild}
	if err := st.tell(ctx); err != nil {
		return 0, err
	}
	return st.carrier, nil
}

// serveFlags refuses --listen and --every without --serve, and a schedule
// too short to mean anything.
func serveFlags(fs *flag.FlagSet, serve bool, every time.Duration) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if (f.Name == "listen" || f.Name == "every") && !serve && err == nil {
			err = usageErrorf("--%s is for the service: add --serve", f.Name)
		}
	})
	if err == nil && every < time.Second {
		err = usageErrorf("--every %s: want at least 1s (the schedule is \"@every DURATION\")", every)
	}
	return err
}

// demoDir is --keep DIR (created; it must be empty), else a temporary
// directory removed by cleanup.
func demoDir(keep string) (dir string, cleanup func(), err error) {
	if keep == "" {
		dir, err := os.MkdirTemp("", "kupdate-demo-")
		if err != nil {
			return "", nil, err
		}
		return dir, func() { os.RemoveAll(dir) }, nil
	}
	if err := os.MkdirAll(keep, 0o755); err != nil {
		return "", nil, usageErrorf("--keep %s: %v", keep, err)
	}
	entries, err := os.ReadDir(keep)
	if err != nil {
		return "", nil, usageErrorf("--keep %s: %v", keep, err)
	}
	if len(entries) > 0 {
		return "", nil, usageErrorf("--keep %s: not empty; give a new or empty directory (the demo builds its world from scratch)", keep)
	}
	abs, err := filepath.Abs(keep)
	if err != nil {
		return "", nil, usageErrorf("--keep %s: %v", keep, err)
	}
	return abs, func() {}, nil
}

func printWorld(w io.Writer, world *demo.Env, dir string, kept bool, nixNote string) {
	fmt.Fprintf(w, "kupdate demo: the whole cycle, offline. kernel.org and GitHub are simulators in this\n")
	fmt.Fprintf(w, "process (nothing leaves 127.0.0.1); git and Nix are real.\n\n")
	fmt.Fprintf(w, "== The world\n\n")
	fmt.Fprintf(w, "kernel.org (simulated)  %s\n", world.KernelOrg.URL)
	var rows []string
	for _, sp := range world.KernelOrg.Releases() {
		r := sp.Version + " " + sp.Moniker
		if sp.EOL {
			r += " EOL"
		}
		rows = append(rows, r)
	}
	wrap(w, "  ", rows, ", ")
	fmt.Fprintf(w, "GitHub (simulated)      %s\n", world.GitHub.URL())
	fmt.Fprintf(w, "  %s/%s: the sample nixpkgs tree on %s, %s and %s\n", demo.Owner, demo.Repo, demo.Target, demo.Base, demo.StableBranch)
	fmt.Fprintf(w, "  %s/%s: the fork kupdate pushes its branches to\n", demo.ForkOwner, demo.Repo)
	fmt.Fprintf(w, "  %s/%s releases: %s\n", demo.HardenedOwner, demo.HardenedRepo, strings.Join(world.Hardened(), ", "))
	removed := "removed at the end; --keep DIR keeps it"
	if kept {
		removed = "kept"
	}
	fmt.Fprintf(w, "work directory          %s (%s)\n", dir, removed)
	fmt.Fprintf(w, "builds                  %s\n", nixNote)
	fmt.Fprintf(w, "configuration           %s\n", filepath.Join(dir, "config.toml"))
	fmt.Fprintf(w, "date                    %s (simulated: a week after the releases above)\n", world.Now().Format(time.DateOnly))
}

// wrap prints items joined by sep in lines of at most 100 columns.
func wrap(w io.Writer, prefix string, items []string, sep string) {
	line := prefix
	for i, it := range items {
		s := it
		if i < len(items)-1 {
			s += sep
		}
		if len(line)+len(s) > 100 && line != prefix {
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			line = prefix
		}
		line += s
	}
	if line != prefix {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// simulated is the heading of what the demo does as upstream, CI or
// reviewer: when ("Between cycles") it happens, and what.
func simulated(w io.Writer, when, what string) {
	var b strings.Builder
	wrapLine(&b, "== "+when+" (simulated): ", what, "   ", demoWidth)
	fmt.Fprintf(w, "\n%s", b.String())
}

// promotionPR is the number of the first promotion PR in rep, 0 if none.
func promotionPR(rep *cycle.Report) int {
	for _, p := range rep.Promotions {
		if p.Number != 0 && p.Err == nil {
			return p.Number
		}
	}
	return 0
}

// printPRs is the end of the story: every PR on the simulated NixOS/nixpkgs
// with its state, labels and checks.
func printPRs(w io.Writer, world *demo.Env) {
	fmt.Fprintf(w, "\n== The pull requests on %s/%s (simulated GitHub)\n", demo.Owner, demo.Repo)
	for _, pr := range world.PRs() {
		state := pr.State
		switch {
		case pr.Merged:
			state = "merged"
		case pr.Draft:
			state += ", draft"
		}
		fmt.Fprintf(w, "\n#%d %s\n", pr.Number, pr.Title)
		fmt.Fprintf(w, "   %s: %s:%s -> %s\n", state, pr.HeadOwner, pr.Head, pr.Base)
		labels := "none"
		if len(pr.Labels) > 0 {
			labels = strings.Join(pr.Labels, ", ")
		}
		fmt.Fprintf(w, "   labels: %s\n", labels)
		if len(pr.RequestedReviewers) > 0 {
			fmt.Fprintf(w, "   review requested: %s\n", strings.Join(pr.RequestedReviewers, ", "))
		}
		checks := latestChecks(world.GitHub.Statuses(demo.Owner, demo.Repo, pr.HeadSHA))
		if len(checks) == 0 {
			fmt.Fprintf(w, "   checks: none\n")
		}
		for _, s := range checks {
			line := s.Context + ": " + s.State
			if s.Description != "" {
				line += " — " + s.Description
			}
			fmt.Fprintf(w, "   check %s\n", line)
		}
	}
}

// latestChecks keeps the newest status of each context, in first-seen order.
func latestChecks(all []githubtest.Status) []githubtest.Status {
	var out []githubtest.Status
	index := map[string]int{}
	for _, s := range all {
		if i, ok := index[s.Context]; ok {
			out[i] = s
			continue
		}
		index[s.Context] = len(out)
		out = append(out, s)
	}
	return out
}

// indent prefixes every line written through it with two spaces.
func indent(w io.Writer) io.Writer { return &indenter{w: w, bol: true} }

type indenter struct {
	w   io.Writer
	bol bool
}

func (in *indenter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, c := range string(p) {
		if in.bol && c != '\n' {
			b.WriteString("  ")
		}
		b.WriteRune(c)
		in.bol = c == '\n'
	}
	if _, err := io.WriteString(in.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// quietUnlessVerbose keeps the cycle's logs to warnings and errors unless
// -v asked for everything: the demo tells its story on stdout.
func quietUnlessVerbose(ctx context.Context, l *slog.Logger) *slog.Logger {
	if l.Enabled(ctx, slog.LevelDebug) {
		return l
	}
	return slog.New(minLevel{l.Handler(), slog.LevelWarn})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }

// cycleFacts says in one line what the cycle did to the fork and with Nix,
// from its report.
func cycleFacts(rep *cycle.Report, tiers []string, noBuild bool) string {
	pushed, unchanged := 0, 0
	attrs, runs, passed := 0, 0, 0
	for _, b := range rep.Branches {
		switch b.Push {
		case gitops.Pushed:
			pushed++
		case gitops.Unchanged:
			unchanged++
		}
		if b.Reused {
			continue
		}
		for _, a := range b.Build.Attrs() {
			if !b.ReusedAttr(a) {
				attrs++
			}
		}
		for _, r := range b.Build.Results {
			if b.ReusedAttr(r.Attr) {
				continue // built in an earlier cycle: not counted as this cycle's work
			}
			runs++
			if r.Status == build.Passed {
				passed++
			}
		}
	}
	nix := "Nix: skipped"
	switch {
	case noBuild:
	case runs == 0:
		nix = "Nix: nothing new to build"
	default:
		nix = fmt.Sprintf("Nix: %d %s x %d tiers (%s), %d of %d passed", attrs, plural(attrs, "attribute"), len(tiers), strings.Join(tiers, ", "), passed, runs)
	}
	return fmt.Sprintf("git: %d %s pushed to the fork, %d unchanged. %s.", pushed, plural(pushed, "branch"), unchanged, nix)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	if strings.HasSuffix(word, "ch") {
		return word + "es"
	}
	return word + "s"
}

// printExample shows the body of the PR carrying most changes (the rolling
// one) as GitHub has it, and what it did to kernels-org.json; with --keep
// it writes every body to DIR/prs/<number>.md.
func printExample(ctx context.Context, w io.Writer, world *demo.Env, carrier int, dir string, kept bool) error {
	pr, err := world.PR(carrier)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n== What a PR says: the body of #%d, the PR carrying most changes, as kupdate wrote it\n", pr.Number)
	fmt.Fprintf(w, "   (lines wider than the terminal wrapped here; on GitHub they are one line each)\n\n")
	indent(w).Write([]byte(wrapText(strings.TrimRight(pr.Body, "\n")+"\n", demoWidth-2)))
	diff, err := prDiff(ctx, world, pr, kernelfiles.KernelsJSONPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n== What #%d does to %s\n\n", pr.Number, kernelfiles.KernelsJSONPath)
	indent(w).Write(diff)
	if !kept {
		return nil
	}
	pdir := filepath.Join(dir, "prs")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return err
	}
	for _, pr := range world.PRs() {
		if err := os.WriteFile(filepath.Join(pdir, fmt.Sprintf("%d.md", pr.Number)), []byte("# "+pr.Title+"\n\n"+pr.Body), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nEvery PR body is in %s.\n", pdir)
	return nil
}

// prDiff is the unified diff pr makes to path: its merge commit against the
// base it merged into or, not merged, its head against where it forked from
// the base (in the fork, which has both). The "index" line is left out: its
// blob ids say nothing a reader needs.
func prDiff(ctx context.Context, world *demo.Env, pr githubtest.PullRequest, path string) ([]byte, error) {
	repo, revs := world.GitHub.RepoDir(demo.Owner, demo.Repo), []string{pr.MergeCommit + "^1", pr.MergeCommit}
	if !pr.Merged {
		repo, revs = world.GitHub.RepoDir(demo.ForkOwner, demo.Repo), []string{pr.Base + "..." + pr.HeadSHA}
	}
	args := append([]string{"--git-dir", repo, "diff", "--no-color", "--no-ext-diff"}, revs...)
	cmd := exec.CommandContext(ctx, "git", append(args, "--", path)...)
	cmd.Env = childproc.Env(os.Environ(), nil, world.Config.SecretEnvNames())
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := childproc.Run(cmd); err != nil {
		return nil, fmt.Errorf("the diff of #%d to %s: %w", pr.Number, path, err)
	}
	var keep []string
	for _, l := range strings.SplitAfter(out.String(), "\n") {
		if !strings.HasPrefix(l, "index ") {
			keep = append(keep, l)
		}
	}
	return []byte(strings.Join(keep, "")), nil
}

// printTarget shows where the kernels stand on the promotion target after
// the story: kernels-org.json of master, read from the simulated repository.
func printTarget(ctx context.Context, w io.Writer, world *demo.Env) error {
	cmd := exec.CommandContext(ctx, "git", "--git-dir", world.GitHub.RepoDir(demo.Owner, demo.Repo), "show", demo.Target+":"+kernelfiles.KernelsJSONPath)
	cmd.Env = childproc.Env(os.Environ(), nil, world.Config.SecretEnvNames())
	var data bytes.Buffer
	cmd.Stdout = &data
	if err := childproc.Run(cmd); err != nil {
		return fmt.Errorf("reading %s on %s: %w", kernelfiles.KernelsJSONPath, demo.Target, err)
	}
	var entries map[string]struct{ Version string }
	if err := json.Unmarshal(data.Bytes(), &entries); err != nil {
		return fmt.Errorf("%s on %s: %w", kernelfiles.KernelsJSONPath, demo.Target, err)
	}
	branches := slices.SortedFunc(maps.Keys(entries), kernelorg.CompareSeries)
	var rows []string
	for _, b := range branches {
		rows = append(rows, b+" "+entries[b].Version)
	}
	fmt.Fprintf(w, "\n== %s/%s %s now (%s)\n\n", demo.Owner, demo.Repo, demo.Target, kernelfiles.KernelsJSONPath)
	wrap(w, "  ", rows, ", ")
	return nil
}
