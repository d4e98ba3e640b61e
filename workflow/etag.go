package workflow

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// etagTransport makes every GET a conditional request: it remembers the
// ETag and body of each 200 answer and sends If-None-Match next time; a 304
// is turned back into the remembered 200 (with the 304's fresh headers, so
// go-github still sees current rate-limit figures). GitHub does not count
// 304 answers against the rate limit, which is what lets a cycle with
// nothing to do cost next to nothing.
//
// It always revalidates: unlike gregjones/httpcache (docs/design.md, Talking
// to GitHub) it never answers from the cache without asking, so a read right
// after a write sees the write. It sits below the auth transport, so the cache never holds a
// credential; the key is the URL and the Accept header.
type etagTransport struct {
	next http.RoundTripper
	dir  string // persisted entries, one file each; "" = memory only
	max  int    // entries kept in memory

	mu      sync.Mutex
	entries map[string]*etagEntry
	order   []string // insertion order, for eviction

	requests, notModified atomic.Int64
}

type etagEntry struct {
	ETag   string      `json:"etag"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// maxCachedBody bounds what one entry may hold.
const maxCachedBody = 8 << 20

func newETagTransport(next http.RoundTripper, dir string) *etagTransport {
	if next == nil {
		next = http.DefaultTransport
	}
	return &etagTransport{next: next, dir: dir, max: 1024, entries: map[string]*etagEntry{}}
}

func cacheKey(r *http.Request) string {
	return r.URL.String() + "\x00" + r.Header.Get("Accept")
}

func (t *etagTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	if req.Method != http.MethodGet || req.Header.Get("If-None-Match") != "" {
		return t.next.RoundTrip(req)
	}
	key := cacheKey(req)
	e := t.get(key)
	if e != nil {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", e.ETag)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && e != nil:
		t.notModified.Add(1)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h := e.Header.Clone()
		for k, v := range resp.Header {
			h[k] = v
		}
		h.Del("Content-Length")
		resp.StatusCode, resp.Status = http.StatusOK, "200 OK"
		resp.Header = h
		resp.Body = io.NopCloser(bytes.NewReader(e.Body))
		resp.ContentLength = int64(len(e.Body))
		return resp, nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) <= maxCachedBody {
			t.put(key, &etagEntry{ETag: resp.Header.Get("ETag"), Header: resp.Header.Clone(), Body: body})
		}
	}
	return resp, nil
}

func (t *etagTransport) file(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(t.dir, hex.EncodeToString(sum[:])+".json")
}

func (t *etagTransport) get(key string) *etagEntry {
	t.mu.Lock()
	e := t.entries[key]
	t.mu.Unlock()
	if e != nil || t.dir == "" {
		return e
	}
	// A cache file that cannot be read is a miss, never an error: the
	// request then simply costs what it would without a cache.
	data, err := os.ReadFile(t.file(key))
	if err != nil {
		return nil
	}
	e = &etagEntry{}
	if json.Unmarshal(data, e) != nil || e.ETag == "" {
		return nil
	}
	t.remember(key, e)
	return e
}

func (t *etagTransport) put(key string, e *etagEntry) {
	t.remember(key, e)
	if t.dir == "" {
		return
	}
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	if os.MkdirAll(t.dir, 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(t.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), t.file(key)) != nil {
		os.Remove(tmp.Name())
	}
}

func (t *etagTransport) remember(key string, e *etagEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.entries[key]; !ok {
		t.order = append(t.order, key)
	}
	t.entries[key] = e
	for len(t.order) > t.max {
		delete(t.entries, t.order[0])
		t.order = t.order[1:]
	}
}
