package githubtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v92/github"
)

func (s *Server) issueLabels(r *repo, p *pull) []obj {
	out := []obj{}
	for _, l := range p.labels {
		out = append(out, s.labelObj(r, s.ensureLabel(r, l)))
	}
	return out
}

func (s *Server) listIssueLabels(c *call) {
	r, p := c.pull()
	if p != nil {
		c.json(http.StatusOK, s.issueLabels(r, p))
	}
}

// addIssueLabels adds labels to a PR. As on GitHub, a label the repository
// does not have yet is created (with the default color).
func (s *Server) addIssueLabels(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	raw, _ := readAll(c.r)
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		var obj struct {
			Labels []string `json:"labels"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			c.fail(http.StatusBadRequest, "Problems parsing JSON")
			return
		}
		names = obj.Labels
	}
	if len(names) == 0 {
		c.invalid("Label", "labels", "missing_field", "")
		return
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			c.invalid("Label", "name", "invalid", "")
			return
		}
	}
	for _, n := range names {
		l := s.ensureLabel(r, n)
		if !slices.ContainsFunc(p.labels, func(x string) bool { return strings.EqualFold(x, l.name) }) {
			p.labels = append(p.labels, l.name)
			s.record(p, &event{kind: "labeled", actor: c.who.login, label: l.name})
		}
	}
	p.updated = s.now()
	c.json(http.StatusOK, s.issueLabels(r, p))
}

func (s *Server) removeIssueLabel(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	name := c.r.PathValue("name")
	i := slices.IndexFunc(p.labels, func(x string) bool { return strings.EqualFold(x, name) })
	if i < 0 {
		c.fail(http.StatusNotFound, "Label does not exist")
		return
	}
	s.record(p, &event{kind: "unlabeled", actor: c.who.login, label: p.labels[i]})
	p.labels = slices.Delete(p.labels, i, i+1)
	p.updated = s.now()
	c.json(http.StatusOK, s.issueLabels(r, p))
}

func (s *Server) listLabels(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	lo, hi := c.page(len(r.labels))
	out := []obj{}
	for _, l := range r.labels[lo:hi] {
		out = append(out, s.labelObj(r, l))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) createLabel(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	var req github.Label
	if !c.decode(&req) {
		return
	}
	if req.Name == "" {
		c.invalid("Label", "name", "missing_field", "")
		return
	}
	for _, l := range r.labels {
		if strings.EqualFold(l.name, req.Name) {
			c.invalid("Label", "name", "already_exists", "")
			return
		}
	}
	c.json(http.StatusCreated, s.labelObj(r, s.ensureLabel(r, req.Name)))
}

func (s *Server) commentObj(r *repo, p *pull, cm *comment) obj {
	return obj{
		"id": cm.id, "node_id": "IC_" + strconv.FormatInt(cm.id, 10), "body": cm.body, "user": s.userObj(cm.user),
		"created_at": stamp(cm.created), "updated_at": stamp(cm.created), "author_association": s.association(r, cm.user),
		"url":       s.restURL("repos/%s/%s/issues/comments/%d", r.owner, r.name, cm.id),
		"html_url":  s.webURL("%s/%s/pull/%d#issuecomment-%d", r.owner, r.name, p.number, cm.id),
		"issue_url": s.restURL("repos/%s/%s/issues/%d", r.owner, r.name, p.number),
	}
}

func (s *Server) listComments(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	cs := r.comments[p.number]
	lo, hi := c.page(len(cs))
	out := []obj{}
	for _, cm := range cs[lo:hi] {
		out = append(out, s.commentObj(r, p, cm))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) createComment(c *call) {
	r, p := c.pull()
	if p == nil {
		return
	}
	var req github.IssueComment
	if !c.decode(&req) {
		return
	}
	if req.GetBody() == "" {
		c.invalid("IssueComment", "body", "missing_field", "")
		return
	}
	cm := &comment{id: s.newID(), user: c.who.login, body: req.GetBody(), created: s.now()}
	r.comments[p.number] = append(r.comments[p.number], cm)
	s.record(p, &event{kind: "commented", actor: c.who.login, created: cm.created, comment: cm})
	c.json(http.StatusCreated, s.commentObj(r, p, cm))
}
