package workflow_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/workflow"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// TestRollingPRLifecycle follows the rolling PR through the cycles of a
// week: opened, left alone by an identical cycle, updated by a newer point
// release, closed by a maintainer and not reopened, reopened as a new PR
// when upstream moves on.
func TestRollingPRLifecycle(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()

	// Cycle 1: the first PR.
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"), bump("linux_6_18", "6.18.2", "6.18.3"))
	u.Build = passed("linux_6_12", "linux_6_18")
	res := syncOK(t, w, u)
	if res[0].Outcome != workflow.Opened || res[0].Number != 1 {
		t.Fatalf("cycle 1: %+v", res[0])
	}
	pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	if pr.Title != "kernel updates for 2026-01-10" || !pr.Draft || pr.Base != "staging-nixos" || pr.HeadOwner != "kupdate-bot" || pr.Head != rolling {
		t.Errorf("PR #1: %+v", pr)
	}
	if diff := cmp.Diff([]string{"backport release-25.11"}, pr.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	golden(t, "rolling-pr.md", f.stable(pr.Body))
	if got := f.sim.Statuses("NixOS", "nixpkgs", u.Head); len(got) != 1 || got[0] != (githubtest.Status{Context: "kupdate/build", State: "success", Description: "4 passed", Creator: "kupdate-bot"}) {
		t.Errorf("statuses: %+v", got)
	}
	sha := u.Head
	f.wantRequests(
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 200",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/release- 200",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/staging-nixos- 200",
		"POST /repos/NixOS/nixpkgs/pulls 201",
		"POST /repos/NixOS/nixpkgs/issues/1/labels 200",
		"GET /repos/NixOS/nixpkgs/commits/"+sha+"/status?per_page=100 200",
		"POST /repos/NixOS/nixpkgs/statuses/"+sha+" 201",
	)

	// Cycle 2, identical: nothing is written. The two reads that cycle 1's
	// writes changed answer 200 (they count), the rest 304.
	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.Unchanged || len(res[0].Actions) != 0 {
		t.Errorf("cycle 2: %+v", res[0])
	}
	f.wantRequests(
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 200",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/release- 304",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/staging-nixos- 304",
		"GET /repos/NixOS/nixpkgs/commits/"+sha+"/status?per_page=100 200",
	)
	// From then on every read is a 304: nothing counts against the limit.
	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.Unchanged || len(res[0].Actions) != 0 {
		t.Errorf("cycle 2b: %+v", res[0])
	}
	f.wantRequests(
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 304",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/release- 304",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/staging-nixos- 304",
		"GET /repos/NixOS/nixpkgs/commits/"+sha+"/status?per_page=100 304",
	)

	// Cycle 3, days later: a newer point release updates the same PR; its
	// title keeps the day it was opened.
	f.clock.Set(epoch.Add(72 * time.Hour))
	u = f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.65"), bump("linux_6_18", "6.18.2", "6.18.3"))
	u.Build = passed("linux_6_12", "linux_6_18")
	u.Pushed = true
	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.Updated || res[0].Number != 1 {
		t.Fatalf("cycle 3: %+v", res[0])
	}
	if diff := cmp.Diff([]string{"edit PR #1: body", "set status kupdate/build on " + u.Head[:12] + ": success"}, res[0].Actions); diff != "" {
		t.Errorf("cycle 3 actions (-want +got):\n%s", diff)
	}
	pr, _ = f.sim.PR("NixOS", "nixpkgs", 1)
	if pr.Title != "kernel updates for 2026-01-10" || !strings.Contains(pr.Body, "- **linux_6_12: 6.12.63 -> 6.12.65**\n") || pr.HeadSHA != u.Head {
		t.Errorf("PR #1 after the newer release: %+v", pr)
	}
	if n := len(f.sim.PRs("NixOS", "nixpkgs")); n != 1 {
		t.Errorf("%d PRs, want 1", n)
	}
	f.requests()

	// A maintainer closes it: "not this version". The same content again
	// neither reopens it nor opens another.
	must(t, f.sim.ClosePR("NixOS", "nixpkgs", 1))
	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.Declined || res[0].Number != 1 || len(res[0].Actions) != 0 {
		t.Errorf("after close: %+v", res[0])
	}
	if got := writes(f.sim.Requests()); got != nil {
		t.Errorf("writes after the close: %v", got)
	}
	f.requests()

	// Upstream moves on: a new PR, dated today.
	u = f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.66"), bump("linux_6_18", "6.18.2", "6.18.3"))
	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.Opened || res[0].Number != 2 {
		t.Fatalf("after upstream moved on: %+v", res[0])
	}
	pr, _ = f.sim.PR("NixOS", "nixpkgs", 2)
	if pr.Title != "kernel updates for 2026-01-13" || pr.State != "open" {
		t.Errorf("PR #2: %+v", pr)
	}
	if old, _ := f.sim.PR("NixOS", "nixpkgs", 1); old.State != "closed" {
		t.Errorf("PR #1 was reopened: %+v", old)
	}
}

// TestRollingTitleKeepsItsDate: kupdate's clock and GitHub's disagree about
// the day (a skewed clock, or a PR opened just before midnight UTC). The
// title is dated by kupdate's clock when opened, and no later cycle renames
// the PR because created_at is another day.
func TestRollingTitleKeepsItsDate(t *testing.T) {
	f := newFixture(t)
	// GitHub says 2026-01-10 09:30; kupdate's clock is ten hours behind.
	f.opts.Clock = func() time.Time { return epoch.Add(-10 * time.Hour) }
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	u.Build = passed("linux_6_12")
	syncOK(t, w, u)
	pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	if pr.Title != "kernel updates for 2026-01-09" {
		t.Fatalf("opened as %q", pr.Title)
	}
	f.requests()

	// The same branch again: no write at all.
	res := syncOK(t, w, u)
	if res[0].Outcome != workflow.Unchanged || res[0].Title != "kernel updates for 2026-01-09" {
		t.Errorf("same branch again: %s %q", res[0].Outcome, res[0].Title)
	}
	if got := writes(f.sim.Requests()); got != nil {
		t.Errorf("writes for an unchanged branch: %v", got)
	}
	f.requests()

	// A newer point release: the body changes, the title does not.
	u = f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.65"))
	u.Build = passed("linux_6_12")
	res = syncOK(t, w, u)
	if diff := cmp.Diff([]string{"edit PR #1: body", "set status kupdate/build on " + u.Head[:12] + ": success"}, res[0].Actions); diff != "" {
		t.Errorf("newer release actions (-want +got):\n%s", diff)
	}
	pr, _ = f.sim.PR("NixOS", "nixpkgs", 1)
	if pr.Title != "kernel updates for 2026-01-09" {
		t.Errorf("renamed to %q", pr.Title)
	}

	// A person's edit of the title stays: kupdate titles the rolling PR
	// when it opens it, and never again.
	must(t, f.sim.SetTitle("NixOS", "nixpkgs", 1, "kernel stuff"))
	u = f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.66"))
	u.Build = passed("linux_6_12")
	res = syncOK(t, w, u)
	if diff := cmp.Diff([]string{"edit PR #1: body", "set status kupdate/build on " + u.Head[:12] + ": success"}, res[0].Actions); diff != "" {
		t.Errorf("after a person's title actions (-want +got):\n%s", diff)
	}
	if pr, _ = f.sim.PR("NixOS", "nixpkgs", 1); pr.Title != "kernel stuff" || res[0].Title != "kernel stuff" {
		t.Errorf("title %q, reported %q; want the person's", pr.Title, res[0].Title)
	}
}

// TestRollingTitleSetting: github.rolling_title words a new rolling PR, and
// an open one titled by an earlier kupdate ("Kernel updates for …") keeps
// its title: no rename for a format alone.
func TestRollingTitleSetting(t *testing.T) {
	f := newFixture(t)
	f.cfg.GitHub.RollingTitle = "Linux kernel point releases, {date}"
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	syncOK(t, w, u)
	pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	if pr.Title != "Linux kernel point releases, 2026-01-10" {
		t.Fatalf("opened as %q", pr.Title)
	}

	// The PR as kupdate titled it before the setting: kept, also when the
	// branch moves on.
	must(t, f.sim.SetTitle("NixOS", "nixpkgs", 1, "Kernel updates for 2026-01-10"))
	f.requests()
	res := syncOK(t, w, u)
	if res[0].Outcome != workflow.Unchanged || res[0].Title != "Kernel updates for 2026-01-10" {
		t.Errorf("same branch: %s %q", res[0].Outcome, res[0].Title)
	}
	if got := writes(f.sim.Requests()); got != nil {
		t.Errorf("writes for an old title alone: %v", got)
	}
	u = f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.65"))
	res = syncOK(t, w, u)
	if diff := cmp.Diff([]string{"edit PR #1: body"}, res[0].Actions); diff != "" {
		t.Errorf("newer release actions (-want +got):\n%s", diff)
	}
	if pr, _ = f.sim.PR("NixOS", "nixpkgs", 1); pr.Title != "Kernel updates for 2026-01-10" {
		t.Errorf("renamed to %q", pr.Title)
	}
}

// TestFailingBuild shows a failure in the commit status and in the body,
// with the log tail folded away.
func TestFailingBuild(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"), bump("linux_6_18", "6.18.2", "6.18.3"))
	u.Build = passed("linux_6_12", "linux_6_18")
	u.Build.Results[3] = build.Result{
		Attr: "linux_6_18", Tier: "configfile", Status: build.Failed,
		Command: []string{"nix-build", "--no-out-link", "-A", "linuxKernel.kernels.linux_6_18.configfile"},
		Drv:     "/nix/store/8f1c0y2h5m3k9q7r4w6t0z2x1v5b3n7a-linux-config-6.18.3.drv",
		LogTail: "error: unused option: DRM_LEGACY\n```\nbuilder for '/nix/store/8f1c…-linux-config-6.18.3.drv' failed with exit code 1\n",
	}
	syncOK(t, w, u)
	pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	golden(t, "failing-pr.md", f.stable(pr.Body))
	want := githubtest.Status{Context: "kupdate/build", State: "failure", Description: "3 passed, 1 failed (linux_6_18 configfile)", Creator: "kupdate-bot"}
	if got := f.sim.Statuses("NixOS", "nixpkgs", u.Head); len(got) != 1 || got[0] != want {
		t.Errorf("statuses: %+v", got)
	}

	// The fix lands on the same head's rebuild: status and body follow.
	u.Build = passed("linux_6_12", "linux_6_18")
	res := syncOK(t, w, u)
	if diff := cmp.Diff([]string{"edit PR #1: body", "set status kupdate/build on " + u.Head[:12] + ": success"}, res[0].Actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
}

// TestNotBuiltKeepsResults: a cycle that did not build (the branch was
// unchanged) leaves the results already shown alone.
func TestNotBuiltKeepsResults(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	u.Build = passed("linux_6_12")
	syncOK(t, w, u)
	before, _ := f.sim.PR("NixOS", "nixpkgs", 1)
	u.Build, u.Pushed = build.Report{}, false
	res := syncOK(t, w, u)
	after, _ := f.sim.PR("NixOS", "nixpkgs", 1)
	if res[0].Outcome != workflow.Unchanged || before.Body != after.Body || len(res[0].Actions) != 0 {
		t.Errorf("unbuilt cycle: %+v", res[0])
	}
}

// TestOwnBranchPRs: an init gets its own PR titled with its commit, and a
// person's edit of the body text is left alone while nothing changes.
func TestOwnBranchPRs(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.GitHub.Labels = map[string][]string{"staging-nixos": {"6.topic: kernel"}}
		c.GitHub.Draft = false
		c.GitHub.Reviewers = []string{"alice", "NixOS/linux-kernel"}
	})
	w := f.workflow()
	init := vanilla.Made(family.Change{Kind: vanilla.Init, Branch: "6.19", To: "6.19",
		ChangeLog: "https://cdn.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.19", Build: []string{"linux_6_19"}})
	u := f.push("kupdate/staging-nixos/linux_6_19-init", init)
	res := syncOK(t, w, u)
	pr, err := f.sim.PR("NixOS", "nixpkgs", res[0].Number)
	must(t, err)
	if pr.Title != "linux_6_19: init at 6.19" || pr.Draft {
		t.Errorf("init PR: %+v", pr)
	}
	if diff := cmp.Diff([]string{"6.topic: kernel"}, pr.Labels); diff != "" {
		t.Errorf("configured labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"alice"}, pr.RequestedReviewers); diff != "" {
		t.Errorf("reviewers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"NixOS/linux-kernel"}, pr.RequestedTeams); diff != "" {
		t.Errorf("team reviewers (-want +got):\n%s", diff)
	}
	f.requests()
	res = syncOK(t, w, u)
	if len(res[0].Actions) != 0 {
		t.Errorf("second cycle wrote: %v", res[0].Actions)
	}
	f.wantRequests("GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Flinux_6_19-init&state=all 200")
}

// TestDiscoveredBackportLabels covers nixpkgs' two processes.
func TestDiscoveredBackportLabels(t *testing.T) {
	for _, tc := range []struct {
		name     string
		branches []string
		base     string
		want     []string
	}{
		{"release branch", nil, "staging-nixos", []string{"backport release-25.11"}},
		{"staging-nixos stable line", []string{"staging-nixos-25.05", "staging-nixos-25.11"}, "staging-nixos", []string{"backport staging-nixos-25.11"}},
		{"stable line not yet branched", []string{"staging-nixos-25.05"}, "staging-nixos", []string{"backport release-25.11"}},
		{"a stable base", []string{"staging-nixos-25.11"}, "staging-nixos-25.11", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for _, b := range tc.branches {
				must(t, f.sim.CreateBranch("NixOS", "nixpkgs", b, "master"))
			}
			u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
			u.Base = tc.base
			res := syncOK(t, f.workflow(), u)
			pr, err := f.sim.PR("NixOS", "nixpkgs", res[0].Number)
			must(t, err)
			if diff := cmp.Diff(tc.want, pr.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMergeOwnPR: with github.merge, a PR is merged only once it is not a
// draft, a person approved its current head, and the required checks are
// green.
func TestMergeOwnPR(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.GitHub.Merge = true })
	must(t, f.sim.Protect("NixOS", "nixpkgs", "staging-nixos", githubtest.Protection{RequiredChecks: []string{"kupdate/build", "ofborg-eval"}}))
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	u.Build = passed("linux_6_12")
	syncOK(t, w, u)

	step := func(want workflow.Outcome, reason string) {
		t.Helper()
		res := syncOK(t, w, u)
		if res[0].Merge != want || res[0].Reason != reason {
			t.Errorf("merge = %q (%s), want %q (%s)", res[0].Merge, res[0].Reason, want, reason)
		}
	}
	step(workflow.Waiting, "a draft: a person marks it ready for review")
	markReady(t, f, 1)
	step(workflow.Waiting, "needs a person's approving review of "+u.Head[:12])
	must(t, f.sim.Review("NixOS", "nixpkgs", 1, "alice", "APPROVED"))
	step(workflow.Waiting, "waiting for required checks: ofborg-eval")
	must(t, f.sim.SetStatus("NixOS", "nixpkgs", u.Head, "ofborg-eval", "success"))
	// A dry run says it would merge, and merges nothing.
	o := f.opts
	o.DryRun = true
	dry, err := workflow.New(f.cfg, o)
	must(t, err)
	f.requests()
	res := syncOK(t, dry, u)
	if res[0].Merge != workflow.WouldMerge || res[0].Outcome != workflow.Unchanged {
		t.Errorf("dry run: outcome %q, merge %q; want %q, %q", res[0].Outcome, res[0].Merge, workflow.Unchanged, workflow.WouldMerge)
	}
	if diff := cmp.Diff([]string{"merge PR #1 (" + u.Head[:12] + ") into staging-nixos"}, res[0].Actions); diff != "" {
		t.Errorf("dry-run actions (-want +got):\n%s", diff)
	}
	if got := writes(f.sim.Requests()); got != nil {
		t.Errorf("a dry run wrote: %v", got)
	}
	step(workflow.Merged, "")

	pr, _ := f.sim.PR("NixOS", "nixpkgs", 1)
	if !pr.Merged || f.sim.BranchSHA("NixOS", "nixpkgs", "staging-nixos") != pr.MergeCommit {
		t.Errorf("after merge: %+v", pr)
	}
	// Merged: the next cycle with the same head leaves it be.
	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.AlreadyMerged || len(res[0].Actions) != 0 {
		t.Errorf("after merge: %+v", res[0])
	}
}

func markReady(t *testing.T, f *fixture, n int) {
	t.Helper()
	// On GitHub a person marks a draft ready (GraphQL
	// markPullRequestReadyForReview); kupdate never does.
	must(t, f.sim.SetDraft("NixOS", "nixpkgs", n, false))
}

// TestDryRun reads, writes nothing, and says what it would write.
func TestDryRun(t *testing.T) {
	f := newFixture(t)
	f.opts.DryRun = true
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	u.Build = passed("linux_6_12")
	res := syncOK(t, f.workflow(), u)
	if res[0].Outcome != workflow.WouldOpen || res[0].Number != 0 {
		t.Errorf("dry-run outcome %q #%d, want %q #0", res[0].Outcome, res[0].Number, workflow.WouldOpen)
	}
	if diff := cmp.Diff([]string{
		"open draft PR kupdate-bot:kupdate/staging-nixos/updates -> staging-nixos: kernel updates for 2026-01-10",
		"label the new PR: backport release-25.11",
		"set status kupdate/build on " + u.Head[:12] + ": success",
	}, res[0].Actions); diff != "" {
		t.Errorf("dry-run actions (-want +got):\n%s", diff)
	}
	if res[0].Title != "kernel updates for 2026-01-10" || !strings.Contains(res[0].Body, workflow.Disclosure) {
		t.Errorf("dry-run text: %+v", res[0])
	}
	if got := writes(f.sim.Requests()); got != nil {
		t.Errorf("a dry run wrote: %v", got)
	}
}

func TestCredentials(t *testing.T) {
	f := newFixture(t)
	f.opts.Getenv = func(string) string { return "" }
	_, err := workflow.New(f.cfg, f.opts)
	if err == nil || !strings.Contains(err.Error(), "environment variable KUPDATE_TEST_GITHUB_TOKEN (github.token_env) is empty or unset") {
		t.Errorf("no token: %v", err)
	}
	f.opts.DryRun = true
	if _, err := workflow.New(f.cfg, f.opts); err != nil {
		t.Errorf("a dry run without a token: %v", err)
	}
	f.opts.DryRun = false
	f.opts.Getenv = func(string) string { return "ghp_wrong" }
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	_, err = f.workflow().Sync(context.Background(), []workflow.BranchUpdate{u})
	want := "list PRs from kupdate-bot:kupdate/staging-nixos/updates: GitHub answered 401 Unauthorized: Bad credentials (check the token in $KUPDATE_TEST_GITHUB_TOKEN (github.token_env): it is wrong or expired)"
	if err == nil || err.Error() != want {
		t.Errorf("wrong token:\n got %v\nwant %s", err, want)
	}
	if err != nil && tokenShaped.MatchString(err.Error()) {
		t.Errorf("a token-shaped value in an error: %v", err)
	}
}

// tokenShaped finds what looks like a GitHub token in a message.
var tokenShaped = regexp.MustCompile(`gh[pousr]_[A-Za-z0-9_]+|github_pat_[A-Za-z0-9_]+`)

// TestTokenEnvNotValidated: a Config built in code skips config's
// validation; a token pasted in github.token_env is still refused, before
// any request is made with it and without being repeated, so no 401 can
// print it as the variable's name.
func TestTokenEnvNotValidated(t *testing.T) {
	for _, prefix := range []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"} {
		pasted := prefix + "16C7e42F292c6912E7710c838347Ae178B4a"
		t.Run(prefix, func(t *testing.T) {
			f := newFixture(t, func(c *config.Config) { c.GitHub.TokenEnv = config.EnvName(pasted) })
			f.opts.Getenv = func(string) string { return "ghp_wrong" } // a 401 if it were sent
			_, err := workflow.New(f.cfg, f.opts)
			want := `github.token_env: a GitHub token (it starts with "` + prefix + `"), not the name of an environment variable: remove it from the file, and revoke it on GitHub if others can read the file (the Nix store is world-readable)`
			if err == nil || err.Error() != want {
				t.Errorf("New error:\n got %v\nwant %s", err, want)
			}
			if err != nil && strings.Contains(err.Error(), pasted) {
				t.Errorf("the error repeats the token: %v", err)
			}
			if reqs := f.sim.Requests(); len(reqs) != 0 {
				t.Errorf("requests made: %v", reqs)
			}
		})
	}
}

// failed is passed(attrs...) with the last attribute's configfile failed.
func failed(attrs ...string) build.Report {
	r := passed(attrs...)
	last := &r.Results[len(r.Results)-1]
	last.Status, last.Error, last.LogTail = build.Failed, "exit status 100", "error: unused option: DRM_LEGACY\n"
	return r
}

// TestFailedBuildIsDraft: a PR whose build failed is never ready for review,
// whatever github.draft says: it opens as a draft, and kupdate's ready PR
// whose new head failed is converted back to one (GraphQL: REST cannot).
// A person who marks it ready for a head kupdate already reported decides;
// and kupdate never marks a draft ready, not even when the build passes.
func TestFailedBuildIsDraft(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.GitHub.Draft = false })
	w := f.workflow()
	isDraft := func(want bool) {
		t.Helper()
		pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
		must(t, err)
		if pr.Draft != want {
			t.Errorf("PR #1 draft = %t, want %t", pr.Draft, want)
		}
	}

	// Opened with a failed build: a draft, though github.draft is false.
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	u.Build, u.Draft = failed("linux_6_12"), true
	res := syncOK(t, w, u)
	if res[0].Outcome != workflow.Opened || res[0].Actions[0] != "open draft PR kupdate-bot:"+rolling+" -> staging-nixos: kernel updates for 2026-01-10" {
		t.Fatalf("opened: %+v", res[0])
	}
	isDraft(true)

	// A person marks it ready anyway: the same head again is theirs to judge.
	must(t, f.sim.SetDraft("NixOS", "nixpkgs", 1, false))
	f.requests()
	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.Unchanged || len(res[0].Actions) != 0 {
		t.Errorf("same head again: %+v", res[0])
	}
	isDraft(false)

	// A new head that fails: back to a draft, before the body shows it.
	u = f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.65"))
	u.Build, u.Draft = failed("linux_6_12"), true
	f.requests()
	res = syncOK(t, w, u)
	if diff := cmp.Diff([]string{
		"convert PR #1 to a draft: " + u.Head[:12] + " failed to build",
		"edit PR #1: body",
		"set status kupdate/build on " + u.Head[:12] + ": failure",
	}, res[0].Actions); diff != "" || res[0].Outcome != workflow.Updated {
		t.Errorf("new failing head: %s actions (-want +got):\n%s", res[0].Outcome, diff)
	}
	if diff := cmp.Diff([]string{
		"POST /graphql ConvertPullRequestToDraft",
		"PATCH /repos/NixOS/nixpkgs/pulls/1",
		"POST /repos/NixOS/nixpkgs/statuses/" + u.Head,
	}, writes(f.sim.Requests())); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	isDraft(true)

	// Fixed: the build passes, and the PR stays a draft until a person
	// marks it ready.
	u.Build, u.Draft = passed("linux_6_12"), false
	res = syncOK(t, w, u)
	for _, a := range res[0].Actions {
		if strings.Contains(a, "draft") || strings.Contains(a, "ready") {
			t.Errorf("action on a passing head: %s", a)
		}
	}
	isDraft(true)

	// A dry run says what it would convert, and converts nothing.
	must(t, f.sim.SetDraft("NixOS", "nixpkgs", 1, false))
	u = f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.66"))
	u.Build, u.Draft = failed("linux_6_12"), true
	o := f.opts
	o.DryRun = true
	dry, err := workflow.New(f.cfg, o)
	must(t, err)
	f.requests()
	res = syncOK(t, dry, u)
	if len(res[0].Actions) == 0 || res[0].Actions[0] != "convert PR #1 to a draft: "+u.Head[:12]+" failed to build" {
		t.Errorf("dry run actions: %v", res[0].Actions)
	}
	if res[0].Outcome != workflow.WouldUpdate {
		t.Errorf("dry run outcome %q, want %q", res[0].Outcome, workflow.WouldUpdate)
	}
	if got := writes(f.sim.Requests()); got != nil {
		t.Errorf("dry run wrote: %v", got)
	}
	isDraft(false)
}

// TestOpenPR: what a cycle whose push failed shows for the branch: the open
// PR Sync would have updated, found with one conditional read and no write.
func TestOpenPR(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	ctx := context.Background()
	if pr, err := w.OpenPR(ctx, rolling, ""); pr != nil || err != nil {
		t.Fatalf("before any PR: %+v, %v", pr, err)
	}
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	syncOK(t, w, u)
	f.requests()

	pr, err := w.OpenPR(ctx, rolling, "")
	must(t, err)
	if pr == nil || pr.Number != 1 || pr.URL != f.sim.URL()+"/NixOS/nixpkgs/pull/1" || pr.State != "open" || pr.Base != "staging-nixos" || pr.HeadSHA != u.Head {
		t.Fatalf("open PR: %+v", pr)
	}
	f.wantRequests("GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 200")
	// Asked again: a 304, not counted against the rate limit.
	if pr, err := w.OpenPR(ctx, rolling, "staging-nixos"); err != nil || pr == nil || pr.Number != 1 {
		t.Errorf("again: %+v, %v", pr, err)
	}
	f.wantRequests("GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 304")

	// Closed by a maintainer: no open PR to show.
	must(t, f.sim.ClosePR("NixOS", "nixpkgs", 1))
	if pr, err := w.OpenPR(ctx, rolling, ""); pr != nil || err != nil {
		t.Errorf("after the close: %+v, %v", pr, err)
	}
}

// TestTestedPRBody: a branch built and tested in every tier shows it in
// nixpkgs' checklist, on the platform kupdate built for; the testing bump
// and the branches come in the order the branch holds them (nixpkgs':
// testing first, then newest to oldest), titles bold, then what they are.
func TestTestedPRBody(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_18", "6.18.2", "6.18.3"), bump("linux_6_12", "6.12.63", "6.12.64"))
	for _, a := range []string{"linux_6_18", "linux_6_12"} {
		for _, tier := range []string{"eval", "configfile", "kernel", "test"} {
			u.Build.Results = append(u.Build.Results, build.Result{Attr: a, Tier: tier, Status: build.Passed})
		}
	}
	syncOK(t, w, u)
	pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	golden(t, "tested-pr.md", f.stable(pr.Body))
}
