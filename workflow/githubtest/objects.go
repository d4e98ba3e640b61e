package githubtest

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The simulator renders GitHub's objects with every field GitHub's OpenAPI
// description marks required (contract.go checks each answer), nulls where
// GitHub promises a nullable field and the simulator has nothing to say.
// Counters kupdate never reads (stars, additions, review comments) are zero:
// right in shape, not simulated. Objects are maps, not go-github's structs,
// whose omitempty cannot send a required null.

type obj = map[string]any

// restURL is an absolute REST URL below the API root.
func (s *Server) restURL(format string, args ...any) string {
	return s.srv.URL + "/api/v3/" + fmt.Sprintf(format, args...)
}

// webURL is an absolute URL on the web host.
func (s *Server) webURL(format string, args ...any) string {
	return s.srv.URL + "/" + fmt.Sprintf(format, args...)
}

func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func orNil(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// userID is a stable id for a login: the simulator keeps no user records.
func userID(login string) int64 {
	h := fnv.New32a()
	h.Write([]byte(login))
	return int64(h.Sum32()>>1) + 1
}

// userObj is a simple-user.
func (s *Server) userObj(login string) obj {
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	u := s.restURL("users/%s", login)
	return obj{
		"login": login, "id": userID(login), "node_id": "U_" + strconv.FormatInt(userID(login), 10),
		"avatar_url": s.webURL("avatars/%s", login), "gravatar_id": "", "url": u, "html_url": s.webURL("%s", login),
		"followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs", "repos_url": u + "/repos",
		"events_url": u + "/events{/privacy}", "received_events_url": u + "/received_events",
		"type": typ, "site_admin": false,
	}
}

// repoURLs are a repository's hypermedia links, as GitHub spells them.
var repoURLs = [][2]string{
	{"archive_url", "/{archive_format}{/ref}"}, {"assignees_url", "/assignees{/user}"},
	{"blobs_url", "/git/blobs{/sha}"}, {"branches_url", "/branches{/branch}"},
	{"collaborators_url", "/collaborators{/collaborator}"}, {"comments_url", "/comments{/number}"},
	{"commits_url", "/commits{/sha}"}, {"compare_url", "/compare/{base}...{head}"},
	{"contents_url", "/contents/{+path}"}, {"contributors_url", "/contributors"},
	{"deployments_url", "/deployments"}, {"downloads_url", "/downloads"}, {"events_url", "/events"},
	{"forks_url", "/forks"}, {"git_commits_url", "/git/commits{/sha}"}, {"git_refs_url", "/git/refs{/sha}"},
	{"git_tags_url", "/git/tags{/sha}"}, {"hooks_url", "/hooks"},
	{"issue_comment_url", "/issues/comments{/number}"}, {"issue_events_url", "/issues/events{/number}"},
	{"issues_url", "/issues{/number}"}, {"keys_url", "/keys{/key_id}"}, {"labels_url", "/labels{/name}"},
	{"languages_url", "/languages"}, {"merges_url", "/merges"}, {"milestones_url", "/milestones{/number}"},
	{"notifications_url", "/notifications{?since,all,participating}"}, {"pulls_url", "/pulls{/number}"},
	{"releases_url", "/releases{/id}"}, {"stargazers_url", "/stargazers"}, {"statuses_url", "/statuses/{sha}"},
	{"subscribers_url", "/subscribers"}, {"subscription_url", "/subscription"}, {"tags_url", "/tags"},
	{"teams_url", "/teams"}, {"trees_url", "/git/trees{/sha}"},
}

// repoObj is a repository (full adds what only GET /repos/{owner}/{repo}
// answers: a full-repository, with the parent of a fork).
func (s *Server) repoObj(r *repo, full bool) obj {
	u := s.restURL("repos/%s/%s", r.owner, r.name)
	host := strings.TrimPrefix(strings.TrimPrefix(s.srv.URL, "http://"), "https://")
	open := 0
	for _, p := range r.pulls {
		if p.state == "open" {
			open++
		}
	}
	out := obj{
		"id": r.id, "node_id": "R_" + strconv.FormatInt(r.id, 10), "name": r.name, "full_name": r.owner + "/" + r.name,
		"owner": s.userObj(r.owner), "private": false, "visibility": "public", "description": nil, "fork": r.parent != nil,
		"url": u, "html_url": s.webURL("%s/%s", r.owner, r.name), "clone_url": s.GitURL(r.owner, r.name),
		"git_url": "git://" + host + "/" + r.owner + "/" + r.name + ".git", "ssh_url": "git@" + host + ":" + r.owner + "/" + r.name + ".git",
		"svn_url": s.webURL("%s/%s", r.owner, r.name), "mirror_url": nil, "homepage": nil, "language": nil, "license": nil,
		"default_branch": r.defaultBranch, "archived": false, "disabled": false,
		"has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false, "has_downloads": true, "has_discussions": false,
		"forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers": 0, "watchers_count": 0, "size": 0,
		"open_issues": open, "open_issues_count": open,
		"created_at": stamp(r.created), "updated_at": stamp(r.created), "pushed_at": stamp(r.created),
	}
	for _, l := range repoURLs {
		out[l[0]] = u + l[1]
	}
	if full {
		out["network_count"], out["subscribers_count"] = 0, 0
		if r.parent != nil {
			out["parent"] = s.repoObj(r.parent, false)
			out["source"] = s.repoObj(r.parent, false)
		}
	}
	return out
}

// labelObj is a label; the simulator keeps no descriptions, and "" is what
// both of GitHub's label schemas accept (pull-request-simple's is not
// nullable).
func (s *Server) labelObj(r *repo, l *label) obj {
	return obj{
		"id": l.id, "node_id": "LA_" + strconv.FormatInt(l.id, 10), "url": s.restURL("repos/%s/%s/labels/%s", r.owner, r.name, pathEscape(l.name)),
		"name": l.name, "description": "", "color": l.color, "default": false,
	}
}

// teamObj is a team of org.
func (s *Server) teamObj(org, slug string) obj {
	id := s.teamID(org, slug)
	u := s.restURL("organizations/%d/team/%d", userID(org), id)
	return obj{
		"id": id, "node_id": "T_" + strconv.FormatInt(id, 10), "url": u, "html_url": s.webURL("orgs/%s/teams/%s", org, slug),
		"name": slug, "slug": slug, "description": nil, "privacy": "closed", "notification_setting": "notifications_enabled",
		"permission": "pull", "members_url": u + "/members{/member}", "repositories_url": u + "/repos",
		"parent": nil, "type": "organization",
	}
}

// appObj is the GitHub App (integration) with the given slug.
func (s *Server) appObj(slug string) obj {
	id := userID("app:" + slug)
	return obj{
		"id": id, "slug": slug, "node_id": "A_" + strconv.FormatInt(id, 10), "client_id": "Iv1." + slug,
		"owner": s.userObj(slug + "-owner"), "name": slug, "description": nil,
		"external_url": s.webURL("apps/%s", slug), "html_url": s.webURL("apps/%s", slug),
		"created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
		"permissions": obj{"checks": "write", "contents": "write", "pull_requests": "write", "statuses": "write"},
		"events":      []string{},
	}
}

func link(href string) obj { return obj{"href": href} }

// gitCommit is what git knows of a commit.
type gitCommit struct {
	sha, tree, message                           string
	parents                                      []string
	authorName, authorEmail, authorDate          string
	committerName, committerEmail, committerDate string
}

// gitCommits reads commits of r, in the order given (repeats allowed), with
// one git process.
func gitCommits(ctx context.Context, r *repo, shas ...string) ([]gitCommit, error) {
	if len(shas) == 0 {
		return nil, nil
	}
	uniq := slices.Compact(slices.Sorted(slices.Values(shas)))
	args := append([]string{"log", "--no-walk", "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x1e"}, uniq...)
	out, err := git(ctx, r.dir, time.Time{}, "", args...)
	if err != nil {
		return nil, err
	}
	byID := map[string]gitCommit{}
	for _, rec := range strings.Split(out, "\x1e") {
		f := strings.Split(strings.TrimLeft(rec, "\n"), "\x00")
		if len(f) < 10 {
			continue
		}
		byID[f[0]] = gitCommit{
			sha: f[0], tree: f[1], parents: strings.Fields(f[2]),
			authorName: f[3], authorEmail: f[4], authorDate: f[5],
			committerName: f[6], committerEmail: f[7], committerDate: f[8],
			message: strings.TrimRight(f[9], "\n"),
		}
	}
	cs := make([]gitCommit, len(shas))
	for i, id := range shas {
		c, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("githubtest: no commit %s in %s", id, r.dir)
		}
		cs[i] = c
	}
	return cs, nil
}

// commitObj is a commit (GitHub's "commit" schema). The simulator links no
// git identity to a GitHub account, so author and committer are null, as
// GitHub answers for an unknown email.
func (s *Server) commitObj(r *repo, c gitCommit) obj {
	u := s.restURL("repos/%s/%s/commits/%s", r.owner, r.name, c.sha)
	parents := []obj{}
	for _, p := range c.parents {
		parents = append(parents, obj{"sha": p, "url": s.restURL("repos/%s/%s/commits/%s", r.owner, r.name, p), "html_url": s.webURL("%s/%s/commit/%s", r.owner, r.name, p)})
	}
	return obj{
		"sha": c.sha, "node_id": "C_" + c.sha, "url": u, "html_url": s.webURL("%s/%s/commit/%s", r.owner, r.name, c.sha),
		"comments_url": u + "/comments", "author": nil, "committer": nil, "parents": parents,
		"commit": obj{
			"url":           s.restURL("repos/%s/%s/git/commits/%s", r.owner, r.name, c.sha),
			"author":        obj{"name": c.authorName, "email": c.authorEmail, "date": c.authorDate},
			"committer":     obj{"name": c.committerName, "email": c.committerEmail, "date": c.committerDate},
			"message":       c.message,
			"comment_count": 0,
			"tree":          obj{"sha": c.tree, "url": s.restURL("repos/%s/%s/git/trees/%s", r.owner, r.name, c.tree)},
		},
	}
}

// pathEscape escapes a label name or branch for a URL path segment.
func pathEscape(s string) string {
	return strings.NewReplacer("%", "%25", " ", "%20", "/", "%2F", "?", "%3F", "#", "%23").Replace(s)
}
