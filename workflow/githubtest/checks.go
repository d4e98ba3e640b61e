package githubtest

import (
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/google/go-github/v92/github"
)

var commitID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ref resolves the {ref} of a commits/{ref}/... path: a commit id as is, or
// a branch of the repository.
func (c *call) ref(r *repo) (string, bool) {
	ref := c.r.PathValue("ref")
	if commitID.MatchString(ref) {
		return ref, true
	}
	if sha := resolve(c.r.Context(), r.dir, "refs/heads/"+ref); sha != "" {
		return sha, true
	}
	c.invalid("Commit", "sha", "invalid", "No commit found for SHA: "+ref)
	return "", false
}

// statusObj is a commit status; simple leaves out the creator (the
// combined status's simple-commit-status).
func (s *Server) statusObj(r *repo, st *status, simple bool) obj {
	out := obj{
		"id": st.id, "node_id": "SC_" + strconv.FormatInt(st.id, 10), "state": st.state, "context": st.context,
		"description": orNil(st.description), "target_url": orNil(st.url), "avatar_url": nil,
		"url":        s.restURL("repos/%s/%s/statuses/%s", r.owner, r.name, st.sha),
		"created_at": stamp(st.created), "updated_at": stamp(st.created),
	}
	if !simple {
		out["creator"] = s.userObj(st.creator)
	}
	return out
}

func (s *Server) createStatus(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	sha := c.r.PathValue("sha")
	if !commitID.MatchString(sha) {
		c.invalid("Status", "sha", "invalid", "No commit found for SHA: "+sha)
		return
	}
	var req github.RepoStatus
	if !c.decode(&req) {
		return
	}
	switch req.GetState() {
	case "pending", "success", "error", "failure":
	default:
		c.invalid("Status", "state", "invalid", "")
		return
	}
	if len(req.GetDescription()) > 140 {
		c.invalid("Status", "description", "custom", "description is too long (maximum is 140 characters)")
		return
	}
	ctxName := req.GetContext()
	if ctxName == "" {
		ctxName = "default"
	}
	st := &status{id: s.newID(), sha: sha, context: ctxName, state: req.GetState(), description: req.GetDescription(), url: req.GetTargetURL(), creator: c.who.login, created: s.now()}
	r.statuses[sha] = append(r.statuses[sha], st)
	c.json(http.StatusCreated, s.statusObj(r, st, false))
}

// combinedStatus is GitHub's combined status: the latest status per
// context; failure if any failed or errored, pending if any is pending or
// there are none, success otherwise.
func (s *Server) combinedStatus(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	sha, ok := c.ref(r)
	if !ok {
		return
	}
	latest := map[string]*status{}
	var order []string
	all := r.statuses[sha]
	for i := len(all) - 1; i >= 0; i-- {
		if latest[all[i].context] == nil {
			latest[all[i].context] = all[i]
			order = append(order, all[i].context)
		}
	}
	state := "success"
	if len(order) == 0 {
		state = "pending"
	}
	statuses := []obj{}
	for _, name := range order {
		st := latest[name]
		switch st.state {
		case "failure", "error":
			state = "failure"
		case "pending":
			if state != "failure" {
				state = "pending"
			}
		}
		statuses = append(statuses, s.statusObj(r, st, true))
	}
	c.json(http.StatusOK, obj{
		"state": state, "sha": sha, "total_count": len(order), "statuses": statuses,
		"repository": s.repoObj(r, false),
		"commit_url": s.restURL("repos/%s/%s/commits/%s", r.owner, r.name, sha),
		"url":        s.restURL("repos/%s/%s/commits/%s/status", r.owner, r.name, sha),
	})
}

func (s *Server) listStatuses(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	sha, ok := c.ref(r)
	if !ok {
		return
	}
	all := r.statuses[sha]
	out := []obj{}
	for i := len(all) - 1; i >= 0; i-- { // newest first
		out = append(out, s.statusObj(r, all[i], false))
	}
	lo, hi := c.page(len(out))
	c.json(http.StatusOK, out[lo:hi])
}

// checkRunObj is a check run. The simulator keeps no check suites: each
// run's suite id is its own.
func (s *Server) checkRunObj(r *repo, cr *checkRun) obj {
	u := s.restURL("repos/%s/%s/check-runs/%d", r.owner, r.name, cr.id)
	var app any
	if cr.app != "" {
		app = s.appObj(cr.app)
	}
	return obj{
		"id": cr.id, "node_id": "CR_" + strconv.FormatInt(cr.id, 10), "head_sha": cr.sha, "name": cr.name,
		"status": cr.status, "conclusion": orNil(cr.conclusion), "started_at": stamp(cr.started), "completed_at": stamp(cr.completed),
		"external_id": cr.externalID, "details_url": orNil(cr.detailsURL),
		"url": u, "html_url": s.webURL("%s/%s/runs/%d", r.owner, r.name, cr.id),
		"output": obj{
			"title": orNil(cr.title), "summary": orNil(cr.summary), "text": orNil(cr.text),
			"annotations_count": 0, "annotations_url": u + "/annotations",
		},
		"check_suite": obj{"id": cr.id}, "app": app, "pull_requests": []obj{},
	}
}

// listCheckRuns lists the check runs on a commit. filter=latest (the
// default) keeps the newest run per name, as GitHub does.
func (s *Server) listCheckRuns(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	sha, ok := c.ref(r)
	if !ok {
		return
	}
	q := c.r.URL.Query()
	seen := map[string]bool{}
	var runs []*checkRun
	for i := len(r.checkRuns) - 1; i >= 0; i-- {
		cr := r.checkRuns[i]
		if cr.sha != sha {
			continue
		}
		if n := q.Get("check_name"); n != "" && cr.name != n {
			continue
		}
		if st := q.Get("status"); st != "" && cr.status != st {
			continue
		}
		if q.Get("filter") != "all" {
			if seen[cr.name] {
				continue
			}
			seen[cr.name] = true
		}
		runs = append(runs, cr)
	}
	lo, hi := c.page(len(runs))
	out := []obj{}
	for _, cr := range runs[lo:hi] {
		out = append(out, s.checkRunObj(r, cr))
	}
	c.json(http.StatusOK, obj{"total_count": len(runs), "check_runs": out})
}

// appOnly refuses check-run writes from anything but a GitHub App, as GitHub
// does (when the simulator checks credentials at all).
func (c *call) appOnly() bool {
	if c.who.app || (len(c.s.tokens) == 0 && len(c.s.apps) == 0) {
		return true
	}
	c.fail(http.StatusForbidden, "You must authenticate via a GitHub App.")
	return false
}

func validCheck(c *call, status, conclusion string) bool {
	switch status {
	case "", "queued", "in_progress", "completed":
	default:
		c.invalid("CheckRun", "status", "invalid", "")
		return false
	}
	switch conclusion {
	case "", "success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required":
	default:
		c.invalid("CheckRun", "conclusion", "invalid", "")
		return false
	}
	if status == "completed" && conclusion == "" {
		c.invalid("CheckRun", "conclusion", "missing_field", "conclusion is required when status is completed")
		return false
	}
	return true
}

func (s *Server) createCheckRun(c *call) {
	r := c.repo()
	if r == nil || !c.appOnly() {
		return
	}
	var req github.CreateCheckRunOptions
	if !c.decode(&req) {
		return
	}
	if req.Name == "" || !commitID.MatchString(req.HeadSHA) {
		c.invalid("CheckRun", "head_sha", "invalid", "")
		return
	}
	cr := &checkRun{id: s.newID(), sha: req.HeadSHA, name: req.Name, status: "queued", app: c.who.login, started: s.now()}
	if req.Conclusion != nil && req.Status == nil {
		req.Status = new("completed")
	}
	if !validCheck(c, req.GetStatus(), req.GetConclusion()) {
		return
	}
	applyCheck(s, cr, req.Status, req.Conclusion, req.Output, req.DetailsURL, req.ExternalID)
	r.checkRuns = append(r.checkRuns, cr)
	c.json(http.StatusCreated, s.checkRunObj(r, cr))
}

func applyCheck(s *Server, cr *checkRun, status, conclusion *string, out *github.CheckRunOutput, details, external *string) {
	if status != nil {
		cr.status = *status
	}
	if conclusion != nil {
		cr.conclusion = *conclusion
		cr.status = "completed"
	}
	if cr.status == "completed" {
		cr.completed = s.now()
	} else {
		cr.conclusion = ""
		cr.completed = time.Time{}
	}
	if out != nil {
		cr.title, cr.summary, cr.text = out.GetTitle(), out.GetSummary(), out.GetText()
	}
	if details != nil {
		cr.detailsURL = *details
	}
	if external != nil {
		cr.externalID = *external
	}
}

func (s *Server) updateCheckRun(c *call) {
	r := c.repo()
	if r == nil || !c.appOnly() {
		return
	}
	id, _ := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	var cr *checkRun
	for _, x := range r.checkRuns {
		if x.id == id {
			cr = x
		}
	}
	if cr == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	var req github.UpdateCheckRunOptions
	if !c.decode(&req) {
		return
	}
	st := req.GetStatus()
	if req.Conclusion != nil {
		st = "completed"
	}
	if !validCheck(c, st, req.GetConclusion()) {
		return
	}
	if req.Name != "" {
		cr.name = req.Name
	}
	applyCheck(s, cr, req.Status, req.Conclusion, req.Output, req.DetailsURL, req.ExternalID)
	c.json(http.StatusOK, s.checkRunObj(r, cr))
}
