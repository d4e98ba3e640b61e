package githubtest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v92/github"
)

// event is one entry of a PR's timeline, as GitHub records it: who did
// what, when. A review's entry ("reviewed") points at the review itself.
type event struct {
	id      int64
	kind    string // labeled, unlabeled, review_requested, review_request_removed, reviewed, commented
	actor   string
	created time.Time
	user    string  // review_requested, review_request_removed: the requested login
	team    string  // review_requested, review_request_removed: the requested team's slug
	label   string  // labeled, unlabeled
	review  *review // reviewed
	comment *comment
}

// record appends an event to p's timeline.
func (s *Server) record(p *pull, e *event) {
	e.id = s.newID()
	if e.created.IsZero() {
		e.created = s.now()
	}
	p.events = append(p.events, e)
}

// requestReview adds login (or team, a slug of the repository owner's
// organisation) to p's review requests, recording review_requested when it
// is new, as GitHub does; asking again while pending records nothing.
func (s *Server) requestReview(p *pull, by, login, team string) {
	switch {
	case login != "" && !slices.Contains(p.requested, login):
		p.requested = append(p.requested, login)
	case team != "" && !slices.Contains(p.requestedTeams, team):
		p.requestedTeams = append(p.requestedTeams, team)
	default:
		return
	}
	s.record(p, &event{kind: "review_requested", actor: by, user: login, team: team})
}

// removeReviewRequest takes login (or team) off p's review requests,
// recording review_request_removed. It reports whether there was such a
// request.
func (s *Server) removeReviewRequest(p *pull, by, login, team string) bool {
	n := len(p.requested) + len(p.requestedTeams)
	if login != "" {
		p.requested = slices.DeleteFunc(p.requested, func(u string) bool { return u == login })
	}
	if team != "" {
		p.requestedTeams = slices.DeleteFunc(p.requestedTeams, func(t string) bool { return t == team })
	}
	if len(p.requested)+len(p.requestedTeams) == n {
		return false
	}
	s.record(p, &event{kind: "review_request_removed", actor: by, user: login, team: team})
	return true
}

// submitReview adds a review to p, as its author submits it: the author's
// pending request is fulfilled (GitHub takes it off requested_reviewers)
// and the timeline shows "reviewed".
func (s *Server) submitReview(p *pull, rv *review) {
	p.reviews = append(p.reviews, rv)
	p.requested = slices.DeleteFunc(p.requested, func(u string) bool { return u == rv.user })
	p.events = append(p.events, &event{id: rv.id, kind: "reviewed", actor: rv.user, created: rv.submitted, review: rv})
}

// teamID is a team's stable id, made on first use: answers must not change
// between two reads of the same state, or the ETag would.
func (s *Server) teamID(org, slug string) int64 {
	key := strings.ToLower(org + "/" + slug)
	if id, ok := s.teams[key]; ok {
		return id
	}
	id := s.newID()
	s.teams[key] = id
	return id
}

// timelineObj is e as GET /issues/{n}/timeline shows it (one of GitHub's
// timeline-issue-events). A "reviewed" entry has the review's fields and
// user, not actor and created_at; a "commented" one the comment's.
func (s *Server) timelineObj(r *repo, p *pull, e *event) obj {
	switch e.kind {
	case "reviewed":
		out := s.reviewObj(r, p, e.review)
		out["event"] = "reviewed"
		out["state"] = strings.ToLower(e.review.state)
		if e.review.commit == "" {
			out["commit_id"] = ""
		}
		return out
	case "commented":
		out := s.commentObj(r, p, e.comment)
		out["event"], out["actor"] = "commented", s.userObj(e.comment.user)
		return out
	}
	out := obj{
		"id": e.id, "node_id": "E_" + strconv.FormatInt(e.id, 10), "event": e.kind,
		"url":   s.restURL("repos/%s/%s/issues/events/%d", r.owner, r.name, e.id),
		"actor": s.userObj(e.actor), "created_at": stamp(e.created),
		"commit_id": nil, "commit_url": nil, "performed_via_github_app": nil,
	}
	switch e.kind {
	case "review_requested", "review_request_removed":
		out["review_requester"] = s.userObj(e.actor)
		if e.user != "" {
			out["requested_reviewer"] = s.userObj(e.user)
		}
		if e.team != "" {
			out["requested_team"] = s.teamObj(r.owner, e.team)
		}
	case "labeled", "unlabeled":
		l := s.ensureLabel(r, e.label)
		out["label"] = obj{"name": l.name, "color": l.color}
	}
	return out
}

// listTimeline serves GET /repos/{owner}/{repo}/issues/{number}/timeline:
// the PR's events oldest first, paged like every list.
func (s *Server) listTimeline(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	lo, hi := c.page(len(p.events))
	out := []obj{}
	for _, e := range p.events[lo:hi] {
		out = append(out, s.timelineObj(r, p, e))
	}
	c.json(http.StatusOK, out)
}

// removeRequestedReviewers serves DELETE
// /repos/{owner}/{repo}/pulls/{number}/requested_reviewers.
func (s *Server) removeRequestedReviewers(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	var req github.ReviewersRequest
	if !c.decode(&req) {
		return
	}
	for _, u := range req.Reviewers {
		s.removeReviewRequest(p, c.who.login, u, "")
	}
	for _, t := range req.TeamReviewers {
		s.removeReviewRequest(p, c.who.login, "", t)
	}
	p.updated = s.now()
	c.json(http.StatusOK, s.pullObj(c.r.Context(), r, p, false))
}

// RemoveReviewRequest takes a pending review request off a PR, as person
// does in the web interface. reviewer is a login or "org/team-slug".
func (s *Server) RemoveReviewRequest(owner, name string, number int, person, reviewer string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, err := s.pullFor(owner, name, number)
	if err != nil {
		return err
	}
	login, team := reviewer, ""
	if _, slug, ok := strings.Cut(reviewer, "/"); ok {
		login, team = "", slug
	}
	if !s.removeReviewRequest(p, person, login, team) {
		return fmt.Errorf("githubtest: PR #%d has no review request for %s", number, reviewer)
	}
	p.updated = s.now()
	return nil
}

// Event is a snapshot of a timeline entry, for assertions.
type Event struct {
	Event string // review_requested, reviewed, labeled, ...
	Actor string // who did it; the reviewer for "reviewed"
	// Subject is what it was about: the requested login or "org/team-slug",
	// the label, the review's state (APPROVED), or the comment's body.
	Subject string
}

// Events returns PR number's timeline, oldest first.
func (s *Server) Events(owner, name string, number int) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, p, err := s.pullFor(owner, name, number)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, e := range p.events {
		ev := Event{Event: e.kind, Actor: e.actor}
		switch {
		case e.user != "":
			ev.Subject = e.user
		case e.team != "":
			ev.Subject = r.owner + "/" + e.team
		case e.label != "":
			ev.Subject = e.label
		case e.review != nil:
			ev.Subject = e.review.state
		case e.comment != nil:
			ev.Subject = e.comment.body
		}
		out = append(out, ev)
	}
	return out, nil
}
