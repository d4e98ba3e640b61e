package workflow_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/workflow"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// withReviewers configures a person and a team as reviewers.
func withReviewers(c *config.Config) { c.GitHub.Reviewers = []string{"alice", "NixOS/linux-kernel"} }

// cutAfter cuts the run short right after GitHub answered a request, as a
// kill -9 there would: the answer is read, and nothing after it is sent.
type cutAfter struct {
	next   http.RoundTripper
	method string
	path   string // API path, below /api/v3
	cancel context.CancelFunc
}

func (c *cutAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || r.Method != c.method || r.URL.Path != "/api/v3"+c.path {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	c.cancel()
	return resp, nil
}

// reviewRequests are the review_requested entries of PR number's timeline:
// one per request GitHub carried out.
func (f *fixture) reviewRequests(number int) []githubtest.Event {
	f.t.Helper()
	events, err := f.sim.Events("NixOS", "nixpkgs", number)
	must(f.t, err)
	var out []githubtest.Event
	for _, e := range events {
		if e.Event == "review_requested" {
			out = append(out, e)
		}
	}
	return out
}

// TestReviewersAfterInterruptedOpen: opening a PR cut short after GitHub
// created it, at each point it can be cut, still ends with the configured
// reviewers requested, once each, and the PR labelled; a further run
// writes nothing. Within one Sync the retry that finds the PR reports it
// opened; a rerun (a new process) finds a PR it did not open, and reports
// it updated.
func TestReviewersAfterInterruptedOpen(t *testing.T) {
	const (
		pulls  = "/repos/NixOS/nixpkgs/pulls"
		labels = "/repos/NixOS/nixpkgs/issues/1/labels"
	)
	for _, tc := range []struct {
		name   string
		fault  githubtest.Fault // none when Status is 0
		cut    string           // cut the run after this POST answers
		first  workflow.Outcome // of the interrupted run; "" when it fails
		rerun  workflow.Outcome // of a new process's run; "" when there is none
		writes []string         // every write of every run
	}{
		{
			name: "killed between create and label", cut: pulls, rerun: workflow.Updated,
			writes: []string{"POST " + pulls, "POST " + labels, "POST /repos/NixOS/nixpkgs/pulls/1/requested_reviewers"},
		},
		{
			name: "502 after the create was applied", fault: githubtest.Fault{Method: "POST", Path: pulls, Status: 502, AfterApply: true}, first: workflow.Opened,
			writes: []string{"POST " + pulls, "POST " + labels, "POST /repos/NixOS/nixpkgs/pulls/1/requested_reviewers"},
		},
		{
			name: "502 on the label", fault: githubtest.Fault{Method: "POST", Path: labels, Status: 502}, first: workflow.Opened,
			writes: []string{"POST " + pulls, "POST " + labels, "POST " + labels, "POST /repos/NixOS/nixpkgs/pulls/1/requested_reviewers"},
		},
		{
			name: "422 on the label", fault: githubtest.Fault{Method: "POST", Path: labels, Status: 422, Message: "Label name backport release-25.11 is reserved"}, rerun: workflow.Updated,
			writes: []string{"POST " + pulls, "POST " + labels, "POST " + labels, "POST /repos/NixOS/nixpkgs/pulls/1/requested_reviewers"},
		},
		{
			name: "502 after the review request was applied", fault: githubtest.Fault{Method: "POST", Path: "/repos/NixOS/nixpkgs/pulls/1/requested_reviewers", Status: 502, AfterApply: true}, first: workflow.Opened,
			writes: []string{"POST " + pulls, "POST " + labels, "POST /repos/NixOS/nixpkgs/pulls/1/requested_reviewers"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, withReviewers)
			u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
			if tc.fault.Status != 0 {
				f.sim.AddFault(tc.fault)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := f.opts
			if tc.cut != "" {
				o.Transport = &cutAfter{next: o.Transport, method: "POST", path: tc.cut, cancel: cancel}
			}
			w, err := workflow.New(f.cfg, o)
			must(t, err)
			res, err := w.Sync(ctx, []workflow.BranchUpdate{u})
			if tc.first == "" && err == nil || tc.first != "" && (err != nil || res[0].Outcome != tc.first) {
				t.Errorf("interrupted run: outcome %q, err %v; want outcome %q", res[0].Outcome, err, tc.first)
			}
			if tc.rerun != "" {
				res = syncOK(t, f.workflow(), u)
				if res[0].Outcome != tc.rerun || res[0].Number != 1 {
					t.Errorf("rerun: outcome %q #%d, want %q #1", res[0].Outcome, res[0].Number, tc.rerun)
				}
			}
			if diff := cmp.Diff(tc.writes, writes(f.sim.Requests())); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			f.requests()

			// One more run, in a new process: nothing to write, nothing
			// more to read than when nothing was interrupted.
			res = syncOK(t, f.workflow(), u)
			if res[0].Outcome != workflow.Unchanged || len(res[0].Actions) != 0 {
				t.Errorf("third run: outcome %q, actions %v", res[0].Outcome, res[0].Actions)
			}
			if got := writes(f.sim.Requests()); got != nil {
				t.Errorf("third run wrote: %v", got)
			}
			for _, r := range f.sim.Requests() {
				if strings.HasSuffix(r.Path, "/timeline") {
					t.Errorf("third run read the timeline, with every reviewer requested: %s", r)
				}
			}

			prs := f.sim.PRs("NixOS", "nixpkgs")
			if len(prs) != 1 {
				t.Fatalf("%d PRs, want 1", len(prs))
			}
			if diff := cmp.Diff([]string{"backport release-25.11"}, prs[0].Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"alice"}, prs[0].RequestedReviewers); diff != "" {
				t.Errorf("requested reviewers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"NixOS/linux-kernel"}, prs[0].RequestedTeams); diff != "" {
				t.Errorf("requested teams (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]githubtest.Event{
				{Event: "review_requested", Actor: "kupdate-bot", Subject: "alice"},
				{Event: "review_requested", Actor: "kupdate-bot", Subject: "NixOS/linux-kernel"},
			}, f.reviewRequests(1)); diff != "" {
				t.Errorf("review requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRemovedReviewerStaysRemoved: a review request a person took off is
// theirs: the PR's timeline shows kupdate asked once, so no cycle asks
// again, in this process or a new one.
func TestRemovedReviewerStaysRemoved(t *testing.T) {
	f := newFixture(t, withReviewers)
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	w := f.workflow()
	if res := syncOK(t, w, u); res[0].Outcome != workflow.Opened {
		t.Fatalf("first run: %+v", res[0])
	}
	must(t, f.sim.RemoveReviewRequest("NixOS", "nixpkgs", 1, "maintainer", "alice"))
	f.requests()

	// A new process: the one read the removal costs is the timeline, which
	// says alice was asked before.
	w = f.workflow()
	res := syncOK(t, w, u)
	if res[0].Outcome != workflow.Unchanged || len(res[0].Actions) != 0 {
		t.Errorf("after the removal: outcome %q, actions %v", res[0].Outcome, res[0].Actions)
	}
	f.wantRequests(
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 200",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/release- 200",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/staging-nixos- 200",
		"GET /repos/NixOS/nixpkgs/issues/1/timeline?per_page=100 200",
	)
	// The process that learnt it does not read the timeline again: what it
	// learnt (alice was asked once) stays true for the PR's life.
	syncOK(t, w, u)
	f.wantRequests(
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 304",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/release- 304",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/staging-nixos- 304",
	)
	pr, err := f.sim.PR("NixOS", "nixpkgs", 1)
	must(t, err)
	if len(pr.RequestedReviewers) != 0 {
		t.Errorf("requested again: %v", pr.RequestedReviewers)
	}
	if diff := cmp.Diff([]githubtest.Event{
		{Event: "review_requested", Actor: "kupdate-bot", Subject: "alice"},
		{Event: "review_requested", Actor: "kupdate-bot", Subject: "NixOS/linux-kernel"},
	}, f.reviewRequests(1)); diff != "" {
		t.Errorf("review requests (-want +got):\n%s", diff)
	}
}

// TestReviewedIsNotAskedAgain: a reviewer who already reviewed is not asked
// again: neither one kupdate asked (GitHub takes them off
// requested_reviewers when they review) nor one who reviewed the PR before
// kupdate got to ask, because the run that opened it was cut short.
func TestReviewedIsNotAskedAgain(t *testing.T) {
	t.Run("asked, then reviewed", func(t *testing.T) {
		f := newFixture(t, withReviewers)
		u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
		syncOK(t, f.workflow(), u)
		must(t, f.sim.Review("NixOS", "nixpkgs", 1, "alice", "CHANGES_REQUESTED"))
		f.requests()
		res := syncOK(t, f.workflow(), u)
		if res[0].Outcome != workflow.Unchanged || len(res[0].Actions) != 0 {
			t.Errorf("after the review: outcome %q, actions %v", res[0].Outcome, res[0].Actions)
		}
		if got := writes(f.sim.Requests()); got != nil {
			t.Errorf("writes: %v", got)
		}
		if n := len(f.reviewRequests(1)); n != 2 {
			t.Errorf("%d review requests, want 2 (alice, the team)", n)
		}
	})
	t.Run("reviewed before kupdate asked", func(t *testing.T) {
		f := newFixture(t, withReviewers)
		u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		o := f.opts
		o.Transport = &cutAfter{next: o.Transport, method: "POST", path: "/repos/NixOS/nixpkgs/pulls", cancel: cancel}
		w, err := workflow.New(f.cfg, o)
		must(t, err)
		if _, err := w.Sync(ctx, []workflow.BranchUpdate{u}); err == nil {
			t.Fatal("the cut run succeeded")
		}
		must(t, f.sim.Review("NixOS", "nixpkgs", 1, "alice", "COMMENTED"))
		f.requests()

		res := syncOK(t, f.workflow(), u)
		if diff := cmp.Diff([]string{
			"label PR #1: backport release-25.11",
			"request reviews on PR #1 from linux-kernel",
		}, res[0].Actions); diff != "" {
			t.Errorf("rerun actions (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]githubtest.Event{
			{Event: "review_requested", Actor: "kupdate-bot", Subject: "NixOS/linux-kernel"},
		}, f.reviewRequests(1)); diff != "" {
			t.Errorf("review requests (-want +got):\n%s", diff)
		}
	})
}

// TestReviewersDryRun: a dry run says it would ask the reviewers a found PR
// lacks, and asks no one.
func TestReviewersDryRun(t *testing.T) {
	f := newFixture(t, withReviewers)
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	f.cfg.GitHub.Reviewers = nil
	syncOK(t, f.workflow(), u)
	withReviewers(f.cfg)
	f.requests()

	o := f.opts
	o.DryRun = true
	dry, err := workflow.New(f.cfg, o)
	must(t, err)
	res := syncOK(t, dry, u)
	if res[0].Outcome != workflow.WouldUpdate {
		t.Errorf("dry run: outcome %q, want %q", res[0].Outcome, workflow.WouldUpdate)
	}
	if diff := cmp.Diff([]string{"request reviews on PR #1 from alice, linux-kernel"}, res[0].Actions); diff != "" {
		t.Errorf("dry-run actions (-want +got):\n%s", diff)
	}
	if got := writes(f.sim.Requests()); got != nil {
		t.Errorf("a dry run wrote: %v", got)
	}
}
