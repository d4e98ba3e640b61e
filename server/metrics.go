package server

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kupdate/kupdate/state"
)

// Outcomes of a step (a cycle or a promotion), as kupdate_cycles_total and
// kupdate_promotions_total label them and the status page shows them.
const (
	OutcomeSuccess   = "success"
	OutcomeFailure   = "failure"
	OutcomeCancelled = "cancelled" // stopped by shutdown
	OutcomeLocked    = "locked"    // another process held the state-directory lock
	OutcomeSkipped   = "skipped"   // a scheduled tick came while the previous cycle still ran
)

// Metrics are kupdate's Prometheus metrics, registered on a registry of the
// caller's (never the global one, so tests and several servers in one
// process do not collide). The server records cycles, promotions and webhook
// deliveries itself; the cycle's wiring records changes and builds with the
// Observe methods and counts HTTP traffic by wrapping its transports.
//
// A nil *Metrics is valid and records nothing.
type Metrics struct {
	reg *prometheus.Registry

	cycles          *prometheus.CounterVec
	promotions      *prometheus.CounterVec
	cycleDuration   prometheus.Histogram
	lastSuccess     prometheus.Gauge
	changes         *prometheus.CounterVec
	builds          *prometheus.CounterVec
	upstreamReqs    *prometheus.CounterVec
	upstreamBytes   prometheus.Counter
	githubReqs      *prometheus.CounterVec
	githubRemaining prometheus.Gauge
	webhooks        *prometheus.CounterVec
	buildInfo       *prometheus.GaugeVec
	releaseLag      *prometheus.HistogramVec
	behind          *behindCollector
}

// NewMetrics creates the metrics and registers them, with the Go runtime and
// process collectors, on reg.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupdate_cycles_total",
			Help: "Scheduled cycles by outcome: success, failure, cancelled (shutdown), locked (another process held the lock), skipped (the previous cycle still ran).",
		}, []string{"outcome"}),
		promotions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupdate_promotions_total",
			Help: "Promotion steps by outcome, whoever ran them: a webhook, or a scheduled cycle with promote.enabled.",
		}, []string{"outcome"}),
		cycleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kupdate_cycle_duration_seconds",
			Help: "Wall time of cycles that ran (success, failure or cancelled).",
			// 1s (nothing to do) up to 18h (every kernel built and tested).
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kupdate_last_success_timestamp_seconds",
			Help: "Unix time the last successful cycle ended; alert on time() minus this.",
		}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupdate_changes_total",
			Help: "Planned changes by kind (bump, init, remove, hardened-bump, hardened-init) and outcome.",
		}, []string{"kind", "outcome"}),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupdate_build_results_total",
			Help: "Build results by tier (eval, configfile, kernel, test) and status (passed, failed, skipped, timed-out, cancelled).",
		}, []string{"tier", "status"}),
		upstreamReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupdate_upstream_requests_total",
			Help: "HTTP requests to kernel.org by status code (\"error\" when no response came).",
		}, []string{"code"}),
		upstreamBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kupdate_upstream_response_bytes_total",
			Help: "Response body bytes read from kernel.org.",
		}),
		githubReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupdate_github_requests_total",
			Help: "GitHub API requests by status code (\"error\" when no response came).",
		}, []string{"code"}),
		githubRemaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kupdate_github_rate_limit_remaining",
			Help: "X-RateLimit-Remaining of the last GitHub API response that had one.",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupdate_webhook_deliveries_total",
			Help: "GitHub webhook deliveries by event and result: triggered, pending (a promotion was already queued), duplicate (a delivery already acted on, posted again), ignored, ok (ping), rejected (signature, size, payload), disabled (no secret), unavailable (shutting down).",
		}, []string{"event", "result"}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kupdate_build_info",
			Help: "Always 1; the labels name the running build: version, revision (the commit, empty when the build recorded none) and goversion.",
		}, []string{"version", "revision", "goversion"}),
		releaseLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kupdate_release_lag_seconds",
			Help: "Time from kernel.org's release of a version to the stage it reached: proposed (kupdate's PR carried it), merged (it was at the base branch), promoted (the promotion target had it).",
			// 15 min up to 28 days.
			Buckets: []float64{900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400, 28 * 86400},
		}, []string{"stage"}),
		behind: newBehindCollector(),
	}
	reg.MustRegister(m.releaseLag, m.behind, m.cycles, m.promotions, m.cycleDuration, m.lastSuccess, m.changes, m.builds,
		m.upstreamReqs, m.upstreamBytes, m.githubReqs, m.githubRemaining, m.webhooks, m.buildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Zero series from the start, so rate() and alerts see them before the
	// first cycle.
	for _, o := range []string{OutcomeSuccess, OutcomeFailure, OutcomeCancelled, OutcomeLocked, OutcomeSkipped} {
		m.cycles.WithLabelValues(o)
		m.promotions.WithLabelValues(o)
	}
	return m
}

// SetBuildInfo makes kupdate_build_info name b, the one build running:
// the usual Prometheus *_build_info gauge, joined on its labels to say
// which version a series came from.
func (m *Metrics) SetBuildInfo(b BuildInfo) {
	if m == nil {
		return
	}
	m.buildInfo.Reset()
	m.buildInfo.WithLabelValues(b.Version, b.Revision, b.GoVersion).Set(1)
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// ObserveChange counts one change of a cycle: kind is the updater.Kind
// ("bump", "init", ...), outcome what became of it, e.g. "committed",
// "pr-opened", "pr-updated", "build-failed", "not-yet", "failed".
func (m *Metrics) ObserveChange(kind, outcome string) {
	if m != nil {
		m.changes.WithLabelValues(kind, outcome).Inc()
	}
}

// ObserveBuild counts one build result: tier as in build.tiers, status a
// build.Status ("passed", "failed", "skipped", "timed-out", "cancelled").
func (m *Metrics) ObserveBuild(tier, status string) {
	if m != nil {
		m.builds.WithLabelValues(tier, status).Inc()
	}
}

// InstrumentUpstream wraps the transport of the kernel.org client: it counts
// requests by status code and the response bytes read.
func (m *Metrics) InstrumentUpstream(rt http.RoundTripper) http.RoundTripper {
	if m == nil {
		return rt
	}
	return countingTransport{next: orDefault(rt), requests: m.upstreamReqs, bytes: m.upstreamBytes}
}

// InstrumentGitHub wraps the transport of the GitHub client (put it below the
// auth transport): it counts requests by status code and records the
// remaining rate limit.
func (m *Metrics) InstrumentGitHub(rt http.RoundTripper) http.RoundTripper {
	if m == nil {
		return rt
	}
	return countingTransport{next: orDefault(rt), requests: m.githubReqs, remaining: m.githubRemaining}
}

// ObservePromotion counts a promotion step a cycle ran (promote.enabled):
// outcome is OutcomeSuccess, OutcomeFailure or OutcomeCancelled. The
// server counts the steps a webhook triggered itself.
func (m *Metrics) ObservePromotion(outcome string) {
	if m != nil {
		m.promotions.WithLabelValues(outcome).Inc()
	}
}

// ObserveLag records that a version reached stage ("proposed", "merged",
// "promoted") d after kernel.org released it.
func (m *Metrics) ObserveLag(stage string, d time.Duration) {
	if m != nil {
		m.releaseLag.WithLabelValues(stage).Observe(d.Seconds())
	}
}

// SeedLastSuccess sets kupdate_last_success_timestamp_seconds to t, the
// end of the last successful cycle a state file recorded, so a restart
// does not read as "never succeeded". A zero t leaves it alone.
func (m *Metrics) SeedLastSuccess(t time.Time) {
	if m != nil && !t.IsZero() {
		m.lastSuccess.Set(float64(t.UnixNano()) / 1e9)
	}
}

func (m *Metrics) watchBehind(st func() *state.State, now func() time.Time) {
	if m != nil {
		m.behind.watch(st, now)
	}
}

func (m *Metrics) stepDone(step, outcome string, took time.Duration, end time.Time) {
	if m == nil {
		return
	}
	if step == StepPromote {
		m.promotions.WithLabelValues(outcome).Inc()
		return
	}
	m.cycles.WithLabelValues(outcome).Inc()
	switch outcome {
	case OutcomeSuccess, OutcomeFailure, OutcomeCancelled:
		m.cycleDuration.Observe(took.Seconds())
	}
	if outcome == OutcomeSuccess {
		m.lastSuccess.Set(float64(end.UnixNano()) / 1e9)
	}
}

func (m *Metrics) webhook(event, result string) {
	if m != nil {
		m.webhooks.WithLabelValues(event, result).Inc()
	}
}

func orDefault(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

type countingTransport struct {
	next      http.RoundTripper
	requests  *prometheus.CounterVec
	bytes     prometheus.Counter // nil: not counted
	remaining prometheus.Gauge   // nil: not recorded
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.requests.WithLabelValues("error").Inc()
		return resp, err
	}
	t.requests.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
	if t.remaining != nil {
		if n, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining")); err == nil {
			t.remaining.Set(float64(n))
		}
	}
	if t.bytes != nil && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: t.bytes}
	}
	return resp, nil
}

// countingBody counts bytes as the client reads them, so a download that is
// abandoned halfway counts what actually came over the wire.
type countingBody struct {
	io.ReadCloser
	n prometheus.Counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(float64(n))
	return n, err
}
