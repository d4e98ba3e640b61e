package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v92/github"
)

// BuildCheck is the name of kupdate's build report on its PRs: the commit
// status context, or the check run name.
const BuildCheck = "kupdate/build"

// CheckState is the state of a reported check.
type CheckState string

const (
	Pending   CheckState = "pending"
	Success   CheckState = "success"
	Failure   CheckState = "failure"
	Cancelled CheckState = "cancelled"
)

// Check is a result kupdate reports on a commit: a check run when kupdate
// authenticates as a GitHub App (only apps may create them), a commit status
// with a token.
type Check struct {
	Name       string // status context / check run name, e.g. "kupdate/build", "kupdate/check"
	SHA        string // the commit
	State      CheckState
	Title      string // one line; a commit status' description (cut to 140 characters)
	Summary    string // Markdown; check runs only (a status has no room for it)
	DetailsURL string // optional link
}

// ReportCheck reports c on its commit, writing only when what GitHub shows
// differs: reporting the same result twice makes no write.
func (w *Workflow) ReportCheck(ctx context.Context, c Check) ([]string, error) {
	var acts []string
	err := w.converge(ctx, func(ctx context.Context) error { return w.report(ctx, &acts, c) })
	return acts, err
}

// ReportBuilding marks sha as being built and tested (pending / in
// progress), for a cycle that pushes before it builds.
func (w *Workflow) ReportBuilding(ctx context.Context, sha string) error {
	_, err := w.ReportCheck(ctx, Check{Name: BuildCheck, SHA: sha, State: Pending, Title: "building and testing with Nix"})
	return err
}

func (w *Workflow) report(ctx context.Context, acts *[]string, c Check) error {
	if w.checks {
		return w.reportCheckRun(ctx, acts, c)
	}
	return w.reportStatus(ctx, acts, c)
}

func statusState(s CheckState) string {
	if s == Cancelled {
		return "error"
	}
	return string(s)
}

func cut140(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 140 {
		s = s[:137] + "..."
	}
	return s
}

func (w *Workflow) reportStatus(ctx context.Context, acts *[]string, c Check) error {
	var combined *github.CombinedStatus
	err := w.read(ctx, "read statuses of "+short(c.SHA), func(ctx context.Context) error {
		var err error
		combined, _, err = w.gh.Repositories.GetCombinedStatus(ctx, w.owner, w.repo, c.SHA, &github.ListOptions{PerPage: 100})
		return err
	})
	if err != nil {
		return err
	}
	state, desc := statusState(c.State), cut140(c.Title)
	for _, s := range combined.Statuses {
		if s.GetContext() == c.Name && s.GetState() == state && s.GetDescription() == desc && s.GetTargetURL() == c.DetailsURL {
			return nil
		}
	}
	st := github.RepoStatus{State: &state, Description: &desc, Context: &c.Name}
	if c.DetailsURL != "" {
		st.TargetURL = &c.DetailsURL
	}
	return w.write(ctx, acts, fmt.Sprintf("set status %s on %s: %s", c.Name, short(c.SHA), state), "", func(ctx context.Context) error {
		_, _, err := w.gh.Repositories.CreateStatus(ctx, w.owner, w.repo, c.SHA, st)
		return err
	})
}

func (w *Workflow) reportCheckRun(ctx context.Context, acts *[]string, c Check) error {
	var runs *github.ListCheckRunsResults
	err := w.read(ctx, "read check runs of "+short(c.SHA), func(ctx context.Context) error {
		var err error
		runs, _, err = w.gh.Checks.ListCheckRunsForRef(ctx, w.owner, w.repo, c.SHA, &github.ListCheckRunsOptions{CheckName: &c.Name})
		return err
	})
	if err != nil {
		return err
	}
	status, conclusion := "completed", string(c.State)
	if c.State == Pending {
		status, conclusion = "in_progress", ""
	}
	title := cut140(c.Title)
	out := &github.CheckRunOutput{Title: &title, Summary: &c.Summary}
	if c.Summary == "" {
		out.Summary = &title // GitHub requires a summary with an output
	}
	var existing *github.CheckRun
	for _, r := range runs.CheckRuns {
		if r.GetName() == c.Name && (existing == nil || r.GetID() > existing.GetID()) {
			existing = r
		}
	}
	if existing != nil {
		if existing.GetStatus() == status && existing.GetConclusion() == conclusion &&
			existing.GetOutput().GetTitle() == out.GetTitle() && existing.GetOutput().GetSummary() == out.GetSummary() &&
			existing.GetDetailsURL() == c.DetailsURL {
			return nil
		}
		upd := github.UpdateCheckRunOptions{Name: c.Name, Status: &status, Output: out}
		if conclusion != "" {
			upd.Conclusion = &conclusion
		}
		if c.DetailsURL != "" {
			upd.DetailsURL = &c.DetailsURL
		}
		return w.write(ctx, acts, fmt.Sprintf("update check run %s on %s: %s", c.Name, short(c.SHA), c.State), "", func(ctx context.Context) error {
			_, _, err := w.gh.Checks.UpdateCheckRun(ctx, w.owner, w.repo, existing.GetID(), upd)
			return err
		})
	}
	opts := github.CreateCheckRunOptions{Name: c.Name, HeadSHA: c.SHA, Status: &status, Output: out}
	if conclusion != "" {
		opts.Conclusion = &conclusion
	}
	if c.DetailsURL != "" {
		opts.DetailsURL = &c.DetailsURL
	}
	return w.write(ctx, acts, fmt.Sprintf("create check run %s on %s: %s", c.Name, short(c.SHA), c.State), "", func(ctx context.Context) error {
		_, _, err := w.gh.Checks.CreateCheckRun(ctx, w.owner, w.repo, opts)
		return err
	})
}

// checkResult is one status context or check run on a commit, reduced to
// success, pending or failure.
type checkResult struct {
	name, state string
}

// headChecks reads every status and check run on sha (two conditional
// requests) and reduces each name to its latest state.
func (w *Workflow) headChecks(ctx context.Context, sha string) ([]checkResult, error) {
	var combined *github.CombinedStatus
	err := w.read(ctx, "read statuses of "+short(sha), func(ctx context.Context) error {
		var err error
		combined, _, err = w.gh.Repositories.GetCombinedStatus(ctx, w.owner, w.repo, sha, &github.ListOptions{PerPage: 100})
		return err
	})
	if err != nil {
		return nil, err
	}
	var runs *github.ListCheckRunsResults
	err = w.read(ctx, "read check runs of "+short(sha), func(ctx context.Context) error {
		var err error
		runs, _, err = w.gh.Checks.ListCheckRunsForRef(ctx, w.owner, w.repo, sha, &github.ListCheckRunsOptions{ListOptions: github.ListOptions{PerPage: 100}})
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []checkResult
	for _, s := range combined.Statuses {
		st := "failure"
		switch s.GetState() {
		case "success":
			st = "success"
		case "pending":
			st = "pending"
		}
		out = append(out, checkResult{s.GetContext(), st})
	}
	for _, r := range runs.CheckRuns {
		st := "failure"
		switch {
		case r.GetStatus() != "completed":
			st = "pending"
		case r.GetConclusion() == "success", r.GetConclusion() == "neutral", r.GetConclusion() == "skipped":
			st = "success"
		}
		out = append(out, checkResult{r.GetName(), st})
	}
	return out, nil
}

// verdict decides whether checks allow a merge. With required names, each
// must have reported success; without, every check must be green and there
// must be at least one: "no checks yet" is never green.
func verdict(checks []checkResult, required []string) (Outcome, string) {
	var failing, pending []string
	for _, c := range checks {
		switch c.state {
		case "failure":
			failing = append(failing, c.name)
		case "pending":
			pending = append(pending, c.name)
		}
	}
	if len(required) > 0 {
		var missing []string
		for _, name := range required {
			found := ""
			for _, c := range checks {
				if c.name == name {
					found = c.state
				}
			}
			switch found {
			case "success":
			case "failure":
				return Failing, fmt.Sprintf("required check %s failed", name)
			default:
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return Waiting, "waiting for required checks: " + strings.Join(missing, ", ")
		}
		return Merged, ""
	}
	switch {
	case len(checks) == 0:
		return NoChecks, "no status check has reported on the head yet; kupdate never merges without one"
	case len(failing) > 0:
		return Failing, "failing checks: " + strings.Join(failing, ", ")
	case len(pending) > 0:
		return Waiting, "waiting for checks: " + strings.Join(pending, ", ")
	}
	return Merged, ""
}
