package githubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v92/github"
	"github.com/vektah/gqlparser/v2"
)

// Every route of the simulator is a GitHub operation of the trimmed
// description, and the description holds no operation the simulator does not
// serve: no route goes unvalidated, and internal/refresh's list is exact.
func TestContractCoversEveryRoute(t *testing.T) {
	s, _ := setup(t)
	c, err := loadContract()
	must(t, err)
	var routed, described []string
	for _, rt := range s.routeTable {
		if rt.op != "graphql" {
			routed = append(routed, rt.op)
		}
		if rt.op != "graphql" && len(rt.params) != len(rt.wild) {
			t.Errorf("route %s %s: %d wildcards, operation %s has %d path parameters", rt.method, rt.pattern, len(rt.wild), rt.op, len(rt.params))
		}
	}
	for id := range c.ops {
		described = append(described, id)
	}
	slices.Sort(routed)
	slices.Sort(described)
	if diff := cmp.Diff(described, routed); diff != "" {
		t.Errorf("operations described (-) and routed (+) differ:\n%s", diff)
	}
	if len(routed) != 31 {
		t.Errorf("%d operations, want 31", len(routed))
	}
}

func TestRouteBinding(t *testing.T) {
	c, err := loadContract()
	must(t, err)
	for _, tc := range []struct {
		rt   route
		want string
	}{
		{route{method: "GET", pattern: "/repos/{owner}/{repo}/pulls/{number}", op: "pulls/get"}, ""},
		{route{method: "POST", pattern: "/repos/{owner}/{repo}/pulls/{number}", op: "pulls/get"},
			"route POST /repos/{owner}/{repo}/pulls/{number} is not operation pulls/get (GET /repos/{owner}/{repo}/pulls/{pull_number})"},
		{route{method: "GET", pattern: "/repos/{owner}/{repo}/pull/{number}", op: "pulls/get"},
			"route GET /repos/{owner}/{repo}/pull/{number} is not operation pulls/get (GET /repos/{owner}/{repo}/pulls/{pull_number})"},
		{route{method: "GET", pattern: "/repos/{owner}/{repo}/issues", op: "issues/list-for-repo"},
			"route GET /repos/{owner}/{repo}/issues: GitHub's description has no operation issues/list-for-repo (add it to internal/refresh and run it)"},
	} {
		rt := tc.rt
		err := c.checkRoutes([]*route{&rt})
		if got := errText(err); got != tc.want {
			t.Errorf("%s %s as %s:\ngot  %q\nwant %q", rt.method, rt.pattern, rt.op, got, tc.want)
		}
	}
	rt := &route{method: "GET", pattern: "/repos/{owner}/{repo}/git/matching-refs/{ref...}", op: "git/list-matching-refs"}
	must(t, c.checkRoutes([]*route{rt}))
	got := rt.pathParams("/repos/NixOS/nixpkgs/git/matching-refs/heads/release-25.11")
	if diff := cmp.Diff(map[string]string{"owner": "NixOS", "repo": "nixpkgs", "ref": "heads/release-25.11"}, got); diff != "" {
		t.Errorf("path parameters (-want +got):\n%s", diff)
	}
}

// Requests that GitHub's description does not allow are named with the
// operation and the parameter or field.
func TestContractFlagsRequests(t *testing.T) {
	s, gh := setup(t)
	ctx := context.Background()
	pr, _, err := gh.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{
		Title: new("t"), Head: "kupdate-bot:kupdate/staging-nixos", Base: "staging-nixos",
	})
	must(t, err)
	must(t, s.CheckContract())
	if pr.GetNumber() != 1 {
		t.Fatalf("PR #%d, want #1", pr.GetNumber())
	}
	for _, tc := range []struct {
		name, method, path, body string
		want                     string
	}{
		{"labels as a bare array", "POST", "repos/NixOS/nixpkgs/issues/1/labels", `["backport"]`,
			"POST /repos/NixOS/nixpkgs/issues/1/labels: issues/add-labels (POST /repos/{owner}/{repo}/issues/{issue_number}/labels): request: body: value doesn't match any schema from \"oneOf\" (doesn't match schema due to: value must be an object)"},
		{"unknown query parameter", "GET", "repos/NixOS/nixpkgs/pulls?sort_by=created", "",
			"GET /repos/NixOS/nixpkgs/pulls?sort_by=created: pulls/list (GET /repos/{owner}/{repo}/pulls): request: query parameter sort_by is not one the operation takes"},
		{"query parameter outside its enum", "GET", "repos/NixOS/nixpkgs/pulls?state=merged", "",
			`GET /repos/NixOS/nixpkgs/pulls?state=merged: pulls/list (GET /repos/{owner}/{repo}/pulls): request: query parameter state: value is not one of the allowed values ["open","closed","all"]`},
		{"body field outside its enum", "PATCH", "repos/NixOS/nixpkgs/pulls/1", `{"state":"merged"}`,
			`PATCH /repos/NixOS/nixpkgs/pulls/1: pulls/update (PATCH /repos/{owner}/{repo}/pulls/{pull_number}): request: body: field state: value is not one of the allowed values ["open","closed"]`},
		{"body field of the wrong type", "PATCH", "repos/NixOS/nixpkgs/pulls/1", `{"title":7}`,
			`PATCH /repos/NixOS/nixpkgs/pulls/1: pulls/update (PATCH /repos/{owner}/{repo}/pulls/{pull_number}): request: body: field title: value must be a string`},
		{"no such operation", "GET", "repos/NixOS/nixpkgs/issues", "",
			"GET /repos/NixOS/nixpkgs/issues: no route of the simulator, so no GitHub operation, matches it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, s.APIURL()+tc.path, strings.NewReader(tc.body))
			must(t, err)
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := s.Client().Do(req)
			must(t, err)
			resp.Body.Close()
			got := errText(s.CheckContract())
			want := "githubtest: the simulator broke GitHub's published contract (workflow/githubtest/testdata/contract):\n\t" + tc.want
			if got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// Answers are held to the operation's documented response: the fields it
// requires, their types and enums, and the statuses it lists.
func TestContractFlagsAnswers(t *testing.T) {
	s, gh := setup(t)
	_, _, err := gh.PullRequests.Create(context.Background(), "NixOS", "nixpkgs", github.CreatePullRequest{
		Title: new("t"), Head: "kupdate-bot:kupdate/staging-nixos", Base: "staging-nixos",
	})
	must(t, err)
	c := s.contract
	get := &route{method: "GET", pattern: "/repos/{owner}/{repo}/pulls/{number}", op: "pulls/get"}
	must(t, c.checkRoutes([]*route{get}))
	req, err := http.NewRequest("GET", s.APIURL()+"repos/NixOS/nixpkgs/pulls/1", nil)
	must(t, err)
	hdr := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		handled bool
		want    []string
	}{
		{"a value outside its enum", 200, answerWith(t, s, `"state":"open"`, `"state":"merged"`), true, []string{
			`pulls/get (GET /repos/{owner}/{repo}/pulls/{pull_number}): response 200: field state: value is not one of the allowed values ["open","closed"]`,
		}},
		{"a required field missing", 200, answerWith(t, s, `"number":1,`, ``), true, []string{
			`pulls/get (GET /repos/{owner}/{repo}/pulls/{pull_number}): response 200: field number: property "number" is missing`,
		}},
		{"a nested field of the wrong type", 200, answerWith(t, s, `"login":"kupdate"`, `"login":7`), true, []string{
			`pulls/get (GET /repos/{owner}/{repo}/pulls/{pull_number}): response 200: field user.login: value must be a string`,
		}},
		{"an undocumented status", 409, `{"message":"Conflict"}`, true, []string{
			"pulls/get (GET /repos/{owner}/{repo}/pulls/{pull_number}): response 409: the operation does not document this status (it documents 200, 304, 404, 406, 500, 503)",
		}},
		{"a documented error", 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`, true, nil},
		{"a fault in GitHub's error shape", 502, `{"message":"Bad Gateway"}`, false, nil},
		{"a fault in another shape", 502, `{"error":"Bad Gateway"}`, false, nil},
		{"a fault that is not JSON", 502, `<html>`, false, []string{
			"pulls/get (GET /repos/{owner}/{repo}/pulls/{pull_number}): response 502: body is not JSON: invalid character '<' looking for beginning of value",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.check(context.Background(), get, &exchange{r: req, status: tc.status, header: hdr, answer: []byte(tc.body), handled: tc.handled})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

// answerWith is the simulator's own answer for PR 1 with old replaced by
// new once, so that exactly that field breaks the contract.
func answerWith(t *testing.T, s *Server, old, new string) string {
	t.Helper()
	resp, err := s.Client().Get(s.APIURL() + "repos/NixOS/nixpkgs/pulls/1")
	must(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	out := strings.Replace(b.String(), old, new, 1)
	if out == b.String() {
		t.Fatalf("no %s in %s", old, b.String())
	}
	return out
}

// Close fails the test that owns a server with violations nobody took.
func TestCloseReportsViolations(t *testing.T) {
	s, err := New(Options{Root: t.TempDir()})
	must(t, err)
	resp, err := s.Client().Get(s.APIURL() + "repos/NixOS/nixpkgs/issues")
	must(t, err)
	resp.Body.Close()
	defer func() {
		got, _ := recover().(error)
		want := "githubtest: the simulator broke GitHub's published contract (workflow/githubtest/testdata/contract):\n\tGET /repos/NixOS/nixpkgs/issues: no route of the simulator, so no GitHub operation, matches it"
		if errText(got) != want {
			t.Errorf("Close panicked with %v, want %q", got, want)
		}
	}()
	s.Close()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// GraphQL documents and variables are validated against GitHub's schema,
// and the answers against the document: the fields it selects, their types
// and nullability.
func TestContractFlagsGraphQL(t *testing.T) {
	s, _ := setup(t)
	const prefix = "githubtest: the simulator broke GitHub's published contract (workflow/githubtest/testdata/contract):\n\t"
	for _, tc := range []struct{ name, body, want string }{
		{"kupdate's query", `{"query":"query PullRequestMergeQueue($owner: String!, $name: String!, $number: Int!) { repository(owner: $owner, name: $name) { pullRequest(number: $number) { id isInMergeQueue } } }","variables":{"owner":"NixOS","name":"nixpkgs","number":1}}`, ""},
		{"a field GitHub does not have", `{"query":"query Q { repository(owner: \"NixOS\", name: \"nixpkgs\") { pullRequest(number: 1) { mergeQueuePosition } } }"}`,
			`POST /graphql: graphql: document: Cannot query field "mergeQueuePosition" on type "PullRequest".`},
		{"a variable of the wrong type", `{"query":"query Q($n: Int!) { repository(owner: \"NixOS\", name: \"nixpkgs\") { pullRequest(number: $n) { id } } }","variables":{"n":true}}`,
			`POST /graphql: graphql Q: variables: input: variable.n cannot use bool as Int`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client().Post(s.URL()+"/api/graphql", "application/json", strings.NewReader(tc.body))
			must(t, err)
			resp.Body.Close()
			want := ""
			if tc.want != "" {
				want = prefix + tc.want
			}
			if got := errText(s.CheckContract()); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestGraphQLAnswerShape(t *testing.T) {
	c, err := loadContract()
	must(t, err)
	doc, errs := gqlparser.LoadQueryWithRules(c.gql, `query Q { repository(owner: "o", name: "r") { pullRequest(number: 1) { id isInMergeQueue } } }`, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op := doc.Operations[0]
	for _, tc := range []struct {
		name, answer string
		want         []string
	}{
		{"as selected", `{"data":{"repository":{"pullRequest":{"id":"PR_1","isInMergeQueue":false}}}}`, nil},
		{"a nullable object null", `{"data":{"repository":{"pullRequest":null}}}`, nil},
		{"an error", `{"data":null,"errors":[{"message":"Could not resolve"}]}`, nil},
		{"a non-null field null", `{"data":{"repository":{"pullRequest":{"id":null,"isInMergeQueue":false}}}}`,
			[]string{"data.repository.pullRequest.id: null, but ID! is non-null"}},
		{"a field missing and one not selected", `{"data":{"repository":{"pullRequest":{"id":"PR_1","isDraft":true}}}}`,
			[]string{"data.repository.pullRequest.isInMergeQueue: missing", "data.repository.pullRequest.isDraft: not selected"}},
		{"a scalar of the wrong type", `{"data":{"repository":{"pullRequest":{"id":"PR_1","isInMergeQueue":"no"}}}}`,
			[]string{"data.repository.pullRequest.isInMergeQueue: no is not a Boolean"}},
		{"an error without a message", `{"data":null,"errors":[{"msg":"x"}]}`, []string{"errors.0.message: a string"}},
		{"null data without errors", `{"data":null}`, []string{"data: null without errors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ans map[string]any
			must(t, json.Unmarshal([]byte(tc.answer), &ans))
			if diff := cmp.Diff(tc.want, checkAnswer(c.gql, op, ans)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The routes kupdate does not call today are held to the contract too: each
// answers a real client once here, and is validated.
func TestContractRoutesKupdateDoesNotCall(t *testing.T) {
	s, gh := setup(t)
	ctx := context.Background()
	pr, _, err := gh.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{
		Title: new("t"), Head: "kupdate-bot:kupdate/staging-nixos", Base: "staging-nixos",
	})
	must(t, err)
	n := pr.GetNumber()
	_, _, err = gh.Repositories.Get(ctx, "NixOS", "nixpkgs")
	must(t, err)
	_, _, err = gh.Issues.CreateLabel(ctx, "NixOS", "nixpkgs", github.CreateIssueLabelRequest{Name: "backport release-25.11", Color: new("ededed")})
	must(t, err)
	_, _, err = gh.Issues.ListLabels(ctx, "NixOS", "nixpkgs", nil)
	must(t, err)
	addLabels(t, gh, n, "backport release-25.11")
	_, _, err = gh.Issues.ListLabelsByIssue(ctx, "NixOS", "nixpkgs", n, nil)
	must(t, err)
	_, err = gh.Issues.RemoveLabelForIssue(ctx, "NixOS", "nixpkgs", n, "backport release-25.11")
	must(t, err)
	must(t, s.SetStatus("NixOS", "nixpkgs", pr.GetHead().GetSHA(), "ci", "success"))
	_, _, err = gh.Repositories.ListStatuses(ctx, "NixOS", "nixpkgs", pr.GetHead().GetSHA(), nil)
	must(t, err)
	// A review: refused for the PR's author (GitHub's 422 with its errors
	// as strings), taken from another user.
	approve := &github.PullRequestReviewRequest{Event: new("APPROVE")}
	_, _, err = gh.PullRequests.CreateReview(ctx, "NixOS", "nixpkgs", n, approve)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 || len(er.Errors) != 1 || er.Errors[0].Message != "Can not approve your own pull request" {
		t.Errorf("own approval: %v, want 422 Can not approve your own pull request", err)
	}
	s.AddToken("alice-token", "alice")
	alice, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()), github.WithAuthToken("alice-token"))
	must(t, err)
	_, _, err = alice.PullRequests.CreateReview(ctx, "NixOS", "nixpkgs", n, approve)
	must(t, err)
	must(t, s.CheckContract())

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range []string{
		"repos/get", "issues/create-label", "issues/list-labels-for-repo", "issues/list-labels-on-issue",
		"issues/remove-label", "pulls/create-review", "repos/list-commit-statuses-for-ref",
	} {
		if st := s.checked.ops[op]; st == nil || st.responses == 0 {
			t.Errorf("%s: no answer validated", op)
		}
	}
}
