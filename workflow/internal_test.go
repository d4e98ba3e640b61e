package workflow

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v92/github"
)

func TestDerivedURLs(t *testing.T) {
	for _, tc := range []struct{ api, web, graphql string }{
		{"https://api.github.com/", "https://github.com/", "https://api.github.com/graphql"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/", "https://ghe.example.com/api/graphql"},
		{"http://127.0.0.1:8080/api/v3/", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/api/graphql"},
	} {
		u, _ := url.Parse(tc.api)
		web, gql := derivedURLs(u)
		if web != tc.web || gql != tc.graphql {
			t.Errorf("%s: got %s %s, want %s %s", tc.api, web, gql, tc.web, tc.graphql)
		}
	}
}

func TestMarker(t *testing.T) {
	m := marker{versions: map[string]string{"linux_6_18": "6.18.3", "linux_6_12": "6.12.64", "linux_6_17": "removed"}, head: "0123456789ab", build: "none"}
	s := m.String()
	if s != "<!-- kupdate: linux_6_12=6.12.64 linux_6_17=removed linux_6_18=6.18.3 head=0123456789ab build=none -->" {
		t.Errorf("marker %q", s)
	}
	// A person's edit (GitHub's web editor writes CRLF) keeps the marker readable.
	got, ok := parseMarker("intro\r\n" + s + "\r\nmore text")
	if !ok || !sameVersions(got.versions, m.versions) || got.head != m.head || got.build != m.build {
		t.Errorf("parsed %+v", got)
	}
	if _, ok := parseMarker("a body without one"); ok {
		t.Error("found a marker in a body without one")
	}
}

func TestTrimTailAndFence(t *testing.T) {
	log := strings.Repeat("line\n", 100) + "last\n"
	got := trimTail(log, 20)
	if got != "[… 485 earlier bytes cut …]\nline\nline\nline\nlast" {
		t.Errorf("trimTail: %q", got)
	}
	if f := codeFence("a ```` b"); f != "`````" {
		t.Errorf("fence %q", f)
	}
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		name     string
		checks   []checkResult
		required []string
		want     Outcome
		why      string
	}{
		{"none", nil, nil, NoChecks, "no status check has reported on the head yet; kupdate never merges without one"},
		{"pending", []checkResult{{"a", "success"}, {"b", "pending"}}, nil, Waiting, "waiting for checks: b"},
		{"failing wins", []checkResult{{"a", "failure"}, {"b", "pending"}}, nil, Failing, "failing checks: a"},
		{"green", []checkResult{{"a", "success"}}, nil, Merged, ""},
		{"required missing", []checkResult{{"a", "success"}}, []string{"a", "b"}, Waiting, "waiting for required checks: b"},
		{"required failed", []checkResult{{"b", "failure"}}, []string{"b"}, Failing, "required check b failed"},
		{"required green, other failing", []checkResult{{"a", "success"}, {"x", "failure"}}, []string{"a"}, Merged, ""},
	} {
		got, why := verdict(tc.checks, tc.required)
		if diff := cmp.Diff([]string{string(tc.want), tc.why}, []string{string(got), why}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestRateLimitWords: rate limits are reported in kupdate's words, with when
// they lift in UTC rounded up to the second, whether GitHub answered or
// go-github held the request back (its made-up 403 has no headers).
func TestRateLimitWords(t *testing.T) {
	now := time.Date(2026, 12, 6, 2, 29, 50, 0, time.FixedZone("CET", 3600))
	answer := &http.Response{StatusCode: 403, Header: http.Header{"Date": {"Sun, 06 Dec 2026 01:29:50 GMT"}}}
	madeUp := &http.Response{StatusCode: 403, Header: http.Header{}}
	hour := time.Hour + 853125593*time.Nanosecond
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"secondary answered", &github.AbuseRateLimitError{Response: answer, Message: "You have exceeded a secondary rate limit.", RetryAfter: &hour},
			"op: GitHub answered 403 Forbidden: You have exceeded a secondary rate limit. (GitHub's secondary rate limit applies until 2026-12-06T02:29:51Z; the next cycle continues)"},
		{"secondary without Retry-After", &github.AbuseRateLimitError{Response: answer, Message: "You have exceeded a secondary rate limit."},
			"op: GitHub answered 403 Forbidden: You have exceeded a secondary rate limit. (GitHub's secondary rate limit applies (GitHub gave no end); the next cycle continues)"},
		{"secondary held back", &github.AbuseRateLimitError{Response: madeUp, Message: "API secondary rate limit exceeded until 2026-12-06 02:29:50.853125593 +0000 UTC m=+434.262841037, not making remote request.", RetryAfter: &hour},
			"op: request not sent: a rate limit GitHub set in an earlier answer is still in force (GitHub's secondary rate limit applies until 2026-12-06T02:29:51Z; the next cycle continues)"},
		{"primary held back", &github.RateLimitError{Response: madeUp, Rate: github.Rate{Limit: 5000, Reset: github.Timestamp{Time: now.Add(hour)}}, Message: "API rate limit of 5000 still exceeded until 2026-12-06 03:29:50.853125593 +0100 CET, not making remote request."},
			"op: request not sent: a rate limit GitHub set in an earlier answer is still in force (GitHub's primary rate limit applies until 2026-12-06T02:29:51Z; the next cycle continues)"},
		{"primary answered, waited too long", &waitError{wait: hour, why: "past the cycle's deadline", err: &github.RateLimitError{Response: answer, Rate: github.Rate{Reset: github.Timestamp{Time: now.Add(time.Hour)}}, Message: "API rate limit exceeded for user ID 1."}},
			"op: GitHub answered 403 Forbidden: API rate limit exceeded for user ID 1. (GitHub's primary rate limit applies until 2026-12-06T02:29:50Z, past the cycle's deadline; the next cycle continues)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &Workflow{clock: func() time.Time { return now }}
			if got := w.explain("op", tt.err, "").Error(); got != tt.want {
				t.Errorf("explain:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// tableFacts are a PR's facts from a table.
type tableFacts struct {
	draft   bool
	head    string
	reviews []review
	rules   rules
	checks  []checkResult
	asked   []string // which facts were read
}

func (f *tableFacts) Draft() bool     { return f.draft }
func (f *tableFacts) HeadSHA() string { return f.head }
func (f *tableFacts) Reviews(context.Context) ([]review, error) {
	f.asked = append(f.asked, "reviews")
	return f.reviews, nil
}
func (f *tableFacts) Rules(context.Context) (rules, error) {
	f.asked = append(f.asked, "rules")
	return f.rules, nil
}
func (f *tableFacts) Checks(context.Context) ([]checkResult, error) {
	f.asked = append(f.asked, "checks")
	return f.checks, nil
}

// The merge rule, as a function of a PR's facts: no GitHub, and a fact is
// read only when the rule gets to it.
func TestMergeVerdict(t *testing.T) {
	const head = "1111111111111111111111111111111111111111"
	const older = "2222222222222222222222222222222222222222"
	approve := []review{{"alice", "APPROVED", head}}
	green := []checkResult{{"ofborg", "success"}}
	for _, tc := range []struct {
		name  string
		f     tableFacts
		want  Outcome
		why   string
		queue bool
		asked []string
	}{
		{"a draft", tableFacts{draft: true, head: head}, Waiting, "a draft: a person marks it ready for review", false, nil},
		{"GitHub shows another head", tableFacts{head: older}, Waiting, "GitHub does not show head 111111111111 yet", false, nil},
		{"no review", tableFacts{head: head}, Waiting, "needs a person's approving review of 111111111111", false, []string{"reviews"}},
		{"an approval of an earlier head", tableFacts{head: head, reviews: []review{{"alice", "APPROVED", older}}}, Waiting,
			"needs a person's approving review of 111111111111", false, []string{"reviews"}},
		{"approved, then changes requested by another", tableFacts{head: head, reviews: []review{{"alice", "APPROVED", head}, {"bob", "CHANGES_REQUESTED", head}}},
			Waiting, "bob requested changes", false, []string{"reviews"}},
		{"changes requested, then approved by the same person", tableFacts{head: head, reviews: []review{{"bob", "CHANGES_REQUESTED", older}, {"bob", "APPROVED", head}}, checks: green},
			Merged, "", false, []string{"reviews", "rules", "checks"}},
		{"a comment is no review", tableFacts{head: head, reviews: []review{{"carol", "COMMENTED", head}}}, Waiting,
			"needs a person's approving review of 111111111111", false, []string{"reviews"}},
		{"approved, no check yet", tableFacts{head: head, reviews: approve}, NoChecks,
			"no status check has reported on the head yet; kupdate never merges without one", false, []string{"reviews", "rules", "checks"}},
		{"approved and green", tableFacts{head: head, reviews: approve, checks: green}, Merged, "", false, []string{"reviews", "rules", "checks"}},
		{"approved and green, through a merge queue", tableFacts{head: head, reviews: approve, checks: green, rules: rules{queue: true}}, Merged, "", true,
			[]string{"reviews", "rules", "checks"}},
		{"a required check missing", tableFacts{head: head, reviews: approve, checks: green, rules: rules{required: []string{"kupdate/check"}}},
			Waiting, "waiting for required checks: kupdate/check", false, []string{"reviews", "rules", "checks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why, queue, err := mergeVerdict(context.Background(), &tc.f, head)
			if err != nil || got != tc.want || why != tc.why || queue != tc.queue {
				t.Errorf("mergeVerdict = %q, %q, %t, %v; want %q, %q, %t", got, why, queue, err, tc.want, tc.why, tc.queue)
			}
			if diff := cmp.Diff(tc.asked, tc.f.asked); diff != "" {
				t.Errorf("facts read (-want +got):\n%s", diff)
			}
		})
	}
}
