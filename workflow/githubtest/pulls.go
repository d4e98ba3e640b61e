package githubtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v92/github"
)

func (s *Server) routes() {
	s.route("GET /repos/{owner}/{repo}", "repos/get", s.getRepo)
	s.route("GET /repos/{owner}/{repo}/pulls", "pulls/list", s.listPulls)
	s.route("POST /repos/{owner}/{repo}/pulls", "pulls/create", s.createPull)
	s.route("GET /repos/{owner}/{repo}/pulls/{number}", "pulls/get", s.getPull)
	s.route("PATCH /repos/{owner}/{repo}/pulls/{number}", "pulls/update", s.editPull)
	s.route("PUT /repos/{owner}/{repo}/pulls/{number}/merge", "pulls/merge", s.mergePull)
	s.route("GET /repos/{owner}/{repo}/pulls/{number}/reviews", "pulls/list-reviews", s.listReviews)
	s.route("POST /repos/{owner}/{repo}/pulls/{number}/reviews", "pulls/create-review", s.createReview)
	s.route("POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers", "pulls/request-reviewers", s.requestReviewers)
	s.route("DELETE /repos/{owner}/{repo}/pulls/{number}/requested_reviewers", "pulls/remove-requested-reviewers", s.removeRequestedReviewers)
	s.route("GET /repos/{owner}/{repo}/issues/{number}/timeline", "issues/list-events-for-timeline", s.listTimeline)
	s.route("GET /repos/{owner}/{repo}/issues/{number}/labels", "issues/list-labels-on-issue", s.listIssueLabels)
	s.route("POST /repos/{owner}/{repo}/issues/{number}/labels", "issues/add-labels", s.addIssueLabels)
	s.route("DELETE /repos/{owner}/{repo}/issues/{number}/labels/{name}", "issues/remove-label", s.removeIssueLabel)
	s.route("GET /repos/{owner}/{repo}/issues/{number}/comments", "issues/list-comments", s.listComments)
	s.route("POST /repos/{owner}/{repo}/issues/{number}/comments", "issues/create-comment", s.createComment)
	s.route("GET /repos/{owner}/{repo}/labels", "issues/list-labels-for-repo", s.listLabels)
	s.route("POST /repos/{owner}/{repo}/labels", "issues/create-label", s.createLabel)
	s.route("POST /repos/{owner}/{repo}/statuses/{sha}", "repos/create-commit-status", s.createStatus)
	s.route("GET /repos/{owner}/{repo}/commits/{ref}/status", "repos/get-combined-status-for-ref", s.combinedStatus)
	s.route("GET /repos/{owner}/{repo}/commits/{ref}/statuses", "repos/list-commit-statuses-for-ref", s.listStatuses)
	s.route("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", "checks/list-for-ref", s.listCheckRuns)
	s.route("POST /repos/{owner}/{repo}/check-runs", "checks/create", s.createCheckRun)
	s.route("PATCH /repos/{owner}/{repo}/check-runs/{id}", "checks/update", s.updateCheckRun)
	s.route("GET /repos/{owner}/{repo}/branches", "repos/list-branches", s.listBranches)
	s.route("GET /repos/{owner}/{repo}/branches/{branch...}", "repos/get-branch", s.getBranch)
	s.route("GET /repos/{owner}/{repo}/git/matching-refs/{ref...}", "git/list-matching-refs", s.matchingRefs)
	s.route("GET /repos/{owner}/{repo}/compare/{basehead...}", "repos/compare-commits-with-basehead", s.compare)
	s.route("GET /repos/{owner}/{repo}/rules/branches/{branch...}", "repos/get-branch-rules", s.branchRules)
	s.route("GET /repos/{owner}/{repo}/releases", "repos/list-releases", s.listReleases)
	s.route("POST /app/installations/{id}/access_tokens", "apps/create-installation-access-token", s.installationToken)
	s.route("POST /graphql", "graphql", s.graphql)
}

// repo finds the repository the request names, answering 404 when missing.
func (c *call) repo() *repo {
	r := c.s.lookup(c.r.PathValue("owner"), c.r.PathValue("repo"))
	if r == nil {
		c.fail(http.StatusNotFound, "Not Found")
	}
	return r
}

// pull finds the repository and PR the request names.
func (c *call) pull() (*repo, *pull) {
	r := c.repo()
	if r == nil {
		return nil, nil
	}
	n, err := strconv.Atoi(c.r.PathValue("number"))
	if err != nil || r.pulls[n] == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return nil, nil
	}
	return r, r.pulls[n]
}

func (s *Server) getRepo(c *call) {
	if r := c.repo(); r != nil {
		c.json(http.StatusOK, s.repoObj(r, true))
	}
}

// pullObj renders p as a pull-request-simple (GET /pulls and the
// reviewer endpoints), or, with full, as a pull-request (the single-PR
// endpoints), which adds merged, mergeable, mergeable_state and the counters.
func (s *Server) pullObj(ctx context.Context, r *repo, p *pull, full bool) obj {
	head := s.headSHA(ctx, p)
	base := resolve(ctx, r.dir, "refs/heads/"+p.baseRef)
	u := s.restURL("repos/%s/%s/pulls/%d", r.owner, r.name, p.number)
	issue := s.restURL("repos/%s/%s/issues/%d", r.owner, r.name, p.number)
	html := s.webURL("%s/%s/pull/%d", r.owner, r.name, p.number)
	statuses := s.restURL("repos/%s/%s/statuses/%s", r.owner, r.name, head)
	out := obj{
		"id": p.id, "node_id": p.nodeID(), "number": p.number, "state": p.state, "locked": false,
		"title": p.title, "body": orNil(p.body), "draft": p.draft, "user": s.userObj(p.user),
		"created_at": stamp(p.created), "updated_at": stamp(p.updated), "closed_at": stamp(p.closed), "merged_at": stamp(p.mergedAt),
		"merge_commit_sha": nil, "assignee": nil, "assignees": []obj{}, "milestone": nil, "auto_merge": nil,
		"author_association": s.association(r, p.user), "active_lock_reason": nil,
		"url": u, "html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue,
		"commits_url": u + "/commits", "review_comments_url": u + "/comments",
		"review_comment_url": s.restURL("repos/%s/%s/pulls/comments{/number}", r.owner, r.name),
		"comments_url":       issue + "/comments", "statuses_url": statuses,
		"head": s.branchRef(p.headRepo, p.headRef, head), "base": s.branchRef(r, p.baseRef, base),
		"_links": obj{
			"self": link(u), "html": link(html), "issue": link(issue), "comments": link(issue + "/comments"),
			"review_comments": link(u + "/comments"), "review_comment": link(s.restURL("repos/%s/%s/pulls/comments{/number}", r.owner, r.name)),
			"commits": link(u + "/commits"), "statuses": link(statuses),
		},
	}
	if p.merged {
		out["merge_commit_sha"] = p.mergeSHA
	}
	labels, reviewers, teams := []obj{}, []obj{}, []obj{}
	for _, l := range p.labels {
		labels = append(labels, s.labelObj(r, s.ensureLabel(r, l)))
	}
	for _, u := range p.requested {
		reviewers = append(reviewers, s.userObj(u))
	}
	for _, t := range p.requestedTeams {
		teams = append(teams, s.teamObj(r.owner, t))
	}
	out["labels"], out["requested_reviewers"], out["requested_teams"] = labels, reviewers, teams
	if full {
		s.addFullPull(ctx, r, p, out)
	}
	return out
}

// addFullPull adds what only a single PR's answer has.
func (s *Server) addFullPull(ctx context.Context, r *repo, p *pull, out obj) {
	out["merged"], out["merged_by"] = p.merged, nil
	if p.merged {
		out["merged_by"] = s.userObj(r.owner)
	}
	out["mergeable"], out["rebaseable"], out["mergeable_state"] = nil, nil, "unknown"
	if p.state == "open" {
		mergeable, state := s.mergeability(ctx, r, p)
		out["mergeable"], out["mergeable_state"] = mergeable, state
	}
	out["maintainer_can_modify"] = p.maintainerCanModify
	out["comments"] = len(r.comments[p.number])
	for k, v := range (obj{"review_comments": 0, "commits": 0, "additions": 0, "deletions": 0, "changed_files": 0}) {
		out[k] = v
	}
}

// branchRef is a PR's head or base.
func (s *Server) branchRef(r *repo, ref, sha string) obj {
	return obj{"label": r.owner + ":" + ref, "ref": ref, "sha": sha, "user": s.userObj(r.owner), "repo": s.repoObj(r, false)}
}

// association is GitHub's author_association of login in r.
func (s *Server) association(r *repo, login string) string {
	if login == r.owner {
		return "OWNER"
	}
	return "CONTRIBUTOR"
}

// mergeability is GitHub's mergeable and mergeable_state for an open PR.
func (s *Server) mergeability(ctx context.Context, r *repo, p *pull) (bool, string) {
	if err := s.fetchHead(ctx, r, p); err != nil {
		return false, "unknown"
	}
	base := resolve(ctx, r.dir, "refs/heads/"+p.baseRef)
	if _, err := mergeTree(ctx, r.dir, base, p.headSHA); err != nil {
		return false, "dirty"
	}
	if p.draft {
		return true, "draft"
	}
	prot := r.protection[p.baseRef]
	checks := s.checkStates(r, p.headSHA)
	for _, name := range prot.RequiredChecks {
		if checks[name] != "success" {
			return true, "blocked"
		}
	}
	if approvals(p) < prot.RequiredApprovals {
		return true, "blocked"
	}
	for _, st := range checks {
		if st == "failure" {
			return true, "unstable"
		}
	}
	return true, "clean"
}

// checkStates sums up statuses and check runs on sha by name: "success",
// "pending" or "failure".
func (s *Server) checkStates(r *repo, sha string) map[string]string {
	out := map[string]string{}
	for _, st := range r.statuses[sha] { // oldest first: the latest wins
		switch st.state {
		case "success":
			out[st.context] = "success"
		case "pending":
			out[st.context] = "pending"
		default:
			out[st.context] = "failure"
		}
	}
	for _, cr := range r.checkRuns {
		if cr.sha != sha {
			continue
		}
		switch {
		case cr.status != "completed":
			out[cr.name] = "pending"
		case cr.conclusion == "success" || cr.conclusion == "neutral" || cr.conclusion == "skipped":
			out[cr.name] = "success"
		default:
			out[cr.name] = "failure"
		}
	}
	return out
}

func approvals(p *pull) int {
	latest := map[string]string{}
	for _, rv := range p.reviews {
		if rv.state == "APPROVED" || rv.state == "CHANGES_REQUESTED" || rv.state == "DISMISSED" {
			latest[rv.user] = rv.state
		}
	}
	n := 0
	for _, st := range latest {
		if st == "APPROVED" {
			n++
		}
	}
	return n
}

// fetchHead keeps refs/pull/N/head of a fork's PR in the base repository, as
// GitHub does, so merges and comparisons see the head's commits.
func (s *Server) fetchHead(ctx context.Context, r *repo, p *pull) error {
	s.headSHA(ctx, p)
	ref := "refs/pull/" + strconv.Itoa(p.number) + "/head"
	if p.headRepo == r {
		return nil
	}
	if resolve(ctx, r.dir, ref) == p.headSHA {
		return nil
	}
	if p.state != "open" {
		return nil
	}
	return fetchInto(ctx, r.dir, p.headRepo.dir, "refs/heads/"+p.headRef, ref)
}

// page applies per_page/page to n items and sets the Link header.
func (c *call) page(n int) (lo, hi int) {
	per, _ := strconv.Atoi(c.r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	pg, _ := strconv.Atoi(c.r.URL.Query().Get("page"))
	if pg <= 0 {
		pg = 1
	}
	lo = min((pg-1)*per, n)
	hi = min(lo+per, n)
	if hi < n {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(pg+1))
		u := *c.r.URL
		u.RawQuery = q.Encode()
		c.w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, c.s.srv.URL, u.RequestURI()))
	}
	return lo, hi
}

func (s *Server) listPulls(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	headOwner, headRef := r.owner, ""
	if h := q.Get("head"); h != "" {
		if o, ref, ok := strings.Cut(h, ":"); ok {
			headOwner, headRef = o, ref
		} else {
			headRef = h
		}
	}
	var ps []*pull
	for _, p := range r.pulls {
		if state != "all" && p.state != state {
			continue
		}
		if headRef != "" && (p.headRepo.owner != headOwner || p.headRef != headRef) {
			continue
		}
		if b := q.Get("base"); b != "" && p.baseRef != b {
			continue
		}
		ps = append(ps, p)
	}
	// Default sort: created, newest first.
	asc := q.Get("direction") == "asc"
	sort.Slice(ps, func(i, j int) bool {
		if asc {
			return ps[i].number < ps[j].number
		}
		return ps[i].number > ps[j].number
	})
	lo, hi := c.page(len(ps))
	out := []obj{}
	for _, p := range ps[lo:hi] {
		out = append(out, s.pullObj(c.r.Context(), r, p, false))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) getPull(c *call) {
	r, p := c.pull()
	if p != nil {
		c.json(http.StatusOK, s.pullObj(c.r.Context(), r, p, true))
	}
}

// headRepo finds the repository a PR head "owner:branch" lives in: the base
// itself or a fork of it.
func (s *Server) headRepo(r *repo, owner string) *repo {
	if owner == "" || owner == r.owner {
		return r
	}
	for _, f := range s.repos {
		if f.owner == owner && f.parent == r {
			return f
		}
	}
	return nil
}

func (s *Server) createPull(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	var req struct {
		Title               *string `json:"title"`
		Head                string  `json:"head"`
		Base                string  `json:"base"`
		Body                *string `json:"body"`
		Draft               *bool   `json:"draft"`
		MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	}
	if !c.decode(&req) {
		return
	}
	ctx := c.r.Context()
	if req.Title == nil || *req.Title == "" {
		c.invalid("PullRequest", "title", "missing_field", "")
		return
	}
	owner, ref, ok := strings.Cut(req.Head, ":")
	if !ok {
		owner, ref = r.owner, req.Head
	}
	hr := s.headRepo(r, owner)
	if hr == nil || resolve(ctx, hr.dir, "refs/heads/"+ref) == "" {
		c.invalid("PullRequest", "head", "invalid", "")
		return
	}
	if resolve(ctx, r.dir, "refs/heads/"+req.Base) == "" {
		c.invalid("PullRequest", "base", "invalid", "")
		return
	}
	for _, p := range r.pulls {
		if p.state == "open" && p.headRepo == hr && p.headRef == ref && p.baseRef == req.Base {
			c.invalid("PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", hr.owner, ref))
			return
		}
	}
	now := s.now()
	p := &pull{
		id: s.newID(), number: r.nextNumber, title: *req.Title, user: c.who.login, state: "open",
		draft: req.Draft != nil && *req.Draft, created: now, updated: now,
		headRepo: hr, headRef: ref, baseRef: req.Base,
		maintainerCanModify: req.MaintainerCanModify == nil || *req.MaintainerCanModify,
	}
	if req.Body != nil {
		p.body = *req.Body
	}
	if err := s.fetchHead(ctx, r, p); err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	head := p.headSHA
	if hr != r {
		head = "refs/pull/" + strconv.Itoa(p.number) + "/head"
	}
	if n, _, err := revList(ctx, r.dir, "refs/heads/"+req.Base, head, 1); err != nil || n == 0 {
		c.invalid("PullRequest", "", "custom", fmt.Sprintf("No commits between %s and %s:%s", req.Base, hr.owner, ref))
		return
	}
	r.nextNumber++
	r.pulls[p.number] = p
	c.json(http.StatusCreated, s.pullObj(ctx, r, p, true))
}

func (s *Server) editPull(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	var req struct {
		Title               *string `json:"title"`
		Body                *string `json:"body"`
		State               *string `json:"state"`
		Base                *string `json:"base"`
		MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	}
	if !c.decode(&req) {
		return
	}
	ctx := c.r.Context()
	if req.Base != nil && *req.Base != p.baseRef {
		if p.state != "open" {
			c.invalid("PullRequest", "base", "invalid", "Cannot change the base branch of a closed pull request.")
			return
		}
		if resolve(ctx, r.dir, "refs/heads/"+*req.Base) == "" {
			c.invalid("PullRequest", "base", "invalid", "Proposed base branch '"+*req.Base+"' was not found")
			return
		}
	}
	if req.State != nil && *req.State != p.state {
		switch {
		case p.merged:
			c.invalid("PullRequest", "state", "invalid", "Cannot change the state of a merged pull request.")
			return
		case *req.State == "open":
			if sha := resolve(ctx, p.headRepo.dir, "refs/heads/"+p.headRef); sha == "" || sha != p.headSHA {
				c.invalid("PullRequest", "state", "invalid", "state cannot be changed. The "+p.headRef+" branch has been force-pushed or recreated.")
				return
			}
			p.state, p.closed = "open", time.Time{}
		case *req.State == "closed":
			s.close(ctx, p)
		default:
			c.invalid("PullRequest", "state", "invalid", "")
			return
		}
	}
	if req.Title != nil {
		p.title = *req.Title
	}
	if req.Body != nil {
		p.body = *req.Body
	}
	if req.Base != nil {
		p.baseRef = *req.Base
	}
	if req.MaintainerCanModify != nil {
		p.maintainerCanModify = *req.MaintainerCanModify
	}
	p.updated = s.now()
	c.json(http.StatusOK, s.pullObj(ctx, r, p, true))
}

// ruleViolation is how GitHub refuses a merge that a branch rule forbids.
func ruleViolation(msg string) string { return "Repository rule violations found\n\n" + msg }

func (s *Server) mergePull(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	var req struct {
		CommitTitle string `json:"commit_title"`
		SHA         string `json:"sha"`
		MergeMethod string `json:"merge_method"`
	}
	if !c.decode(&req) {
		return
	}
	ctx := c.r.Context()
	head := s.headSHA(ctx, p)
	prot := r.protection[p.baseRef]
	switch {
	case p.merged:
		c.fail(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
		return
	case p.state != "open":
		c.fail(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
		return
	case p.draft:
		c.fail(http.StatusMethodNotAllowed, "Pull Request is still a draft")
		return
	case req.MergeMethod != "" && req.MergeMethod != "merge":
		c.fail(http.StatusMethodNotAllowed, "githubtest: only merge_method \"merge\" is simulated")
		return
	case req.SHA != "" && req.SHA != head:
		c.fail(http.StatusConflict, "Head branch was modified. Review and try the merge again.")
		return
	case prot.MergeQueue:
		c.fail(http.StatusMethodNotAllowed, ruleViolation("Changes must be made through the merge queue"))
		return
	}
	checks := s.checkStates(r, head)
	for _, name := range prot.RequiredChecks {
		if checks[name] != "success" {
			c.fail(http.StatusMethodNotAllowed, ruleViolation(fmt.Sprintf("Required status check %q is expected.", name)))
			return
		}
	}
	if approvals(p) < prot.RequiredApprovals {
		c.fail(http.StatusMethodNotAllowed, ruleViolation(fmt.Sprintf("At least %d approving review is required by reviewers with write access.", prot.RequiredApprovals)))
		return
	}
	if err := s.merge(ctx, r, p, req.CommitTitle); err != nil {
		if errors.Is(err, errConflict) {
			c.fail(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
			return
		}
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	c.json(http.StatusOK, &github.PullRequestMergeResult{SHA: new(p.mergeSHA), Merged: new(true), Message: new("Pull Request successfully merged")})
}

func (s *Server) reviewObj(r *repo, p *pull, rv *review) obj {
	pr := s.restURL("repos/%s/%s/pulls/%d", r.owner, r.name, p.number)
	html := s.webURL("%s/%s/pull/%d#pullrequestreview-%d", r.owner, r.name, p.number, rv.id)
	return obj{
		"id": rv.id, "node_id": "PRR_" + strconv.FormatInt(rv.id, 10), "user": s.userObj(rv.user), "body": rv.body,
		"state": rv.state, "commit_id": orNil(rv.commit), "submitted_at": stamp(rv.submitted),
		"html_url": html, "pull_request_url": pr, "author_association": s.association(r, rv.user),
		"_links": obj{"html": link(html), "pull_request": link(pr)},
	}
}

func (s *Server) listReviews(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	lo, hi := c.page(len(p.reviews))
	out := []obj{}
	for _, rv := range p.reviews[lo:hi] {
		out = append(out, s.reviewObj(r, p, rv))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) createReview(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	var req struct {
		Body     string `json:"body"`
		Event    string `json:"event"`
		CommitID string `json:"commit_id"`
	}
	if !c.decode(&req) {
		return
	}
	state := map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}[req.Event]
	if state == "" {
		c.invalidSimple("Event is invalid")
		return
	}
	if c.who.login == p.user && state != "COMMENTED" {
		c.invalidSimple("Can not approve your own pull request")
		return
	}
	commit := req.CommitID
	if commit == "" {
		commit = s.headSHA(c.r.Context(), p)
	}
	rv := &review{id: s.newID(), user: c.who.login, state: state, commit: commit, body: req.Body, submitted: s.now()}
	s.submitReview(p, rv)
	c.json(http.StatusOK, s.reviewObj(r, p, rv))
}

func (s *Server) requestReviewers(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	var req github.ReviewersRequest
	if !c.decode(&req) {
		return
	}
	for _, u := range req.Reviewers {
		if u == p.user {
			c.invalid("PullRequest", "", "custom", "Review cannot be requested from pull request author.")
			return
		}
	}
	for _, u := range req.Reviewers {
		s.requestReview(p, c.who.login, u, "")
	}
	for _, t := range req.TeamReviewers {
		s.requestReview(p, c.who.login, "", t)
	}
	p.updated = s.now()
	c.json(http.StatusCreated, s.pullObj(c.r.Context(), r, p, false))
}
