package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v92/github"
)

// pullFacts are what the merge decision reads of a pull request, as
// palantir/bulldozer's policy sees pull.Context: facts, fetched on demand,
// never the GitHub client. prFacts serves them from GitHub; tests serve
// them from a table.
type pullFacts interface {
	Draft() bool
	HeadSHA() string // the head GitHub shows
	Reviews(ctx context.Context) ([]review, error)
	Rules(ctx context.Context) (rules, error) // of the base branch
	Checks(ctx context.Context) ([]checkResult, error)
}

// review is one review of a PR: who, its state (APPROVED,
// CHANGES_REQUESTED, DISMISSED, COMMENTED) and the commit it reviewed.
type review struct{ who, state, commit string }

// mergeVerdict is the merge rule: a PR is merged only when it is not a
// draft, GitHub shows head, a person's latest review approves head itself
// (an approval of an earlier head does not count) and nobody's latest
// review asks for changes, and every required check of the base is green
// (or, without required checks, every check on the head, and at least
// one). It returns Merged when every condition holds, else why not; queue
// says the base merges through a merge queue.
func mergeVerdict(ctx context.Context, f pullFacts, head string) (o Outcome, why string, queue bool, err error) {
	if f.Draft() {
		return Waiting, "a draft: a person marks it ready for review", false, nil
	}
	if f.HeadSHA() != head {
		return Waiting, fmt.Sprintf("GitHub does not show head %s yet", short(head)), false, nil
	}
	reviews, err := f.Reviews(ctx)
	if err != nil {
		return "", "", false, err
	}
	if ok, why := approved(reviews, head); !ok {
		return Waiting, why, false, nil
	}
	r, err := f.Rules(ctx)
	if err != nil {
		return "", "", false, err
	}
	checks, err := f.Checks(ctx)
	if err != nil {
		return "", "", false, err
	}
	o, why = verdict(checks, r.required)
	return o, why, r.queue, nil
}

// approved reports whether the latest review of some person approves head
// itself and nobody's latest review asks for changes. An approval of an
// earlier head does not count: the automation policy wants a person to have
// reviewed what is merged.
func approved(reviews []review, head string) (bool, string) {
	latest := map[string]review{}
	var order []string
	for _, r := range reviews {
		switch r.state {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			if _, seen := latest[r.who]; !seen {
				order = append(order, r.who)
			}
			latest[r.who] = r
		}
	}
	approvals := 0
	for _, who := range order {
		switch r := latest[who]; {
		case r.state == "CHANGES_REQUESTED":
			return false, who + " requested changes"
		case r.state == "APPROVED" && r.commit == head:
			approvals++
		}
	}
	if approvals == 0 {
		return false, "needs a person's approving review of " + short(head)
	}
	return true, ""
}

// mergeWhenReady merges one of kupdate's own PRs (github.merge) when
// mergeVerdict says so; a base with a merge queue gets the PR enqueued
// instead.
func (w *Workflow) mergeWhenReady(ctx context.Context, pr *github.PullRequest, head string, res *PRResult, acts *[]string) error {
	v, why, queue, err := mergeVerdict(ctx, &prFacts{w: w, pr: pr}, head)
	if err != nil {
		return err
	}
	if v != Merged {
		res.Merge, res.Reason = v, why
		return nil
	}
	res.Merge, res.Reason, err = w.mergeOrEnqueue(ctx, acts, pr, pr.GetBase().GetRef(), queue)
	return err
}

// prFacts are a PR's facts as GitHub has them, read when asked.
type prFacts struct {
	w  *Workflow
	pr *github.PullRequest
}

func (f *prFacts) Draft() bool     { return f.pr.GetDraft() }
func (f *prFacts) HeadSHA() string { return f.pr.GetHead().GetSHA() }

func (f *prFacts) Rules(ctx context.Context) (rules, error) {
	return f.w.branchRules(ctx, f.pr.GetBase().GetRef())
}

func (f *prFacts) Checks(ctx context.Context) ([]checkResult, error) {
	return f.w.headChecks(ctx, f.pr.GetHead().GetSHA())
}

func (f *prFacts) Reviews(ctx context.Context) ([]review, error) {
	n := f.pr.GetNumber()
	var reviews []*github.PullRequestReview
	err := f.w.read(ctx, fmt.Sprintf("read reviews of PR #%d", n), func(ctx context.Context) error {
		var err error
		reviews, _, err = f.w.gh.PullRequests.ListReviews(ctx, f.w.owner, f.w.repo, n, &github.ListOptions{PerPage: 100})
		return err
	})
	var out []review
	for _, r := range reviews {
		out = append(out, review{who: r.GetUser().GetLogin(), state: r.GetState(), commit: r.GetCommitID()})
	}
	return out, err
}

// rules is what a branch enforces that kupdate must respect.
type rules struct {
	required []string // required status checks (classic protection and rulesets)
	queue    bool     // merges go through a merge queue
}

// branchRules reads a branch's protection (GET branch) and its ruleset
// rules (GET rules/branches): two conditional requests.
func (w *Workflow) branchRules(ctx context.Context, branch string) (rules, error) {
	var r rules
	var b *github.Branch
	err := w.read(ctx, "read branch "+branch, func(ctx context.Context) error {
		var err error
		b, _, err = w.gh.Repositories.GetBranch(ctx, w.owner, w.repo, branch, 1)
		return err
	})
	if err != nil {
		return r, err
	}
	if rsc := b.GetProtection().GetRequiredStatusChecks(); rsc != nil {
		if rsc.Checks != nil {
			for _, c := range *rsc.Checks {
				r.required = appendOnce(r.required, c.Context)
			}
		}
		if rsc.Contexts != nil {
			for _, c := range *rsc.Contexts {
				r.required = appendOnce(r.required, c)
			}
		}
	}
	var br *github.BranchRules
	err = w.read(ctx, "read rules of branch "+branch, func(ctx context.Context) error {
		var err error
		br, _, err = w.gh.Repositories.ListRulesForBranch(ctx, w.owner, w.repo, branch, &github.ListOptions{PerPage: 100})
		return err
	})
	if err != nil {
		return r, err
	}
	r.queue = len(br.MergeQueue) > 0
	for _, rule := range br.RequiredStatusChecks {
		for _, c := range rule.Parameters.RequiredStatusChecks {
			r.required = appendOnce(r.required, c.Context)
		}
	}
	return r, nil
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// mergeOrEnqueue merges pr with a merge commit, guarded by its head, or
// joins the merge queue of a base that has one. GitHub refusing the merge
// (405, 409) is an answer, not an error: the reason is reported and the
// next cycle looks again.
func (w *Workflow) mergeOrEnqueue(ctx context.Context, acts *[]string, pr *github.PullRequest, base string, queue bool) (Outcome, string, error) {
	n, head := pr.GetNumber(), pr.GetHead().GetSHA()
	if queue {
		return w.enqueue(ctx, acts, pr, base)
	}
	err := w.write(ctx, acts, fmt.Sprintf("merge PR #%d (%s) into %s", n, short(head), base), "", func(ctx context.Context) error {
		_, _, err := w.gh.PullRequests.Merge(ctx, w.owner, w.repo, n, "", &github.PullRequestOptions{SHA: head, MergeMethod: "merge"})
		return err
	})
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && (er.Response.StatusCode == http.StatusMethodNotAllowed || er.Response.StatusCode == http.StatusConflict) {
		return Waiting, "GitHub refused the merge: " + githubMessage(er), nil
	}
	if err != nil {
		return "", "", err
	}
	return w.done(Merged), "", nil
}

// The merge queue has no REST API, nor has turning a PR back into a draft:
// kupdate does both with these GraphQL documents (githubtest answers exactly
// these).
const (
	queueQuery = `query PullRequestMergeQueue($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) { id isInMergeQueue } }
}`
	enqueueMutation = `mutation EnqueuePullRequest($id: ID!, $sha: GitObjectID) {
  enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $sha}) { mergeQueueEntry { position } }
}`
	draftMutation = `mutation ConvertPullRequestToDraft($id: ID!) {
  convertPullRequestToDraft(input: {pullRequestId: $id}) { pullRequest { isDraft } }
}`
)

// convertToDraft turns pr, ready for review, back into a draft: its head
// failed to build.
func (w *Workflow) convertToDraft(ctx context.Context, acts *[]string, pr *github.PullRequest, head string) error {
	n := pr.GetNumber()
	var m struct {
		ConvertPullRequestToDraft struct {
			PullRequest struct {
				IsDraft bool `json:"isDraft"`
			} `json:"pullRequest"`
		} `json:"convertPullRequestToDraft"`
	}
	return w.write(ctx, acts, fmt.Sprintf("convert PR #%d to a draft: %s failed to build", n, short(head)),
		"", func(ctx context.Context) error {
			if err := w.graphql(ctx, draftMutation, map[string]any{"id": pr.GetNodeID()}, &m); err != nil {
				return err
			}
			if !m.ConvertPullRequestToDraft.PullRequest.IsDraft {
				return fmt.Errorf("GitHub did not make PR #%d a draft", n)
			}
			return nil
		})
}

// enqueue adds pr to base's merge queue unless it is already in it.
func (w *Workflow) enqueue(ctx context.Context, acts *[]string, pr *github.PullRequest, base string) (Outcome, string, error) {
	n, head := pr.GetNumber(), pr.GetHead().GetSHA()
	var q struct {
		Repository struct {
			PullRequest struct {
				ID             string `json:"id"`
				IsInMergeQueue bool   `json:"isInMergeQueue"`
			} `json:"pullRequest"`
		} `json:"repository"`
	}
	err := w.read(ctx, fmt.Sprintf("read merge queue state of PR #%d", n), func(ctx context.Context) error {
		return w.graphql(ctx, queueQuery, map[string]any{"owner": w.owner, "name": w.repo, "number": n}, &q)
	})
	if err != nil {
		return "", "", err
	}
	if q.Repository.PullRequest.IsInMergeQueue {
		return Enqueued, "already in the merge queue of " + base, nil
	}
	id := q.Repository.PullRequest.ID
	if id == "" {
		id = pr.GetNodeID()
	}
	var m struct {
		EnqueuePullRequest struct {
			MergeQueueEntry struct {
				Position int `json:"position"`
			} `json:"mergeQueueEntry"`
		} `json:"enqueuePullRequest"`
	}
	err = w.write(ctx, acts, fmt.Sprintf("enqueue PR #%d (%s) in the merge queue of %s", n, short(head), base), "", func(ctx context.Context) error {
		return w.graphql(ctx, enqueueMutation, map[string]any{"id": id, "sha": head}, &m)
	})
	var ge *graphqlError
	if errors.As(err, &ge) {
		return Waiting, "GitHub refused to enqueue: " + ge.Error(), nil
	}
	if err != nil {
		return "", "", err
	}
	return w.done(Enqueued), "", nil
}

// graphqlError is a GraphQL answer with errors (GitHub answers those 200).
type graphqlError struct{ messages []string }

func (e *graphqlError) Error() string { return strings.Join(e.messages, "; ") }

// graphql posts one GraphQL document through the same client (auth, ETag
// transport, rate-limit tracking) and decodes its data into out.
func (w *Workflow) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	req, err := w.gh.NewRequest(ctx, http.MethodPost, w.graphqlURL, map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if _, err := w.gh.Do(req, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		ge := &graphqlError{}
		for _, e := range resp.Errors {
			ge.messages = append(ge.messages, e.Message)
		}
		return ge
	}
	return json.Unmarshal(resp.Data, out)
}
