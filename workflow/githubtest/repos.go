package githubtest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

func (s *Server) listBranches(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	hs, err := heads(c.r.Context(), r.dir)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	names := sortedNames(hs)
	lo, hi := c.page(len(names))
	out := []obj{}
	for _, n := range names[lo:hi] {
		_, protected := r.protection[n]
		out = append(out, obj{"name": n, "protected": protected, "commit": obj{"sha": hs[n], "url": s.restURL("repos/%s/%s/commits/%s", r.owner, r.name, hs[n])}})
	}
	c.json(http.StatusOK, out)
}

func (s *Server) getBranch(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	name := c.r.PathValue("branch")
	sha := resolve(c.r.Context(), r.dir, "refs/heads/"+name)
	if sha == "" {
		c.fail(http.StatusNotFound, "Branch not found")
		return
	}
	cs, err := gitCommits(c.r.Context(), r, sha)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	u := s.restURL("repos/%s/%s/branches/%s", r.owner, r.name, name)
	prot, protected := r.protection[name]
	protection := obj{"enabled": protected}
	if protected {
		contexts, checks := []string{}, []obj{}
		if !prot.RulesetChecks {
			for _, n := range prot.RequiredChecks {
				contexts = append(contexts, n)
				checks = append(checks, obj{"context": n, "app_id": nil})
			}
		}
		protection["required_status_checks"] = obj{"enforcement_level": "non_admins", "contexts": contexts, "checks": checks}
	}
	c.json(http.StatusOK, obj{
		"name": name, "commit": s.commitObj(r, cs[0]), "protected": protected, "protection": protection,
		"protection_url": u + "/protection",
		"_links":         obj{"self": u, "html": s.webURL("%s/%s/tree/%s", r.owner, r.name, name)},
	})
}

// matchingRefs lists the refs that start with the given one
// (heads/release- matches refs/heads/release-25.11).
func (s *Server) matchingRefs(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	prefix := "refs/" + c.r.PathValue("ref")
	hs, err := heads(c.r.Context(), r.dir)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	out := []obj{}
	for _, n := range sortedNames(hs) {
		ref := "refs/heads/" + n
		if strings.HasPrefix(ref, prefix) {
			out = append(out, obj{
				"ref": ref, "node_id": "REF_" + n, "url": s.restURL("repos/%s/%s/git/%s", r.owner, r.name, ref),
				"object": obj{"type": "commit", "sha": hs[n], "url": s.restURL("repos/%s/%s/git/commits/%s", r.owner, r.name, hs[n])},
			})
		}
	}
	c.json(http.StatusOK, out)
}

// compareRev resolves one side of a comparison in r: a commit id, a branch,
// or "owner:branch" of a fork (fetched into r first).
func (s *Server) compareRev(c *call, r *repo, rev string) string {
	ctx := c.r.Context()
	if owner, branch, ok := strings.Cut(rev, ":"); ok {
		hr := s.headRepo(r, owner)
		if hr == nil {
			return ""
		}
		if hr != r {
			tmp := "refs/githubtest/compare/" + owner + "/" + branch
			if err := fetchInto(ctx, r.dir, hr.dir, "refs/heads/"+branch, tmp); err != nil {
				return ""
			}
			return resolve(ctx, r.dir, tmp)
		}
		rev = branch
	}
	if commitID.MatchString(rev) {
		return resolve(ctx, r.dir, rev)
	}
	return resolve(ctx, r.dir, "refs/heads/"+rev)
}

func (s *Server) compare(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	base, head, ok := strings.Cut(c.r.PathValue("basehead"), "...")
	if !ok {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	ctx := c.r.Context()
	b, h := s.compareRev(c, r, base), s.compareRev(c, r, head)
	if b == "" || h == "" {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	ahead, ids, err := revList(ctx, r.dir, b, h, 250)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	behind, _, err := revList(ctx, r.dir, h, b, 0)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	mb, _ := git(ctx, r.dir, time.Time{}, "", "merge-base", b, h)
	status := "identical"
	switch {
	case ahead > 0 && behind > 0:
		status = "diverged"
	case ahead > 0:
		status = "ahead"
	case behind > 0:
		status = "behind"
	}
	oldest := slices.Clone(ids)
	slices.Reverse(oldest) // oldest first, as GitHub lists them
	cs, err := gitCommits(ctx, r, append([]string{b, mb}, oldest...)...)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	commits := []obj{}
	for _, cm := range cs[2:] {
		commits = append(commits, s.commitObj(r, cm))
	}
	web := s.webURL("%s/%s/compare/%s", r.owner, r.name, c.r.PathValue("basehead"))
	c.json(http.StatusOK, obj{
		"url":      s.restURL("repos/%s/%s/compare/%s", r.owner, r.name, c.r.PathValue("basehead")),
		"html_url": web, "permalink_url": s.webURL("%s/%s/compare/%s...%s", r.owner, r.name, b, h),
		"diff_url": web + ".diff", "patch_url": web + ".patch",
		"base_commit": s.commitObj(r, cs[0]), "merge_base_commit": s.commitObj(r, cs[1]),
		"status": status, "ahead_by": ahead, "behind_by": behind, "total_commits": ahead,
		"commits": commits, "files": []obj{},
	})
}

// branchRules answers GET /rules/branches/{branch}: the ruleset rules that
// apply, in GitHub's wire shape.
func (s *Server) branchRules(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	prot := r.protection[c.r.PathValue("branch")]
	meta := func(typ string) map[string]any {
		return map[string]any{"type": typ, "ruleset_source_type": "Repository", "ruleset_source": r.owner + "/" + r.name, "ruleset_id": 1}
	}
	out := []map[string]any{}
	if prot.MergeQueue {
		m := meta("merge_queue")
		m["parameters"] = map[string]any{
			"check_response_timeout_minutes": 60, "grouping_strategy": "ALLGREEN", "max_entries_to_build": 5,
			"max_entries_to_merge": 5, "merge_method": "MERGE", "min_entries_to_merge": 1, "min_entries_to_merge_wait_minutes": 5,
		}
		out = append(out, m)
	}
	if prot.RulesetChecks && len(prot.RequiredChecks) > 0 {
		m := meta("required_status_checks")
		var checks []map[string]string
		for _, n := range prot.RequiredChecks {
			checks = append(checks, map[string]string{"context": n})
		}
		m["parameters"] = map[string]any{"required_status_checks": checks, "strict_required_status_checks_policy": false}
		out = append(out, m)
	}
	c.json(http.StatusOK, out)
}
