package server_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kupdate/kupdate/server"
	"github.com/kupdate/kupdate/state"
)

// sampleBranches is what a cycle over a tree like nixpkgs' might report.
// sampleLog is the log of linux_6_18's failed configfile tier.
const sampleLog = "20261102T101912Z-linux_6_18-configfile.log"

func sampleBranches() []server.BranchStatus {
	checked := time.Date(2026, 11, 2, 10, 19, 12, 0, time.UTC)
	return []server.BranchStatus{
		{Branch: "testing", Attr: "linux_testing", Nixpkgs: "6.19-rc3", KernelOrg: "6.19-rc4", Build: "", CheckedAt: checked,
			Reason: "sha256sums.asc has no line for 6.19-rc4 yet; retrying next cycle", Standing: "work"},
		{Branch: "6.18", Attr: "linux_6_18", Nixpkgs: "6.18.1", KernelOrg: "6.18.2", CheckedAt: checked,
			PR:    &server.PRRef{Number: 461203, URL: "https://github.com/NixOS/nixpkgs/pull/461203", State: "draft"},
			Build: "configfile failed", Reason: "build failed at configfile; the PR stays a draft", Standing: "work",
			Tiers: []state.Tier{{Tier: "eval", Status: "passed", TookMS: 3100}, {Tier: "configfile", Status: "failed", TookMS: 64000, Log: sampleLog}}},
		{Branch: "6.17", Attr: "linux_6_17", Nixpkgs: "6.17.13", KernelOrg: "", CheckedAt: checked,
			PR:    &server.PRRef{Number: 461190, URL: "https://github.com/NixOS/nixpkgs/pull/461190", State: "open"},
			Build: "passed", Reason: "end of life upstream: removal <linux_6_17> proposed", Standing: "removing"},
		{Branch: "6.12", Attr: "linux_6_12", Nixpkgs: "6.12.63", KernelOrg: "6.12.64", CheckedAt: checked,
			PR:    &server.PRRef{Number: 461188, URL: "https://github.com/NixOS/nixpkgs/pull/461188", State: "open"},
			Build: "passed", Reason: "6.12.63 -> 6.12.64 in the rolling PR", Standing: "work"},
		{Branch: "6.6", Attr: "linux_6_6", Nixpkgs: "6.6.119", KernelOrg: "6.6.119", CheckedAt: checked, Reason: "up to date", Standing: "current"},
		{Branch: "5.4", Attr: "linux_5_4", Nixpkgs: "", KernelOrg: "5.4.301", CheckedAt: checked,
			Reason: "end of life upstream: kupdate does not add it", Standing: "left"},
	}
}

// busyStatus brings h to a state with every part of the page filled: a failed
// cycle, a successful promotion, a cycle running and a promotion queued.
func busyStatus(t *testing.T, h *harness) {
	t.Helper()
	h.cycler.mu.Lock()
	h.cycler.branches, h.cycler.lag = sampleBranches(), sampleHistory()
	h.cycler.suggestions = []state.Suggestion{{Family: "kernel.org", Attr: "linux_6_18",
		Reason: "linux_6_18 is a newer longterm branch than linux_default (linux_6_12)", Command: "kupdate propose default linux_6_18"}}
	h.cycler.mu.Unlock()
	h.clock.fire(h.clock.nextTimer(t)) // 10:17
	c := h.cycler.next(t, server.StepCycle)
	next := h.clock.nextTimer(t) // 11:17
	h.clock.set(time.Date(2026, 11, 2, 10, 20, 4, 0, time.UTC))
	c.done <- errors.New("kernel.org: GET https://www.kernel.org/releases.json: 503 Service Unavailable (retried 3 times)")
	h.step(t)
	h.webhook(t, "pull_request", "72d3162e-cc78-11e3-81ab-4c9367dc0958", mergedPR, "")
	h.cycler.next(t, server.StepPromote).done <- nil
	h.step(t)
	h.clock.fire(next)                 // 11:17
	h.cycler.next(t, server.StepCycle) // left running
	h.clock.nextTimer(t)
	h.webhook(t, "check_suite", "9a1b", `{"action":"completed","check_suite":{"head_branch":"staging-nixos","conclusion":"success"},"repository":{"full_name":"NixOS/nixpkgs"}}`, "")
	h.clock.set(time.Date(2026, 11, 2, 11, 29, 0, 0, time.UTC))
}

// wantBranchRows is the branches table of busyStatus, as a reader sees it.
var wantBranchRows = [][]string{
	{"Branch", "Attribute", "nixpkgs", "kernel.org", "Behind", "Pull request", "Last build", "Checked", "Why"},
	{"testing", "linux_testing", "6.19-rc3", "6.19-rc4", "—", "—", "—", "1h9m ago", "sha256sums.asc has no line for 6.19-rc4 yet; retrying next cycle"},
	{"6.18", "linux_6_18", "6.18.1", "6.18.2", "—", "#461203 draft", "configfile failedeval passed 3s · configfile failed 1m log", "1h9m ago", "build failed at configfile; the PR stays a draft"},
	{"6.17", "linux_6_17", "6.17.13", "—", "—", "#461190 open", "passed", "1h9m ago", "end of life upstream: removal <linux_6_17> proposed"},
	{"6.12", "linux_6_12", "6.12.63", "6.12.64", "37h24m", "#461188 open", "passed", "1h9m ago", "6.12.63 -> 6.12.64 in the rolling PR"},
	{"6.6", "linux_6_6", "6.6.119", "6.6.119", "0", "—", "—", "1h9m ago", "up to date"},
	{"5.4", "linux_5_4", "—", "5.4.301", "—", "—", "—", "1h9m ago", "end of life upstream: kupdate does not add it"},
}

// wantHistoryRows is the history table of busyStatus.
var wantHistoryRows = [][]string{
	{"Branch", "Version", "Released", "Pull request", "PR", "Base", "Target"},
	{"6.12", "6.12.64", "37h24m ago", "#461188 open", "+3h", "—", "—"},
	{"6.6", "6.6.119", "9d1h ago", "#460001 merged", "+4h", "+2d4h (2026-10-26 14:05 UTC)", "+6d"},
	{"6.18", "6.18.2", "—", "—", "—", "—", "—"},
}

func TestStatusPage(t *testing.T) {
	h := start(t, testConfig())
	code, hdr, page := h.get(t, "/")
	if code != 200 || !strings.Contains(page, "No branches yet: the first cycle has not reported.") {
		t.Errorf("before the first cycle: %d\n%s", code, page)
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none';") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}

	busyStatus(t, h)
	code, hdr, page = h.get(t, "/")
	if code != 200 || hdr.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", code, hdr.Get("Content-Type"))
	}
	if diff := cmp.Diff(wantBranchRows, tableRows(t, page, "branches")); diff != "" {
		t.Errorf("branches table (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantHistoryRows, tableRows(t, page, "history")); diff != "" {
		t.Errorf("history table (-want +got):\n%s", diff)
	}
	for _, s := range []string{
		// Amber only where kupdate has work to do.
		`<tr class="behind"><td title="work to do">6.12</td>`,
		`<tr class="removing"><td title="removal pending">6.17</td>`,
		`<tr class="left"><td title="not packaged">5.4</td>`,
		`<tr><td title="current">6.6</td>`,
		`<dd id="repository"><code>NixOS/nixpkgs</code>, base <code>staging-nixos</code></dd>`,
		`<svg id="lag-chart" role="img"`,
		`<title>linux_6_6 6.6.119: 2d4h to the base</title>`,
		`<title>linux_6_12 6.12.64: 37h24m on its way</title>`,
		`<a href="https://github.com/NixOS/nixpkgs/pull/461188">#461188</a> open`,
		`<td class="opt bad">configfile failed<div class="tiers">eval passed 3s · configfile failed 1m <a href="/logs/` + sampleLog + `">log</a></div></td>`,
		`<li>linux_6_18 is a newer longterm branch than linux_default (linux_6_12): <code>kupdate propose default linux_6_18</code></li>`,
		`<dd id="version">kupdate <code>v1.2.3</code> · commit <code title="0123456789abcdef0123456789abcdef01234567">0123456789ab</code> · go1.26.0</dd>`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	golden(t, "status.html", []byte(page))

	_, hdr, js := h.get(t, "/status.json")
	if hdr.Get("Content-Type") != "application/json" {
		t.Errorf("/status.json Content-Type %q", hdr.Get("Content-Type"))
	}
	golden(t, "status.json", []byte(js))
}

func TestMetrics(t *testing.T) {
	h := start(t, testConfig())
	h.clock.fire(h.clock.nextTimer(t)) // 10:17
	c := h.cycler.next(t, server.StepCycle)
	end := time.Date(2026, 11, 2, 10, 19, 3, 500e6, time.UTC)
	h.clock.set(end)
	c.done <- nil
	h.step(t)
	h.webhook(t, "pull_request", "d", mergedPR, "")
	h.cycler.next(t, server.StepPromote).done <- errors.New("422")
	h.step(t)

	m := h.metrics
	m.ObserveChange("bump", "pr-opened")
	m.ObserveChange("bump", "pr-opened")
	m.ObserveChange("init", "build-failed")
	m.ObserveBuild("configfile", "failed")
	m.ObserveBuild("eval", "passed")
	m.ObservePromotion("success") // a scheduled cycle's promotion step

	kernelOrg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/releases.json" {
			http.NotFound(w, r) // "404 page not found\n", 19 bytes
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "4999")
		io.WriteString(w, strings.Repeat("x", 1234))
	}))
	defer kernelOrg.Close()
	upstream := &http.Client{Transport: m.InstrumentUpstream(nil)}
	github := &http.Client{Transport: m.InstrumentGitHub(http.DefaultTransport)}
	for _, u := range []string{"/releases.json", "/missing"} {
		resp, err := upstream.Get(kernelOrg.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if _, err := upstream.Get("http://127.0.0.1:1/"); err == nil {
		t.Fatal("a request to port 1 succeeded")
	}
	resp, err := github.Get(kernelOrg.URL + "/releases.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	code, hdr, text := h.get(t, "/metrics")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %q", code, hdr.Get("Content-Type"))
	}
	families := parseMetrics(t, text)
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kupdate_cycles_total", map[string]string{"outcome": "success"}, 1},
		{"kupdate_cycles_total", map[string]string{"outcome": "failure"}, 0},
		{"kupdate_cycles_total", map[string]string{"outcome": "skipped"}, 0},
		{"kupdate_promotions_total", map[string]string{"outcome": "failure"}, 1},
		{"kupdate_promotions_total", map[string]string{"outcome": "success"}, 1},
		{"kupdate_last_success_timestamp_seconds", nil, float64(end.UnixMilli()) / 1e3},
		{"kupdate_changes_total", map[string]string{"kind": "bump", "outcome": "pr-opened"}, 2},
		{"kupdate_changes_total", map[string]string{"kind": "init", "outcome": "build-failed"}, 1},
		{"kupdate_build_results_total", map[string]string{"tier": "configfile", "status": "failed"}, 1},
		{"kupdate_build_results_total", map[string]string{"tier": "eval", "status": "passed"}, 1},
		{"kupdate_upstream_requests_total", map[string]string{"code": "200"}, 1},
		{"kupdate_upstream_requests_total", map[string]string{"code": "404"}, 1},
		{"kupdate_upstream_requests_total", map[string]string{"code": "error"}, 1},
		{"kupdate_upstream_response_bytes_total", nil, 1234 + 19},
		{"kupdate_github_requests_total", map[string]string{"code": "200"}, 1},
		{"kupdate_github_rate_limit_remaining", nil, 4999},
		{"kupdate_webhook_deliveries_total", map[string]string{"event": "pull_request", "result": "triggered"}, 1},
		{"kupdate_build_info", map[string]string{"version": "v1.2.3", "revision": testBuild.Revision, "goversion": "go1.26.0"}, 1},
	} {
		if got, ok := sample(families, tc.name, tc.labels); !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	hist := families["kupdate_cycle_duration_seconds"]
	if hist == nil || hist.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("kupdate_cycle_duration_seconds: %v", hist)
	}
	if hs := hist.GetMetric()[0].GetHistogram(); hs.GetSampleCount() != 1 || hs.GetSampleSum() != 123.5 {
		t.Errorf("cycle duration: count %d sum %v, want 1 and 123.5", hs.GetSampleCount(), hs.GetSampleSum())
	}
	if n := len(families["kupdate_build_info"].GetMetric()); n != 1 {
		t.Errorf("kupdate_build_info has %d series, want the one build running", n)
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if families[name] == nil {
			t.Errorf("%s missing: the runtime collectors are not registered", name)
		}
	}
}

// TestLastSuccessFromState: a restarted service reads the last success
// from the state file, not 0, so the alert on it does not fire on every
// restart.
func TestLastSuccessFromState(t *testing.T) {
	c := newFakeCycler()
	at := time.Date(2026, 11, 2, 9, 4, 0, 0, time.UTC)
	c.lastSuccess = at
	m := server.NewMetrics(prometheus.NewRegistry())
	if _, err := server.New(testConfig(), c, m, nil); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if got, ok := sample(parseMetrics(t, rec.Body.String()), "kupdate_last_success_timestamp_seconds", nil); !ok || got != float64(at.Unix()) {
		t.Errorf("kupdate_last_success_timestamp_seconds = %v (present %v), want %d", got, ok, at.Unix())
	}
}

// A nil *Metrics is what a command without a server passes around.
func TestNilMetrics(t *testing.T) {
	var m *server.Metrics
	m.ObserveChange("bump", "committed")
	m.ObserveBuild("eval", "passed")
	if rt := m.InstrumentUpstream(http.DefaultTransport); rt != http.DefaultTransport {
		t.Errorf("nil InstrumentUpstream wrapped the transport")
	}
	if rt := m.InstrumentGitHub(http.DefaultTransport); rt != http.DefaultTransport {
		t.Errorf("nil InstrumentGitHub wrapped the transport")
	}
}

func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v\n%s", err, text)
	}
	return families
}

func sample(families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	mf := families[name]
	if mf == nil {
		return 0, false
	}
metrics:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue metrics
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func metricValue(t *testing.T, h *harness, name string, labels map[string]string) float64 {
	t.Helper()
	_, _, text := h.get(t, "/metrics")
	v, ok := sample(parseMetrics(t, text), name, labels)
	if !ok {
		t.Fatalf("no %s%v in /metrics", name, labels)
	}
	return v
}

// A server that has not run a cycle yet shows the one its Cycler's state
// has (a restart), and the promotions of the last cycle with their PRs; its
// own cycle then replaces the earlier one.
func TestStatusPageEarlierCycle(t *testing.T) {
	h := start(t, testConfig())
	h.cycler.mu.Lock()
	h.cycler.earlier = &server.StepStatus{Step: server.StepCycle, Start: t0.Add(-2 * time.Hour), End: t0.Add(-time.Hour), Outcome: server.OutcomeSuccess}
	h.cycler.promotions = []server.PromotionStatus{{From: "staging-nixos", To: "master", Ahead: 2,
		PR: &server.PRRef{Number: 4, URL: "https://github.com/NixOS/nixpkgs/pull/4", State: "open"}, Outcome: "open", Reason: "merging is off"}}
	h.cycler.mu.Unlock()
	_, _, page := h.get(t, "/")
	if strings.Contains(page, "none yet</span></dd>\n<dt>Last promotion") || !strings.Contains(page, "trigger: an earlier kupdate run") {
		t.Errorf("the earlier cycle is not shown:\n%s", page)
	}
	want := [][]string{
		{"From", "To", "Ahead", "Pull request", "Outcome"},
		{"staging-nixos", "master", "2 commits", "#4 open", "open (merging is off)"},
	}
	if diff := cmp.Diff(want, tableRows(t, page, "promotions")); diff != "" {
		t.Errorf("promotions table (-want +got):\n%s", diff)
	}
	_, _, js := h.get(t, "/status.json")
	for _, s := range []string{`"trigger": "an earlier kupdate run (state.json)"`, `"promotions": [`, `"ahead": 2,`} {
		if !strings.Contains(js, s) {
			t.Errorf("/status.json lacks %s:\n%s", s, js)
		}
	}

	h.clock.fire(h.clock.nextTimer(t))
	h.cycler.next(t, server.StepCycle).done <- nil
	h.step(t)
	if _, _, page := h.get(t, "/"); strings.Contains(page, "trigger: an earlier kupdate run") || !strings.Contains(page, "trigger: schedule") {
		t.Errorf("the server's own cycle does not replace the earlier one:\n%s", page)
	}
}
