package githubtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v92/github"
)

var epoch = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

// setup is an upstream NixOS/nixpkgs with staging-nixos and master, and a
// fork kupdate-bot/nixpkgs with a branch one commit ahead.
func setup(t *testing.T) (*Server, *github.Client) {
	t.Helper()
	s, err := New(Options{Root: t.TempDir(), Clock: func() time.Time { return epoch }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	must(t, s.CreateRepo("NixOS", "nixpkgs", "master"))
	_, err = s.Commit("NixOS", "nixpkgs", "master", map[string]string{"README": "nixpkgs\n"}, "init")
	must(t, err)
	must(t, s.CreateBranch("NixOS", "nixpkgs", "staging-nixos", "master"))
	must(t, s.ForkRepo("NixOS", "nixpkgs", "kupdate-bot"))
	must(t, s.CreateBranch("kupdate-bot", "nixpkgs", "kupdate/staging-nixos", "staging-nixos"))
	_, err = s.Commit("kupdate-bot", "nixpkgs", "kupdate/staging-nixos", map[string]string{"kernels-org.json": "{}\n"}, "linux_6_12: 6.12.63 -> 6.12.64")
	must(t, err)
	gh, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()))
	must(t, err)
	return s, gh
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPullRequestLifecycle(t *testing.T) {
	s, gh := setup(t)
	ctx := context.Background()
	pr, _, err := gh.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{
		Title: new("Kernel updates for 2026-01-10"), Head: "kupdate-bot:kupdate/staging-nixos",
		Base: "staging-nixos", Body: new("body"), Draft: new(true),
	})
	must(t, err)
	if pr.GetNumber() != 1 || !pr.GetDraft() || pr.GetHead().GetSHA() != s.BranchSHA("kupdate-bot", "nixpkgs", "kupdate/staging-nixos") {
		t.Fatalf("created %v", pr)
	}

	// A second PR for the same head and base is refused with GitHub's 422.
	_, _, err = gh.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{
		Title: new("again"), Head: "kupdate-bot:kupdate/staging-nixos", Base: "staging-nixos",
	})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 || er.Errors[0].Message != "A pull request already exists for kupdate-bot:kupdate/staging-nixos." {
		t.Fatalf("duplicate PR: %v", err)
	}

	// List by head, then the same list again: 304, not counted.
	opts := &github.PullRequestListOptions{State: "all", Head: "kupdate-bot:kupdate/staging-nixos"}
	prs, resp, err := gh.PullRequests.List(ctx, "NixOS", "nixpkgs", opts)
	must(t, err)
	if len(prs) != 1 || prs[0].GetNumber() != 1 {
		t.Fatalf("list: %v", prs)
	}
	etag := resp.Header.Get("ETag")
	req, _ := gh.NewRequest(ctx, "GET", "repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos&state=all", nil)
	req.Header.Set("If-None-Match", etag)
	resp2, err := gh.BareDo(req)
	if resp2 == nil || resp2.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional list: %v %v", resp2, err)
	}
	if resp2.Header.Get("X-RateLimit-Remaining") != resp.Header.Get("X-RateLimit-Remaining") {
		t.Errorf("a 304 counted against the rate limit: %s then %s", resp.Header.Get("X-RateLimit-Remaining"), resp2.Header.Get("X-RateLimit-Remaining"))
	}

	// Adding a label the repository lacks creates it.
	labels := addLabels(t, gh, 1, "backport release-25.11")
	if len(labels) != 1 || labels[0].Name != "backport release-25.11" {
		t.Fatalf("labels: %v", labels)
	}
	if diff := cmp.Diff([]string{"backport release-25.11"}, s.Labels("NixOS", "nixpkgs")); diff != "" {
		t.Errorf("repository labels (-want +got):\n%s", diff)
	}

	// A draft cannot be merged; ready and merged it is a real merge commit.
	_, _, err = gh.PullRequests.Merge(ctx, "NixOS", "nixpkgs", 1, "", nil)
	if !errors.As(err, &er) || er.Response.StatusCode != 405 {
		t.Fatalf("merging a draft: %v", err)
	}
	must(t, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lookup("NixOS", "nixpkgs").pulls[1].draft = false
		return nil
	}())
	res, _, err := gh.PullRequests.Merge(ctx, "NixOS", "nixpkgs", 1, "", &github.PullRequestOptions{SHA: pr.GetHead().GetSHA()})
	must(t, err)
	if !res.GetMerged() || res.GetSHA() != s.BranchSHA("NixOS", "nixpkgs", "staging-nixos") {
		t.Fatalf("merge: %v", res)
	}
	parents, err := exec.Command("git", "-C", s.RepoDir("NixOS", "nixpkgs"), "rev-list", "--parents", "-n1", res.GetSHA()).Output()
	must(t, err)
	if f := strings.Fields(string(parents)); len(f) != 3 || f[2] != pr.GetHead().GetSHA() {
		t.Errorf("merge commit parents: %q", parents)
	}
	got, err := s.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	if got.State != "closed" || !got.Merged {
		t.Errorf("after merge: %+v", got)
	}
}

func TestRateLimitAndFaults(t *testing.T) {
	s, gh := setup(t)
	ctx := context.Background()

	s.AddFault(Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Status: 403, RetryAfter: 7})
	_, _, err := gh.PullRequests.List(ctx, "NixOS", "nixpkgs", nil)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.GetRetryAfter() != 7*time.Second {
		t.Fatalf("secondary rate limit: %v", err)
	}

	s2, gh2 := setup(t)
	s2.AddFault(Fault{Path: "/repos/*", Status: 403, Primary: true, RetryAfter: 30})
	_, _, err = gh2.PullRequests.List(ctx, "NixOS", "nixpkgs", nil)
	var rl *github.RateLimitError
	if !errors.As(err, &rl) || rl.Rate.Remaining != 0 {
		t.Fatalf("primary rate limit: %v", err)
	}

	s3, gh3 := setup(t)
	s3.AddFault(Fault{Method: "POST", Path: "/repos/NixOS/nixpkgs/pulls", Status: 502, AfterApply: true})
	_, _, err = gh3.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{Title: new("t"), Head: "kupdate-bot:kupdate/staging-nixos", Base: "staging-nixos"})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 502 {
		t.Fatalf("5xx fault: %v", err)
	}
	if n := len(s3.PRs("NixOS", "nixpkgs")); n != 1 {
		t.Errorf("AfterApply: %d PRs, want the write applied once", n)
	}

	s.SetRateRemaining(0, time.Hour)
	fresh, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()))
	must(t, err)
	_, _, err = fresh.PullRequests.List(ctx, "NixOS", "nixpkgs", nil)
	if !errors.As(err, &rl) {
		t.Fatalf("exhausted limit: %v", err)
	}
	var got []string
	for _, r := range s.Requests() {
		got = append(got, r.String()+" "+strconv.Itoa(r.Status)+" "+strconv.FormatBool(r.Counted))
	}
	if diff := cmp.Diff([]string{
		"GET /repos/NixOS/nixpkgs/pulls 403 false",
		"GET /repos/NixOS/nixpkgs/pulls 403 false",
	}, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestAppAuthAndChecks(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	s.AddApp(42, 7, "kupdate", &key.PublicKey)
	s.AddToken("ghp_user", "alice")

	jwtStr, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "42", "iat": time.Now().Add(-time.Minute).Unix(), "exp": time.Now().Add(9 * time.Minute).Unix(),
	}).SignedString(key)
	must(t, err)
	appClient, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()), github.WithAuthToken(jwtStr))
	must(t, err)
	it, _, err := appClient.Apps.CreateInstallationToken(ctx, 7, &github.InstallationTokenOptions{})
	must(t, err)

	bot, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()), github.WithAuthToken(it.GetToken()))
	must(t, err)
	user, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()), github.WithAuthToken("ghp_user"))
	must(t, err)
	anon, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()))
	must(t, err)

	sha := s.BranchSHA("NixOS", "nixpkgs", "master")
	_, _, err = anon.Repositories.GetCombinedStatus(ctx, "NixOS", "nixpkgs", sha, nil)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 401 {
		t.Fatalf("anonymous: %v", err)
	}
	_, _, err = user.Checks.CreateCheckRun(ctx, "NixOS", "nixpkgs", github.CreateCheckRunOptions{Name: "kupdate/build", HeadSHA: sha})
	if !errors.As(err, &er) || er.Response.StatusCode != 403 {
		t.Fatalf("check run with a personal token: %v", err)
	}
	cr, _, err := bot.Checks.CreateCheckRun(ctx, "NixOS", "nixpkgs", github.CreateCheckRunOptions{Name: "kupdate/build", HeadSHA: sha, Status: new("in_progress")})
	must(t, err)
	_, _, err = bot.Checks.UpdateCheckRun(ctx, "NixOS", "nixpkgs", cr.GetID(), github.UpdateCheckRunOptions{Name: "kupdate/build", Conclusion: new("success"), Output: &github.CheckRunOutput{Title: new("ok"), Summary: new("all passed")}})
	must(t, err)
	_, _, err = user.Repositories.CreateStatus(ctx, "NixOS", "nixpkgs", sha, github.RepoStatus{State: new("pending"), Context: new("ci")})
	must(t, err)
	comb, _, err := user.Repositories.GetCombinedStatus(ctx, "NixOS", "nixpkgs", sha, nil)
	must(t, err)
	if comb.GetState() != "pending" || comb.GetTotalCount() != 1 {
		t.Errorf("combined status: %v", comb)
	}
	runs, _, err := user.Checks.ListCheckRunsForRef(ctx, "NixOS", "nixpkgs", sha, nil)
	must(t, err)
	if runs.GetTotal() != 1 || runs.CheckRuns[0].GetConclusion() != "success" || runs.CheckRuns[0].GetApp().GetSlug() != "kupdate[bot]" {
		t.Errorf("check runs: %v", runs)
	}
}

func TestMergeQueueAndCompare(t *testing.T) {
	s, gh := setup(t)
	ctx := context.Background()
	_, err := s.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"a": "1\n"}, "staging work")
	must(t, err)
	must(t, s.Protect("NixOS", "nixpkgs", "master", Protection{MergeQueue: true}))
	cmpr, _, err := gh.Repositories.CompareCommits(ctx, "NixOS", "nixpkgs", "master", "staging-nixos", nil)
	must(t, err)
	if cmpr.GetAheadBy() != 1 || cmpr.GetStatus() != "ahead" {
		t.Fatalf("compare: %v", cmpr)
	}
	rules, _, err := gh.Repositories.ListRulesForBranch(ctx, "NixOS", "nixpkgs", "master", nil)
	must(t, err)
	if len(rules.MergeQueue) != 1 {
		t.Fatalf("rules: %+v", rules)
	}
	pr, _, err := gh.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{Title: new("staging-nixos merge for 2026-01-10"), Head: "NixOS:staging-nixos", Base: "master"})
	must(t, err)
	_, _, err = gh.PullRequests.Merge(ctx, "NixOS", "nixpkgs", pr.GetNumber(), "", nil)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || !strings.Contains(er.Message, "merge queue") {
		t.Fatalf("merge into a queue branch: %v", err)
	}
	req, _ := gh.NewRequest(ctx, "POST", s.URL()+"/api/graphql", map[string]any{
		"query":     "mutation EnqueuePullRequest($id: ID!, $sha: GitObjectID) { enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $sha}) { mergeQueueEntry { position } } }",
		"variables": map[string]any{"id": pr.GetNodeID(), "sha": pr.GetHead().GetSHA()},
	})
	var out struct {
		Data   map[string]any
		Errors []map[string]any
	}
	_, err = gh.Do(req, &out)
	must(t, err)
	if out.Errors != nil {
		t.Fatalf("enqueue: %v", out.Errors)
	}
	merged, err := s.ProcessMergeQueue("NixOS", "nixpkgs")
	must(t, err)
	if diff := cmp.Diff([]int{pr.GetNumber()}, merged); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	if got := s.Requests()[len(s.Requests())-1]; got.String() != "POST /graphql EnqueuePullRequest" {
		t.Errorf("recorded %q", got)
	}
}

func TestBaseURLLayouts(t *testing.T) {
	s, _ := setup(t)
	api := s.APIURL()
	for name, opt := range map[string]github.ClientOptionsFunc{
		"enterprise": github.WithEnterpriseURLs(s.URL(), s.URL()),
		"base url":   github.WithURLs(&api, &api),
	} {
		gh, err := github.NewClient(github.WithHTTPClient(s.Client()), opt)
		must(t, err)
		b, _, err := gh.Repositories.GetBranch(context.Background(), "NixOS", "nixpkgs", "staging-nixos", 0)
		if err != nil || b.GetCommit().GetSHA() != s.BranchSHA("NixOS", "nixpkgs", "staging-nixos") {
			t.Errorf("%s: %v %v", name, b, err)
		}
	}
}

func TestCommentsBranchesAndMergeability(t *testing.T) {
	s, gh := setup(t)
	ctx := context.Background()
	must(t, s.Protect("NixOS", "nixpkgs", "staging-nixos", Protection{RequiredChecks: []string{"ofborg-eval"}}))
	pr, _, err := gh.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{
		Title: new("t"), Head: "kupdate-bot:kupdate/staging-nixos", Base: "staging-nixos",
	})
	must(t, err)
	got, _, err := gh.PullRequests.Get(ctx, "NixOS", "nixpkgs", pr.GetNumber())
	must(t, err)
	if !got.GetMergeable() || got.GetMergeableState() != "blocked" {
		t.Errorf("with a required check missing: mergeable %v, state %q", got.GetMergeable(), got.GetMergeableState())
	}
	must(t, s.SetStatus("NixOS", "nixpkgs", got.GetHead().GetSHA(), "ofborg-eval", "success"))
	got, _, err = gh.PullRequests.Get(ctx, "NixOS", "nixpkgs", pr.GetNumber())
	must(t, err)
	if got.GetMergeableState() != "clean" {
		t.Errorf("green: state %q", got.GetMergeableState())
	}
	// A conflicting change on the base makes it dirty.
	_, err = s.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"kernels-org.json": "[]\n"}, "conflict")
	must(t, err)
	got, _, err = gh.PullRequests.Get(ctx, "NixOS", "nixpkgs", pr.GetNumber())
	must(t, err)
	if got.GetMergeable() || got.GetMergeableState() != "dirty" {
		t.Errorf("conflicting: mergeable %v, state %q", got.GetMergeable(), got.GetMergeableState())
	}

	_, _, err = gh.Issues.CreateComment(ctx, "NixOS", "nixpkgs", pr.GetNumber(), github.IssueCommentRequest{Body: "hello"})
	must(t, err)
	cs, _, err := gh.Issues.ListComments(ctx, "NixOS", "nixpkgs", pr.GetNumber(), nil)
	must(t, err)
	if len(cs) != 1 || cs[0].GetBody() != "hello" || cs[0].GetUser().GetLogin() != "kupdate" {
		t.Errorf("comments: %v", cs)
	}

	bs, _, err := gh.Repositories.ListBranches(ctx, "NixOS", "nixpkgs", nil)
	must(t, err)
	var names []string
	for _, b := range bs {
		names = append(names, b.GetName()+" "+strconv.FormatBool(b.GetProtected()))
	}
	if diff := cmp.Diff([]string{"master false", "staging-nixos true"}, names); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}
	refs, _, err := gh.Git.ListMatchingRefs(ctx, "NixOS", "nixpkgs", "heads/stag")
	must(t, err)
	if len(refs) != 1 || refs[0].GetRef() != "refs/heads/staging-nixos" {
		t.Errorf("matching refs: %v", refs)
	}
}

// TestReviewRequestsAndTimeline: review requests show in the PR
// (requested_reviewers, requested_teams) and in its timeline, as GitHub
// records them: a request, a review that fulfils it, a request a person
// removes, paged, oldest first.
func TestReviewRequestsAndTimeline(t *testing.T) {
	s, gh := setup(t)
	ctx := context.Background()
	pr, _, err := gh.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{
		Title: new("t"), Head: "kupdate-bot:kupdate/staging-nixos", Base: "staging-nixos",
	})
	must(t, err)
	n := pr.GetNumber()
	addLabels(t, gh, n, "backport release-25.11")
	req := github.ReviewersRequest{Reviewers: []string{"alice", "bob"}, TeamReviewers: []string{"linux-kernel"}}
	got, _, err := gh.PullRequests.RequestReviewers(ctx, "NixOS", "nixpkgs", n, req)
	must(t, err)
	if len(got.RequestedReviewers) != 2 || len(got.RequestedTeams) != 1 || got.RequestedTeams[0].GetSlug() != "linux-kernel" {
		t.Fatalf("after the request: reviewers %v, teams %v", got.RequestedReviewers, got.RequestedTeams)
	}
	// Asking again while pending changes nothing and records nothing.
	_, _, err = gh.PullRequests.RequestReviewers(ctx, "NixOS", "nixpkgs", n, req)
	must(t, err)
	must(t, s.Review("NixOS", "nixpkgs", n, "alice", "APPROVED"))
	must(t, s.RemoveReviewRequest("NixOS", "nixpkgs", n, "maintainer", "bob"))
	if err := s.RemoveReviewRequest("NixOS", "nixpkgs", n, "maintainer", "bob"); err == nil || err.Error() != "githubtest: PR #1 has no review request for bob" {
		t.Errorf("removing a request twice: %v", err)
	}
	_, err = gh.PullRequests.RemoveReviewers(ctx, "NixOS", "nixpkgs", n, github.ReviewersRequest{TeamReviewers: []string{"linux-kernel"}})
	must(t, err)
	snap, err := s.PR("NixOS", "nixpkgs", n)
	must(t, err)
	if len(snap.RequestedReviewers) != 0 || len(snap.RequestedTeams) != 0 {
		t.Errorf("requests left: %v, %v", snap.RequestedReviewers, snap.RequestedTeams)
	}
	events, err := s.Events("NixOS", "nixpkgs", n)
	must(t, err)
	if diff := cmp.Diff([]Event{
		{"labeled", "kupdate", "backport release-25.11"},
		{"review_requested", "kupdate", "alice"},
		{"review_requested", "kupdate", "bob"},
		{"review_requested", "kupdate", "NixOS/linux-kernel"},
		{"reviewed", "alice", "APPROVED"},
		{"review_request_removed", "maintainer", "bob"},
		{"review_request_removed", "kupdate", "NixOS/linux-kernel"},
	}, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// Through the API, in GitHub's shapes, three to a page.
	var items []string
	opts := &github.ListOptions{PerPage: 3}
	for {
		tl, resp, err := gh.Issues.ListIssueTimeline(ctx, "NixOS", "nixpkgs", n, opts)
		must(t, err)
		for _, e := range tl {
			who := e.GetActor().GetLogin()
			switch {
			case e.GetEvent() == "reviewed":
				who = e.GetUser().GetLogin() + " " + e.GetState()
			case e.Reviewer != nil:
				who += " -> " + e.GetReviewer().GetLogin()
			case e.RequestedTeam != nil:
				who += " -> team " + e.GetRequestedTeam().GetSlug()
			case e.Label != nil:
				who += " " + e.GetLabel().GetName()
			}
			items = append(items, e.GetEvent()+": "+who)
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if diff := cmp.Diff([]string{
		"labeled: kupdate backport release-25.11",
		"review_requested: kupdate -> alice",
		"review_requested: kupdate -> bob",
		"review_requested: kupdate -> team linux-kernel",
		"reviewed: alice approved",
		"review_request_removed: maintainer -> bob",
		"review_request_removed: kupdate -> team linux-kernel",
	}, items); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
}

// addLabels adds labels to NixOS/nixpkgs#n in the form GitHub documents,
// {"labels": [...]} (go-github's AddLabelsToIssue sends a bare array).
func addLabels(t *testing.T, gh *github.Client, n int, labels ...string) []*github.Label {
	t.Helper()
	req, err := gh.NewRequest(context.Background(), http.MethodPost, fmt.Sprintf("repos/NixOS/nixpkgs/issues/%d/labels", n), map[string][]string{"labels": labels})
	must(t, err)
	var out []*github.Label
	_, err = gh.Do(req, &out)
	must(t, err)
	return out
}
