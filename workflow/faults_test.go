package workflow_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/workflow"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// TestAppCheckRuns: with GitHub App auth kupdate reports a check run, pending
// while building, then the result; the same result again writes nothing.
func TestAppCheckRuns(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	f := newFixture(t, func(c *config.Config) {
		c.GitHub.AppID, c.GitHub.InstallationID, c.GitHub.PrivateKeyFile = 42, 7, keyFile
	})
	f.sim.AddApp(42, 7, "kupdate", &key.PublicKey)
	w := f.workflow()
	ctx := context.Background()

	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	must(t, w.ReportBuilding(ctx, u.Head))
	runs := f.sim.CheckRuns("NixOS", "nixpkgs", u.Head)
	if len(runs) != 1 || runs[0].Status != "in_progress" || runs[0].App != "kupdate[bot]" {
		t.Fatalf("while building: %+v", runs)
	}
	u.Build = passed("linux_6_12")
	u.Build.Results[1].Status = build.Failed
	u.Build.Results[1].LogTail = "error: option DRM_LEGACY is gone\n"
	syncOK(t, w, u)
	runs = f.sim.CheckRuns("NixOS", "nixpkgs", u.Head)
	if len(runs) != 1 || runs[0].Status != "completed" || runs[0].Conclusion != "failure" || runs[0].Title != "1 passed, 1 failed (linux_6_12 configfile)" ||
		!strings.Contains(runs[0].Summary, "error: option DRM_LEGACY is gone") {
		t.Errorf("after the build: %+v", runs)
	}
	if got := f.sim.Statuses("NixOS", "nixpkgs", u.Head); got != nil {
		t.Errorf("an App reports check runs, not statuses: %+v", got)
	}
	reqs := f.requests()
	if reqs[0] != "POST /app/installations/7/access_tokens 201" {
		t.Errorf("first request %q, want the installation token", reqs[0])
	}
	if n := strings.Count(strings.Join(reqs, "\n"), "access_tokens"); n != 1 {
		t.Errorf("%d installation tokens requested, want 1 (it is reused)", n)
	}

	res := syncOK(t, w, u)
	if len(res[0].Actions) != 0 {
		t.Errorf("same result again wrote: %v", res[0].Actions)
	}
}

func TestRateLimitRetryAfter(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	f.sim.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Status: 403, RetryAfter: 1})
	res := syncOK(t, w, u)
	if res[0].Outcome != workflow.Opened {
		t.Fatalf("after a secondary rate limit: %+v", res[0])
	}
	reqs := f.requests()
	if diff := cmp.Diff([]string{
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 403",
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 200",
	}, reqs[:2]); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// A primary limit on a write: waited out, re-read, written once.
	u = f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.65"))
	f.sim.AddFault(githubtest.Fault{Method: "PATCH", Path: "/repos/NixOS/nixpkgs/pulls/1", Status: 403, Primary: true, RetryAfter: 1})
	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.Updated {
		t.Fatalf("after a primary rate limit: %+v", res[0])
	}
	if diff := cmp.Diff([]string{
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 200",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/release- 304",
		"GET /repos/NixOS/nixpkgs/git/matching-refs/heads/staging-nixos- 304",
		"PATCH /repos/NixOS/nixpkgs/pulls/1 403",
		"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 304",
		"PATCH /repos/NixOS/nixpkgs/pulls/1 200",
	}, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if n := len(f.sim.PRs("NixOS", "nixpkgs")); n != 1 {
		t.Errorf("%d PRs, want 1", n)
	}
}

// TestServerErrors: a 5xx on a read is retried with backoff, and reported
// when it persists; a 5xx on a write that GitHub applied anyway is not
// repeated blindly: the state is re-read first, so nothing is duplicated.
func TestServerErrors(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))

	f.sim.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Status: 503, Times: 4})
	_, err := w.Sync(context.Background(), []workflow.BranchUpdate{u})
	want := "list PRs from kupdate-bot:kupdate/staging-nixos/updates: GitHub answered 503 Service Unavailable: Service Unavailable (GitHub is failing; kupdate retried, and the next cycle tries again)"
	if err == nil || err.Error() != want {
		t.Errorf("persistent 503:\n got: %v\nwant: %s", err, want)
	}
	if n := len(f.requests()); n != 4 {
		t.Errorf("%d requests, want 4 attempts", n)
	}

	// The create lands, the answer is lost: re-listed, found, not created again.
	f.sim.AddFault(githubtest.Fault{Method: "POST", Path: "/repos/NixOS/nixpkgs/pulls", Status: 502, AfterApply: true})
	// And a label write that fails outright is retried after a re-read.
	f.sim.AddFault(githubtest.Fault{Method: "POST", Path: "/repos/NixOS/nixpkgs/issues/1/labels", Status: 500})
	res := syncOK(t, w, u)
	if res[0].Number != 1 {
		t.Fatalf("after the faults: %+v", res[0])
	}
	if n := len(f.sim.PRs("NixOS", "nixpkgs")); n != 1 {
		t.Errorf("%d PRs, want 1", n)
	}
	pr, _ := f.sim.PR("NixOS", "nixpkgs", 1)
	if diff := cmp.Diff([]string{"backport release-25.11"}, pr.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{
		"POST /repos/NixOS/nixpkgs/pulls",           // 502, but applied
		"POST /repos/NixOS/nixpkgs/issues/1/labels", // 500
		"POST /repos/NixOS/nixpkgs/issues/1/labels",
	}, writes(f.sim.Requests())); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

// TestValidationError: a 422 is explained with GitHub's message and what to
// do, and the next cycle recovers without duplicating anything.
func TestValidationError(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	f.sim.AddFault(githubtest.Fault{Method: "POST", Path: "/repos/NixOS/nixpkgs/issues/1/labels", Status: 422, Message: "Label name backport release-25.11 is reserved"})
	res, err := w.Sync(context.Background(), []workflow.BranchUpdate{u})
	want := "label PR #1: backport release-25.11: GitHub answered 422 Unprocessable Entity: Validation Failed: Label name backport release-25.11 is reserved (GitHub rejected the request as invalid; fix what its message names, then run kupdate again)"
	if err == nil || err.Error() != want || res[0].Err == nil {
		t.Errorf("422:\n got: %v\nwant: %s", err, want)
	}
	var ae *workflow.APIError
	if !asAPIError(err, &ae) || ae.Status != 422 {
		t.Errorf("not an *APIError: %#v", err)
	}

	res = syncOK(t, w, u)
	if res[0].Outcome != workflow.Updated || res[0].Number != 1 {
		t.Errorf("next cycle: %+v", res[0])
	}
	if n := len(f.sim.PRs("NixOS", "nixpkgs")); n != 1 {
		t.Errorf("%d PRs, want 1", n)
	}

	// A PR that cannot be opened says why and what to check.
	u2 := workflow.BranchUpdate{Branch: "kupdate/staging-nixos/linux_6_20-init", Head: u.Head, Changes: u.Changes}
	_, err = w.Sync(context.Background(), []workflow.BranchUpdate{u2})
	want = "open draft PR kupdate-bot:kupdate/staging-nixos/linux_6_20-init -> staging-nixos: kernel updates for 2026-01-10: GitHub answered 422 Unprocessable Entity: Validation Failed: PullRequest head invalid (check that kupdate-bot:kupdate/staging-nixos/linux_6_20-init was pushed and is ahead of staging-nixos, and that the base branch staging-nixos exists in NixOS/nixpkgs)"
	if err == nil || err.Error() != want {
		t.Errorf("unpushed head:\n got: %v\nwant: %s", err, want)
	}
}

// TestETagCacheAcrossProcesses: with a cache directory, a fresh process
// revalidates too, so a one-shot `kupdate run` with nothing to do costs no
// rate limit.
func TestETagCacheAcrossProcesses(t *testing.T) {
	f := newFixture(t)
	f.opts.CacheDir = t.TempDir()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	syncOK(t, f.workflow(), u)
	syncOK(t, f.workflow(), u)
	f.sim.ResetRequests()
	w := f.workflow()
	syncOK(t, w, u)
	for _, r := range f.sim.Requests() {
		if r.Counted {
			t.Errorf("a fresh process made a counted request: %s %d", r, r.Status)
		}
	}
	if s := w.Stats(); s.Requests != 3 || s.NotModified != 3 {
		t.Errorf("stats %+v, want 3 requests, all 304", s)
	}
}

func asAPIError(err error, target **workflow.APIError) bool { return errors.As(err, target) }

// TestRateLimitHeldBack: a rate limit longer than kupdate waits within a
// cycle is reported with when it lifts, in UTC to the second; a later
// request of the same Workflow, which go-github holds back without sending,
// is reported in the same words, never in go-github's (a Go time with its
// monotonic clock reading, "m=+434.262841037"), and not as GitHub's answer.
func TestRateLimitHeldBack(t *testing.T) {
	const listPRs = "list PRs from kupdate-bot:kupdate/staging-nixos/updates: "
	const heldBack = "request not sent: a rate limit GitHub set in an earlier answer is still in force"
	const longer = ", longer than kupdate waits within a cycle (5m0s); the next cycle continues)"
	// The primary limit resets at a time the simulator takes from the real
	// clock: any second from the request to the answer.
	resets := func(from, to time.Time, after time.Duration) []string {
		var s []string
		for r := from.Add(after).Truncate(time.Second); !r.After(to.Add(after)); r = r.Add(time.Second) {
			s = append(s, r.UTC().Format(time.RFC3339))
		}
		return s
	}
	for _, tt := range []struct {
		name  string
		fault githubtest.Fault
		// first is GitHub's answer, later the request held back; %s is
		// when the limit lifts.
		first, later string
		until        func(from, to time.Time) []string
	}{
		{
			name:  "secondary",
			fault: githubtest.Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Status: 403, RetryAfter: 3600},
			first: listPRs + "GitHub answered 403 Forbidden: You have exceeded a secondary rate limit. Please wait a few minutes before you try again. (GitHub's secondary rate limit applies until %s" + longer,
			later: listPRs + heldBack + " (GitHub's secondary rate limit applies until %s" + longer,
			// Retry-After is relative: dated by the Workflow's clock.
			until: func(time.Time, time.Time) []string { return []string{"2026-01-10T10:30:00Z"} },
		},
		{
			name:  "primary",
			fault: githubtest.Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Status: 403, Primary: true, RetryAfter: 3600},
			first: listPRs + "GitHub answered 403 Forbidden: API rate limit exceeded for user ID 1. (GitHub's primary rate limit applies until %s" + longer,
			later: listPRs + heldBack + " (GitHub's primary rate limit applies until %s" + longer,
			until: func(from, to time.Time) []string { return resets(from, to, time.Hour) },
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			w := f.workflow()
			u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
			f.sim.AddFault(tt.fault)
			from := time.Now()
			_, err1 := w.Sync(context.Background(), []workflow.BranchUpdate{u})
			to := time.Now()
			_, err2 := w.Sync(context.Background(), []workflow.BranchUpdate{u})
			for _, c := range []struct {
				err    error
				format string
			}{{err1, tt.first}, {err2, tt.later}} {
				var wants []string
				for _, until := range tt.until(from, to) {
					wants = append(wants, fmt.Sprintf(c.format, until))
				}
				if c.err == nil || !slices.Contains(wants, c.err.Error()) {
					t.Errorf("error:\n got %v\nwant %s", c.err, strings.Join(wants, "\n  or "))
				}
				if c.err != nil && (strings.Contains(c.err.Error(), "m=+") || strings.Contains(c.err.Error(), "+0000 UTC")) {
					t.Errorf("a Go time in the error: %v", c.err)
				}
			}
			// The second Sync sent nothing: go-github held its request back.
			if diff := cmp.Diff([]string{
				"GET /repos/NixOS/nixpkgs/pulls?head=kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates&state=all 403",
			}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDeadlineWins: a wait GitHub asks for that would outlast the cycle's
// deadline is not waited, and a slow answer is cut off by the deadline.
func TestDeadlineWins(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))

	f.sim.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Status: 429, RetryAfter: 120})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := w.Sync(ctx, []workflow.BranchUpdate{u})
	want := "list PRs from kupdate-bot:kupdate/staging-nixos/updates: GitHub answered 429 Too Many Requests: You have exceeded a secondary rate limit. Please wait a few minutes before you try again. (GitHub's secondary rate limit applies until 2026-01-10T09:32:00Z, past the cycle's deadline; the next cycle continues)"
	if err == nil || err.Error() != want {
		t.Errorf("Retry-After past the deadline: %v", err)
	}

	w = f.workflow() // a fresh client: go-github remembers the secondary limit
	f.sim.AddFault(githubtest.Fault{Method: "GET", Path: "/repos/NixOS/nixpkgs/pulls", Delay: time.Hour})
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = w.Sync(ctx, []workflow.BranchUpdate{u})
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") || !strings.Contains(err.Error(), "the cycle was cancelled or ran out of time") {
		t.Errorf("slow answer past the deadline: %v", err)
	}
	if n := len(f.sim.PRs("NixOS", "nixpkgs")); n != 0 {
		t.Errorf("%d PRs opened by cut-off cycles", n)
	}
}
