package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/state"
)

type benchCycler struct{ branches []BranchStatus }

func (benchCycler) Cycle(context.Context) error   { return nil }
func (benchCycler) Promote(context.Context) error { return nil }
func (c benchCycler) State() *state.State {
	st := &state.State{Version: state.Version}
	for _, b := range c.branches {
		st.Attrs = append(st.Attrs, state.Attr{Branch: b.Branch, Attr: b.Attr, Nixpkgs: b.Nixpkgs, Upstream: b.KernelOrg,
			PR: &state.PR{Number: b.PR.Number, URL: b.PR.URL, State: state.PRState(b.PR.State)}, Build: b.Build, Checked: b.CheckedAt, Result: b.Reason})
	}
	return st
}

func benchServer(b *testing.B) *Server {
	cfg := config.Default()
	cfg.Promote.Enabled = true
	var rows []BranchStatus
	for i := range 20 { // more branches than nixpkgs ever carries at once
		rows = append(rows, BranchStatus{
			Branch: fmt.Sprintf("6.%d", i), Attr: fmt.Sprintf("linux_6_%d", i), Nixpkgs: fmt.Sprintf("6.%d.10", i), KernelOrg: fmt.Sprintf("6.%d.11", i),
			PR: &PRRef{Number: 460000 + i, URL: "https://github.com/NixOS/nixpkgs/pull/1", State: "open"}, Build: "passed",
			CheckedAt: time.Now().Add(-time.Minute), Reason: "6.x.10 -> 6.x.11 in the rolling PR",
		})
	}
	s, err := New(&cfg, benchCycler{rows}, nil, nil, WithLockDir(b.TempDir()),
		WithGetenv(func(string) string { return "bench-secret" }))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStatusPage renders / with 20 branches.
func BenchmarkStatusPage(b *testing.B) {
	h := benchServer(b).Handler()
	req := httptest.NewRequest("GET", "/", nil)
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkWebhook verifies and decides on a signed pull_request delivery
// that is ignored (so nothing queues): the cost of one delivery.
func BenchmarkWebhook(b *testing.B) {
	h := benchServer(b).Handler()
	body := `{"action":"opened","number":8,"pull_request":{"base":{"ref":"staging-nixos"},"title":"` + strings.Repeat("x", 20000) + `"},"repository":{"full_name":"NixOS/nixpkgs"}}`
	mac := hmac.New(sha256.New, []byte("bench-secret"))
	mac.Write([]byte(body))
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest("POST", "/webhook", strings.NewReader(body))
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.Set("X-Hub-Signature-256", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
