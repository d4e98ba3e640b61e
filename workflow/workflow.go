// Package workflow is kupdate's side of GitHub: for each branch gitops
// pushed it finds or opens the pull request against the base (a draft with
// the backport label, by default), keeps its title, body and labels current
// without churn, reports the build as a check run or commit status, merges
// when that is enabled and a person approved it, and promotes staging
// branches into their targets once every check is green.
//
// go-github is imported here and in githubtest only, so a major version bump
// touches one package. Every read is a conditional request (see etag.go), so
// a cycle with nothing to do costs next to nothing against the rate limit;
// every write is made only when the state read differs from the state
// wanted, so a second identical cycle writes nothing.
package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-github/v92/github"
	"golang.org/x/oauth2"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/family"
)

// BranchUpdate is one branch gitops pushed (or found up to date), as the
// workflow needs it.
type BranchUpdate struct {
	Branch  string          // kupdate/staging-nixos/updates, kupdate/staging-nixos/linux_6_19-init
	Head    string          // the commit id the branch points at
	Base    string          // the PR's base branch; "" means nixpkgs.base
	Changes []family.Change // the branch's commits, in order
	Build   build.Report    // empty when nothing was built this cycle
	Pushed  bool            // false: the branch was already up to date
	// Draft says the PR must not be ready for review, whatever github.draft
	// says (its build failed): it is opened as a draft, and an open PR of
	// kupdate's that is ready for review is converted to a draft when Head
	// is new to it. kupdate never marks a PR ready: that is a person's call.
	Draft bool
}

// Options are what New needs beyond the configuration.
type Options struct {
	Getenv func(string) string // reads the secret named by github.token_env; nil means os.Getenv
	Log    *slog.Logger        // nil discards
	Clock  func() time.Time    // dates PR titles; nil means time.Now
	// Transport carries the HTTP requests (below the ETag cache and the
	// auth); nil means http.DefaultTransport.
	Transport http.RoundTripper
	// CacheDir keeps the ETag cache across processes, so one-shot runs
	// (kupdate run from cron) revalidate too; "" keeps it in memory.
	CacheDir string
	DryRun   bool          // read, and report the writes instead of making them
	MaxWait  time.Duration // longest wait for a rate limit within a cycle; 0 means 5m
	Backoff  time.Duration // first wait after a 5xx, doubling; 0 means 2s
	Attempts int           // tries per read, and per branch after a failed write; 0 means 4
	Timeout  time.Duration // per HTTP request; 0 means 1m
	// Platform is the Nix system the build tiers build for, ticked under
	// "Built on platform" in a PR body when the kernel tier passed; ""
	// means Nix's "system" of build.options, else this machine's.
	Platform string
}

// Workflow talks to one GitHub repository.
type Workflow struct {
	gh         *github.Client
	etag       *etagTransport
	graphqlURL string
	webURL     string

	owner, repo, headOwner string
	base                   string
	draft, merge           bool
	reviewers, teams       []string
	labels                 map[string][]string
	rollingTitle           string // github.rolling_title
	platform               string // the Nix system the kernel tier builds for
	promote                config.Promote
	checks                 bool // report with check runs (GitHub App) rather than commit statuses
	authHint               string
	asked                  askedSet // review requests settled, per PR (reviewers.go)

	dryRun   bool
	log      *slog.Logger
	clock    func() time.Time
	maxWait  time.Duration
	backoff  time.Duration
	attempts int
}

// New connects to the GitHub repository cfg names. Credentials come from the
// environment (github.token_env) or a GitHub App (github.app_id); a dry run
// without a token reads anonymously.
func New(cfg *config.Config, opts Options) (*Workflow, error) {
	g := cfg.GitHub
	w := &Workflow{
		owner: g.Owner, repo: g.Repo, headOwner: g.ForkOwner, base: cfg.Nixpkgs.Base,
		draft: g.Draft, merge: g.Merge, labels: g.Labels, promote: cfg.Promote, rollingTitle: g.RollingTitle,
		checks: g.AppID != 0, dryRun: opts.DryRun,
		log: opts.Log, clock: opts.Clock, maxWait: opts.MaxWait, backoff: opts.Backoff, attempts: opts.Attempts,
	}
	if w.headOwner == "" {
		w.headOwner = g.Owner
	}
	if w.rollingTitle == "" {
		w.rollingTitle = config.DefaultRollingTitle
	}
	w.platform = opts.Platform
	if w.platform == "" {
		w.platform = cfg.Build.Options["system"] // Nix's own setting, when set
	}
	if w.platform == "" {
		w.platform = HostPlatform(runtime.GOOS, runtime.GOARCH)
	}
	for _, r := range g.Reviewers {
		if _, team, ok := strings.Cut(r, "/"); ok {
			w.teams = append(w.teams, team)
		} else {
			w.reviewers = append(w.reviewers, r)
		}
	}
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if w.clock == nil {
		w.clock = time.Now
	}
	if w.maxWait <= 0 {
		w.maxWait = 5 * time.Minute
	}
	if w.backoff <= 0 {
		w.backoff = 2 * time.Second
	}
	if w.attempts <= 0 {
		w.attempts = 4
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	w.authHint = fmt.Sprintf("check the token in $%s (github.token_env): it is wrong or expired", g.TokenEnv)
	if g.AppID != 0 {
		w.authHint = fmt.Sprintf("check github.app_id %d, github.installation_id %d and github.private_key_file", g.AppID, g.InstallationID)
	}

	api := g.APIURL
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	u, err := url.Parse(api)
	if err != nil {
		return nil, fmt.Errorf("github.api_url %q: %w", g.APIURL, err)
	}
	w.webURL, w.graphqlURL = derivedURLs(u)

	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	w.etag = newETagTransport(base, opts.CacheDir)
	var rt http.RoundTripper = w.etag
	src, _, err := tokenSource(g, getenv, base, api, opts.DryRun)
	if err != nil {
		return nil, err
	}
	if src != nil {
		rt = &oauth2.Transport{Source: src, Base: w.etag}
	}
	w.gh, err = github.NewClient(
		github.WithHTTPClient(&http.Client{Transport: rt, Timeout: timeout}),
		github.WithURLs(&api, &api),
		github.WithUserAgent("kupdate"),
	)
	if err != nil {
		return nil, fmt.Errorf("github.api_url %q: %w", g.APIURL, err)
	}
	return w, nil
}

// derivedURLs are the web root (for fetch URLs in PR bodies) and the GraphQL
// endpoint of an API base URL: api.github.com serves GraphQL at /graphql,
// GitHub Enterprise (and githubtest) at /api/graphql beside /api/v3/.
func derivedURLs(api *url.URL) (web, graphql string) {
	w := *api
	g := *api
	switch {
	case strings.HasSuffix(api.Path, "/api/v3/"):
		w.Path = strings.TrimSuffix(api.Path, "api/v3/")
		g.Path = strings.TrimSuffix(api.Path, "v3/") + "graphql"
	default:
		w.Host = strings.TrimPrefix(api.Host, "api.")
		w.Path = "/"
		g.Path = api.Path + "graphql"
	}
	return w.String(), g.String()
}

// Stats are the HTTP requests made so far: total, and how many GitHub
// answered 304 Not Modified (which do not count against the rate limit).
type Stats struct{ Requests, NotModified int64 }

// Stats reports the requests made so far.
func (w *Workflow) Stats() Stats {
	return Stats{Requests: w.etag.requests.Load(), NotModified: w.etag.notModified.Load()}
}

// Outcome is what happened to a PR.
type Outcome string

const (
	Opened        Outcome = "opened"         // kupdate opened it, in this Sync (whatever else it wrote)
	Updated       Outcome = "updated"        // title, body, base, labels, draft state or reviewers brought up to date
	Unchanged     Outcome = "unchanged"      // already as it should be
	Declined      Outcome = "declined"       // a maintainer closed it unmerged for these versions
	AlreadyMerged Outcome = "already-merged" // this head was merged before
	UpToDate      Outcome = "up-to-date"     // promotion: nothing to bring over
	Open          Outcome = "open"           // promotion: the PR is open; merging it is off
	Waiting       Outcome = "waiting"        // merge: not yet (pending checks, no approval, a draft)
	NoChecks      Outcome = "no-checks"      // merge: refused, no check has reported on the head
	Failing       Outcome = "failing"        // merge: refused, a check failed
	Merged        Outcome = "merged"         // merged now
	Enqueued      Outcome = "enqueued"       // added to (or already in) the base's merge queue

	// A dry run writes nothing, so what it would have written is an
	// intention, never a fact: these stand for Opened, Updated, Merged and
	// Enqueued (an outcome that needs no write, Unchanged, Waiting or a PR
	// already in the queue, is the same in a dry run).
	WouldOpen    Outcome = "would-open"    // dry run: kupdate would open it
	WouldUpdate  Outcome = "would-update"  // dry run: title, body, base, labels, draft state or reviewers would be brought up to date
	WouldMerge   Outcome = "would-merge"   // dry run: every condition holds; it would be merged
	WouldEnqueue Outcome = "would-enqueue" // dry run: it would be added to the base's merge queue
)

// done is o, the outcome of a write, as a dry run (which only records the
// write) must report it.
func (w *Workflow) done(o Outcome) Outcome {
	if !w.dryRun {
		return o
	}
	switch o {
	case Opened:
		return WouldOpen
	case Updated:
		return WouldUpdate
	case Merged:
		return WouldMerge
	case Enqueued:
		return WouldEnqueue
	}
	return o
}

// updated marks res as a PR brought up to date, unless this Sync opened it:
// a PR opened, then labelled on a retry after a failed write, was opened.
func (w *Workflow) updated(res *PRResult) {
	if res.Outcome != Opened && res.Outcome != WouldOpen {
		res.Outcome = w.done(Updated)
	}
}

// PRResult is what Sync did for one branch.
type PRResult struct {
	Branch  string
	Number  int     // 0 when no PR exists (or, in a dry run, would be opened)
	URL     string  // the PR's web page
	Outcome Outcome // in a dry run WouldOpen or WouldUpdate where a write was due
	Title   string
	Body    string
	Labels  []string
	// Draft is the PR's draft state as Sync leaves it (as GitHub listed it,
	// or as kupdate opened or converted it).
	Draft   bool
	Merge   Outcome // "" when merging is off or the PR is not open; WouldMerge, WouldEnqueue in a dry run
	Reason  string  // why Declined, or why the merge waits or was refused
	Actions []string
	Err     error
}

// Sync brings the PR of every branch up to date, in order; a branch that
// fails does not stop the others. The error joins the branches' errors.
func (w *Workflow) Sync(ctx context.Context, updates []BranchUpdate) ([]PRResult, error) {
	run := &runState{}
	var errs []error
	out := make([]PRResult, 0, len(updates))
	for _, u := range updates {
		if u.Base == "" {
			u.Base = w.base
		}
		var res PRResult
		var actions []string
		// opening outlives a failed attempt: a retry that finds the PR
		// (the create landed, its answer or a later write did not) reports
		// it opened, as it was, by this Sync.
		opening := false
		err := w.converge(ctx, func(ctx context.Context) error {
			res = PRResult{Branch: u.Branch}
			return w.syncBranch(ctx, run, u, &opening, &res, &actions)
		})
		res.Actions, res.Err = actions, err
		// The caller logs the result (one line per branch, with its context).
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

// runState is what one Sync or Promote call learns once and reuses.
type runState struct {
	discovered bool
	releases   []string // YY.MM of release-* branches, newest first
	stagings   []string // YY.MM of staging-nixos-* branches, newest first
}

func (w *Workflow) fetchURL() string {
	return w.webURL + w.headOwner + "/" + w.repo + ".git"
}

// findPRs lists the PRs from headOwner:branch in every state, newest first:
// one request, conditional.
func (w *Workflow) findPRs(ctx context.Context, owner, branch, base, state string) ([]*github.PullRequest, error) {
	var prs []*github.PullRequest
	opts := &github.PullRequestListOptions{State: state, Head: owner + ":" + branch, Base: base}
	err := w.read(ctx, "list PRs from "+opts.Head, func(ctx context.Context) error {
		var err error
		prs, _, err = w.gh.PullRequests.List(ctx, w.owner, w.repo, opts)
		return err
	})
	return prs, err
}

// openPR is the open PR among prs that Sync brings up to date: the one
// against base, otherwise one against another base (it is moved, not
// duplicated); nil when none is open.
func openPR(prs []*github.PullRequest, base string) *github.PullRequest {
	var other *github.PullRequest
	for _, p := range prs {
		if p.GetState() != "open" {
			continue
		}
		if p.GetBase().GetRef() == base {
			return p
		}
		other = p
	}
	return other
}

// syncBranch brings the PR of u to what u wants. opening is set once it
// asks GitHub to open the PR, and says, on a later attempt of the same
// Sync, that the open PR found is the one it opened: from kupdate's own
// branch, and none was open when it asked.
func (w *Workflow) syncBranch(ctx context.Context, run *runState, u BranchUpdate, opening *bool, res *PRResult, acts *[]string) error {
	prs, err := w.findPRs(ctx, w.headOwner, u.Branch, "", "all")
	if err != nil {
		return err
	}
	pr := openPR(prs, u.Base)
	var latest *github.PullRequest
	for _, p := range prs {
		if latest == nil || p.GetNumber() > latest.GetNumber() {
			latest = p
		}
	}
	labels, err := w.labelsFor(ctx, run, u.Base)
	if err != nil {
		return err
	}
	res.Labels = labels

	if pr == nil && latest != nil {
		res.Number, res.URL = latest.GetNumber(), latest.GetHTMLURL()
		if latest.MergedAt != nil && latest.GetHead().GetSHA() == u.Head {
			res.Outcome, res.Title, res.Body = AlreadyMerged, latest.GetTitle(), latest.GetBody()
			return nil
		}
		if latest.MergedAt == nil {
			if m, ok := parseMarker(latest.GetBody()); ok && sameVersions(m.versions, versions(u.Changes)) {
				res.Outcome, res.Title, res.Body = Declined, latest.GetTitle(), latest.GetBody()
				res.Reason = fmt.Sprintf("#%d was closed unmerged for these versions; kupdate opens a new PR when upstream moves on", latest.GetNumber())
				return nil
			}
		}
		res.Number, res.URL = 0, ""
	}

	fresh, cur := pr == nil, pr
	if fresh {
		*opening = true
		if cur, err = w.open(ctx, u, labels, res, acts); err != nil {
			return err
		}
	} else if err := w.update(ctx, u, pr, labels, *opening, res, acts); err != nil {
		return err
	}

	if len(u.Build.Results) > 0 {
		state, text := summary(u.Build)
		md, _ := buildSection(u.Build, maxTail)
		if err := w.report(ctx, acts, Check{Name: BuildCheck, SHA: u.Head, State: CheckState(state), Title: text, Summary: md}); err != nil {
			return err
		}
	}
	// Reviewers after the build report: a reviewer GitHub refuses (not a
	// collaborator) fails the branch every cycle until github.reviewers is
	// fixed, but must not keep the build's result off the PR.
	if err := w.requestReviews(ctx, acts, cur, fresh, res); err != nil {
		return err
	}
	if w.merge && pr != nil {
		return w.mergeWhenReady(ctx, pr, u.Head, res, acts)
	}
	return nil
}

// open opens the PR for u and labels it (GitHub's create endpoint takes no
// labels, nor reviewers: requestReviews asks them). It returns the new PR;
// nil in a dry run.
func (w *Workflow) open(ctx context.Context, u BranchUpdate, labels []string, res *PRResult, acts *[]string) (*github.PullRequest, error) {
	title := Title(u, w.rollingTitle, w.clock())
	text, _ := body(u, w.fetchURL(), w.platform)
	head := w.headOwner + ":" + u.Branch
	draft := w.draft || u.Draft
	kind := "PR"
	if draft {
		kind = "draft PR"
	}
	res.Outcome, res.Title, res.Body, res.Draft = w.done(Opened), title, text, draft
	var pr *github.PullRequest
	err := w.write(ctx, acts, fmt.Sprintf("open %s %s -> %s: %s", kind, head, u.Base, title),
		fmt.Sprintf("check that %s was pushed and is ahead of %s, and that the base branch %s exists in %s/%s", head, u.Base, u.Base, w.owner, w.repo),
		func(ctx context.Context) error {
			var err error
			pr, _, err = w.gh.PullRequests.Create(ctx, w.owner, w.repo, github.CreatePullRequest{
				Title: &title, Head: head, Base: u.Base, Body: &text, Draft: &draft, MaintainerCanModify: new(true),
			})
			return err
		})
	if err != nil {
		return nil, err
	}
	n, ref := 0, "the new PR" // a dry run opens nothing
	if pr != nil {
		n = pr.GetNumber()
		res.Number, res.URL, ref = n, pr.GetHTMLURL(), fmt.Sprintf("PR #%d", n)
	}
	if len(labels) > 0 {
		if err := w.write(ctx, acts, fmt.Sprintf("label %s: %s", ref, strings.Join(labels, ", ")), "", func(ctx context.Context) error {
			return w.addLabels(ctx, n, labels)
		}); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// update brings an open PR's title, body, base and labels to what u wants,
// writing only what differs. Labels are only ever added: a label a person
// put on or took off is theirs. opened says this Sync opened pr (an
// earlier attempt's create landed), which is then its outcome.
func (w *Workflow) update(ctx context.Context, u BranchUpdate, pr *github.PullRequest, labels []string, opened bool, res *PRResult, acts *[]string) error {
	n := pr.GetNumber()
	res.Number, res.URL, res.Outcome, res.Draft = n, pr.GetHTMLURL(), Unchanged, pr.GetDraft()
	if opened {
		res.Outcome = w.done(Opened)
	}
	title := Title(u, w.rollingTitle, pr.GetCreatedAt().Time)
	if isRolling(u) {
		// The rolling PR's title is written when it is opened and is the
		// PR's from then on: its date stays when newer point releases come
		// (the body says what it holds now), a title in the format of an
		// earlier kupdate or setting stays, and so does a person's edit.
		// Renaming would notify every subscriber for nothing.
		title = pr.GetTitle()
	}
	text, want := body(u, w.fetchURL(), w.platform)
	res.Title, res.Body = title, text
	have, ok := parseMarker(pr.GetBody())

	// A ready PR whose new head failed goes back to draft, before its body
	// shows the new head: the body is how a later cycle knows the head is
	// not new any more, and then a person who marks it ready decides.
	if u.Draft && !pr.GetDraft() && (!ok || have.head != want.head) {
		w.updated(res)
		if err := w.convertToDraft(ctx, acts, pr, u.Head); err != nil {
			return err
		}
		res.Draft = true
	}

	edit := &github.PullRequest{}
	var what []string
	if pr.GetTitle() != title {
		edit.Title = &title
		what = append(what, "title")
	}
	switch {
	case ok && len(u.Build.Results) == 0 && have.head == want.head && sameVersions(have.versions, want.versions):
		// Nothing was built this cycle and the head is the one the body
		// describes: the build results already shown still hold.
		res.Body = pr.GetBody()
	case !ok || have.String() != want.String():
		edit.Body = &text
		what = append(what, "body")
	default:
		res.Body = pr.GetBody()
	}
	if pr.GetBase().GetRef() != u.Base {
		edit.Base = &github.PullRequestBranch{Ref: &u.Base}
		what = append(what, "base "+u.Base)
	}
	if len(what) > 0 {
		w.updated(res)
		if err := w.write(ctx, acts, fmt.Sprintf("edit PR #%d: %s", n, strings.Join(what, ", ")), "", func(ctx context.Context) error {
			_, _, err := w.gh.PullRequests.Edit(ctx, w.owner, w.repo, n, edit)
			return err
		}); err != nil {
			return err
		}
	}
	var missing []string
	for _, l := range labels {
		found := false
		for _, have := range pr.Labels {
			if strings.EqualFold(have.Name, l) {
				found = true
			}
		}
		if !found {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		w.updated(res)
		if err := w.write(ctx, acts, fmt.Sprintf("label PR #%d: %s", n, strings.Join(missing, ", ")), "", func(ctx context.Context) error {
			return w.addLabels(ctx, n, missing)
		}); err != nil {
			return err
		}
	}
	return nil
}

var versioned = regexp.MustCompile(`-\d\d\.\d\d$`)

// labelsFor is the labels a PR against base carries: github.labels[base]
// when configured (an empty list means none), otherwise the backport label
// discovered from the repository's branches. A base that is itself a stable
// line (staging-nixos-25.11) gets no backport label.
func (w *Workflow) labelsFor(ctx context.Context, run *runState, base string) ([]string, error) {
	if ls, ok := w.labels[base]; ok {
		return ls, nil
	}
	if versioned.MatchString(base) {
		return nil, nil
	}
	if err := w.discover(ctx, run); err != nil {
		return nil, err
	}
	if len(run.releases) == 0 {
		return nil, nil
	}
	newest := run.releases[0]
	for _, s := range run.stagings {
		if s == newest {
			return []string{"backport staging-nixos-" + newest}, nil
		}
	}
	return []string{"backport release-" + newest}, nil
}

var yymm = regexp.MustCompile(`^(\d\d)\.(\d\d)$`)

// discover lists the release-YY.MM and staging-nixos-YY.MM branches: two
// conditional requests, once per run.
func (w *Workflow) discover(ctx context.Context, run *runState) error {
	if run.discovered {
		return nil
	}
	for _, d := range []struct {
		prefix string
		into   *[]string
	}{{"release-", &run.releases}, {"staging-nixos-", &run.stagings}} {
		var refs []*github.Reference
		err := w.read(ctx, "list branches "+d.prefix+"*", func(ctx context.Context) error {
			var err error
			refs, _, err = w.gh.Git.ListMatchingRefs(ctx, w.owner, w.repo, "heads/"+d.prefix)
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range refs {
			v := strings.TrimPrefix(r.GetRef(), "refs/heads/"+d.prefix)
			if yymm.MatchString(v) {
				*d.into = append(*d.into, v)
			}
		}
		// YY.MM sorts as text; newest first.
		sortDesc(*d.into)
	}
	run.discovered = true
	return nil
}

func sortDesc(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] > s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
