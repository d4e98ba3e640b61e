package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/server"
	"github.com/kupdate/kupdate/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// wait bounds every wait of a test: it is a failure guard against a hang,
// never a timing assertion.
const wait = 20 * time.Second

// t0 is when every test's clock starts.
var t0 = time.Date(2026, 11, 2, 10, 5, 0, 0, time.UTC)

// fakeClock is a Clock whose time moves only when the test says. Every timer
// made is announced on timers, so a test knows what the server waits for.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	active []*fakeTimer
	timers chan *fakeTimer
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, timers: make(chan *fakeTimer, 100)}
}

type fakeTimer struct {
	clock    *fakeClock
	deadline time.Time
	d        time.Duration
	c        chan time.Time
	stopped  bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) server.Timer {
	c.mu.Lock()
	t := &fakeTimer{clock: c, deadline: c.now.Add(d), d: d, c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
	} else {
		c.active = append(c.active, t)
	}
	c.mu.Unlock()
	c.timers <- t
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// set moves the clock to now and fires the timers that are due.
func (c *fakeClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	keep := c.active[:0]
	for _, t := range c.active {
		if t.stopped || now.Before(t.deadline) {
			if !t.stopped {
				keep = append(keep, t)
			}
			continue
		}
		t.stopped = true
		t.c <- now
	}
	c.active = keep
}

// fire moves the clock to t's deadline.
func (c *fakeClock) fire(t *fakeTimer) { c.set(t.deadline) }

func (c *fakeClock) nextTimer(t *testing.T) *fakeTimer {
	t.Helper()
	select {
	case tm := <-c.timers:
		return tm
	case <-time.After(wait):
		t.Fatal("the server made no timer")
		return nil
	}
}

// call is one Cycle or Promote in progress: the test ends it by sending its
// result on done.
type call struct {
	step string
	ctx  context.Context
	done chan error
}

// fakeCycler hands every call to the test and counts how many run at once.
type fakeCycler struct {
	started  chan *call
	quit     chan struct{}
	branches []server.BranchStatus
	// What an earlier process left (CycleHistory, PromotionLister).
	earlier    *server.StepStatus
	promotions []server.PromotionStatus
	// lastSuccess is the state's last successful cycle.
	lastSuccess time.Time
	// lag is the state's history per attribute.
	lag         map[string][]state.Release
	suggestions []state.Suggestion

	mu        sync.Mutex
	calls     []string
	active    int
	maxActive int
	panicNext bool
}

func newFakeCycler() *fakeCycler {
	return &fakeCycler{started: make(chan *call), quit: make(chan struct{})}
}

func (f *fakeCycler) Cycle(ctx context.Context) error   { return f.do(ctx, server.StepCycle) }
func (f *fakeCycler) Promote(ctx context.Context) error { return f.do(ctx, server.StepPromote) }

// State is the fake's rows, earlier cycle and promotions as a cycle's
// state has them.
func (f *fakeCycler) State() *state.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.branches == nil && f.earlier == nil && f.promotions == nil && f.lastSuccess.IsZero() {
		return nil
	}
	st := stateOf(f.branches, f.earlier, f.promotions)
	st.Suggestions = f.suggestions
	st.LastSuccess = f.lastSuccess
	for i := range st.Attrs {
		st.Attrs[i].History = f.lag[st.Attrs[i].Attr]
	}
	return st
}

func stateOf(rows []server.BranchStatus, earlier *server.StepStatus, promotions []server.PromotionStatus) *state.State {
	st := &state.State{Version: state.Version}
	pr := func(r *server.PRRef) *state.PR {
		if r == nil {
			return nil
		}
		return &state.PR{Number: r.Number, URL: r.URL, State: state.PRState(r.State)}
	}
	for _, b := range rows {
		st.Attrs = append(st.Attrs, state.Attr{Branch: b.Branch, Attr: b.Attr, Nixpkgs: b.Nixpkgs, Upstream: b.KernelOrg,
			PR: pr(b.PR), Build: b.Build, Checked: b.CheckedAt, Result: b.Reason, Standing: state.Standing(b.Standing), Tiers: b.Tiers})
	}
	if earlier != nil {
		st.Start, st.End, st.OK, st.Error = earlier.Start, earlier.End, earlier.Outcome == server.OutcomeSuccess, earlier.Error
	}
	for _, p := range promotions {
		st.Promotions = append(st.Promotions, state.Promotion{From: p.From, To: p.To, Ahead: p.Ahead, PR: pr(p.PR), Outcome: p.Outcome, Reason: p.Reason})
	}
	return st
}

func (f *fakeCycler) do(ctx context.Context, step string) error {
	f.mu.Lock()
	f.calls = append(f.calls, step)
	f.active++
	f.maxActive = max(f.maxActive, f.active)
	p := f.panicNext
	f.panicNext = false
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active--
		f.mu.Unlock()
	}()
	if p {
		panic("boom")
	}
	c := &call{step: step, ctx: ctx, done: make(chan error)}
	select {
	case f.started <- c:
	case <-f.quit:
		return errors.New("test over")
	}
	select {
	case err := <-c.done:
		return err
	case <-f.quit:
		return errors.New("test over")
	}
}

func (f *fakeCycler) next(t *testing.T, step string) *call {
	t.Helper()
	select {
	case c := <-f.started:
		if c.step != step {
			t.Fatalf("the server started %s, want %s", c.step, step)
		}
		return c
	case <-time.After(wait):
		t.Fatalf("the server did not start a %s", step)
		return nil
	}
}

func (f *fakeCycler) history() (calls []string, maxActive int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...), f.maxActive
}

// harness is a Server serving on a real loopback listener.
type harness struct {
	t       *testing.T
	url     string
	clock   *fakeClock
	cycler  *fakeCycler
	metrics *server.Metrics
	steps   chan server.StepStatus
	logs    *syncBuffer
	lockDir string
	cancel  context.CancelFunc
	done    chan error
}

const secret = "It's a Secret to Everybody"

// testBuild is the build every test server says it runs.
var testBuild = server.BuildInfo{Version: "v1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567", RevisionTime: "2026-10-30T12:00:00Z", GoVersion: "go1.26.0"}

func testConfig() *config.Config {
	cfg := config.Default()
	cfg.Serve.Schedule = "17 * * * *"
	cfg.Serve.Jitter = 0
	cfg.Promote.Enabled = true
	return &cfg
}

// start serves cfg with a fake clock at t0 and a fake cycler. The webhook
// secret is in KUPDATE_WEBHOOK_SECRET unless getenv says otherwise.
func start(t *testing.T, cfg *config.Config, opts ...server.Option) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		clock:   newFakeClock(t0),
		cycler:  newFakeCycler(),
		metrics: server.NewMetrics(prometheus.NewRegistry()),
		steps:   make(chan server.StepStatus, 100),
		logs:    &syncBuffer{},
		lockDir: t.TempDir(),
		done:    make(chan error, 1),
	}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	all := append([]server.Option{
		server.WithClock(h.clock),
		server.WithLockDir(h.lockDir),
		server.WithGetenv(func(k string) string {
			if k == "KUPDATE_WEBHOOK_SECRET" {
				return secret
			}
			return ""
		}),
		server.WithStepDone(func(s server.StepStatus) { h.steps <- s }),
		server.WithBuildInfo(testBuild),
	}, opts...)
	srv, err := server.New(cfg, h.cycler, h.metrics, log, all...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		close(h.cycler.quit)
		select {
		case <-h.done:
		case <-time.After(wait):
			t.Error("Serve did not return")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", h.logs.String())
		}
	})
	return h
}

func (h *harness) step(t *testing.T) server.StepStatus {
	t.Helper()
	select {
	case s := <-h.steps:
		return s
	case <-time.After(wait):
		t.Fatal("no step finished")
		return server.StepStatus{}
	}
}

func (h *harness) served(t *testing.T) error {
	t.Helper()
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
		return err
	case <-time.After(wait):
		t.Fatal("Serve did not return")
		return nil
	}
}

func (h *harness) get(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(h.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func (h *harness) status(t *testing.T) server.Status {
	t.Helper()
	code, _, body := h.get(t, "/status.json")
	if code != http.StatusOK {
		t.Fatalf("/status.json: %d %s", code, body)
	}
	var st server.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/status.json: %v\n%s", err, body)
	}
	return st
}

// webhook posts a delivery signed with sig ("" = signed with the right secret).
func (h *harness) webhook(t *testing.T, event, delivery, body, sig string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", h.url+"/webhook", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if sig == "" {
		sig = sign(secret, body)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	if sig != "-" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sign(key, body string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// idle asserts that nothing runs and nothing waits.
func (h *harness) idle(t *testing.T) {
	t.Helper()
	st := h.status(t)
	if st.Running != nil || len(st.Queued) != 0 {
		t.Errorf("server not idle: running %+v, queued %+v", st.Running, st.Queued)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tableRows is the text of each row (th or td cells) of the table with the
// given id, whitespace collapsed: what a reader of the page sees. It reads
// both the server's HTML and Chromium's serialised DOM.
func tableRows(t *testing.T, page, id string) [][]string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var (
		rows    [][]string
		in      bool
		depth   int // of nested tables inside ours
		cell    *strings.Builder
		current []string
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parsing the page: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "table":
				if in {
					depth++
				}
				for _, a := range tok.Attr {
					if a.Name.Local == "id" && a.Value == id {
						in = true
					}
				}
			case "tr":
				if in {
					current = []string{}
				}
			case "td", "th":
				if in {
					cell = &strings.Builder{}
				}
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "table":
				if in && depth == 0 {
					return rows
				}
				depth--
			case "tr":
				if in && current != nil {
					rows = append(rows, current)
					current = nil
				}
			case "td", "th":
				if in && cell != nil {
					current = append(current, strings.Join(strings.Fields(cell.String()), " "))
					cell = nil
				}
			}
		case xml.CharData:
			if cell != nil {
				cell.Write(tok)
			}
		}
	}
	if !in {
		t.Fatalf("no table with id %q in the page", id)
	}
	return rows
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}
