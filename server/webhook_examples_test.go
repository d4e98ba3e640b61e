package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/server"
)

// examples are GitHub's example deliveries, by event
// (testdata/webhooks/examples.json, written by
// workflow/githubtest/internal/refresh from @octokit/webhooks-examples).
func examples(t *testing.T) map[string][]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/webhooks/examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Examples map[string][]json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Examples
}

// example is what GitHub's documentation says a delivery means, read
// independently of server's own structs: the test's oracle.
type example struct {
	Action     string `json:"action"`
	Ref        string `json:"ref"`
	Deleted    bool   `json:"deleted"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	PullRequest *struct {
		Merged *bool `json:"merged"`
		Base   struct {
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
	CheckSuite *struct {
		HeadBranch *string `json:"head_branch"`
	} `json:"check_suite"`
}

// branch is the branch the delivery is about, and whether GitHub documents
// it as a change landed there: a merged PR ("closed" with merged true), a
// push that did not delete the branch, a completed check suite.
func (e example) branch(event string) (branch string, landed bool) {
	switch event {
	case "pull_request":
		merged := e.PullRequest.Merged != nil && *e.PullRequest.Merged
		return e.PullRequest.Base.Ref, e.Action == "closed" && merged
	case "push":
		b, ok := strings.CutPrefix(e.Ref, "refs/heads/")
		if !ok {
			return "", false // a tag
		}
		return b, !e.Deleted
	case "check_suite":
		if e.CheckSuite.HeadBranch == nil {
			return "", false
		}
		return *e.CheckSuite.HeadBranch, e.Action == "completed"
	}
	return "", false
}

// GitHub's own example payloads go through the webhook as real deliveries,
// signed, with the repository and promotion source set to the ones each is
// about: each triggers a promotion exactly when GitHub documents it as a
// change that landed on that branch, and every other is acknowledged and
// ignored. The replies are recorded in testdata/webhooks/examples.golden.
func TestWebhookGitHubExamples(t *testing.T) {
	all := examples(t)
	all["pull_request"] = append(all["pull_request"], mergedExample(t, all["pull_request"]))
	var replies strings.Builder
	counts := map[string][2]int{}
	for _, event := range []string{"ping", "pull_request", "push", "check_suite", "status"} {
		if len(all[event]) == 0 {
			t.Fatalf("no %s examples", event)
		}
		for i, raw := range all[event] {
			var e example
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("%s example %d: %v", event, i, err)
			}
			name := fmt.Sprintf("%s/%d", event, i)
			if event != "status" { // kupdate reads no status event: its description is not kept
				if err := server.CheckWebhookSchema(event, raw); err != nil {
					t.Errorf("%s does not match GitHub's description of it: %v", name, err)
				}
			}
			t.Run(name, func(t *testing.T) {
				branch, landed := e.branch(event)
				cfg := testConfig()
				if e.Repository != nil {
					cfg.GitHub.Owner, cfg.GitHub.Repo, _ = strings.Cut(e.Repository.FullName, "/")
				}
				if branch != "" {
					cfg.Promote.Pairs = []config.Pair{{From: branch, To: branch + "-promoted"}}
				}
				h := start(t, cfg)
				code, reply := h.webhook(t, event, "example-"+strings.ReplaceAll(name, "/", "-"), string(raw), "")
				triggered := code == 202 && strings.HasPrefix(reply, "promotion queued: ")
				if triggered != landed {
					t.Errorf("%s (action %q, branch %q): triggered %v, GitHub documents a change landed: %v; reply %d %q", name, e.Action, branch, triggered, landed, code, reply)
				}
				if triggered {
					h.cycler.next(t, server.StepPromote).done <- nil
					h.step(t)
				}
				h.idle(t)
				c := counts[event]
				c[0]++
				if triggered {
					c[1]++
				}
				counts[event] = c
				fmt.Fprintf(&replies, "%s %s: %d %s", name, e.Action, code, reply)
			})
		}
	}
	// Each event kupdate acts on has examples that trigger, and all have
	// some that do not (a ping and a status never trigger).
	for event, c := range counts {
		acts := event == "pull_request" || event == "push" || event == "check_suite"
		if acts && c[1] == 0 || c[1] == c[0] && event != "push" {
			t.Errorf("%s: %d of %d examples triggered", event, c[1], c[0])
		}
	}
	golden(t, "webhooks/examples.golden", []byte(replies.String()))
}

// mergedExample is GitHub's example of a closed pull request, merged: GitHub
// publishes no example of a merge, the delivery kupdate acts on, so it is
// made from the unmerged one as GitHub documents a merge ("If merged is true
// in the webhook payload, the pull request was merged"), and checked against
// GitHub's description of pull_request closed like every example.
func mergedExample(t *testing.T, prs []json.RawMessage) json.RawMessage {
	t.Helper()
	for _, raw := range prs {
		var e map[string]any
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		pr, _ := e["pull_request"].(map[string]any)
		if e["action"] != "closed" || pr == nil || pr["merged"] != false {
			continue
		}
		pr["merged"], pr["merged_at"] = true, pr["closed_at"]
		pr["merge_commit_sha"] = "c4295bd74fb0f4fda03689c3df3f2803b658fd85"
		pr["merged_by"] = e["sender"]
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatal("no example of an unmerged closed pull request")
	return nil
}
