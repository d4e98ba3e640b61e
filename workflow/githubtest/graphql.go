package githubtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// The simulator's GraphQL endpoint is not a GraphQL server: it answers the
// three documents kupdate sends, recognised by operation name, which is how
// it reads and joins GitHub's merge queue and turns a PR back into a draft
// (REST has no API for these):
//
//	query PullRequestMergeQueue($owner: String!, $name: String!, $number: Int!) {
//	  repository(owner: $owner, name: $name) { pullRequest(number: $number) { id isInMergeQueue } }
//	}
//	mutation EnqueuePullRequest($id: ID!, $sha: GitObjectID) {
//	  enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $sha}) { mergeQueueEntry { position } }
//	}
//	mutation ConvertPullRequestToDraft($id: ID!) {
//	  convertPullRequestToDraft(input: {pullRequestId: $id}) { pullRequest { isDraft } }
//	}
//
// Anything else gets a GraphQL error. Answers are 200 with "errors", as
// GitHub's are.

var opName = regexp.MustCompile(`^\s*(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)`)

type graphqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

func graphqlOperation(body []byte) string {
	var req graphqlRequest
	if json.Unmarshal(body, &req) != nil {
		return ""
	}
	if req.OperationName != "" {
		return req.OperationName
	}
	if m := opName.FindStringSubmatch(req.Query); m != nil {
		return m[1]
	}
	return ""
}

func (c *call) graphqlError(msg string) {
	c.json(http.StatusOK, map[string]any{"data": nil, "errors": []map[string]any{{"message": msg}}})
}

func (s *Server) graphql(c *call) {
	raw, _ := readAll(c.r)
	var req graphqlRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	c.op = graphqlOperation(raw)
	str := func(k string) string { v, _ := req.Variables[k].(string); return v }
	switch c.op {
	case "PullRequestMergeQueue":
		n, _ := req.Variables["number"].(float64)
		r := s.lookup(str("owner"), str("name"))
		if r == nil || r.pulls[int(n)] == nil {
			c.graphqlError("Could not resolve to a PullRequest with the number of " + strings.TrimSuffix(strings.TrimSuffix(jsonNumber(n), ".0"), ".") + ".")
			return
		}
		p := r.pulls[int(n)]
		c.json(http.StatusOK, map[string]any{"data": map[string]any{"repository": map[string]any{"pullRequest": map[string]any{"id": p.nodeID(), "isInMergeQueue": p.queued}}}})
	case "ConvertPullRequestToDraft":
		id := str("id")
		_, p := s.pullByNodeID(id)
		switch {
		case p == nil:
			c.graphqlError("Could not resolve to a node with the global id of '" + id + "'")
		case p.state != "open":
			c.graphqlError("Pull request is closed")
		default:
			if !p.draft {
				p.draft, p.updated = true, s.now()
			}
			c.json(http.StatusOK, map[string]any{"data": map[string]any{"convertPullRequestToDraft": map[string]any{"pullRequest": map[string]any{"isDraft": true}}}})
		}
	case "EnqueuePullRequest":
		id := str("id")
		r, p := s.pullByNodeID(id)
		switch {
		case p == nil:
			c.graphqlError("Could not resolve to a node with the global id of '" + id + "'")
		case p.state != "open" || p.draft:
			c.graphqlError("Pull request is not in a mergeable state")
		case !r.protection[p.baseRef].MergeQueue:
			c.graphqlError("Pull request's base branch does not use a merge queue")
		case p.queued:
			c.graphqlError("Pull request is already in the merge queue")
		case str("sha") != "" && str("sha") != s.headSHA(c.r.Context(), p):
			c.graphqlError("Expected head oid does not match the pull request's head")
		default:
			p.queued = true
			r.queue = append(r.queue, p)
			c.json(http.StatusOK, map[string]any{"data": map[string]any{"enqueuePullRequest": map[string]any{"mergeQueueEntry": map[string]any{"position": len(r.queue)}}}})
		}
	default:
		c.graphqlError("githubtest: unsupported GraphQL operation " + c.op)
	}
}

// pullByNodeID finds a PR by its GraphQL id.
func (s *Server) pullByNodeID(id string) (*repo, *pull) {
	for _, r := range s.repos {
		for _, p := range r.pulls {
			if p.nodeID() == id {
				return r, p
			}
		}
	}
	return nil, nil
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
