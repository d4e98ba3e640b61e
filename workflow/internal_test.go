package workflow

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
