package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kupdate/kupdate/check"
	"github.com/kupdate/kupdate/families"
	"github.com/kupdate/kupdate/workflow"
)

// runCheck is `kupdate check (--pr N | --base REV --head REV) [--report]`:
// it verifies the kernel changes of a pull request (or of any two
// revisions), each family against its own sources (kernel.org's releases
// and signed hashes, linux-hardened's releases). Exit 0: verified; 3:
// findings; 1: the check could not verify everything (never a pass).
func runCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "check")
	pr := fs.Int("pr", 0, "check pull request `N` of [github] owner/repo, fetched from GitHub")
	base := fs.String("base", "", "base revision (with --head): the diff starts where head branched off it")
	head := fs.String("head", "", "head revision (with --base)")
	nixpkgs := fs.String("nixpkgs", "", "the nixpkgs repository (default nixpkgs.path; with --base/--head, else the current directory; with --pr, else a cache repository of kupdate's)")
	report := fs.Bool("report", false, "post the result to GitHub: a check run (GitHub App) or a commit status (token) named "+workflow.CheckName)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *pr < 0:
		return usageErrorf("--pr %d: want a pull request number", *pr)
	case *pr > 0 && (*base != "" || *head != ""):
		return usageErrorf("give --pr N or --base REV --head REV, not both")
	case *pr == 0 && (*base == "" || *head == ""):
		return usageErrorf("give --pr N, or both --base REV and --head REV")
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	ko, err := newKernelOrg(e)
	if err != nil {
		return err
	}
	// Every family verifies against its own sources: kernel.org, and
	// linux-hardened's GitHub releases (github.token_env, when set, raises
	// GitHub's rate limit).
	reg := families.New(families.Sources{Config: cfg, KernelOrg: ko, UserAgent: "kupdate/" + buildVersion(), Getenv: e.getenv, Log: e.log})

	var w *workflow.Workflow
	if *pr > 0 || *report {
		if w, err = newWorkflow(e, false); err != nil {
			return err
		}
	}
	dir := *nixpkgs
	if dir == "" {
		dir = cfg.Nixpkgs.Path
	}
	var repo *check.Repo
	from, to := *base, *head
	if *pr > 0 {
		rev, err := w.PRRevisions(ctx, *pr)
		if err != nil {
			return err
		}
		shallow := dir == ""
		if shallow {
			cache, err := cfg.CacheDir()
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if repo, err = check.OpenCache(ctx, filepath.Join(cache, "check.git"), cfg.SecretEnvNames()); err != nil {
				return err
			}
		} else {
			repo = &check.Repo{Dir: dir, Secrets: cfg.SecretEnvNames()}
		}
		p := check.PR{Number: rev.Number, MergeBase: rev.MergeBase, Head: rev.HeadSHA, Commits: rev.Commits, FetchURL: rev.FetchURL, FetchRef: rev.FetchRef}
		if err := repo.FetchPR(ctx, p, shallow); err != nil {
			return reportError(ctx, e, w, *report, rev.HeadSHA, err)
		}
		from, to = rev.MergeBase, rev.HeadSHA
	} else {
		if dir == "" {
			dir = "."
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usageErrorf("--nixpkgs %s: not a directory", dir)
		}
		repo = &check.Repo{Dir: dir, Secrets: cfg.SecretEnvNames()}
	}

	ck := &check.Checker{Repo: repo, Families: reg, Log: e.log}
	rep, err := ck.Check(ctx, from, to)
	if err != nil {
		sha := to
		if resolved, rerr := repo.Resolve(ctx, to); rerr == nil {
			sha = resolved
		}
		return reportError(ctx, e, w, *report, sha, err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if *report {
		c := checkReport(rep)
		acts, err := w.ReportCheckAnnotated(ctx, c)
		if err != nil {
			return fmt.Errorf("reporting to GitHub: %w", err)
		}
		for _, a := range acts {
			e.log.Info("reported", "action", a)
		}
		printReported(e, cfg.GitHub.AppID != 0, c, len(acts) == 0)
	}
	switch rep.Conclusion {
	case check.Fail:
		return &exitError{code: exitFindings, err: errors.New("")}
	case check.Incomplete:
		return fmt.Errorf("could not verify everything against kernel.org (%d items above): the check did not pass; run it again", len(rep.Unverified))
	}
	return nil
}

// reportError ends a check that could not run: with --report GitHub shows
// it as an error, never as missing or green.
func reportError(ctx context.Context, e *env, w *workflow.Workflow, report bool, sha string, err error) error {
	if report && w != nil && sha != "" {
		c := workflow.CheckReport{
			Check:   workflow.Check{Name: workflow.CheckName, SHA: sha, State: workflow.Failure, Title: "kupdate check could not run", Summary: "kupdate check could not run:\n\n```\n" + err.Error() + "\n```\n"},
			Errored: true,
		}
		if acts, rerr := w.ReportCheckAnnotated(ctx, c); rerr != nil {
			e.log.Error("could not report the failure to GitHub", "error", rerr)
		} else {
			cfg, _ := e.loadConfig() // loaded already: there is a workflow
			printReported(e, cfg != nil && cfg.GitHub.AppID != 0, c, len(acts) == 0)
		}
	}
	return fmt.Errorf("the check could not run: %w", err)
}

// printReported says on stdout what --report left on GitHub, e.g.
// "reported: commit status kupdate/check = failure on <sha> (1 finding)":
// a check run under GitHub App auth, a commit status with a token (as
// workflow reports), in the state GitHub shows.
func printReported(e *env, app bool, c workflow.CheckReport, unchanged bool) {
	kind, state := "commit status", string(c.State)
	if c.Errored {
		state = "error" // a status has an error state; a check run fails
	}
	if app {
		kind, state = "check run", string(c.State)
	}
	note := ""
	if unchanged {
		note = "; already there, nothing written"
	}
	fmt.Fprintf(e.stdout, "reported: %s %s = %s on %s (%s%s)\n", kind, c.Name, state, c.SHA, c.Title, note)
}

// checkReport maps a report to what GitHub shows: findings as failure
// annotations, what could not be verified as warnings.
func checkReport(rep *check.Report) workflow.CheckReport {
	c := workflow.CheckReport{Check: workflow.Check{Name: workflow.CheckName, SHA: rep.Head, Title: rep.Summary(), Summary: rep.Markdown()}}
	switch rep.Conclusion {
	case check.Pass:
		c.State = workflow.Success
	case check.Fail:
		c.State = workflow.Failure
	default:
		c.State, c.Errored = workflow.Failure, true
	}
	for _, f := range rep.Findings {
		c.Annotations = append(c.Annotations, workflow.Annotation{Path: f.File, Line: f.Line, Level: "failure", Title: "kupdate check: " + string(f.Rule), Message: f.Message})
	}
	for _, f := range rep.Unverified {
		c.Annotations = append(c.Annotations, workflow.Annotation{Path: f.File, Line: f.Line, Level: "warning", Title: "kupdate check: not verified", Message: f.Message})
	}
	return c
}
