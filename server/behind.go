package server

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kupdate/kupdate/state"
)

// behindCollector is kupdate_behind_seconds, read from the last state at
// each scrape: per attribute, how long ago kernel.org released the version
// the base branch still lacks (0 when it has the newest).
type behindCollector struct {
	desc *prometheus.Desc

	mu    sync.Mutex
	state func() *state.State // nil: no series
	now   func() time.Time
}

func newBehindCollector() *behindCollector {
	return &behindCollector{desc: prometheus.NewDesc("kupdate_behind_seconds",
		"Seconds since kernel.org released the newest version of a kernel the base branch does not have yet; 0 when it has it. Kernels kupdate does not carry, and versions without a known release time, have no series.",
		[]string{"attr", "branch"}, nil)}
}

// watch makes the collector read st at each scrape, against now.
func (b *behindCollector) watch(st func() *state.State, now func() time.Time) {
	b.mu.Lock()
	b.state, b.now = st, now
	b.mu.Unlock()
}

func (b *behindCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *behindCollector) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	read, now := b.state, b.now
	b.mu.Unlock()
	if read == nil {
		return
	}
	st := read()
	if st == nil {
		return
	}
	at := now()
	for _, a := range st.Attrs {
		if d, ok := Behind(a, at); ok {
			ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, d.Seconds(), a.Attr, a.Branch)
		}
	}
}

// Behind is how long the base branch has lacked a's newest upstream
// version at now: since kernel.org released it, 0 when the base has it.
// ok is false for an attribute nixpkgs does not carry, one whose upstream
// is gone (EOL), and a version whose release time is not known.
func Behind(a state.Attr, now time.Time) (d time.Duration, ok bool) {
	switch {
	case a.Nixpkgs == "" || a.Upstream == "":
		return 0, false
	case a.Nixpkgs == a.Upstream:
		return 0, true
	}
	r := a.Find(a.Upstream)
	if r == nil || r.Released.IsZero() {
		return 0, false
	}
	return max(now.Sub(r.Released), 0), true
}
