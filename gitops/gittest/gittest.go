// Package gittest serves real git repositories over smart HTTP for tests:
// the git CLI's own http-backend behind net/http/cgi, so clients speak the
// real protocol to real repositories.
package gittest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"strconv"
	"sync/atomic"
)

// Handler serves every bare repository below root at /<name>.git. Pushes and
// partial fetches (uploadpack.allowFilter) are enabled. Hook, when set, sees
// each request first and may answer it itself (return true) to inject a
// fault.
type Handler struct {
	Root string
	Hook func(w http.ResponseWriter, r *http.Request) bool

	requests atomic.Int64
}

// Requests counts the requests served.
func (h *Handler) Requests() int64 { return h.requests.Load() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	if h.Hook != nil && h.Hook(w, r) {
		return
	}
	backend, err := exec.LookPath("git")
	if err != nil {
		http.Error(w, "git not installed", http.StatusInternalServerError)
		return
	}
	// net/http/cgi rejects chunked request bodies, and git sends its pushes
	// chunked: buffer the body so the CGI gets a Content-Length.
	if r.Body != nil && r.ContentLength < 0 {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, fmt.Sprintf("reading request body: %v", err), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	(&cgi.Handler{
		Path: backend,
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + h.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=kupdate-test", // http-backend refuses receive-pack to anonymous users
			// Partial fetches (filter tree:0, blob:none), as GitHub serves them.
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=uploadpack.allowFilter", "GIT_CONFIG_VALUE_0=true",
		},
	}).ServeHTTP(w, r)
}
