package githubtest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The simulator is held to GitHub's published contract: under go test, every
// API request it receives is validated against the operation it matches in
// GitHub's OpenAPI description (path parameters, query, body), and every
// answer it sends against that operation's documented response for its
// status; GraphQL documents, variables and answers against GitHub's public
// schema. A mismatch is recorded as a violation naming the operation and the
// field; Close panics with those nobody took (CheckContract), which fails the
// test that owns the server. The descriptions are trimmed copies of
// @octokit/openapi and @octokit/graphql-schema, written only by
// internal/refresh.

//go:embed testdata/contract/api.github.com.json
var restDescription []byte

//go:embed testdata/contract/schema.graphql
var graphqlSchema string

// contract is GitHub's description, parsed. It is read-only once loaded and
// shared by every server of the process: parsing it is the expensive part.
type contract struct {
	doc        *openapi3.T
	ops        map[string]*routers.Route // by operationId
	gql        *ast.Schema
	basicError *openapi3.Schema // GitHub's error body, any operation's 5xx and rate limits
}

// loadContract parses the descriptions once per process. It is the one piece
// of package state: an immutable cache, so that a test binary starting a
// hundred simulators parses 600 KB of JSON once.
var loadContract = sync.OnceValues(func() (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(restDescription)
	if err != nil {
		return nil, fmt.Errorf("githubtest: GitHub's OpenAPI description: %w", err)
	}
	c := &contract{doc: doc, ops: map[string]*routers.Route{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			c.ops[op.OperationID] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	if ref := doc.Components.Schemas["basic-error"]; ref != nil {
		c.basicError = ref.Value
	} else {
		return nil, errors.New("githubtest: GitHub's OpenAPI description has no basic-error schema")
	}
	c.gql, err = gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: graphqlSchema})
	if err != nil {
		return nil, fmt.Errorf("githubtest: GitHub's GraphQL schema: %w", err)
	}
	return c, nil
})

// route is one API route of the simulator and the GitHub operation it
// serves.
type route struct {
	method, pattern string   // pattern below /api/v3, as registered
	op              string   // operationId; "graphql" for POST /graphql
	wild            []string // the pattern's wildcards, in order
	params          []string // the operation's path parameters, in the same order
}

// checkRoutes binds each route to its operation: same method, same literal
// segments, as many path parameters. A route without one cannot be
// validated, so it is refused when the server starts.
func (c *contract) checkRoutes(rs []*route) error {
	var errs []error
	for _, rt := range rs {
		if rt.op == "graphql" {
			continue
		}
		op := c.ops[rt.op]
		if op == nil {
			errs = append(errs, fmt.Errorf("route %s %s: GitHub's description has no operation %s (add it to internal/refresh and run it)", rt.method, rt.pattern, rt.op))
			continue
		}
		if op.Method != rt.method || !sameShape(rt.pattern, op.Path) {
			errs = append(errs, fmt.Errorf("route %s %s is not operation %s (%s %s)", rt.method, rt.pattern, rt.op, op.Method, op.Path))
			continue
		}
		rt.params = wildcards(op.Path)
	}
	return errors.Join(errs...)
}

// sameShape is whether a ServeMux pattern and an OpenAPI path template have
// the same literal segments and parameters in the same places.
func sameShape(pattern, template string) bool {
	p, t := strings.Split(pattern, "/"), strings.Split(template, "/")
	if len(p) != len(t) {
		return false
	}
	for i := range p {
		if isWild(p[i]) != isWild(t[i]) || (!isWild(p[i]) && p[i] != t[i]) {
			return false
		}
	}
	return true
}

func isWild(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

func wildcards(pattern string) []string {
	var out []string
	for _, seg := range strings.Split(pattern, "/") {
		if isWild(seg) {
			out = append(out, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return out
}

// pathParams reads the operation's path parameters from a request path
// matched by rt; a trailing {name...} wildcard takes the rest of the path, as
// GitHub's {branch} and {ref} do.
func (rt *route) pathParams(path string) map[string]string {
	out := map[string]string{}
	pat := strings.Split(rt.pattern, "/")
	segs := strings.Split(path, "/")
	n := 0
	for i, p := range pat {
		if !isWild(p) || i >= len(segs) || n >= len(rt.params) {
			continue
		}
		v := segs[i]
		if strings.HasSuffix(p, "...}") {
			v = strings.Join(segs[i:], "/")
		}
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		out[rt.params[n]] = v
		n++
	}
	return out
}

// exchange is one API request and the answer the simulator sent.
type exchange struct {
	r       *http.Request
	body    []byte // the request body as sent
	status  int
	header  http.Header
	answer  []byte
	handled bool // answered by the operation's handler, not by a fault, the rate limit or authentication
}

// check validates one exchange against its operation and returns what does
// not match, each naming the operation.
func (c *contract) check(ctx context.Context, rt *route, x *exchange) []string {
	if rt.op == "graphql" {
		return c.checkGraphQL(x)
	}
	op := c.ops[rt.op]
	name := fmt.Sprintf("%s (%s %s)", rt.op, op.Method, op.Path)
	var out []string
	add := func(what string, err error) {
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %s: %s", name, what, oneLine(err)))
		}
	}

	req := x.r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(x.body))
	if len(x.body) > 0 && req.Header.Get("Content-Type") == "" {
		// GitHub reads a request body as JSON whatever its Content-Type
		// says, and go-github always sends one; a test posting raw JSON may
		// not.
		req.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: rt.pathParams(apiPath(x.r)),
		Route:      op,
		Options: &openapi3filter.Options{
			MultiError:                        true,
			RejectWhenRequestBodyNotSpecified: true,
			SkipSettingDefaults:               true,
		},
	}
	add("request", openapi3filter.ValidateRequest(ctx, in))
	add("request", unknownQuery(op.Operation, x.r.URL.Query()))

	documented := op.Operation.Responses.Status(x.status) != nil
	switch {
	case documented:
		add(fmt.Sprintf("response %d", x.status), openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 x.status,
			Header:                 x.header,
			Body:                   io.NopCloser(bytes.NewReader(x.answer)),
			Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
		}))
	case !x.handled && x.status == http.StatusNotModified:
		if len(x.answer) != 0 {
			add("response 304", errors.New("a 304 has no body"))
		}
	case !x.handled || x.status == http.StatusBadRequest || slices.Contains(undocumented[rt.op], x.status):
		// GitHub may answer any operation with a 5xx, a rate limit,
		// 401 Bad credentials or 400 Problems parsing JSON, in its error
		// shape.
		add(fmt.Sprintf("response %d", x.status), c.basicErrorBody(x.answer))
	default:
		out = append(out, fmt.Sprintf("%s: response %d: the operation does not document this status (it documents %s)", name, x.status, strings.Join(statuses(op.Operation), ", ")))
	}
	return out
}

// undocumented are error statuses GitHub answers an operation with that its
// description does not list; their bodies are still held to GitHub's error
// shape. Each is a discrepancy of the description, not of the simulator.
var undocumented = map[string][]int{
	// Only a GitHub App may write check runs; GitHub's REST docs say so
	// ("OAuth apps and personal access tokens (classic) cannot use this
	// endpoint") and answer 403, which the operations do not list.
	"checks/create": {http.StatusForbidden},
	"checks/update": {http.StatusForbidden},
}

func (c *contract) basicErrorBody(b []byte) error {
	v, err := decodeJSON(b)
	if err != nil {
		return err
	}
	return c.basicError.VisitJSON(v, openapi3.MultiErrors())
}

// unknownQuery refuses query parameters the operation does not declare:
// GitHub ignores them, so a client relying on one relies on nothing.
func unknownQuery(op *openapi3.Operation, q url.Values) error {
	var bad []string
	for k := range q {
		if op.Parameters.GetByInAndName(openapi3.ParameterInQuery, k) == nil {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("query parameter %s is not one the operation takes", strings.Join(bad, ", "))
}

func statuses(op *openapi3.Operation) []string {
	var out []string
	for k := range op.Responses.Map() {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// oneLine flattens kin-openapi's errors (which quote whole schemas) to what
// names the field: where (parameter or body), the JSON path, the reason.
func oneLine(err error) string {
	switch e := err.(type) {
	case openapi3.MultiError:
		var parts []string
		for _, x := range e {
			parts = append(parts, oneLine(x))
		}
		return strings.Join(parts, "; ")
	case *openapi3filter.RequestError:
		where := ""
		switch {
		case e.Parameter != nil:
			where = fmt.Sprintf("%s parameter %s: ", e.Parameter.In, e.Parameter.Name)
		case e.RequestBody != nil:
			where = "body: "
		}
		if e.Err != nil {
			return where + oneLine(e.Err)
		}
		return where + e.Reason
	case *openapi3filter.ResponseError:
		if e.Err != nil {
			return oneLine(e.Err)
		}
		return e.Reason
	case *openapi3.SchemaError:
		reason := e.Reason
		if e.Origin != nil { // oneOf and anyOf: why the closest branch failed
			reason += " (" + oneLine(e.Origin) + ")"
		}
		if p := e.JSONPointer(); len(p) > 0 {
			return fmt.Sprintf("field %s: %s", strings.Join(p, "."), reason)
		}
		return reason
	case *openapi3filter.ParseError:
		if e.Cause != nil {
			return oneLine(e.Cause)
		}
		return e.Reason
	}
	s := err.Error()
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// holdToContract loads GitHub's description and binds every route to its
// operation: a route without one is refused, so no route goes unvalidated.
func (s *Server) holdToContract() error {
	c, err := loadContract()
	if err != nil {
		return err
	}
	rs := make([]*route, 0, len(s.routeTable))
	for _, rt := range s.routeTable {
		rs = append(rs, rt)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].method+rs[i].pattern < rs[j].method+rs[j].pattern })
	if err := c.checkRoutes(rs); err != nil {
		return fmt.Errorf("githubtest: %w", err)
	}
	s.contract = c
	s.checked = contractStats{ops: map[string]*opStats{}}
	return nil
}

// checkExchange validates one exchange and records what does not match.
func (s *Server) checkExchange(r *http.Request, x *exchange) {
	_, pattern := s.mux.Handler(r)
	rt := s.routeTable[pattern]
	var problems []string
	if rt == nil {
		problems = []string{"no route of the simulator, so no GitHub operation, matches it"}
	} else {
		problems = s.contract.check(r.Context(), rt, x)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt != nil {
		st := s.checked.ops[rt.op]
		if st == nil {
			st = &opStats{}
			s.checked.ops[rt.op] = st
		}
		st.requests++
		if x.handled {
			st.responses++
		} else {
			st.generic++
		}
	}
	where := r.Method + " " + apiPath(r)
	if r.URL.RawQuery != "" {
		where += "?" + r.URL.RawQuery
	}
	for _, p := range problems {
		v := where + ": " + p
		if !slices.Contains(s.violations, v) {
			s.violations = append(s.violations, v)
		}
	}
}

// CheckContract returns the exchanges since the last call that broke GitHub's
// contract (nil when none did, or outside go test), and forgets them: a test
// that provokes one on purpose takes it here, so that Close does not panic.
func (s *Server) CheckContract() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.violations) == 0 {
		return nil
	}
	err := fmt.Errorf("githubtest: the simulator broke GitHub's published contract (workflow/githubtest/testdata/contract):\n\t%s",
		strings.Join(s.violations, "\n\t"))
	s.violations = nil
	return err
}

type contractStats struct {
	ops map[string]*opStats // by operationId
}

// opStats counts the exchanges of one operation that were validated: the
// request, and the answer against the operation (responses) or, for a
// fault, rate limit, 401 or 304, against GitHub's error shape (generic).
type opStats struct{ requests, responses, generic int }

// statsEnv names a file to which Close appends what this server validated,
// one line per operation: "operationId requests responses generic". The
// numbers in docs/testing.md are a whole suite's lines, summed.
const statsEnv = "GITHUBTEST_CONTRACT_STATS"

func (s *Server) reportStats() {
	path := os.Getenv(statsEnv)
	if path == "" || s.contract == nil {
		return
	}
	s.mu.Lock()
	var b strings.Builder
	for op, st := range s.checked.ops {
		fmt.Fprintf(&b, "%s %d %d %d\n", op, st.requests, st.responses, st.generic)
	}
	s.mu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(b.String()) // one write: O_APPEND keeps parallel test binaries' lines whole
}

func decodeJSON(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	return v, nil
}
