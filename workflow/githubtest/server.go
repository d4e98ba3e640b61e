// Package githubtest is a GitHub simulator: an httptest server that speaks
// the subset of GitHub's REST API kupdate uses, with real state behind it.
//
// Repositories are real bare git repositories, served over smart HTTP on the
// same server (gitops/gittest), so pushes land in them and every ref the API
// reports is read from them; merging a pull request makes a real merge
// commit with the git CLI. Pull requests, labels, reviews, comments, commit
// statuses, check runs, branch protection and merge queues are kept in
// memory. Every API answer carries rate-limit headers and an ETag; a request
// with a matching If-None-Match gets 304 and does not count against the
// limit, as on GitHub. Fault knobs inject rate limits, 5xx, 422 and slow
// answers. Every API request is recorded so tests can assert the exact calls.
//
// Under go test the simulator is held to GitHub's published contract
// (contract.go): each request is validated against the GitHub operation its
// route serves and each answer against that operation's documented
// response, and Close panics with what did not match, failing the test.
//
// Layout (go-github talks to it unmodified, via WithEnterpriseURLs(URL, URL)
// or WithURLs(APIURL)):
//
//	{URL}/api/v3/...           the REST API (GitHub Enterprise layout)
//	{URL}/api/graphql          GraphQL: only the documents kupdate sends (merge queue, convert to draft)
//	{URL}/{owner}/{repo}.git   git smart HTTP
//
// The simulator needs no *testing.T: `kupdate demo` runs on it too.
package githubtest

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kupdate/kupdate/gitops/gittest"
)

// Options configure a Server.
type Options struct {
	// Root holds the bare repositories, as Root/{owner}/{repo}.git. Empty: a
	// temporary directory that Close removes.
	Root string
	// Clock stamps API objects (created_at, merge commit dates). nil: time.Now.
	Clock func() time.Time
	// RateLimit is the primary rate limit per window (default 5000), and
	// RateWindow the window (default 1h). Rate-limit timing uses the real
	// clock, since clients really wait for it.
	RateLimit  int
	RateWindow time.Duration
	// UnsharedForks makes ForkRepo copy the parent's objects once, as a
	// fork hosted apart from its upstream would be: a commit made upstream
	// later (a merged PR) is then missing from the fork, and a push that
	// builds on it without sending it is refused ("missing necessary
	// objects"). By default a fork shares its parent's object store, as on
	// GitHub, where every repository of a fork network sees the others'
	// objects.
	UnsharedForks bool
}

// Request is one API request the server answered.
type Request struct {
	Method string
	Path   string // below the API prefix, as sent: /repos/NixOS/nixpkgs/pulls; GraphQL is /graphql
	Query  string // raw query string
	Op     string // GraphQL operation name
	Status int
	// Counted is whether the request counted against the primary rate limit:
	// a 304, a fault and a rate-limit refusal do not.
	Counted bool
}

func (r Request) String() string {
	s := r.Method + " " + r.Path
	if r.Query != "" {
		s += "?" + r.Query
	}
	if r.Op != "" {
		s += " " + r.Op
	}
	return s
}

// Fault makes the server answer matching requests with an error (or late).
type Fault struct {
	Method string // "" matches any method
	// Path is an API path below the prefix (/repos/o/r/pulls); a trailing "*"
	// matches a prefix; "" matches any path.
	Path  string
	Times int // how many requests the fault answers; 0 means 1
	// Status is the answer: 5xx, 422, or 403/429 for rate limits. 0 answers
	// normally (after Delay).
	Status int
	// RetryAfter (seconds) makes a 403/429 a secondary rate limit with a
	// Retry-After header, or with Primary, a primary rate limit whose
	// X-RateLimit-Reset is that many seconds away.
	RetryAfter int
	Primary    bool
	Message    string        // GitHub's message; a default per status when empty
	Delay      time.Duration // answer late (cancelled with the request)
	// AfterApply performs the request and then answers the fault, as when a
	// proxy fails after GitHub committed the write: a client that retries
	// blindly duplicates it.
	AfterApply bool
}

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	git     *gittest.Handler
	mux     *http.ServeMux
	root    string
	ownRoot bool
	clock   func() time.Time
	// unshared: forks copy their parent's objects instead of sharing them
	// (Options.UnsharedForks).
	unshared bool

	mu       sync.Mutex
	repos    map[string]*repo // "owner/name"
	nextID   int64
	requests []Request
	faults   []*Fault
	rate     rateState
	tokens   map[string]string // personal access token -> login
	apps     map[int64]*app
	instTok  map[string]*installationToken
	releases map[string][]*release // "owner/name" -> releases, oldest first (releases.go)
	teams    map[string]int64      // "org/slug" -> team id (timeline.go)

	// The contract (contract.go): the routes by full ServeMux pattern, the
	// description (nil outside go test), what did not match it and what
	// was checked.
	routeTable map[string]*route
	contract   *contract
	violations []string
	checked    contractStats
}

type rateState struct {
	limit, remaining int
	window           time.Duration
	reset            time.Time
}

// New starts a simulator.
func New(opts Options) (*Server, error) {
	s := &Server{
		root:     opts.Root,
		clock:    opts.Clock,
		unshared: opts.UnsharedForks,
		repos:    map[string]*repo{},
		tokens:   map[string]string{},
		apps:     map[int64]*app{},
		instTok:  map[string]*installationToken{},
		teams:    map[string]int64{},
		nextID:   1000,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.rate.limit = opts.RateLimit
	if s.rate.limit <= 0 {
		s.rate.limit = 5000
	}
	s.rate.window = opts.RateWindow
	if s.rate.window <= 0 {
		s.rate.window = time.Hour
	}
	s.rate.remaining = s.rate.limit
	if s.root == "" {
		dir, err := os.MkdirTemp("", "githubtest-")
		if err != nil {
			return nil, fmt.Errorf("githubtest: %w", err)
		}
		s.root, s.ownRoot = dir, true
	}
	s.git = &gittest.Handler{Root: s.root}
	s.mux = http.NewServeMux()
	s.routeTable = map[string]*route{}
	s.routes()
	if testing.Testing() {
		// Under go test the simulator is held to GitHub's contract; the
		// demo is not (kupdate demo has no test to fail).
		if err := s.holdToContract(); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.srv = httptest.NewServer(s)
	return s, nil
}

// Close stops the server and removes a temporary root. Under go test it
// panics with the contract violations nobody took with CheckContract: the
// test that owns the server fails, naming each operation and field.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
	if s.ownRoot {
		os.RemoveAll(s.root)
	}
	s.reportStats()
	if err := s.CheckContract(); err != nil {
		panic(err)
	}
}

// URL is the server root: the web and git host.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the REST API base URL, with its trailing slash (config
// github.api_url).
func (s *Server) APIURL() string { return s.srv.URL + "/api/v3/" }

// GitURL is where the repository is served over smart HTTP.
func (s *Server) GitURL(owner, name string) string {
	return s.srv.URL + "/" + owner + "/" + name + ".git"
}

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Requests returns the API requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// AddFault installs a fault; faults are tried in the order added.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// SetRateRemaining sets what is left of the primary rate limit and when the
// window resets. At 0 the server refuses requests with 403 until then.
func (s *Server) SetRateRemaining(remaining int, resetIn time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate.remaining = remaining
	s.rate.reset = time.Now().Add(resetIn)
}

// AddToken accepts a personal access token for login. Once any token or app
// is registered, requests without valid credentials get 401.
func (s *Server) AddToken(token, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = login
}

// AddApp registers a GitHub App with one installation: JWTs signed with the
// private key of pub may exchange for installation tokens, whose requests act
// as "{slug}[bot]" and may create check runs.
func (s *Server) AddApp(appID, installationID int64, slug string, pub *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[appID] = &app{id: appID, installation: installationID, slug: slug, key: pub}
}

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) now() time.Time { return s.clock().UTC().Truncate(time.Second) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.serveAPI(w, r)
		return
	}
	if s.serveReleaseAsset(w, r) || s.serveArchive(w, r) {
		return
	}
	s.git.ServeHTTP(w, r)
}

// caller is who sent an API request.
type caller struct {
	login string
	app   bool // an installation token: may create check runs
}

// call is one API request being answered.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	who    caller
	op     string // GraphQL operation name
	status int
}

func (c *call) json(status int, v any) {
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.w.WriteHeader(status)
	c.status = status
	enc := json.NewEncoder(c.w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// fail answers an error in GitHub's shape.
func (c *call) fail(status int, message string, errs ...map[string]string) {
	body := map[string]any{"message": message, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	c.json(status, body)
}

// invalid answers 422 Validation Failed with one error.
func (c *call) invalid(resource, field, code, message string) {
	e := map[string]string{"resource": resource, "code": code}
	if field != "" {
		e["field"] = field
	}
	if message != "" {
		e["message"] = message
	}
	c.fail(http.StatusUnprocessableEntity, "Validation Failed", e)
}

// decode reads the request body into v. As on GitHub, a body that is not
// JSON is 400 Problems parsing JSON, a field of the wrong type 422.
// invalidSimple answers 422 in the shape the operations that document
// validation_failed_simple give it (creating a review): errors are strings.
func (c *call) invalidSimple(errs ...string) {
	c.json(http.StatusUnprocessableEntity, map[string]any{
		"message": "Unprocessable Entity", "documentation_url": "https://docs.github.com/rest", "status": "422", "errors": errs,
	})
}

func (c *call) decode(v any) bool {
	err := json.NewDecoder(c.r.Body).Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		c.fail(http.StatusUnprocessableEntity, fmt.Sprintf("Invalid request.\n\nFor 'properties/%s', %s is not a %s.", te.Field, te.Value, te.Type.Kind()))
		return false
	case err != nil:
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// route registers an API handler; pattern is "METHOD /path" below /api/v3,
// op the operationId of the GitHub operation it serves ("graphql" for the
// GraphQL endpoint).
func (s *Server) route(pattern, op string, h func(*call)) {
	method, path, _ := strings.Cut(pattern, " ")
	full := "/api/v3" + path
	if path == "/graphql" {
		full = "/api/graphql"
	}
	s.routeTable[method+" "+full] = &route{method: method, pattern: path, op: op, wild: wildcards(path)}
	s.mux.HandleFunc(method+" "+full, func(w http.ResponseWriter, r *http.Request) {
		c := r.Context().Value(callKey{}).(*call)
		c.w, c.r = w, r // r carries the path values
		h(c)
	})
}

type callKey struct{}

// recorder buffers an answer so the middleware can turn it into a 304.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func apiPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "/api/graphql" {
		return "/graphql"
	}
	return strings.TrimPrefix(p, "/api/v3")
}

// serveAPI answers an API request; under go test it holds the exchange to
// GitHub's contract before the client sees the answer, so a violation is
// recorded before the test that caused it can end.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if s.contract == nil {
		s.api(w, r)
		return
	}
	body, _ := readAll(r)
	r.Body = nopCloser{bytes.NewReader(body)}
	out := &recorder{header: w.Header()}
	handled := s.api(out, r)
	if out.status == 0 {
		return // the client went away before the answer
	}
	s.checkExchange(r, &exchange{r: r, body: body, status: out.status, header: out.header, answer: out.body.Bytes(), handled: handled})
	w.WriteHeader(out.status)
	w.Write(out.body.Bytes())
}

// api is the middleware every API request goes through: fault injection,
// authentication, the primary rate limit, ETags and the request record.
// handled is whether the answer is the operation handler's (not a fault's,
// the rate limit's, authentication's or a 304).
func (s *Server) api(w http.ResponseWriter, r *http.Request) (handled bool) {
	path := apiPath(r)
	rec := Request{Method: r.Method, Path: path, Query: r.URL.RawQuery}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}()

	if r.Body != nil {
		// Buffer the body: an AfterApply fault and GraphQL both read it.
		b, _ := readAll(r)
		r.Body = nopCloser{bytes.NewReader(b)}
		if path == "/graphql" {
			rec.Op = graphqlOperation(b)
		}
	}

	s.mu.Lock()
	f := s.matchFault(r.Method, path)
	s.mu.Unlock()
	if f != nil && f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			rec.Status = 499
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if f != nil && f.Status != 0 && !f.AfterApply {
		rec.Status = s.writeFault(w, f)
		return
	}

	who, ok := s.authenticate(r, path)
	if !ok {
		s.rateHeaders(w.Header(), "core")
		rec.Status = http.StatusUnauthorized
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}

	resource := "core"
	if path == "/graphql" {
		resource = "graphql"
	}
	now := time.Now()
	if !now.Before(s.rate.reset) {
		s.rate.remaining = s.rate.limit
		s.rate.reset = now.Add(s.rate.window)
	}
	if s.rate.remaining <= 0 {
		s.rateHeaders(w.Header(), resource)
		rec.Status = http.StatusForbidden
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "API rate limit exceeded for installation. Wait for the limit to reset.",
			"documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
		})
		return
	}

	rw := &recorder{header: http.Header{}}
	c := &call{s: s, w: rw, r: r, who: who}
	s.mux.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
	rec.Op = firstNonEmpty(c.op, rec.Op)
	if rw.status == 0 {
		rw.status = http.StatusOK
	}

	if f != nil && f.Status != 0 { // AfterApply: the work is done, the answer is lost
		rec.Status = s.writeFault(w, f)
		return
	}

	h := w.Header()
	for k, v := range rw.header {
		h[k] = v
	}
	if r.Method == http.MethodGet && rw.status == http.StatusOK {
		sum := sha256.Sum256(rw.body.Bytes())
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			s.rateHeaders(h, resource)
			rec.Status = http.StatusNotModified
			h.Del("Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	s.rate.remaining--
	rec.Counted = true
	s.rateHeaders(h, resource)
	rec.Status = rw.status
	w.WriteHeader(rw.status)
	w.Write(rw.body.Bytes())
	return true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

func (s *Server) rateHeaders(h http.Header, resource string) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.rate.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(s.rate.remaining, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.rate.limit-max(s.rate.remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.rate.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", resource)
}

// matchFault returns the first live fault for the request and uses it up.
func (s *Server) matchFault(method, path string) *Fault {
	for i, f := range s.faults {
		if f.Method != "" && f.Method != method {
			continue
		}
		if f.Path != "" {
			if prefix, ok := strings.CutSuffix(f.Path, "*"); ok {
				if !strings.HasPrefix(path, prefix) {
					continue
				}
			} else if f.Path != path {
				continue
			}
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) int {
	h := w.Header()
	msg := f.Message
	switch {
	case (f.Status == http.StatusForbidden || f.Status == http.StatusTooManyRequests) && f.Primary:
		if msg == "" {
			msg = "API rate limit exceeded for user ID 1."
		}
		s.rateHeaders(h, "core")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", strconv.Itoa(s.rate.limit))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Duration(f.RetryAfter)*time.Second).Unix(), 10))
		writeJSON(w, f.Status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"})
	case f.Status == http.StatusForbidden || f.Status == http.StatusTooManyRequests:
		if msg == "" {
			msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
		}
		s.rateHeaders(h, "core")
		if f.RetryAfter > 0 {
			h.Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		writeJSON(w, f.Status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
	case f.Status == http.StatusUnprocessableEntity:
		if msg == "" {
			msg = "Validation failed"
		}
		s.rateHeaders(h, "core")
		writeJSON(w, f.Status, map[string]any{
			"message":           "Validation Failed",
			"errors":            []map[string]string{{"resource": "Issue", "code": "custom", "message": msg}},
			"documentation_url": "https://docs.github.com/rest",
		})
	default:
		if msg == "" {
			msg = http.StatusText(f.Status)
		}
		writeJSON(w, f.Status, map[string]string{"message": msg})
	}
	return f.Status
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// authenticate finds the caller. With no credentials registered anyone may
// call, as "kupdate".
func (s *Server) authenticate(r *http.Request, path string) (caller, bool) {
	if strings.HasPrefix(path, "/app/") {
		return caller{}, true // the handler verifies the app's JWT itself
	}
	auth := r.Header.Get("Authorization")
	tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(auth, "Bearer "), "token "))
	if login, ok := s.tokens[tok]; ok && tok != "" {
		return caller{login: login}, true
	}
	if it, ok := s.instTok[tok]; ok && tok != "" && time.Now().Before(it.expires) {
		return caller{login: it.app.slug + "[bot]", app: true}, true
	}
	if len(s.tokens) == 0 && len(s.apps) == 0 {
		return caller{login: "kupdate"}, true
	}
	return caller{}, false
}

// repoDir is where the bare repository lives.
func (s *Server) repoDir(owner, name string) string {
	return filepath.Join(s.root, owner, name+".git")
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	r.Body.Close()
	return b.Bytes(), err
}
