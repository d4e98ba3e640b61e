package main

import (
	"context"
	"fmt"
	"github.com/kupdate/kupdate/state"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/workflow"
)

// runStatus is `kupdate status [--json]`: per kernel branch the version in
// nixpkgs (at the base), on kernel.org, the PR and the last cycle's result.
// It reads the last cycle's state and what is live (kernel.org, the tree,
// the PRs on GitHub) and writes nothing; what it could not read is said on
// stderr, and makes the exit status 1.
func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "status")
	asJSON := fs.Bool("json", false, "print the state as JSON (the layout of state.json in the cache directory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg, _, err = e.openState(cfg, false); err != nil {
		return err
	}
	// A read-only look must answer quickly even when kernel.org or GitHub
	// is down: each read is tried twice, briefly, and all of them run at
	// once within statusTimeout (a cycle waits minutes instead).
	opts, err := kernelorg.OptionsFromConfig(cfg)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	opts.UserAgent, opts.Logger = userAgent(), e.log
	opts.Timeout, opts.MaxAttempts, opts.RetryBackoff = statusReadTimeout, statusAttempts, statusBackoff
	ko, err := kernelorg.New(opts)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	// A dry-run cycle: it reads GitHub (anonymously without a token) and
	// never writes.
	c, err := cycle.New(cfg, cycle.Options{
		DryRun: true, Log: e.log, Getenv: e.getenv, Now: e.now, UserAgent: userAgent(), KernelOrg: ko,
		GitHub: workflow.Options{Attempts: statusAttempts, Backoff: statusBackoff, Timeout: statusReadTimeout, MaxWait: statusBackoff},
	})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	st, errs := c.Status(ctx)
	if *asJSON {
		b, err := state.Marshal(st)
		if err != nil {
			return err
		}
		if _, err := e.stdout.Write(b); err != nil {
			return err
		}
	} else {
		printStatus(e, st)
	}
	for _, err := range errs {
		fmt.Fprintf(e.stderr, "kupdate status: %v\n", err)
	}
	switch {
	case len(errs) == 0:
		return nil
	case st.End.IsZero():
		return fmt.Errorf("%d live read(s) failed and no cycle has finished yet: what could not be read is not shown", len(errs))
	}
	return fmt.Errorf("%d live read(s) failed; values marked * are the last cycle's (%s)", len(errs), st.End.UTC().Format(time.RFC3339))
}

// How long status may take: each read at most statusReadTimeout and
// statusAttempts tries, statusBackoff apart; everything within
// statusTimeout.
const (
	statusTimeout     = 30 * time.Second
	statusReadTimeout = 10 * time.Second
	statusAttempts    = 2
	statusBackoff     = 500 * time.Millisecond
)

func printStatus(e *env, st *state.State) {
	w := e.stdout
	if st.End.IsZero() {
		fmt.Fprintln(w, "last cycle: none has finished yet (kupdate run, or kupdate serve)")
	} else {
		result := "ok"
		if !st.OK {
			result = "failed: " + firstLine(st.Error)
		}
		fmt.Fprintf(w, "last cycle: %s (took %s), %s\n", st.End.UTC().Format(time.RFC3339), st.End.Sub(st.Start).Round(time.Second), result)
	}
	if st.Base != "" {
		fmt.Fprintf(w, "base: %s at %s\n", st.BaseBranch, st.Base[:min(12, len(st.Base))])
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "BRANCH\tATTR\tNIXPKGS\tKERNEL.ORG\tPR\tBUILD\tLAST RESULT")
	// A value the last cycle saw, where the live read failed, is marked.
	stale := func(source, v string) string {
		if v != "" && slices.Contains(st.Stale, source) {
			return v + "*"
		}
		return v
	}
	for _, b := range st.Attrs {
		pr := "-"
		if b.PR != nil {
			pr = stale(cycle.SourceGitHub, fmt.Sprintf("#%d %s", b.PR.Number, b.PR.State))
		}
		dash := func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Branch, b.Attr, dash(stale(cycle.SourceNixpkgs, b.Nixpkgs)), dash(stale(cycle.SourceKernelOrg, b.Upstream)), pr, dash(b.Build), firstLine(b.Reason()))
	}
	tw.Flush()
	if len(st.Stale) > 0 && !st.End.IsZero() {
		fmt.Fprintf(w, "\n* the last cycle's value: %s could not be read now\n", strings.Join(st.Stale, ", "))
	}
	now := time.Now()
	if e.now != nil {
		now = e.now()
	}
	writeLag(w, st, now)
	var prs []string
	for _, p := range st.Branches {
		if p.PR != nil {
			prs = append(prs, fmt.Sprintf("%s: %s %s", p.Name, stale(cycle.SourceGitHub, fmt.Sprintf("#%d %s", p.PR.Number, p.PR.State)), p.PR.URL))
		}
	}
	if len(prs) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(prs, "\n"))
	}
	for i, s := range st.Suggestions {
		if i == 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "suggested: %s: %s\n", s.Reason, s.Command)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// writeLag is the newest recorded version of each attribute on its way
// into nixpkgs: how long ago kernel.org released it, and how long after
// its release kupdate proposed it, it reached the base, and the promotion
// target ("-": not yet).
func writeLag(w io.Writer, st *state.State, now time.Time) {
	var rows []string
	for _, a := range st.Attrs {
		if len(a.History) == 0 {
			continue
		}
		r := a.History[len(a.History)-1]
		after := func(t time.Time) string {
			if t.IsZero() || r.Released.IsZero() {
				return "-"
			}
			return "+" + age(t.Sub(r.Released))
		}
		released := "-"
		if !r.Released.IsZero() {
			released = age(now.Sub(r.Released)) + " ago"
		}
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", a.Attr, r.Version, released, after(r.Proposed), after(r.Merged), after(r.Promoted)))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nLag since kernel.org's release:\n")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTR\tVERSION\tRELEASED\tPR\tBASE\tTARGET")
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	tw.Flush()
}

// age is d as a person reads it: the largest unit or two, "45m", "5h 10m",
// "3d 4h".
func age(d time.Duration) string {
	d = max(d, 0).Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dm", mins)
}
