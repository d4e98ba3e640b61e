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

// mergeWhenReady merges one of kupdate's own PRs (github.merge): only when
// it is not a draft, a person approved its current head, and every required
// check on the head is green. A base with a merge queue gets the PR
// enqueued instead.
func (w *Workflow) mergeWhenReady(ctx context.Context, pr *github.PullRequest, head string, res *PRResult, acts *[]string) error {
	n := pr.GetNumber()
	if pr.GetDraft() {
		res.Merge, res.Reason = Waiting, "a draft: a person marks it ready for review"
		return nil
	}
	if pr.GetHead().GetSHA() != head {
		res.Merge, res.Reason = Waiting, fmt.Sprintf("GitHub does not show head %s yet", short(head))
		return nil
	}
	ok, why, err := w.approved(ctx, n, head)
	if err != nil {
		return err
	}
	if !ok {
		res.Merge, res.Reason = Waiting, why
		return nil
	}
	base := pr.GetBase().GetRef()
	rules, err := w.branchRules(ctx, base)
	if err != nil {
		return err
	}
	checks, err := w.headChecks(ctx, head)
	if err != nil {
		return err
	}
	v, why := verdict(checks, rules.required)
	if v != Merged {
		res.Merge, res.Reason = v, why
		return nil
	}
	res.Merge, res.Reason, err = w.mergeOrEnqueue(ctx, acts, pr, base, rules.queue)
	return err
}

// approved reports whether the latest review of some person approves head
// itself and nobody's latest review asks for changes. An approval of an
// earlier head does not count: the automation policy wants a person to have
// reviewed what is merged.
func (w *Workflow) approved(ctx context.Context, n int, head string) (bool, string, error) {
	var reviews []*github.PullRequestReview
	err := w.read(ctx, fmt.Sprintf("read reviews of PR #%d", n), func(ctx context.Context) error {
		var err error
		reviews, _, err = w.gh.PullRequests.ListReviews(ctx, w.owner, w.repo, n, &github.ListOptions{PerPage: 100})
		return err
	})
	if err != nil {
		return false, "", err
	}
	latest := map[string]*github.PullRequestReview{}
	for _, r := range reviews {
		switch r.GetState() {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			latest[r.GetUser().GetLogin()] = r
		}
	}
	approvals := 0
	for who, r := range latest {
		switch {
		case r.GetState() == "CHANGES_REQUESTED":
			return false, who + " requested changes", nil
		case r.GetState() == "APPROVED" && r.GetCommitID() == head:
			approvals++
		}
	}
	if approvals == 0 {
		return false, "needs a person's approving review of " + short(head), nil
	}
	return true, "", nil
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
