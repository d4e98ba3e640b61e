package server

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/state"
)

//go:embed status.html.tmpl
var pageFS embed.FS

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveStatusPage)
	mux.HandleFunc("GET /status.json", s.serveStatusJSON)
	mux.HandleFunc("GET /healthz", s.serveHealthz)
	mux.HandleFunc("GET /logs/{name}", s.serveLog)
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("POST /webhook", s.serveWebhook)
	return mux
}

// serveHealthz answers 200 "ok" unless a step has been running for longer
// than serve.stuck_after: a wedged cycle (a hung nix-build, a dead remote
// builder) is what restarting the service fixes. Failing cycles do not make
// it unhealthy — a restart does not fix them; the status page and
// kupdate_cycles_total{outcome="failure"} report them.
func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	running := clone(s.running)
	now := s.clock.Now()
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if running != nil {
		if ran := now.Sub(running.Start); ran > s.cfg.StuckAfter.D() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "stuck: the %s started %s (trigger: %s) has been running for %s, longer than serve.stuck_after (%s)\n",
				running.Step, running.Start.UTC().Format(time.RFC3339), running.Trigger, ran.Round(time.Second), s.cfg.StuckAfter.D())
			return
		}
	}
	fmt.Fprintln(w, "ok")
}

// serveLog serves a build log the cycle kept in the state directory (the
// lock's directory): a plain file name ending in .log, nothing else.
func (s *Server) serveLog(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !validLogName(name) {
		http.NotFound(w, r)
		return
	}
	b, err := os.ReadFile(filepath.Join(s.lockDir, state.LogDir, name))
	if err != nil {
		http.Error(w, "no such log (kupdate keeps the last "+strconv.Itoa(state.MaxLogs)+")", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.Write(b)
}

// validLogName: a name the cycle gives a log (time-attr-tier.log), never a
// path.
func validLogName(name string) bool {
	if !strings.HasSuffix(name, ".log") || strings.HasPrefix(name, ".") {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (s *Server) serveStatusJSON(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // an API, not a page: "->" stays readable
	if err := enc.Encode(s.Status()); err != nil {
		http.Error(w, "status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (s *Server) serveStatusPage(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	// Rendered in full before anything is written, so a template error is a
	// 500 rather than half a page.
	if err := s.page.Execute(&buf, s.Status()); err != nil {
		s.log.Error("status page", "error", err)
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page is self-contained: no scripts, no external anything.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(buf.Bytes())
}

func parsePage() (*template.Template, error) {
	t, err := template.New("status.html.tmpl").Funcs(template.FuncMap{
		"when":      when,
		"rel":       rel,
		"dur":       humanDuration,
		"rowClass":  rowClass,
		"standing":  standingWord,
		"behindAge": behindAge,
		"after":     after,
		"history":   historyRows,
		"lagChart":  lagChart,
		"ms":        func(ms int64) string { return humanDuration(time.Duration(ms) * time.Millisecond) },
		"lower":     strings.ToLower,
		"contains":  strings.Contains,
		"withNow":   func(now time.Time, s *StepStatus) stepView { return stepView{*s, now} },
		"success":   func(o string) bool { return o == OutcomeSuccess },
	}).ParseFS(pageFS, "status.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("server: status page template: %w", err)
	}
	return t, nil
}

// behind reports whether kernel.org offers a newer version than nixpkgs has
// (or one nixpkgs does not package yet).
func behind(b BranchStatus) bool {
	if b.KernelOrg == "" {
		return false
	}
	up, err1 := kernelorg.ParseVersion(b.KernelOrg)
	have, err2 := kernelorg.ParseVersion(b.Nixpkgs)
	if err1 != nil || err2 != nil {
		return b.Nixpkgs != b.KernelOrg
	}
	return have.Less(up)
}

// stepView is a step with the page's now, for the "step" template.
type stepView struct {
	StepStatus
	Now time.Time
}

// when is a time as the page shows it: UTC, to the minute, so maintainers in
// any time zone read the same thing.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// rel is t relative to now: "12m ago", "in 58m", "just now".
func rel(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Minute && d < time.Minute:
		return "just now"
	case d > 0:
		return "in " + humanDuration(d)
	default:
		return humanDuration(-d) + " ago"
	}
}

// humanDuration rounds d to what a reader needs: "45s", "12m", "5h12m", "3d4h".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
}
