package workflow

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/google/go-github/v92/github"
)

// Review requests are part of a PR's wanted state, like its labels: a PR
// kupdate finds without the reviewers of github.reviewers gets them, so an
// interruption between opening the PR and asking (a kill -9, a 502 after
// GitHub created it, a failed label) is finished by the next attempt. But a
// request a person took off stays off, and a reviewer who already reviewed
// is not asked again.
//
// The rule that tells "never asked" from "asked, then taken off": kupdate
// asks a reviewer only when the PR's timeline has neither a
// review_requested event for them (by anyone, kupdate or a person) nor a
// review by them (a team: no review_requested event for it). So each is
// asked at most once in the PR's life. The record is GitHub's own, written
// by the request itself, so no interruption can come between the two: a
// kill -9 or a lost answer after GitHub carried out a request leaves the
// event and the next attempt sees it; a kill before leaves none, and the
// next attempt asks. kupdate keeps nothing of its own for it (the body's
// marker is written by the create, before anyone is asked, so it could not
// say whether the asking happened).
//
// The timeline costs a request, so it is read only when a configured
// reviewer is missing from the PR's requested_reviewers or requested_teams,
// which the PR listing already carries: a PR whose reviewers are all still
// asked costs nothing more. What the timeline settles is remembered for the
// Workflow's life (an event, once there, stays), so the service reads it
// once per PR; a one-shot run reads it again, a 304 that does not count
// against the rate limit.

// reviewRequest is whom to ask for a review: logins and team slugs (of
// github.owner).
type reviewRequest struct{ users, teams []string }

func (r reviewRequest) empty() bool { return len(r.users)+len(r.teams) == 0 }

func (r reviewRequest) String() string {
	return strings.Join(append(append([]string{}, r.users...), r.teams...), ", ")
}

// keys are the reviewers' keys in asked.
func (r reviewRequest) keys() []string {
	var out []string
	for _, u := range r.users {
		out = append(out, userKey(u))
	}
	for _, t := range r.teams {
		out = append(out, teamKey(t))
	}
	return out
}

func userKey(login string) string { return "user:" + strings.ToLower(login) }
func teamKey(slug string) string  { return "team:" + strings.ToLower(slug) }

// askedSet remembers, per PR, the reviewers whose request is settled: asked
// once (by kupdate or a person) or reviewed. It only grows: the timeline
// events it stands for never go away.
type askedSet struct {
	mu sync.Mutex
	m  map[string]bool // "number/user:alice", "number/team:linux-kernel"
}

func (a *askedSet) key(n int, k string) string { return strconv.Itoa(n) + "/" + k }

func (a *askedSet) add(n int, keys ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]bool{}
	}
	for _, k := range keys {
		a.m[a.key(n, k)] = true
	}
}

func (a *askedSet) has(n int, k string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[a.key(n, k)]
}

// keep is want without those for whom settled says true, and the keys of
// those dropped.
func keep(want reviewRequest, settled func(key string) bool) (out reviewRequest, dropped []string) {
	for _, u := range want.users {
		if k := userKey(u); settled(k) {
			dropped = append(dropped, k)
		} else {
			out.users = append(out.users, u)
		}
	}
	for _, t := range want.teams {
		if k := teamKey(t); settled(k) {
			dropped = append(dropped, k)
		} else {
			out.teams = append(out.teams, t)
		}
	}
	return out, dropped
}

// missingReviewers is whom of github.reviewers pr does not have a pending
// request for; all of them when pr is nil (a PR a dry run would open).
func (w *Workflow) missingReviewers(pr *github.PullRequest) reviewRequest {
	have := map[string]bool{}
	if pr != nil {
		for _, u := range pr.RequestedReviewers {
			have[userKey(u.GetLogin())] = true
		}
		for _, t := range pr.RequestedTeams {
			have[teamKey(t.GetSlug())] = true
		}
	}
	out, _ := keep(reviewRequest{users: w.reviewers, teams: w.teams}, func(k string) bool { return have[k] })
	return out
}

// requestReviews asks whom of github.reviewers pr lacks for a review, by the
// rule above. fresh says this attempt just opened pr: its timeline is
// empty, so it is not read. In a dry run pr is nil when the PR would be
// opened.
func (w *Workflow) requestReviews(ctx context.Context, acts *[]string, pr *github.PullRequest, fresh bool, res *PRResult) error {
	want := w.missingReviewers(pr)
	if want.empty() {
		return nil
	}
	n, ref := res.Number, "the new PR"
	if n != 0 {
		ref = fmt.Sprintf("PR #%d", n)
	}
	if !fresh {
		var err error
		if want, err = w.unasked(ctx, n, want); err != nil || want.empty() {
			return err
		}
		w.updated(res)
	}
	err := w.write(ctx, acts, fmt.Sprintf("request reviews on %s from %s", ref, want),
		"check github.reviewers: each must be a collaborator (or a team, org/team) of the repository",
		func(ctx context.Context) error {
			_, _, err := w.gh.PullRequests.RequestReviewers(ctx, w.owner, w.repo, n, github.ReviewersRequest{Reviewers: want.users, TeamReviewers: want.teams})
			return err
		})
	if err != nil || w.dryRun {
		return err
	}
	w.asked.add(n, want.keys()...)
	return nil
}

// unasked is want without whom PR n's timeline shows asked or reviewing
// (see the rule above), read only for those not already known to be.
func (w *Workflow) unasked(ctx context.Context, n int, want reviewRequest) (reviewRequest, error) {
	want, _ = keep(want, func(k string) bool { return w.asked.has(n, k) })
	if want.empty() {
		return want, nil
	}
	seen, err := w.reviewHistory(ctx, n)
	if err != nil {
		return reviewRequest{}, err
	}
	want, settled := keep(want, func(k string) bool { return seen[k] })
	w.asked.add(n, settled...)
	return want, nil
}

// reviewHistory reads PR n's timeline: the keys of everyone ever asked for
// a review (review_requested, whoever asked and whether or not the request
// was removed since) and of everyone who reviewed. Paged, each page a
// conditional request.
func (w *Workflow) reviewHistory(ctx context.Context, n int) (map[string]bool, error) {
	seen := map[string]bool{}
	opts := &github.ListOptions{PerPage: 100}
	for {
		var page []*github.Timeline
		var resp *github.Response
		err := w.read(ctx, fmt.Sprintf("read the timeline of PR #%d", n), func(ctx context.Context) error {
			var err error
			page, resp, err = w.gh.Issues.ListIssueTimeline(ctx, w.owner, w.repo, n, opts)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			switch e.GetEvent() {
			case "review_requested":
				if e.Reviewer != nil {
					seen[userKey(e.GetReviewer().GetLogin())] = true
				}
				if e.RequestedTeam != nil {
					seen[teamKey(e.GetRequestedTeam().GetSlug())] = true
				}
			case "reviewed":
				seen[userKey(e.GetUser().GetLogin())] = true
			}
		}
		if resp.NextPage == 0 {
			return seen, nil
		}
		opts.Page = resp.NextPage
	}
}
