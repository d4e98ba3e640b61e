package githubtest

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// repo is one repository: a bare git repository plus everything GitHub keeps
// beside it.
type repo struct {
	id            int64
	owner, name   string
	dir           string
	parent        *repo // the repository this one is a fork of
	defaultBranch string
	created       time.Time
	nextNumber    int
	pulls         map[int]*pull
	comments      map[int][]*comment
	labels        []*label              // in creation order
	statuses      map[string][]*status  // commit -> statuses, oldest first
	checkRuns     []*checkRun           // oldest first
	protection    map[string]Protection // branch -> protection
	queue         []*pull               // merge queue, in order
}

type label struct {
	id          int64
	name, color string
}

type comment struct {
	id         int64
	user, body string
	created    time.Time
}

type status struct {
	id                                    int64
	sha, context, state, description, url string
	creator                               string
	created                               time.Time
}

type checkRun struct {
	id                               int64
	sha, name, status, conclusion    string
	title, summary, text, detailsURL string
	externalID, app                  string
	started, completed               time.Time
}

type review struct {
	id                        int64
	user, state, commit, body string
	submitted                 time.Time
}

type pull struct {
	id                  int64
	number              int
	title, body, user   string
	state               string // open, closed
	draft, merged       bool
	mergeSHA            string
	created, updated    time.Time
	closed, mergedAt    time.Time
	headRepo            *repo
	headRef, headSHA    string // headSHA is frozen once the PR is closed
	baseRef             string
	labels              []string
	requested           []string
	requestedTeams      []string
	reviews             []*review
	events              []*event // the timeline, oldest first (timeline.go)
	maintainerCanModify bool
	queued              bool
}

func (p *pull) nodeID() string { return "PR_" + strconv.FormatInt(p.id, 10) }

// Protection is what a branch enforces.
type Protection struct {
	// RequiredChecks are status contexts or check-run names that must be
	// green before a merge.
	RequiredChecks []string
	// RulesetChecks serves RequiredChecks as a repository ruleset rule
	// (GET /rules/branches/{branch}) instead of classic branch protection
	// (GET /branches/{branch}).
	RulesetChecks bool
	// RequiredApprovals is how many approving reviews a merge needs.
	RequiredApprovals int
	// MergeQueue makes merges go through the merge queue (a ruleset rule):
	// the merge API refuses, GraphQL enqueuePullRequest accepts.
	MergeQueue bool
}

type app struct {
	id, installation int64
	slug             string
	key              *rsa.PublicKey
}

type installationToken struct {
	app     *app
	expires time.Time
}

func (s *Server) lookup(owner, name string) *repo {
	return s.repos[owner+"/"+name]
}

// CreateRepo creates an empty bare repository with defaultBranch as HEAD.
// Branches appear when something is pushed or committed (Commit).
func (s *Server) CreateRepo(owner, name, defaultBranch string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookup(owner, name) != nil {
		return fmt.Errorf("githubtest: repository %s/%s exists", owner, name)
	}
	dir := s.repoDir(owner, name)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if _, err := git(context.Background(), filepath.Dir(dir), time.Time{}, "", "init", "--quiet", "--bare", "-b", defaultBranch, dir); err != nil {
		return err
	}
	s.addRepo(owner, name, dir, defaultBranch, nil)
	return nil
}

func (s *Server) addRepo(owner, name, dir, defaultBranch string, parent *repo) *repo {
	r := &repo{
		id: s.newID(), owner: owner, name: name, dir: dir, parent: parent,
		defaultBranch: defaultBranch, nextNumber: 1, created: s.now(),
		pulls: map[int]*pull{}, comments: map[int][]*comment{},
		statuses: map[string][]*status{}, protection: map[string]Protection{},
	}
	s.repos[owner+"/"+name] = r
	return r
}

// ForkRepo forks owner/name to forkOwner/name with all its branches, as
// GitHub does; PRs may then come from "forkOwner:branch". The fork's object
// store borrows the parent's (objects/info/alternates, git clone --shared):
// as on GitHub, a commit that lands upstream later (a merge) is at once
// present in the fork too, so a push that builds on it sends only its own
// objects. Options.UnsharedForks turns that off.
func (s *Server) ForkRepo(owner, name, forkOwner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.lookup(owner, name)
	if src == nil {
		return fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	dir := s.repoDir(forkOwner, name)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	args := []string{"clone", "--quiet", "--bare"}
	if !s.unshared {
		args = append(args, "--shared")
	}
	if _, err := git(context.Background(), filepath.Dir(dir), time.Time{}, "", append(args, src.dir, dir)...); err != nil {
		return err
	}
	s.addRepo(forkOwner, name, dir, src.defaultBranch, src)
	return nil
}

// RepoDir is the bare repository's directory.
func (s *Server) RepoDir(owner, name string) string { return s.repoDir(owner, name) }

// Commit writes a commit on branch (creating the branch from nothing when it
// does not exist) that adds or replaces files; it returns the commit id.
func (s *Server) Commit(owner, name, branch string, files map[string]string, message string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return "", fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	return commitFiles(context.Background(), r.dir, branch, files, message, s.now())
}

// CreateBranch points a new (or existing) branch at the commit from names.
func (s *Server) CreateBranch(owner, name, branch, from string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	sha := resolve(context.Background(), r.dir, from)
	if sha == "" {
		return fmt.Errorf("githubtest: %s/%s has no commit %q", owner, name, from)
	}
	_, err := git(context.Background(), r.dir, time.Time{}, "", "update-ref", "refs/heads/"+branch, sha)
	return err
}

// BranchSHA is the commit a branch points at, or "" when there is no such branch.
func (s *Server) BranchSHA(owner, name, branch string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return ""
	}
	return resolve(context.Background(), r.dir, "refs/heads/"+branch)
}

// Protect sets what branch enforces.
func (s *Server) Protect(owner, name, branch string, p Protection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	r.protection[branch] = p
	return nil
}

// SetStatus posts a commit status as CI would ("pending", "success",
// "failure", "error").
func (s *Server) SetStatus(owner, name, sha, context, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	r.statuses[sha] = append(r.statuses[sha], &status{id: s.newID(), sha: sha, context: context, state: state, creator: "ci", created: s.now()})
	return nil
}

// SetCheckRun adds a check run as a CI app would: status "queued",
// "in_progress" or "completed" (then with a conclusion).
func (s *Server) SetCheckRun(owner, name, sha, checkName, runStatus, conclusion string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	r.checkRuns = append(r.checkRuns, &checkRun{id: s.newID(), sha: sha, name: checkName, status: runStatus, conclusion: conclusion, app: "ci", started: s.now()})
	return nil
}

// Review submits a review on the PR's current head: "APPROVED",
// "CHANGES_REQUESTED" or "COMMENTED".
func (s *Server) Review(owner, name string, number int, login, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, err := s.pullFor(owner, name, number)
	if err != nil {
		return err
	}
	s.submitReview(p, &review{id: s.newID(), user: login, state: state, commit: s.headSHA(context.Background(), p), submitted: s.now()})
	return nil
}

// ClosePR closes a PR without merging it, as a maintainer would.
func (s *Server) ClosePR(owner, name string, number int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, err := s.pullFor(owner, name, number)
	if err != nil {
		return err
	}
	s.close(context.Background(), p)
	return nil
}

func (s *Server) close(ctx context.Context, p *pull) {
	s.headSHA(ctx, p)
	p.state = "closed"
	p.closed = s.now()
	p.updated = p.closed
	p.queued = false
}

func (s *Server) pullFor(owner, name string, number int) (*repo, *pull, error) {
	r := s.lookup(owner, name)
	if r == nil {
		return nil, nil, fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	p := r.pulls[number]
	if p == nil {
		return nil, nil, fmt.Errorf("githubtest: %s/%s has no pull request #%d", owner, name, number)
	}
	return r, p, nil
}

// headSHA is the PR's head commit: live from the head branch while open,
// frozen once closed (GitHub stops following a closed PR's branch).
func (s *Server) headSHA(ctx context.Context, p *pull) string {
	if p.state == "open" {
		if sha := resolve(ctx, p.headRepo.dir, "refs/heads/"+p.headRef); sha != "" {
			p.headSHA = sha
		}
	}
	return p.headSHA
}

// PullRequest is a snapshot of a PR, for assertions.
type PullRequest struct {
	Number             int
	Title, Body        string
	User               string
	State              string // open, closed
	Draft, Merged      bool
	MergeCommit        string
	HeadOwner, Head    string
	HeadSHA            string
	Base               string
	Labels             []string
	RequestedReviewers []string
	RequestedTeams     []string // "org/team-slug"
	InMergeQueue       bool
}

// PR returns a snapshot of PR number.
func (s *Server) PR(owner, name string, number int) (PullRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, p, err := s.pullFor(owner, name, number)
	if err != nil {
		return PullRequest{}, err
	}
	return s.snapshot(r, p), nil
}

// PRs returns snapshots of every PR of the repository, by number.
func (s *Server) PRs(owner, name string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return nil
	}
	var out []PullRequest
	for n := 1; n < r.nextNumber; n++ {
		if p := r.pulls[n]; p != nil {
			out = append(out, s.snapshot(r, p))
		}
	}
	return out
}

func (s *Server) snapshot(r *repo, p *pull) PullRequest {
	var teams []string
	for _, t := range p.requestedTeams {
		teams = append(teams, r.owner+"/"+t)
	}
	return PullRequest{
		Number: p.number, Title: p.title, Body: p.body, User: p.user, State: p.state,
		Draft: p.draft, Merged: p.merged, MergeCommit: p.mergeSHA,
		HeadOwner: p.headRepo.owner, Head: p.headRef, HeadSHA: s.headSHA(context.Background(), p),
		Base: p.baseRef, Labels: slices.Clone(p.labels), RequestedReviewers: slices.Clone(p.requested),
		RequestedTeams: teams, InMergeQueue: p.queued,
	}
}

// Status is a snapshot of a commit status.
type Status struct {
	Context, State, Description, Creator string
}

// Statuses returns every status posted on sha, oldest first.
func (s *Server) Statuses(owner, name, sha string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return nil
	}
	var out []Status
	for _, st := range r.statuses[sha] {
		out = append(out, Status{Context: st.context, State: st.state, Description: st.description, Creator: st.creator})
	}
	return out
}

// CheckRun is a snapshot of a check run.
type CheckRun struct {
	ID                       int64
	Name, Status, Conclusion string
	Title, Summary, Text     string
	App                      string
}

// CheckRuns returns every check run on sha, oldest first.
func (s *Server) CheckRuns(owner, name, sha string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return nil
	}
	var out []CheckRun
	for _, cr := range r.checkRuns {
		if cr.sha == sha {
			out = append(out, CheckRun{ID: cr.id, Name: cr.name, Status: cr.status, Conclusion: cr.conclusion, Title: cr.title, Summary: cr.summary, Text: cr.text, App: cr.app})
		}
	}
	return out
}

// Labels returns the repository's labels, in creation order.
func (s *Server) Labels(owner, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return nil
	}
	var out []string
	for _, l := range r.labels {
		out = append(out, l.name)
	}
	return out
}

// CreateLabel creates a repository label.
func (s *Server) CreateLabel(owner, name, labelName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	s.ensureLabel(r, labelName)
	return nil
}

func (s *Server) ensureLabel(r *repo, name string) *label {
	for _, l := range r.labels {
		if strings.EqualFold(l.name, name) {
			return l
		}
	}
	l := &label{id: s.newID(), name: name, color: "ededed"}
	r.labels = append(r.labels, l)
	return l
}

// Comments returns the bodies of the comments on issue or PR number.
func (s *Server) Comments(owner, name string, number int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return nil
	}
	var out []string
	for _, c := range r.comments[number] {
		out = append(out, c.body)
	}
	return out
}

// ProcessMergeQueue runs the merge queue of every branch of the repository
// once: each queued PR is merged with a real merge commit, in queue order
// (a conflict drops it from the queue). It returns the numbers merged.
func (s *Server) ProcessMergeQueue(owner, name string) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return nil, fmt.Errorf("githubtest: no repository %s/%s", owner, name)
	}
	var merged []int
	queue := r.queue
	r.queue = nil
	var errs []error
	for _, p := range queue {
		p.queued = false
		if p.state != "open" {
			continue
		}
		if err := s.merge(context.Background(), r, p, ""); err != nil {
			errs = append(errs, fmt.Errorf("#%d: %w", p.number, err))
			continue
		}
		merged = append(merged, p.number)
	}
	return merged, errors.Join(errs...)
}

// merge merges p into its base with a real merge commit in the base
// repository.
func (s *Server) merge(ctx context.Context, r *repo, p *pull, title string) error {
	head := s.headSHA(ctx, p)
	if p.headRepo != r {
		if err := fetchInto(ctx, r.dir, p.headRepo.dir, "refs/heads/"+p.headRef, "refs/pull/"+strconv.Itoa(p.number)+"/head"); err != nil {
			return err
		}
	}
	base := resolve(ctx, r.dir, "refs/heads/"+p.baseRef)
	if base == "" {
		return fmt.Errorf("base branch %s is gone", p.baseRef)
	}
	if title == "" {
		title = fmt.Sprintf("Merge pull request #%d from %s/%s", p.number, p.headRepo.owner, p.headRef)
	}
	sha, err := mergeCommit(ctx, r.dir, p.baseRef, base, head, title+"\n\n"+p.title, s.now())
	if err != nil {
		return err
	}
	s.close(ctx, p)
	p.merged, p.mergeSHA, p.mergedAt = true, sha, p.closed
	return nil
}

// SetDraft marks a PR a draft or ready for review, as a person does in the
// web interface.
func (s *Server) SetDraft(owner, name string, number int, draft bool) error {
	return s.editPR(owner, name, number, func(p *pull) { p.draft = draft })
}

// SetTitle renames a PR, as a person does in the web interface.
func (s *Server) SetTitle(owner, name string, number int, title string) error {
	return s.editPR(owner, name, number, func(p *pull) { p.title = title })
}

// SetBody rewrites a PR's description, as a person does in the web
// interface.
func (s *Server) SetBody(owner, name string, number int, body string) error {
	return s.editPR(owner, name, number, func(p *pull) { p.body = body })
}

// editPR applies a person's edit to a PR and stamps it updated.
func (s *Server) editPR(owner, name string, number int, edit func(*pull)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, err := s.pullFor(owner, name, number)
	if err != nil {
		return err
	}
	edit(p)
	p.updated = s.now()
	return nil
}
