package fetch_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/fetch"
)

const tokenSetting = "the environment variable named by example.token_env"

// What GitHub's answers mean: its messages, its two rate limits, and what
// to do about a token.
func TestGitHubDialect(t *testing.T) {
	soon := time.Now().Add(30 * time.Second).Unix()
	for _, c := range []struct {
		name    string
		token   string
		answers []answer
		waits   []time.Duration // exact, or, for rate limits, compared to the second
		want    string
	}{{
		name:    "message and validation errors",
		answers: []answer{{status: 422, body: `{"message":"Validation Failed","errors":[{"resource":"Release","code":"custom","message":"tag_name is not well-formed"},{"code":"missing"}]}`}},
		want:    "GET {url}: GitHub answered 422 Unprocessable Entity: Validation Failed: tag_name is not well-formed: missing",
	}, {
		name:    "a proxy's page",
		answers: []answer{{status: 502, body: "<html>\n<body>\n  <h1>502 Bad Gateway</h1>\n</body>\n</html>"}},
		want:    "GET {url}: GitHub answered 502 Bad Gateway: <html> <body> <h1>502 Bad Gateway</h1> </body> </html> (gave up after 4 tries; GitHub is failing, the next cycle tries again)",
		waits:   []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second},
	}, {
		name:    "a primary rate limit far away, no token",
		answers: []answer{{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"}, body: `{"message":"API rate limit exceeded for 203.0.113.7."}`}},
		want:    "GET {url}: GitHub answered 403 Forbidden: API rate limit exceeded for 203.0.113.7. (rate limited until 2100-01-01T00:00:00Z: set a token in " + tokenSetting + " for a higher limit; the next cycle tries again)",
	}, {
		name:    "a primary rate limit far away, with a token",
		token:   "ghp_secret",
		answers: []answer{{status: 429, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"}, body: `{"message":"API rate limit exceeded for user ID 1."}`}},
		want:    "GET {url}: GitHub answered 429 Too Many Requests: API rate limit exceeded for user ID 1. (the token's rate limit is spent until 2100-01-01T00:00:00Z; the next cycle tries again)",
	}, {
		name:    "a primary rate limit that lifts soon is waited out",
		answers: []answer{{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": fmt.Sprint(soon)}}, ok},
		waits:   []time.Duration{31 * time.Second},
		want:    "the body",
	}, {
		name:    "a secondary rate limit: Retry-After",
		answers: []answer{{status: 403, header: map[string]string{"Retry-After": "3"}, body: `{"message":"You have exceeded a secondary rate limit."}`}, ok},
		waits:   []time.Duration{3 * time.Second},
		want:    "the body",
	}, {
		name:    "a secondary rate limit: the message alone",
		answers: []answer{{status: 403, body: `{"message":"You have exceeded a secondary rate limit."}`}, ok},
		waits:   []time.Duration{2 * time.Second},
		want:    "the body",
	}, {
		name:    "a secondary rate limit too long to wait",
		answers: []answer{{status: 403, header: map[string]string{"Retry-After": "600"}, body: `{"message":"You have exceeded a secondary rate limit."}`}},
		want:    "GET {url}: GitHub answered 403 Forbidden: You have exceeded a secondary rate limit. (GitHub asks to wait 10m0s, longer than kupdate waits for one request (2m0s); the next cycle tries again)",
	}, {
		name:    "a secondary rate limit, persistent, no token",
		answers: []answer{{status: 429, body: `{"message":"slow down"}`}},
		waits:   []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second},
		want:    "GET {url}: GitHub answered 429 Too Many Requests: slow down (gave up after 4 tries; rate limited by GitHub: set a token in " + tokenSetting + " for a higher limit; the next cycle tries again)",
	}, {
		name:    "a secondary rate limit, persistent, with a token",
		token:   "ghp_secret",
		answers: []answer{{status: 429, body: `{"message":"slow down"}`}},
		waits:   []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second},
		want:    "GET {url}: GitHub answered 429 Too Many Requests: slow down (gave up after 4 tries; rate limited by GitHub, the next cycle tries again)",
	}, {
		name:    "credentials wanted",
		answers: []answer{{status: 401, body: `{"message":"Requires authentication"}`}},
		want:    "GET {url}: GitHub answered 401 Unauthorized: Requires authentication (GitHub asks for credentials: set a token in " + tokenSetting + ")",
	}, {
		name:    "a refused token",
		token:   "ghp_secret",
		answers: []answer{{status: 401, body: `{"message":"Bad credentials"}`}},
		want:    "GET {url}: GitHub answered 401 Unauthorized: Bad credentials (GitHub refused the token: replace the one in " + tokenSetting + ", or unset it (example's releases are public))",
	}, {
		name:    "access refused",
		token:   "ghp_secret",
		answers: []answer{{status: 403, body: `{"message":"Resource protected by organization SAML enforcement."}`}},
		want:    "GET {url}: GitHub answered 403 Forbidden: Resource protected by organization SAML enforcement. (GitHub refused access: check the token in " + tokenSetting + ", or unset it (example's releases are public))",
	}} {
		t.Run(c.name, func(t *testing.T) {
			srv := serve(t, c.answers...)
			rec := &sleeps{}
			cl := client("GitHub", rec)
			cl.Dialect = &fetch.GitHub{Token: c.token, TokenSetting: tokenSetting, Public: "example's releases are public"}
			body, err := get(context.Background(), cl, fetch.Request{URL: srv.URL + "/repos/o/r/releases"})
			got := body
			if err != nil {
				got = err.Error()
			}
			if want := fill(c.want, srv.URL+"/repos/o/r/releases"); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if d := cmp.Diff(c.waits, rec.waits(), cmp.Comparer(aboutEqual)); d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
			wantAuth := ""
			if c.token != "" {
				wantAuth = "Bearer " + c.token
			}
			if auth, v := srv.header(0, "Authorization"), srv.header(0, "X-GitHub-Api-Version"); auth != wantAuth || v != "2022-11-28" {
				t.Errorf("Authorization %q, X-GitHub-Api-Version %q", auth, v)
			}
		})
	}
}

// What GitLab's answers mean: its messages in their several shapes, its
// rate limit (429 with RateLimit-Reset), and what to do about a token.
func TestGitLabDialect(t *testing.T) {
	soon := time.Now().Add(20 * time.Second)
	for _, c := range []struct {
		name    string
		token   string
		answers []answer
		waits   []time.Duration
		want    string
	}{{
		name:    "a message",
		answers: []answer{{status: 404, body: `{"message":"404 Project Not Found"}`}},
		want:    "GET {url}: GitLab answered 404 Not Found: 404 Project Not Found",
	}, {
		name:    "validation errors by field",
		answers: []answer{{status: 400, body: `{"message": {"tag_name": ["is missing"]}}`}},
		want:    `GET {url}: GitLab answered 400 Bad Request: {"tag_name":["is missing"]}`,
	}, {
		name:    "an OAuth error",
		token:   "glpat-secret",
		answers: []answer{{status: 401, body: `{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}`}},
		want:    "GET {url}: GitLab answered 401 Unauthorized: invalid_token: Token is expired. You can either do re-authorization or token refresh. (GitLab refused the token: replace the one in " + tokenSetting + ", or unset it (example's releases are public))",
	}, {
		name:    "credentials wanted",
		answers: []answer{{status: 401, body: `{"message":"401 Unauthorized"}`}},
		want:    "GET {url}: GitLab answered 401 Unauthorized: 401 Unauthorized (GitLab asks for credentials: set a token in " + tokenSetting + ")",
	}, {
		name:    "access refused",
		token:   "glpat-secret",
		answers: []answer{{status: 403, body: `{"message":"403 Forbidden"}`}},
		want:    "GET {url}: GitLab answered 403 Forbidden: 403 Forbidden (GitLab refused access: check the token in " + tokenSetting + ", or unset it (example's releases are public))",
	}, {
		name: "a rate limit that lifts soon is waited out",
		answers: []answer{{status: 429, header: map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": fmt.Sprint(soon.Unix())},
			body: `{"message":{"error":"This endpoint has been requested too many times. Try again later."}}`}, ok},
		waits: []time.Duration{21 * time.Second},
		want:  "the body",
	}, {
		name:    "a rate limit with only RateLimit-ResetTime",
		answers: []answer{{status: 429, header: map[string]string{"RateLimit-ResetTime": soon.UTC().Format(http.TimeFormat)}}, ok},
		waits:   []time.Duration{21 * time.Second},
		want:    "the body",
	}, {
		name:    "Retry-After longer than the reset wins",
		answers: []answer{{status: 429, header: map[string]string{"Retry-After": "60", "RateLimit-Reset": fmt.Sprint(soon.Unix())}}, ok},
		waits:   []time.Duration{60 * time.Second},
		want:    "the body",
	}, {
		name: "a rate limit far away",
		answers: []answer{{status: 429, header: map[string]string{"RateLimit-Reset": "4102444800"},
			body: `{"message":{"error":"This endpoint has been requested too many times. Try again later."}}`}},
		want: "GET {url}: GitLab answered 429 Too Many Requests: This endpoint has been requested too many times. Try again later. (rate limited by GitLab until 2100-01-01T00:00:00Z: set a token in " + tokenSetting + " for a higher limit; the next cycle tries again)",
	}, {
		name:    "a rate limit with no end, persistent, with a token",
		token:   "glpat-secret",
		answers: []answer{{status: 429, body: `Retry later`}},
		waits:   []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second},
		want:    "GET {url}: GitLab answered 429 Too Many Requests: Retry later (gave up after 4 tries; rate limited by GitLab; the next cycle tries again)",
	}, {
		name:    "5xx",
		answers: []answer{{status: 500, body: `{"message":"500 Internal Server Error"}`}},
		waits:   []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second},
		want:    "GET {url}: GitLab answered 500 Internal Server Error: 500 Internal Server Error (gave up after 4 tries; GitLab is failing, the next cycle tries again)",
	}} {
		t.Run(c.name, func(t *testing.T) {
			srv := serve(t, c.answers...)
			rec := &sleeps{}
			cl := client("GitLab", rec)
			cl.Dialect = &fetch.GitLab{Token: c.token, TokenSetting: tokenSetting, Public: "example's releases are public"}
			url := srv.URL + "/api/v4/projects/xanmod%2Flinux/releases"
			body, err := get(context.Background(), cl, fetch.Request{URL: url})
			got := body
			if err != nil {
				got = err.Error()
			}
			if want := fill(c.want, url); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if d := cmp.Diff(c.waits, rec.waits(), cmp.Comparer(aboutEqual)); d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
			if tok := srv.header(0, "PRIVATE-TOKEN"); tok != c.token {
				t.Errorf("PRIVATE-TOKEN %q, want %q", tok, c.token)
			}
		})
	}
}

// aboutEqual compares waits that depend on the clock (until a rate
// limit's reset, given in whole seconds) to within a second and a half.
func aboutEqual(a, b time.Duration) bool {
	d := a - b
	return d > -1500*time.Millisecond && d < 1500*time.Millisecond
}
