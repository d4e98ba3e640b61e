package workflow

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-github/v92/github"
)

// PullRequest is what other parts of kupdate (check, status) need to know
// about a PR, without go-github's types.
type PullRequest struct {
	Number       int
	URL          string // web page
	Title, Body  string
	State        string // open, closed
	Draft        bool
	Merged       bool
	Base         string // branch
	BaseSHA      string
	Head         string // branch
	HeadSHA      string
	HeadOwner    string
	HeadCloneURL string
	BaseCloneURL string
	Labels       []string
	Created      time.Time
}

func fromGitHub(p *github.PullRequest) *PullRequest {
	out := &PullRequest{
		Number: p.GetNumber(), URL: p.GetHTMLURL(), Title: p.GetTitle(), Body: p.GetBody(),
		State: p.GetState(), Draft: p.GetDraft(), Merged: p.GetMerged() || p.MergedAt != nil,
		Base: p.GetBase().GetRef(), BaseSHA: p.GetBase().GetSHA(),
		Head: p.GetHead().GetRef(), HeadSHA: p.GetHead().GetSHA(),
		HeadOwner:    p.GetHead().GetRepo().GetOwner().GetLogin(),
		HeadCloneURL: p.GetHead().GetRepo().GetCloneURL(),
		BaseCloneURL: p.GetBase().GetRepo().GetCloneURL(),
		Created:      p.GetCreatedAt().Time,
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.Name)
	}
	return out
}

// PullRequest reads PR number of the configured repository.
func (w *Workflow) PullRequest(ctx context.Context, number int) (*PullRequest, error) {
	var pr *github.PullRequest
	err := w.read(ctx, fmt.Sprintf("read PR #%d", number), func(ctx context.Context) error {
		var err error
		pr, _, err = w.gh.PullRequests.Get(ctx, w.owner, w.repo, number)
		return err
	})
	if err != nil {
		return nil, err
	}
	return fromGitHub(pr), nil
}

// FindPR returns the PR from kupdate's branch (in the fork, or the
// repository itself): the open one, otherwise the newest; nil when there is
// none.
func (w *Workflow) FindPR(ctx context.Context, branch string) (*PullRequest, error) {
	prs, err := w.findPRs(ctx, w.headOwner, branch, "", "all")
	if err != nil {
		return nil, err
	}
	var best *github.PullRequest
	for _, p := range prs {
		switch {
		case best == nil:
			best = p
		case p.GetState() == "open" && best.GetState() != "open":
			best = p
		case p.GetState() == best.GetState() && p.GetNumber() > best.GetNumber():
			best = p
		}
	}
	if best == nil {
		return nil, nil
	}
	return fromGitHub(best), nil
}

// OpenPR returns the open PR from kupdate's branch that Sync would bring up
// to date (the one against base, "" meaning nixpkgs.base, else one against
// another base), or nil when none is open. It writes nothing: a cycle whose
// push failed uses it to show the PR the branch already has, which still
// holds what was pushed before. One request, conditional.
func (w *Workflow) OpenPR(ctx context.Context, branch, base string) (*PullRequest, error) {
	if base == "" {
		base = w.base
	}
	prs, err := w.findPRs(ctx, w.headOwner, branch, "", "all")
	if err != nil {
		return nil, err
	}
	if p := openPR(prs, base); p != nil {
		return fromGitHub(p), nil
	}
	return nil, nil
}

// addLabels adds labels to issue (or PR) n with the body GitHub documents,
// {"labels": [...]}. go-github's AddLabelsToIssue sends a bare array, which
// GitHub accepts today but its OpenAPI description no longer lists.
func (w *Workflow) addLabels(ctx context.Context, n int, labels []string) error {
	u := fmt.Sprintf("repos/%s/%s/issues/%d/labels", url.PathEscape(w.owner), url.PathEscape(w.repo), n)
	req, err := w.gh.NewRequest(ctx, http.MethodPost, u, map[string][]string{"labels": labels})
	if err != nil {
		return err
	}
	_, err = w.gh.Do(req, nil)
	return err
}
