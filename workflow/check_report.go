package workflow

// What `kupdate check` needs of GitHub: the revisions of a pull request, and
// a place to report its verdict with the lines it points at.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/go-github/v92/github"
)

// CheckName is the name of kupdate check's result: the commit status
// context, or the check run name.
const CheckName = "kupdate/check"

// PRRevisions is a pull request as `kupdate check` reads it: the merge base
// GitHub diffs against, the head, and where git can fetch the head from.
type PRRevisions struct {
	Number    int
	URL       string
	Base      string // the base branch
	BaseSHA   string // its tip
	HeadSHA   string
	MergeBase string // GitHub's merge base of the base branch and the head
	Commits   int    // commits in merge_base..head
	// FetchURL and FetchRef are where the head's commits are: the base
	// repository's refs/pull/N/head for a PR from a fork (GitHub keeps it
	// there), the branch itself for a PR within the repository.
	FetchURL, FetchRef string
}

// PRRevisions reads PR number and compares its base branch with its head.
func (w *Workflow) PRRevisions(ctx context.Context, number int) (*PRRevisions, error) {
	pr, err := w.PullRequest(ctx, number)
	if err != nil {
		return nil, err
	}
	out := &PRRevisions{
		Number: number, URL: pr.URL,
		Base: pr.Base, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA,
		FetchURL: pr.BaseCloneURL,
		FetchRef: "refs/pull/" + strconv.Itoa(number) + "/head",
	}
	if pr.HeadCloneURL == pr.BaseCloneURL { // a PR within the repository: its branch is there
		out.FetchRef = "refs/heads/" + pr.Head
	}
	if out.FetchURL == "" || out.HeadSHA == "" || out.Base == "" {
		return nil, fmt.Errorf("PR #%d: GitHub's answer lacks the base repository, base or head", number)
	}
	var cmp *github.CommitsComparison
	head := pr.HeadOwner + ":" + pr.Head
	err = w.read(ctx, fmt.Sprintf("compare %s...%s for PR #%d", out.Base, head, number), func(ctx context.Context) error {
		var err error
		cmp, _, err = w.gh.Repositories.CompareCommits(ctx, w.owner, w.repo, out.Base, head, &github.ListOptions{PerPage: 1})
		return err
	})
	if err != nil {
		return nil, err
	}
	out.MergeBase = cmp.GetMergeBaseCommit().GetSHA()
	out.Commits = cmp.GetTotalCommits()
	if out.MergeBase == "" {
		return nil, fmt.Errorf("PR #%d: GitHub found no merge base of %s and %s", number, out.Base, head)
	}
	return out, nil
}

// Annotation is a line a check result points at.
type Annotation struct {
	Path    string // slash path in the repository
	Line    int    // 1-based; 0 annotates the whole file (its first line)
	Level   string // "failure", "warning" or "notice"
	Title   string
	Message string
}

// CheckReport is a check's result with the lines it points at.
type CheckReport struct {
	Check
	// Errored marks a check that could not do its job (a source it needs
	// was unreachable): a commit status "error", a failing check run. Never
	// a success.
	Errored     bool
	Annotations []Annotation
}

// GitHub takes at most 50 annotations per request and 65,535 characters of
// summary.
const (
	maxAnnotationsPerRequest = 50
	maxSummary               = 65535
)

// ReportCheckAnnotated reports r on its commit: a check run with annotations
// under GitHub App auth, a commit status otherwise (statuses have no room for
// annotations: the title carries the verdict). Reporting the same result
// twice writes nothing; a different result gets a new check run, because
// GitHub appends the annotations of an update to those already there.
func (w *Workflow) ReportCheckAnnotated(ctx context.Context, r CheckReport) ([]string, error) {
	if r.Errored && r.State == Success {
		return nil, fmt.Errorf("check %s on %s: an errored check cannot report success", r.Name, short(r.SHA))
	}
	var acts []string
	err := w.converge(ctx, func(ctx context.Context) error {
		if !w.checks {
			c := r.Check
			if r.Errored {
				c.State = "error"
			}
			return w.reportStatus(ctx, &acts, c)
		}
		return w.reportAnnotatedRun(ctx, &acts, r)
	})
	return acts, err
}

func (w *Workflow) reportAnnotatedRun(ctx context.Context, acts *[]string, r CheckReport) error {
	var runs *github.ListCheckRunsResults
	err := w.read(ctx, "read check runs of "+short(r.SHA), func(ctx context.Context) error {
		var err error
		runs, _, err = w.gh.Checks.ListCheckRunsForRef(ctx, w.owner, w.repo, r.SHA, &github.ListCheckRunsOptions{CheckName: &r.Name})
		return err
	})
	if err != nil {
		return err
	}
	status, conclusion := "completed", string(r.State)
	switch {
	case r.State == Pending:
		status, conclusion = "in_progress", ""
	case r.Errored:
		conclusion = "failure"
	}
	title, summary := cut140(r.Title), r.Summary
	if len(summary) > maxSummary {
		summary = summary[:maxSummary-40] + "\n\n(truncated; run kupdate check locally)"
	}
	if summary == "" {
		summary = title
	}
	var latest *github.CheckRun
	for _, cr := range runs.CheckRuns {
		if cr.GetName() == r.Name && (latest == nil || cr.GetID() > latest.GetID()) {
			latest = cr
		}
	}
	if latest != nil && latest.GetStatus() == status && latest.GetConclusion() == conclusion &&
		latest.GetOutput().GetTitle() == title && latest.GetOutput().GetSummary() == summary {
		return nil
	}
	anns := make([]*github.CheckRunAnnotation, 0, len(r.Annotations))
	for _, a := range r.Annotations {
		line := max(a.Line, 1)
		ann := &github.CheckRunAnnotation{
			Path: new(a.Path), StartLine: new(line), EndLine: new(line),
			AnnotationLevel: new(a.Level), Message: new(a.Message),
		}
		if a.Title != "" {
			ann.Title = new(a.Title)
		}
		anns = append(anns, ann)
	}
	first := anns[:min(len(anns), maxAnnotationsPerRequest)]
	opts := github.CreateCheckRunOptions{
		Name: r.Name, HeadSHA: r.SHA, Status: &status,
		Output: &github.CheckRunOutput{Title: &title, Summary: &summary, Annotations: first},
	}
	if conclusion != "" {
		opts.Conclusion = &conclusion
	}
	if r.DetailsURL != "" {
		opts.DetailsURL = &r.DetailsURL
	}
	var created *github.CheckRun
	err = w.write(ctx, acts, fmt.Sprintf("create check run %s on %s: %s, %d annotations", r.Name, short(r.SHA), conclusionOrStatus(status, conclusion), len(anns)), "", func(ctx context.Context) error {
		var err error
		created, _, err = w.gh.Checks.CreateCheckRun(ctx, w.owner, w.repo, opts)
		return err
	})
	if err != nil || w.dryRun {
		return err
	}
	for rest := anns[len(first):]; len(rest) > 0; {
		batch := rest[:min(len(rest), maxAnnotationsPerRequest)]
		rest = rest[len(batch):]
		upd := github.UpdateCheckRunOptions{Name: r.Name, Output: &github.CheckRunOutput{Title: &title, Summary: &summary, Annotations: batch}}
		err := w.write(ctx, acts, fmt.Sprintf("add %d annotations to check run %s on %s", len(batch), r.Name, short(r.SHA)), "", func(ctx context.Context) error {
			_, _, err := w.gh.Checks.UpdateCheckRun(ctx, w.owner, w.repo, created.GetID(), upd)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func conclusionOrStatus(status, conclusion string) string {
	if conclusion != "" {
		return conclusion
	}
	return status
}
