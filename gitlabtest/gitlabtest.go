// Package gitlabtest is a GitLab simulator for kupdate's tests: projects'
// releases over GitLab's REST API (v4) in GitLab's shape, newest first,
// with ETags (a matching If-None-Match is answered 304) and the tags'
// source archives where GitLab serves them, through the API
// (GET /api/v4/projects/:id/repository/archive.tar.gz?sha=REF) and where
// fetchFromGitLab fetches them (/{namespace}/{project}/-/archive/REF/
// {project}-REF.tar.gz). Fault knobs inject errors, GitLab's rate limit
// (429 with Retry-After and RateLimit-Reset) and slow answers. A project
// is named by its path ("xanmod/linux", URL-encoded as GitLab wants it:
// xanmod%2Flinux) or its numeric id.
package gitlabtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Release is a release to publish on a project.
type Release struct {
	Tag string // 6.12.61-xanmod1
	// Links are the release's asset links, in order (xanmod's first link
	// names its variant: …/releases/lts/6.12.61-xanmod1/).
	Links []Link
	// Source is the tag's source archive (a gzipped tar of one top-level
	// directory); nil serves none.
	Source []byte
}

// Link is a release asset link.
type Link struct{ Name, URL string }

// Fault makes the server answer matching API requests with an error.
type Fault struct {
	Path   string // below /api/v4, as escaped ("/projects/xanmod%2Flinux/releases"); "" matches any
	Times  int    // how many requests it answers; 0 means 1
	Status int    // 5xx, or 429 for the rate limit
	// RetryAfter (seconds) sets Retry-After and RateLimit-Reset on a 429.
	RetryAfter int
	Delay      time.Duration // answer late (cancelled with the request)
}

// Request is one API request the server answered.
type Request struct {
	Path   string // escaped, below /api/v4
	Query  string
	Status int
}

// Server is a running simulator; its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	projects map[string]*project // by path
	faults   []*Fault
	requests []Request
	nextID   int
}

type project struct {
	id       int
	path     string
	releases []Release // oldest first
	dates    []time.Time
}

// New starts a simulator; Close stops it.
func New() *Server {
	s := &Server{projects: map[string]*project{}, nextID: 51590166}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the server's base URL (https://gitlab.com's stand-in).
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the base of the REST API: URL + "/api/v4/".
func (s *Server) APIURL() string { return s.srv.URL + "/api/v4/" }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CreateProject creates the project at path ("xanmod/linux").
func (s *Server) CreateProject(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.projects[path]; ok || strings.Count(path, "/") != 1 {
		return fmt.Errorf("gitlabtest: project %q exists or is not namespace/name", path)
	}
	s.projects[path] = &project{id: s.nextID, path: path}
	s.nextID++
	return nil
}

// PublishRelease publishes rel on the project at path as its newest.
func (s *Server) PublishRelease(path string, rel Release) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	if p == nil {
		return fmt.Errorf("gitlabtest: no project %s (CreateProject it first)", path)
	}
	for _, r := range p.releases {
		if r.Tag == rel.Tag {
			return fmt.Errorf("gitlabtest: %s already has a release %s", path, rel.Tag)
		}
	}
	rel.Links = slices.Clone(rel.Links)
	p.releases = append(p.releases, rel)
	p.dates = append(p.dates, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(len(p.releases))*time.Hour))
	return nil
}

// AddFault installs a fault; faults are tried in the order added.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Requests are the API requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetRequests forgets the requests answered so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, `{"error":"405 Method Not Allowed"}`, http.StatusMethodNotAllowed)
		return
	}
	path := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(path, "/api/v4"); ok {
		status := s.api(w, r, rest)
		s.mu.Lock()
		s.requests = append(s.requests, Request{Path: rest, Query: r.URL.RawQuery, Status: status})
		s.mu.Unlock()
		return
	}
	s.webArchive(w, r, path)
}

// api answers an API request and returns the status it sent.
func (s *Server) api(w http.ResponseWriter, r *http.Request, path string) int {
	if f := s.fault(path); f != nil {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return 0
			}
		}
		if f.Status != 0 {
			return writeFault(w, f)
		}
	}
	parts := strings.Split(strings.TrimPrefix(path, "/projects/"), "/")
	if !strings.HasPrefix(path, "/projects/") || len(parts) < 2 {
		return writeJSON(w, r, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	}
	id, _ := url.PathUnescape(parts[0])
	p := s.project(id)
	if p == nil {
		return writeJSON(w, r, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
	}
	switch rest := strings.Join(parts[1:], "/"); rest {
	case "releases":
		return writeJSON(w, r, http.StatusOK, s.releases(p))
	case "repository/archive.tar.gz":
		return s.archive(w, p, r.URL.Query().Get("sha"))
	}
	return writeJSON(w, r, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
}

func (s *Server) project(id string) *project {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[id]; p != nil {
		return p
	}
	for _, p := range s.projects {
		if strconv.Itoa(p.id) == id {
			return p
		}
	}
	return nil
}

// releases is the release list in GitLab's shape, newest first.
func (s *Server) releases(p *project) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for i := len(p.releases) - 1; i >= 0; i-- {
		r := p.releases[i]
		links := []map[string]any{}
		for j, l := range r.Links {
			links = append(links, map[string]any{"id": j + 1, "name": l.Name, "url": l.URL, "direct_asset_url": l.URL, "link_type": "other"})
		}
		stamp := p.dates[i].Format(time.RFC3339)
		out = append(out, map[string]any{
			"name": r.Tag, "tag_name": r.Tag, "description": "", "created_at": stamp, "released_at": stamp, "upcoming_release": false,
			"assets": map[string]any{"count": len(links) + 1,
				"sources": []map[string]any{{"format": "tar.gz", "url": s.ArchiveURL(p.path, r.Tag)}},
				"links":   links},
			"_links":   map[string]any{"self": s.srv.URL + "/" + p.path + "/-/releases/" + r.Tag},
			"commit":   map[string]any{"id": fmt.Sprintf("%x", sha256.Sum256([]byte(r.Tag)))[:40], "short_id": fmt.Sprintf("%x", sha256.Sum256([]byte(r.Tag)))[:8]},
			"tag_path": "/" + p.path + "/-/tags/" + r.Tag,
		})
	}
	return out
}

// ArchiveURL is where fetchFromGitLab fetches the tag's archive.
func (s *Server) ArchiveURL(path, ref string) string {
	name := path[strings.Index(path, "/")+1:]
	return s.srv.URL + "/" + path + "/-/archive/" + ref + "/" + name + "-" + ref + ".tar.gz"
}

func (s *Server) webArchive(w http.ResponseWriter, r *http.Request, path string) {
	proj, rest, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/-/archive/")
	ref, file, ok2 := strings.Cut(rest, "/")
	p := s.project(proj)
	if !ok || !ok2 || p == nil || file != proj[strings.Index(proj, "/")+1:]+"-"+ref+".tar.gz" {
		http.NotFound(w, r)
		return
	}
	s.archive(w, p, ref)
}

func (s *Server) archive(w http.ResponseWriter, p *project, ref string) int {
	s.mu.Lock()
	var data []byte
	for _, r := range p.releases {
		if r.Tag == ref {
			data = r.Source
		}
	}
	s.mu.Unlock()
	if data == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"404 File Not Found"}`))
		return http.StatusNotFound
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
	return http.StatusOK
}

// fault is the first live fault for path, used up by one.
func (s *Server) fault(path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Times > 0 && (f.Path == "" || f.Path == path) {
			f.Times--
			return f
		}
	}
	return nil
}

func writeFault(w http.ResponseWriter, f *Fault) int {
	w.Header().Set("Content-Type", "application/json")
	msg := map[string]any{"message": http.StatusText(f.Status)}
	if f.Status == http.StatusTooManyRequests {
		// GitLab's rate limiter answers with these headers and a plain
		// message object.
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		w.Header().Set("RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Duration(f.RetryAfter)*time.Second).Unix(), 10))
		w.Header().Set("RateLimit-Remaining", "0")
		msg = map[string]any{"message": map[string]string{"error": "This endpoint has been requested too many times. Try again later."}}
	}
	w.WriteHeader(f.Status)
	json.NewEncoder(w).Encode(msg)
	return f.Status
}

// writeJSON answers v with an ETag, or 304 when If-None-Match matches it.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) int {
	body, _ := json.Marshal(v)
	if status == http.StatusOK {
		sum := sha256.Sum256(body)
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=0, private, must-revalidate")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return http.StatusNotModified
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
	return status
}
