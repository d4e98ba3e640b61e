package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/server"
)

const mergedPR = `{"action":"closed","number":42,"pull_request":{"merged":true,"base":{"ref":"staging-nixos"}},"repository":{"full_name":"NixOS/nixpkgs"}}`

func TestWebhookBadSignature(t *testing.T) {
	h := start(t, testConfig())
	const want = "invalid or missing X-Hub-Signature-256: the webhook's secret on GitHub must equal the value of KUPDATE_WEBHOOK_SECRET\n"
	for _, tc := range []struct{ name, body, sig string }{
		{"missing", mergedPR, "-"},
		{"wrong secret", mergedPR, sign("guess", mergedPR)},
		{"tampered body", strings.Replace(mergedPR, "42", "43", 1), sign(secret, mergedPR)},
		{"sha1", mergedPR, "sha1=" + strings.TrimPrefix(sign(secret, mergedPR), "sha256=")},
		{"not hex", mergedPR, "sha256=zz"},
		{"truncated", mergedPR, sign(secret, mergedPR)[:40]},
		{"empty", mergedPR, "sha256="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := h.webhook(t, "pull_request", "d-"+tc.name, tc.body, tc.sig)
			if code != http.StatusUnauthorized || body != want {
				t.Errorf("got %d %q, want 401 %q", code, body, want)
			}
		})
	}
	// Nothing was triggered: a trigger would show as queued or running (the
	// fake cycler holds every call until the test answers it).
	h.idle(t)
	if calls, _ := h.cycler.history(); len(calls) != 0 {
		t.Errorf("calls = %v, want none", calls)
	}
	if got := metricValue(t, h, "kupdate_webhook_deliveries_total", map[string]string{"event": "pull_request", "result": "rejected"}); got != 7 {
		t.Errorf("rejected deliveries = %v, want 7", got)
	}
}

func TestWebhookEvents(t *testing.T) {
	h := start(t, testConfig())
	for i, tc := range []struct {
		name, event, body string
		code              int
		reply             string // the trigger is in it when one is expected
		triggers          bool
	}{
		{"ping", "ping", `{"zen":"Keep it logically awesome.","hook_id":1}`, 200, "pong\n", false},
		{"merged into staging-nixos", "pull_request", mergedPR, 202,
			"promotion queued: webhook pull_request #42 merged into staging-nixos, delivery d1\n", true},
		{"push to staging-nixos", "push", `{"ref":"refs/heads/staging-nixos","after":"0123456789abcdef0123","repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"promotion queued: webhook push to staging-nixos (0123456789ab), delivery d2\n", true},
		{"check suite completed on staging-nixos", "check_suite", `{"action":"completed","check_suite":{"head_branch":"staging-nixos","conclusion":"success"},"repository":{"full_name":"nixos/NIXPKGS"}}`, 202,
			"promotion queued: webhook check_suite completed on staging-nixos (success), delivery d3\n", true},
		{"closed unmerged", "pull_request", `{"action":"closed","number":5,"pull_request":{"merged":false,"base":{"ref":"staging-nixos"}},"repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"ignored: pull_request #5 closed (base staging-nixos): only a merge into staging-nixos triggers a promotion\n", false},
		{"merged into master", "pull_request", `{"action":"closed","number":6,"pull_request":{"merged":true,"base":{"ref":"master"}},"repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"ignored: pull_request #6 closed (base master): only a merge into staging-nixos triggers a promotion\n", false},
		{"opened", "pull_request", `{"action":"opened","number":8,"pull_request":{"base":{"ref":"staging-nixos"}},"repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"ignored: pull_request #8 opened (base staging-nixos): only a merge into staging-nixos triggers a promotion\n", false},
		{"push to master", "push", `{"ref":"refs/heads/master","repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"ignored: push to refs/heads/master: only a push to staging-nixos triggers a promotion\n", false},
		{"tag push", "push", `{"ref":"refs/tags/staging-nixos","repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"ignored: push to refs/tags/staging-nixos: only a push to staging-nixos triggers a promotion\n", false},
		{"branch deleted", "push", `{"ref":"refs/heads/staging-nixos","deleted":true,"repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"ignored: push to refs/heads/staging-nixos: only a push to staging-nixos triggers a promotion\n", false},
		{"check suite requested", "check_suite", `{"action":"requested","check_suite":{"head_branch":"staging-nixos"},"repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"ignored: check_suite requested on \"staging-nixos\": only a completed suite on staging-nixos triggers a promotion\n", false},
		{"check suite elsewhere", "check_suite", `{"action":"completed","check_suite":{"head_branch":"kupdate/staging-nixos"},"repository":{"full_name":"NixOS/nixpkgs"}}`, 202,
			"ignored: check_suite completed on \"kupdate/staging-nixos\": only a completed suite on staging-nixos triggers a promotion\n", false},
		{"other repository", "push", `{"ref":"refs/heads/staging-nixos","repository":{"full_name":"someone/nixpkgs"}}`, 202,
			"ignored: push event for \"someone/nixpkgs\": kupdate watches NixOS/nixpkgs (github.owner/github.repo)\n", false},
		{"other event", "issues", `{"action":"opened"}`, 202,
			"ignored: event \"issues\": kupdate acts on pull_request, push and check_suite\n", false},
		{"malformed", "push", `{"ref":`, 400,
			"malformed push payload: unexpected end of JSON input\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each delivery its own id, as GitHub sends them: a repeated id
			// would be answered as a repeat.
			code, reply := h.webhook(t, tc.event, fmt.Sprint("d", i), tc.body, "")
			if code != tc.code || reply != tc.reply {
				t.Errorf("got %d %q\nwant %d %q", code, reply, tc.code, tc.reply)
			}
			if tc.triggers {
				h.cycler.next(t, server.StepPromote).done <- nil
				s := h.step(t)
				if want := strings.TrimSuffix(strings.TrimPrefix(tc.reply, "promotion queued: "), "\n"); s.Step != "promote" || s.Trigger != want || s.Outcome != "success" {
					t.Errorf("step = %+v, want a successful promotion triggered by %q", s, want)
				}
			}
			h.idle(t) // exactly once: nothing more runs or waits
		})
	}
	calls, maxActive := h.cycler.history()
	if strings.Join(calls, " ") != "promote promote promote" || maxActive != 1 {
		t.Errorf("calls = %v (max %d at once), want three promotions, one at a time", calls, maxActive)
	}
}

func TestWebhookDisabled(t *testing.T) {
	h := start(t, testConfig(), server.WithGetenv(func(string) string { return "" }))
	code, body := h.webhook(t, "pull_request", "d", mergedPR, "")
	want := "webhook disabled: kupdate has no webhook secret; set the environment variable KUPDATE_WEBHOOK_SECRET (serve.webhook_secret_env) to the secret configured on GitHub and restart kupdate\n"
	if code != http.StatusServiceUnavailable || body != want {
		t.Errorf("got %d %q, want 503 %q", code, body, want)
	}
	// An empty secret must not make the empty-key HMAC valid.
	code, _ = h.webhook(t, "pull_request", "d", mergedPR, sign("", mergedPR))
	if code != http.StatusServiceUnavailable {
		t.Errorf("signed with the empty key: %d, want 503", code)
	}
	h.idle(t)
}

// TestWebhookSecretEnvNotValidated: a Config built in code skips config's
// validation; a token pasted in serve.webhook_secret_env is still refused,
// without being repeated, before the status page or a webhook reply could
// show it as the variable's name.
func TestWebhookSecretEnvNotValidated(t *testing.T) {
	const pasted = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
	cfg := testConfig()
	cfg.Serve.WebhookSecretEnv = pasted
	_, err := server.New(cfg, newFakeCycler(), nil, nil, server.WithLockDir(t.TempDir()))
	want := `server: serve.webhook_secret_env: a GitHub token (it starts with "ghp_"), not the name of an environment variable: remove it from the file, and revoke it on GitHub if others can read the file (the Nix store is world-readable)`
	if err == nil || err.Error() != want {
		t.Errorf("New error:\n got %v\nwant %s", err, want)
	}
	if err != nil && strings.Contains(err.Error(), pasted) {
		t.Errorf("the error repeats the token: %v", err)
	}
}

func TestWebhookPromotionOff(t *testing.T) {
	cfg := testConfig()
	cfg.Promote.Enabled = false
	h := start(t, cfg)
	code, body := h.webhook(t, "pull_request", "d", mergedPR, "")
	if want := "ignored: pull_request #42 merged into staging-nixos, but promotion is off (promote.enabled = false)\n"; code != 202 || body != want {
		t.Errorf("got %d %q, want 202 %q", code, body, want)
	}
	h.idle(t)
}

func TestWebhookLimits(t *testing.T) {
	h := start(t, testConfig())
	big := `{"ref":"refs/heads/staging-nixos","pad":"` + strings.Repeat("x", 5<<20) + `"}`
	code, body := h.webhook(t, "push", "d", big, "")
	if code != http.StatusRequestEntityTooLarge || body != "payload larger than 5242880 bytes\n" {
		t.Errorf("6 MiB payload: %d %q", code, body)
	}
	resp, err := http.Get(h.url + "/webhook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /webhook: %d, Allow %q; want 405, POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	h.idle(t)
}

// GitHub's "application/x-www-form-urlencoded" content type: the JSON is in
// the payload field, the signature covers the form.
func TestWebhookFormEncoded(t *testing.T) {
	h := start(t, testConfig())
	form := url.Values{"payload": {mergedPR}}.Encode()
	req, _ := http.NewRequest("POST", h.url+"/webhook", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-GitHub-Delivery", "f1")
	req.Header.Set("X-Hub-Signature-256", sign(secret, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "promotion queued: webhook pull_request #42 merged into staging-nixos, delivery f1\n"; resp.StatusCode != 202 || string(b) != want {
		t.Fatalf("got %d %q, want 202 %q", resp.StatusCode, b, want)
	}
	h.cycler.next(t, server.StepPromote).done <- nil
	h.step(t)
	h.idle(t)
}

func TestWebhookPromotionSourceMatcher(t *testing.T) {
	h := start(t, testConfig(), server.WithPromotionSource(func(b string) bool { return strings.HasPrefix(b, "staging-nixos-") }))
	code, body := h.webhook(t, "push", "d", `{"ref":"refs/heads/staging-nixos-25.11","after":"abc","repository":{"full_name":"NixOS/nixpkgs"}}`, "")
	if want := "promotion queued: webhook push to staging-nixos-25.11 (abc), delivery d\n"; code != 202 || body != want {
		t.Fatalf("got %d %q, want 202 %q", code, body, want)
	}
	h.cycler.next(t, server.StepPromote).done <- nil
	h.step(t)
	code, body = h.webhook(t, "push", "d", `{"ref":"refs/heads/staging","repository":{"full_name":"NixOS/nixpkgs"}}`, "")
	if want := "ignored: push to refs/heads/staging: only a push to staging-nixos (or another promotion source) triggers a promotion\n"; code != 202 || body != want {
		t.Errorf("got %d %q, want 202 %q", code, body, want)
	}
	h.idle(t)
}

// repeatReply is the answer to a delivery kupdate has acted on already.
func repeatReply(id string) string {
	return "delivery " + id + " already handled; a repeat queues nothing (the next cycle promotes too; kupdate promote promotes now)\n"
}

// The same signed delivery posted three times (GitHub's Redeliver, a proxy
// retrying) queues one promotion: the repeats, while it runs and after it
// finished, are answered 200 and do nothing.
func TestWebhookRepeatedDelivery(t *testing.T) {
	h := start(t, testConfig())
	const id = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	code, body := h.webhook(t, "pull_request", id, mergedPR, "")
	if want := "promotion queued: webhook pull_request #42 merged into staging-nixos, delivery " + id + "\n"; code != 202 || body != want {
		t.Fatalf("first delivery: %d %q, want 202 %q", code, body, want)
	}
	promote := h.cycler.next(t, server.StepPromote)
	repeat := func(when string) {
		t.Helper()
		if code, body := h.webhook(t, "pull_request", id, mergedPR, ""); code != 200 || body != repeatReply(id) {
			t.Errorf("repeat %s: %d %q, want 200 %q", when, code, body, repeatReply(id))
		}
	}
	repeat("while the promotion runs")
	promote.done <- nil
	h.step(t)
	repeat("after the promotion finished")
	h.idle(t)
	if calls, _ := h.cycler.history(); strings.Join(calls, " ") != "promote" {
		t.Errorf("calls = %v, want one promotion", calls)
	}
	for result, want := range map[string]float64{"triggered": 1, "duplicate": 2} {
		if got := metricValue(t, h, "kupdate_webhook_deliveries_total", map[string]string{"event": "pull_request", "result": result}); got != want {
			t.Errorf("%s deliveries = %v, want %v", result, got, want)
		}
	}
	logged := `level=INFO msg="webhook: delivery already handled; nothing to do" event=pull_request delivery=` + id + "\n"
	if n := strings.Count(h.logs.String(), logged); n != 2 {
		t.Errorf("%q logged %d times, want 2", logged, n)
	}
}

// A request that fails the signature check never reaches the record of
// deliveries: its id does not make kupdate ignore the genuine delivery.
func TestWebhookForgedDeliveryID(t *testing.T) {
	for _, tc := range []struct{ name, body, sig string }{
		{"no signature", mergedPR, "-"},
		{"wrong secret", mergedPR, sign("guess", mergedPR)},
		{"tampered body", strings.Replace(mergedPR, "42", "43", 1), sign(secret, mergedPR)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, testConfig())
			if code, _ := h.webhook(t, "pull_request", "g1", tc.body, tc.sig); code != http.StatusUnauthorized {
				t.Fatalf("forged delivery: %d, want 401", code)
			}
			code, body := h.webhook(t, "pull_request", "g1", mergedPR, "")
			if want := "promotion queued: webhook pull_request #42 merged into staging-nixos, delivery g1\n"; code != 202 || body != want {
				t.Fatalf("genuine delivery: %d %q, want 202 %q", code, body, want)
			}
			h.cycler.next(t, server.StepPromote).done <- nil
			h.step(t)
			h.idle(t)
		})
	}
}

// A delivery without X-GitHub-Delivery (GitHub always sends one) is acted
// on every time: there is nothing to tell a repeat by.
func TestWebhookDeliveryWithoutID(t *testing.T) {
	h := start(t, testConfig())
	const want = "promotion queued: webhook pull_request #42 merged into staging-nixos\n"
	for i := range 2 {
		if code, body := h.webhook(t, "pull_request", "", mergedPR, ""); code != 202 || body != want {
			t.Fatalf("delivery %d: %d %q, want 202 %q", i+1, code, body, want)
		}
		h.cycler.next(t, server.StepPromote).done <- nil
		h.step(t)
	}
	h.idle(t)
	if calls, _ := h.cycler.history(); strings.Join(calls, " ") != "promote promote" {
		t.Errorf("calls = %v, want two promotions", calls)
	}
}

// kupdate remembers the last 1024 deliveries it acted on: after 1025
// distinct ones, the first is forgotten and acted on again, which makes it
// the newest and pushes out the next oldest.
func TestWebhookDeliveryMemoryBound(t *testing.T) {
	h := start(t, testConfig())
	id := func(i int) string { return fmt.Sprint("b", i) }
	if code, _ := h.webhook(t, "pull_request", id(0), mergedPR, ""); code != 202 {
		t.Fatalf("delivery b0: %d, want 202", code)
	}
	// Held running, so every later delivery joins the one promotion queued
	// behind it.
	h.cycler.next(t, server.StepPromote)
	for i := 1; i <= 1024; i++ {
		if code, body := h.webhook(t, "pull_request", id(i), mergedPR, ""); code != 202 {
			t.Fatalf("delivery %s: %d %q, want 202", id(i), code, body)
		}
	}
	const pending = "a promotion is already queued (webhook pull_request #42 merged into staging-nixos, delivery b1); it will see this change too\n"
	for _, tc := range []struct {
		id    string
		code  int
		reply string
	}{
		{"b0", 202, pending},           // forgotten by b1024
		{"b2", 200, repeatReply("b2")}, // the oldest still remembered
		{"b1024", 200, repeatReply("b1024")},
		{"b0", 200, repeatReply("b0")}, // remembered again
		{"b1", 202, pending},           // forgotten by b0's return
	} {
		if code, body := h.webhook(t, "pull_request", tc.id, mergedPR, ""); code != tc.code || body != tc.reply {
			t.Errorf("delivery %s: %d %q, want %d %q", tc.id, code, body, tc.code, tc.reply)
		}
	}
}
