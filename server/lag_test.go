package server_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/kupdate/kupdate/state"
)

// sampleHistory is the lag behind sampleBranches: 6.12.64 released 36 h
// before t0 and proposed 3 h later; 6.6.119 (at the base) released 9 days
// before t0, proposed, merged and promoted; 6.18.2 with no release time
// known; 6.17 gone upstream.
func sampleHistory() map[string][]state.Release {
	pr := func(n int, st state.PRState) *state.PR {
		return &state.PR{Number: n, URL: "https://github.com/NixOS/nixpkgs/pull/" + strconv.Itoa(n), State: st}
	}
	rel66 := t0.Add(-9 * 24 * time.Hour)
	return map[string][]state.Release{
		"linux_6_12": {{Version: "6.12.64", Released: t0.Add(-36 * time.Hour), Proposed: t0.Add(-33 * time.Hour), PR: pr(461188, state.Open)}},
		"linux_6_6": {{Version: "6.6.119", Released: rel66, Proposed: rel66.Add(4 * time.Hour), PR: pr(460001, state.Merged),
			Merged: rel66.Add(52 * time.Hour), Promoted: rel66.Add(6 * 24 * time.Hour)}},
		"linux_6_18": {{Version: "6.18.2"}},
	}
}

// TestLagMetrics: kupdate_behind_seconds per attribute, against the
// server's (simulated) clock, from the state's history; the release lag
// histograms from the cycle's observations; and the exposition passes
// promlint.
func TestLagMetrics(t *testing.T) {
	h := start(t, testConfig())
	h.cycler.mu.Lock()
	h.cycler.branches, h.cycler.lag = sampleBranches(), sampleHistory()
	h.cycler.mu.Unlock()
	h.metrics.ObserveLag("proposed", 3*time.Hour)
	h.metrics.ObserveLag("proposed", 4*time.Hour)
	h.metrics.ObserveLag("merged", 52*time.Hour)

	_, _, text := h.get(t, "/metrics")
	fams := parseMetrics(t, text)
	for _, tc := range []struct {
		attr, branch string
		want         float64
		present      bool
	}{
		{"linux_6_12", "6.12", 36 * 3600, true},
		{"linux_6_6", "6.6", 0, true},
		{"linux_6_18", "6.18", 0, false},       // no release time known
		{"linux_6_17", "6.17", 0, false},       // gone upstream
		{"linux_testing", "testing", 0, false}, // no history
	} {
		got, ok := sample(fams, "kupdate_behind_seconds", map[string]string{"attr": tc.attr, "branch": tc.branch})
		if ok != tc.present || got != tc.want {
			t.Errorf("kupdate_behind_seconds{attr=%q} = %v (present %v), want %v (present %v)", tc.attr, got, ok, tc.want, tc.present)
		}
	}
	// Two hours later on the same state: the gauge moves with the clock.
	h.clock.set(t0.Add(2 * time.Hour))
	_, _, text = h.get(t, "/metrics")
	if got, _ := sample(parseMetrics(t, text), "kupdate_behind_seconds", map[string]string{"attr": "linux_6_12", "branch": "6.12"}); got != 38*3600 {
		t.Errorf("kupdate_behind_seconds{attr=linux_6_12} two hours later = %v, want %v", got, 38*3600)
	}

	hist := fams["kupdate_release_lag_seconds"]
	counts := map[string][2]float64{}
	for _, m := range hist.GetMetric() {
		counts[m.GetLabel()[0].GetValue()] = [2]float64{float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()}
	}
	if want := map[string][2]float64{"proposed": {2, 7 * 3600}, "merged": {1, 52 * 3600}}; !equalCounts(counts, want) {
		t.Errorf("kupdate_release_lag_seconds count and sum by stage = %v, want %v", counts, want)
	}

	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "kupdate_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
}

func equalCounts(a, b map[string][2]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A kept build log is served as text from the state directory, linked
// from its tier on the page; nothing else there is.
func TestBuildLogs(t *testing.T) {
	h := start(t, testConfig())
	busyStatus(t, h)
	dir := filepath.Join(h.lockDir, state.LogDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := "linux_6_18 configfile: failed after 1m4s\nerror: exit status 100\n"
	if err := os.WriteFile(filepath.Join(dir, sampleLog), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.lockDir, "state.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, page := h.get(t, "/")
	if want := `eval passed 3s · configfile failed 1m <a href="/logs/` + sampleLog + `">log</a>`; !strings.Contains(page, want) {
		t.Errorf("page lacks %s", want)
	}
	code, hdr, body := h.get(t, "/logs/"+sampleLog)
	if code != 200 || body != log || hdr.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("GET the log: %d %q\n%s", code, hdr.Get("Content-Type"), body)
	}
	for _, p := range []string{"/logs/missing.log", "/logs/..%2fstate.json", "/logs/state.json", "/logs/%2e%2e%2fstate.json"} {
		if code, _, body := h.get(t, p); code != 404 {
			t.Errorf("GET %s: %d\n%s", p, code, body)
		}
	}
}
