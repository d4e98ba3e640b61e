package workflow_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/workflow"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

func promote(t *testing.T, w *workflow.Workflow) workflow.PromoteResult {
	t.Helper()
	res, err := w.Promote(context.Background())
	must(t, err)
	if len(res) != 1 {
		t.Fatalf("%d results, want 1: %+v", len(res), res)
	}
	return res[0]
}

// stagingAhead puts a merged kernel PR's worth of work on staging-nixos.
func stagingAhead(t testing.TB, f *fixture) string {
	t.Helper()
	sha, err := f.sim.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"pkgs/os-specific/linux/kernel/kernels-org.json": "{}\n"}, "Merge pull request #1 from kupdate-bot/kupdate/staging-nixos/updates")
	must(t, err)
	return sha
}

func TestPromotion(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Promote.Merge = true })
	w := f.workflow()

	res := promote(t, w)
	if res.Outcome != workflow.UpToDate || res.Ahead != 0 {
		t.Errorf("nothing on staging: %+v", res)
	}
	f.requests()

	head := stagingAhead(t, f)
	master := f.sim.BranchSHA("NixOS", "nixpkgs", "master")

	// No check has reported yet: the PR is opened, and not merged.
	res = promote(t, w)
	if res.Outcome != workflow.NoChecks || res.Number != 1 || res.Ahead != 1 {
		t.Errorf("no checks: %+v", res)
	}
	pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	if pr.Title != "staging-nixos merge for 2026-01-10" || pr.Draft || pr.Head != "staging-nixos" || pr.HeadOwner != "NixOS" || pr.Base != "master" {
		t.Errorf("promotion PR: %+v", pr)
	}
	golden(t, "promotion-merge.md", pr.Body)
	f.wantRequests(
		"GET /repos/NixOS/nixpkgs/compare/master...staging-nixos?per_page=1 200",
		"GET /repos/NixOS/nixpkgs/pulls?base=master&head=NixOS%3Astaging-nixos&state=all 200",
		"GET /repos/NixOS/nixpkgs/branches/master 200",
		"GET /repos/NixOS/nixpkgs/rules/branches/master?per_page=100 200",
		"POST /repos/NixOS/nixpkgs/pulls 201",
		"GET /repos/NixOS/nixpkgs/commits/"+head+"/status?per_page=100 200",
		"GET /repos/NixOS/nixpkgs/commits/"+head+"/check-runs?per_page=100 200",
	)

	// A check is pending: wait.
	must(t, f.sim.SetStatus("NixOS", "nixpkgs", head, "ofborg-eval", "success"))
	must(t, f.sim.SetCheckRun("NixOS", "nixpkgs", head, "nixos-tests", "in_progress", ""))
	res = promote(t, w)
	if res.Outcome != workflow.Waiting || res.Reason != "waiting for checks: nixos-tests" || len(res.Actions) != 0 {
		t.Errorf("pending: %+v", res)
	}
	// A check failed: refuse.
	must(t, f.sim.SetCheckRun("NixOS", "nixpkgs", head, "nixos-tests", "completed", "failure"))
	res = promote(t, w)
	if res.Outcome != workflow.Failing || res.Reason != "failing checks: nixos-tests" {
		t.Errorf("failing: %+v", res)
	}
	// All green: merged with a real merge commit.
	must(t, f.sim.SetCheckRun("NixOS", "nixpkgs", head, "nixos-tests", "completed", "success"))
	f.requests()
	res = promote(t, w)
	if res.Outcome != workflow.Merged {
		t.Fatalf("green: %+v", res)
	}
	f.wantRequests(
		"GET /repos/NixOS/nixpkgs/compare/master...staging-nixos?per_page=1 304",
		"GET /repos/NixOS/nixpkgs/pulls?base=master&head=NixOS%3Astaging-nixos&state=all 304",
		"GET /repos/NixOS/nixpkgs/branches/master 304",
		"GET /repos/NixOS/nixpkgs/rules/branches/master?per_page=100 304",
		"GET /repos/NixOS/nixpkgs/commits/"+head+"/status?per_page=100 304",
		"GET /repos/NixOS/nixpkgs/commits/"+head+"/check-runs?per_page=100 200",
		"PUT /repos/NixOS/nixpkgs/pulls/1/merge 200",
	)
	merge := f.sim.BranchSHA("NixOS", "nixpkgs", "master")
	parents, err := exec.Command("git", "-C", f.sim.RepoDir("NixOS", "nixpkgs"), "rev-list", "--parents", "-n1", merge).Output()
	must(t, err)
	if diff := cmp.Diff([]string{merge, master, head}, strings.Fields(string(parents))); diff != "" {
		t.Errorf("master is not a merge of staging-nixos (-want +got):\n%s", diff)
	}
	res = promote(t, w)
	if res.Outcome != workflow.UpToDate || len(res.Actions) != 0 {
		t.Errorf("after the merge: %+v", res)
	}
}

func TestPromotionMergeQueue(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Promote.Merge = true })
	must(t, f.sim.Protect("NixOS", "nixpkgs", "master", githubtest.Protection{MergeQueue: true}))
	w := f.workflow()
	head := stagingAhead(t, f)
	must(t, f.sim.SetStatus("NixOS", "nixpkgs", head, "ofborg-eval", "success"))

	res := promote(t, w)
	if res.Outcome != workflow.Enqueued {
		t.Fatalf("green with a merge queue: %+v", res)
	}
	pr, _ := f.sim.PR("NixOS", "nixpkgs", 1)
	if !pr.InMergeQueue || pr.Merged {
		t.Errorf("not in the queue: %+v", pr)
	}
	golden(t, "promotion-merge-queue.md", pr.Body)
	if diff := cmp.Diff([]string{"POST /repos/NixOS/nixpkgs/pulls", "POST /graphql PullRequestMergeQueue", "POST /graphql EnqueuePullRequest"}, writes(f.sim.Requests())); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	f.requests()

	// Queued already: asked, not enqueued twice.
	res = promote(t, w)
	if res.Outcome != workflow.Enqueued || res.Reason != "already in the merge queue of master" || len(res.Actions) != 0 {
		t.Errorf("second run: %+v", res)
	}
	if diff := cmp.Diff([]string{"POST /graphql PullRequestMergeQueue"}, writes(f.sim.Requests())); diff != "" {
		t.Errorf("second run posted (-want +got):\n%s", diff)
	}
	merged, err := f.sim.ProcessMergeQueue("NixOS", "nixpkgs")
	must(t, err)
	if diff := cmp.Diff([]int{1}, merged); diff != "" {
		t.Errorf("queue merged (-want +got):\n%s", diff)
	}
	if res := promote(t, w); res.Outcome != workflow.UpToDate {
		t.Errorf("after the queue merged it: %+v", res)
	}
}

func TestPromotionMergeOff(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.Promote.Stable = true
	})
	must(t, f.sim.CreateBranch("NixOS", "nixpkgs", "staging-nixos-25.11", "release-25.11"))
	_, err := f.sim.Commit("NixOS", "nixpkgs", "staging-nixos-25.11", map[string]string{"x": "1\n"}, "stable work")
	must(t, err)
	head := stagingAhead(t, f)
	must(t, f.sim.SetStatus("NixOS", "nixpkgs", head, "ofborg-eval", "success"))
	res, err := f.workflow().Promote(context.Background())
	must(t, err)
	var got []string
	for _, r := range res {
		got = append(got, r.From+" -> "+r.To+": "+string(r.Outcome)+" #"+strconv.Itoa(r.Number))
	}
	if diff := cmp.Diff([]string{"staging-nixos -> master: opened #1", "staging-nixos-25.11 -> release-25.11: opened #2"}, got); diff != "" {
		t.Errorf("promotions (-want +got):\n%s", diff)
	}
	for _, n := range []int{1, 2} {
		if pr, _ := f.sim.PR("NixOS", "nixpkgs", n); pr.Merged || pr.State != "open" {
			t.Errorf("merging is off, yet #%d: %+v", n, pr)
		}
	}
	pr, _ := f.sim.PR("NixOS", "nixpkgs", 2)
	if pr.Title != "staging-nixos-25.11 merge for 2026-01-10" {
		t.Errorf("stable promotion PR: %+v", pr)
	}
	golden(t, "promotion-merge-off.md", pr.Body)
}

// TestPromotionBodyFollowsConfig: the body says who merges the PR, and says
// it again when that changes (promote.merge turned on, the target given a
// merge queue), or when an older kupdate wrote it without saying; otherwise
// it is not rewritten, and a person's edit of the text stays.
func TestPromotionBodyFollowsConfig(t *testing.T) {
	f := newFixture(t)
	stagingAhead(t, f)
	if res := promote(t, f.workflow()); res.Outcome != workflow.Opened {
		t.Fatalf("opened: %+v", res)
	}
	body := func() string {
		t.Helper()
		pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
		must(t, err)
		return pr.Body
	}
	if !strings.Contains(body(), " merge=off -->") {
		t.Fatalf("merge off: %s", body())
	}
	f.requests()

	for _, step := range []struct {
		name   string
		before func()
		edit   bool
		marker string
	}{
		{"same config", func() {}, false, " merge=off -->"},
		{"promote.merge on", func() { f.cfg.Promote.Merge = true }, true, " merge=on -->"},
		{"a person's edit of the text", func() {
			must(t, f.sim.SetBody("NixOS", "nixpkgs", 1, body()+"\nHeld for the 26.05 branch-off. -- alice\n"))
		}, false, " merge=on -->"},
		{"a merge queue on master", func() {
			must(t, f.sim.Protect("NixOS", "nixpkgs", "master", githubtest.Protection{MergeQueue: true}))
		}, true, " merge=queue -->"},
		{"written by an older kupdate", func() {
			must(t, f.sim.SetBody("NixOS", "nixpkgs", 1, "<!-- kupdate: promote staging-nixos -> master -->\nBrings it.\n"))
		}, true, " merge=queue -->"},
	} {
		step.before()
		res := promote(t, f.workflow())
		var want []string
		if step.edit {
			want = []string{"edit PR #1: body"}
		}
		if diff := cmp.Diff(want, res.Actions); diff != "" {
			t.Errorf("%s: actions (-want +got):\n%s", step.name, diff)
		}
		if got := body(); !strings.Contains(got, step.marker) {
			t.Errorf("%s: body lacks %q:\n%s", step.name, step.marker, got)
		}
	}
	if !strings.Contains(body(), "adds this PR to the merge queue of `master` once every status check on its head is green (the queue then merges it)") {
		t.Errorf("final body: %s", body())
	}
}

// TestPromotionDryRun: a dry run reads everything and says what it would
// do, in words that cannot be taken for what happened.
func TestPromotionDryRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		queue   bool
		open    bool // a promotion PR is open already
		want    workflow.Outcome
		actions []string
	}{
		{"would open", false, false, workflow.WouldOpen, []string{"open PR NixOS:staging-nixos -> master: staging-nixos merge for 2026-01-10"}},
		{"would merge", false, true, workflow.WouldMerge, []string{"merge PR #1 (HEAD) into master"}},
		{"would enqueue", true, true, workflow.WouldEnqueue, []string{"enqueue PR #1 (HEAD) in the merge queue of master"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *config.Config) { c.Promote.Merge = true })
			if tc.queue {
				must(t, f.sim.Protect("NixOS", "nixpkgs", "master", githubtest.Protection{MergeQueue: true}))
			}
			head := stagingAhead(t, f)
			if tc.open {
				// Opened by an earlier cycle with no check reported yet.
				if res := promote(t, f.workflow()); res.Outcome != workflow.NoChecks {
					t.Fatalf("opening: %+v", res)
				}
			}
			must(t, f.sim.SetStatus("NixOS", "nixpkgs", head, "ofborg-eval", "success"))
			f.requests()
			f.opts.DryRun = true
			res := promote(t, f.workflow())
			want := make([]string, len(tc.actions))
			for i, a := range tc.actions {
				want[i] = strings.ReplaceAll(a, "HEAD", head[:12])
			}
			if res.Outcome != tc.want || res.Err != nil {
				t.Errorf("outcome %q (%v), want %q", res.Outcome, res.Err, tc.want)
			}
			if diff := cmp.Diff(want, res.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if got := writes(f.sim.Requests()); got != nil && !(tc.queue && len(got) == 1 && got[0] == "POST /graphql PullRequestMergeQueue") {
				t.Errorf("a dry run wrote: %v", got)
			}
			if pr, err := f.sim.PR("NixOS", "nixpkgs", 1); tc.open && (err != nil || pr.Merged || pr.InMergeQueue) {
				t.Errorf("after the dry run: %+v, %v", pr, err)
			}
		})
	}
}

// TestPromotionClosedByMaintainer: a promotion PR closed unmerged is not
// opened again for the same head of staging-nixos.
func TestPromotionClosedByMaintainer(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	stagingAhead(t, f)
	if res := promote(t, w); res.Outcome != workflow.Opened || res.Number != 1 {
		t.Fatalf("first: %+v", res)
	}
	must(t, f.sim.ClosePR("NixOS", "nixpkgs", 1))
	res := promote(t, w)
	if res.Outcome != workflow.Declined || res.Number != 1 || len(res.Actions) != 0 {
		t.Errorf("after the close: %+v", res)
	}
	_, err := f.sim.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"b": "1\n"}, "more staging work")
	must(t, err)
	if res := promote(t, w); res.Outcome != workflow.Opened || res.Number != 2 {
		t.Errorf("after staging moved on: %+v", res)
	}
}
