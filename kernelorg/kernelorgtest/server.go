// Package kernelorgtest is a kernel.org simulator: an httptest server that
// serves releases.json, clearsigned pub/linux/kernel/vN.x/sha256sums.asc,
// stable .tar.xz files and git.kernel.org rc snapshots (/torvalds/t/...),
// all from one base URL, with conditional requests (ETag, Last-Modified,
// 304) and per-path fault injection. It needs no *testing.T: the offline
// `kupdate demo` runs on it too.
//
// The files it serves are a pure function of the version (see TarXZ, TarGz,
// FlatHash, NARHash), so tests and real Nix can check hashes against them.
package kernelorgtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Spec is one row of releases.json in compact form.
type Spec struct {
	Version string // "6.12.64", "6.19", "6.19-rc4", "next-20260105"
	// Moniker is mainline, stable, longterm or linux-next; "" derives it:
	// next-* is linux-next, an rc or X.Y is mainline, X.Y.Z is stable.
	Moniker string
	EOL     bool
	Date    string // YYYY-MM-DD; "" = DefaultDate
}

// DefaultDate is the release date of a Spec without one.
const DefaultDate = "2026-01-05"

// Fault is what goes wrong on one path. Times counts the requests it
// affects, after which it clears itself; 0 means until ClearFault.
type Fault struct {
	Times    int
	Status   int           // answer with this HTTP status (and no real body)
	Delay    time.Duration // wait this long before answering
	Truncate int           // declare the full Content-Length, send only this many bytes
	Body     []byte        // serve these bytes instead (e.g. garbage JSON)

	// For sha256sums.asc only.
	BadSignature    bool     // the signature is over other text
	WrongSigner     bool     // signed by the second key: in the keyring, not pinned
	TamperPlaintext bool     // a hash digit changed after signing
	OmitFiles       []string // file names left out of the signed list ("linux-6.12.64.tar.xz")
}

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	URL string // base URL: use it as kernelorg url and git_url (and cdn_url)

	srv           *httptest.Server
	signer, other *openpgp.Entity
	keyring       []byte
	closing       chan struct{}
	closeOnce     sync.Once

	mu        sync.Mutex
	releases  []Spec
	published map[string]bool // every version ever served: releases stay in sha256sums.asc, rc snapshots stay downloadable
	filler    int
	faults    map[string]*Fault
	counts    map[string]*count
	lastUA    string
	state     map[string]*resource // by path: what a conditional request is compared with
	clock     time.Time
	signed    map[string]signedFile // by plaintext hash and signer: signatures are not deterministic
}

type count struct {
	requests int
	bytes    int64
}

type resource struct {
	etag string
	mod  time.Time
}

type signedFile struct{ data []byte }

// New starts a simulator serving specs. Close it when done.
func New(specs ...Spec) (*Server, error) {
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
	signer, err := openpgp.NewEntity("kernelorgtest checksum autosigner", "", "autosigner@kernelorgtest.invalid", cfg)
	if err != nil {
		return nil, fmt.Errorf("kernelorgtest: generating the signing key: %w", err)
	}
	other, err := openpgp.NewEntity("kernelorgtest other developer", "", "developer@kernelorgtest.invalid", cfg)
	if err != nil {
		return nil, fmt.Errorf("kernelorgtest: generating the second key: %w", err)
	}
	var kr bytes.Buffer
	aw, err := armor.Encode(&kr, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	for _, e := range []*openpgp.Entity{signer, other} {
		if err := e.Serialize(aw); err != nil {
			return nil, fmt.Errorf("kernelorgtest: exporting a public key: %w", err)
		}
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	s := &Server{
		signer:    signer,
		other:     other,
		keyring:   kr.Bytes(),
		closing:   make(chan struct{}),
		published: map[string]bool{},
		faults:    map[string]*Fault{},
		counts:    map[string]*count{},
		state:     map[string]*resource{},
		clock:     time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC),
		signed:    map[string]signedFile{},
	}
	if err := s.SetReleases(specs...); err != nil {
		return nil, err
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the server; requests held by a Delay fault end at once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

// Keyring is the armored public keyring a client needs: the signing key and
// a second key that is trusted but must not be accepted (not pinned).
func (s *Server) Keyring() []byte { return slices.Clone(s.keyring) }

// Fingerprint is the signing key's primary fingerprint, upper-case hex: the
// value for kernelorg.fingerprint.
func (s *Server) Fingerprint() string { return fingerprint(s.signer) }

// OtherFingerprint is the second key's fingerprint (WrongSigner signs with it).
func (s *Server) OtherFingerprint() string { return fingerprint(s.other) }

func fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

var (
	releaseRE = regexp.MustCompile(`^([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.[1-9][0-9]*)?$`)
	rcRE      = regexp.MustCompile(`^([1-9][0-9]*)\.(0|[1-9][0-9]*)-rc[1-9][0-9]*$`)
)

func (sp Spec) normalize() (Spec, error) {
	switch {
	case strings.HasPrefix(sp.Version, "next-"):
		if sp.Moniker == "" {
			sp.Moniker = "linux-next"
		}
	case rcRE.MatchString(sp.Version):
		if sp.Moniker == "" {
			sp.Moniker = "mainline"
		}
	case releaseRE.MatchString(sp.Version):
		if sp.Moniker == "" {
			sp.Moniker = "stable"
			if strings.Count(sp.Version, ".") == 1 {
				sp.Moniker = "mainline"
			}
		}
	default:
		// Served as given: tests of malformed feeds need such rows.
		if sp.Moniker == "" {
			return sp, fmt.Errorf("kernelorgtest: spec %q: give a moniker for a version of unknown form", sp.Version)
		}
	}
	if sp.Date == "" {
		sp.Date = DefaultDate
	}
	if _, err := time.Parse(time.DateOnly, sp.Date); err != nil {
		return sp, fmt.Errorf("kernelorgtest: spec %q: date %q is not YYYY-MM-DD", sp.Version, sp.Date)
	}
	return sp, nil
}

// isRelease reports whether v names a CDN tarball (not an rc, not linux-next).
func isRelease(v string) bool { return releaseRE.MatchString(v) }

// isRC reports whether v names an rc snapshot.
func isRC(v string) bool { return rcRE.MatchString(v) }

func major(v string) string { m, _, _ := strings.Cut(v, "."); return m }

// SetReleases replaces releases.json. Every release ever served stays in
// its sha256sums.asc, as on kernel.org.
func (s *Server) SetReleases(specs ...Spec) error {
	norm := make([]Spec, len(specs))
	for i, sp := range specs {
		n, err := sp.normalize()
		if err != nil {
			return err
		}
		norm[i] = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releases = norm
	for _, sp := range norm {
		s.published[sp.Version] = true
	}
	return nil
}

// Upsert adds a release between cycles, replacing the row it supersedes: for
// mainline the mainline row, otherwise the row of the same moniker and
// series ("6.12.64" replaces "6.12.63"). Without one it is appended.
func (s *Server) Upsert(sp Spec) error {
	n, err := sp.normalize()
	if err != nil {
		return err
	}
	s.mu.Lock()
	specs := slices.Clone(s.releases)
	s.mu.Unlock()
	i := slices.IndexFunc(specs, func(o Spec) bool {
		if n.Moniker == "mainline" {
			return o.Moniker == "mainline"
		}
		return o.Moniker == n.Moniker && series(o.Version) == series(n.Version)
	})
	if i >= 0 {
		specs[i] = n
	} else {
		specs = append(specs, n)
	}
	return s.SetReleases(specs...)
}

// Remove drops the row of version v from releases.json (its checksum stays).
func (s *Server) Remove(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releases = slices.DeleteFunc(s.releases, func(o Spec) bool { return o.Version == v })
}

// Releases returns the rows served now.
func (s *Server) Releases() []Spec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.releases)
}

func series(v string) string {
	v, _, _ = strings.Cut(v, "-")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// SetChecksumFiller adds n lines for other files to every sha256sums.asc,
// so that benchmarks fetch files of kernel.org's size (v6.x lists ~20,000).
func (s *Server) SetChecksumFiller(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.filler = n
}

// SetFault makes requests to path fail as f says ("/releases.json",
// ChecksumsPath("6.12.64"), TarballPath("6.19-rc4")).
func (s *Server) SetFault(path string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = &f
}

// ClearFault removes the fault on path.
func (s *Server) ClearFault(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, path)
}

// Requests is how many requests path received.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.counts[path]; c != nil {
		return c.requests
	}
	return 0
}

// Bytes is how many body bytes were sent for path.
func (s *Server) Bytes(path string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.counts[path]; c != nil {
		return c.bytes
	}
	return 0
}

// Totals are the requests and body bytes over every path.
func (s *Server) Totals() (requests int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.counts {
		requests += c.requests
		bytes += c.bytes
	}
	return requests, bytes
}

// Counts returns the requests per path.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.counts))
	for p, c := range s.counts {
		m[p] = c.requests
	}
	return m
}

// ResetCounts zeroes every counter.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]*count{}
}

// LastUserAgent is the User-Agent of the latest request.
func (s *Server) LastUserAgent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastUA
}

// ChecksumsPath is the path of the sha256sums.asc that lists version v.
func ChecksumsPath(v string) string { return "/pub/linux/kernel/v" + major(v) + ".x/sha256sums.asc" }

// TarballPath is where the tarball of v is served: the CDN .tar.xz for a
// release, the git.kernel.org snapshot .tar.gz for an rc.
func TarballPath(v string) string {
	if isRC(v) {
		return "/torvalds/t/linux-" + v + ".tar.gz"
	}
	return "/pub/linux/kernel/v" + major(v) + ".x/linux-" + v + ".tar.xz"
}

// TarballURL is TarballPath on this server.
func (s *Server) TarballURL(v string) string { return s.URL + TarballPath(v) }

var (
	sumsPathRE = regexp.MustCompile(`^/pub/linux/kernel/v([1-9][0-9]*)\.x/sha256sums\.asc$`)
	xzPathRE   = regexp.MustCompile(`^/pub/linux/kernel/v([1-9][0-9]*)\.x/linux-([0-9.]+)\.tar\.xz$`)
	rcPathRE   = regexp.MustCompile(`^/torvalds/t/linux-([0-9.]+-rc[0-9]+)\.tar\.gz$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	s.mu.Lock()
	c := s.counts[p]
	if c == nil {
		c = &count{}
		s.counts[p] = c
	}
	c.requests++
	s.lastUA = r.UserAgent()
	var f Fault
	if ff := s.faults[p]; ff != nil {
		f = *ff
		if ff.Times > 0 {
			if ff.Times--; ff.Times == 0 {
				delete(s.faults, p)
			}
		}
	}
	s.mu.Unlock()

	cw := &countingWriter{ResponseWriter: w, s: s, path: p}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closing:
			t.Stop()
			return
		}
	}
	if f.Status != 0 {
		http.Error(cw, fmt.Sprintf("kernelorgtest: simulated HTTP %d", f.Status), f.Status)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(cw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, ctype, err := s.render(p, f)
	if err != nil {
		http.Error(cw, err.Error(), http.StatusInternalServerError)
		return
	}
	if body == nil {
		http.NotFound(cw, r)
		return
	}
	if f.Body != nil {
		body = f.Body
	}
	etag, mod := s.validators(p, body)
	h := cw.Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", mod.Format(http.TimeFormat))
	if notModified(r, etag, mod) {
		cw.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	cw.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if f.Truncate > 0 && f.Truncate < len(body) {
		body = body[:f.Truncate]
	}
	cw.Write(body)
}

// notModified applies If-None-Match, or else If-Modified-Since (RFC 9110).
func notModified(r *http.Request, etag string, mod time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if t = strings.TrimSpace(t); t == etag || t == "*" {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !mod.After(t) {
			return true
		}
	}
	return false
}

// validators gives body its ETag and a Last-Modified that moves (by a
// minute of simulated time) whenever the body of path changes.
func (s *Server) validators(path string, body []byte) (string, time.Time) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state[path]
	if st == nil || st.etag != etag {
		s.clock = s.clock.Add(time.Minute)
		st = &resource{etag: etag, mod: s.clock}
		s.state[path] = st
	}
	return st.etag, st.mod
}

type countingWriter struct {
	http.ResponseWriter
	s    *Server
	path string
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.s.mu.Lock()
	w.s.counts[w.path].bytes += int64(n)
	w.s.mu.Unlock()
	return n, err
}

// render returns the body at p, or nil for a 404.
func (s *Server) render(p string, f Fault) ([]byte, string, error) {
	if p == "/releases.json" {
		b, err := s.releasesJSON()
		return b, "application/json", err
	}
	if m := sumsPathRE.FindStringSubmatch(p); m != nil {
		b, err := s.checksums(m[1], f)
		return b, "text/plain; charset=utf-8", err
	}
	if m := xzPathRE.FindStringSubmatch(p); m != nil && major(m[2]) == m[1] {
		s.mu.Lock()
		ok := s.published[m[2]]
		s.mu.Unlock()
		if ok {
			return TarXZ(m[2]), "application/x-xz", nil
		}
	}
	if m := rcPathRE.FindStringSubmatch(p); m != nil && isRC(m[1]) {
		s.mu.Lock()
		ok := s.published[m[1]]
		s.mu.Unlock()
		if ok {
			return TarGz(m[1]), "application/x-gzip", nil
		}
	}
	return nil, "", nil
}

type jsonRelease struct {
	IsEOL     bool    `json:"iseol"`
	Version   string  `json:"version"`
	Moniker   string  `json:"moniker"`
	Source    *string `json:"source"`
	PGP       *string `json:"pgp"`
	Released  jsonRel `json:"released"`
	GitWeb    string  `json:"gitweb"`
	ChangeLog *string `json:"changelog"`
	DiffView  string  `json:"diffview"`
	Patch     struct {
		Full        *string `json:"full"`
		Incremental *string `json:"incremental"`
	} `json:"patch"`
}

type jsonRel struct {
	Timestamp int64  `json:"timestamp"`
	ISODate   string `json:"isodate"`
}

func strp(s string) *string { return &s }

// releasesJSON renders releases.json as kernel.org shapes it, with URLs on
// this server.
func (s *Server) releasesJSON() ([]byte, error) {
	s.mu.Lock()
	specs := slices.Clone(s.releases)
	s.mu.Unlock()
	var doc struct {
		LatestStable struct {
			Version string `json:"version"`
		} `json:"latest_stable"`
		Releases []jsonRelease `json:"releases"`
	}
	doc.Releases = []jsonRelease{}
	for _, sp := range specs {
		d, _ := time.Parse(time.DateOnly, sp.Date)
		jr := jsonRelease{
			IsEOL:    sp.EOL,
			Version:  sp.Version,
			Moniker:  sp.Moniker,
			Released: jsonRel{Timestamp: d.Unix(), ISODate: sp.Date},
			GitWeb:   "https://git.kernel.org/stable/h/v" + sp.Version,
		}
		dir := s.URL + "/pub/linux/kernel/v" + major(sp.Version) + ".x/"
		switch {
		case isRC(sp.Version):
			jr.Source = strp(s.URL + TarballPath(sp.Version))
			jr.Patch.Full = strp(s.URL + "/torvalds/p/v" + sp.Version + "/v" + series(sp.Version))
		case isRelease(sp.Version):
			jr.Source = strp(s.URL + TarballPath(sp.Version))
			jr.PGP = strp(dir + "linux-" + sp.Version + ".tar.sign")
			jr.Patch.Full = strp(dir + "patch-" + sp.Version + ".xz")
			if sp.Moniker != "mainline" {
				jr.ChangeLog = strp(dir + "ChangeLog-" + sp.Version)
				if doc.LatestStable.Version == "" {
					doc.LatestStable.Version = sp.Version
				}
			}
		}
		doc.Releases = append(doc.Releases, jr)
	}
	return json.MarshalIndent(doc, "", "    ")
}

// checksums renders v{maj}.x/sha256sums.asc, clearsigned, with f's faults.
func (s *Server) checksums(maj string, f Fault) ([]byte, error) {
	s.mu.Lock()
	var versions []string
	for v := range s.published {
		if isRelease(v) && major(v) == maj {
			versions = append(versions, v)
		}
	}
	filler := s.filler
	s.mu.Unlock()
	slices.SortFunc(versions, compareVersions)
	var plain bytes.Buffer
	for i := range filler {
		name := fmt.Sprintf("patch-%s.%d.%d.xz", maj, i/100, i%100+1)
		fmt.Fprintf(&plain, "%s  %s\n", hexSum([]byte(name)), name)
	}
	for _, v := range versions {
		for _, name := range []string{"ChangeLog-" + v, "linux-" + v + ".tar.gz", "linux-" + v + ".tar.sign", "linux-" + v + ".tar.xz", "patch-" + v + ".xz"} {
			if slices.Contains(f.OmitFiles, name) {
				continue
			}
			sum := hexSum([]byte(name))
			if name == "linux-"+v+".tar.xz" {
				sum = hexSum(TarXZ(v))
			}
			fmt.Fprintf(&plain, "%s  %s\n", sum, name)
		}
	}
	signer := s.signer
	if f.WrongSigner {
		signer = s.other
	}
	out, err := s.clearsign(plain.Bytes(), signer)
	if err != nil {
		return nil, err
	}
	switch {
	case f.BadSignature:
		// A genuine signature, by the right key, over other text.
		other, err := s.clearsign(append(plain.Bytes(), "linux-0.0.tar.xz is not here\n"...), signer)
		if err != nil {
			return nil, err
		}
		i, j := bytes.Index(out, []byte("-----BEGIN PGP SIGNATURE-----")), bytes.Index(other, []byte("-----BEGIN PGP SIGNATURE-----"))
		out = append(out[:i:i], other[j:]...)
	case f.TamperPlaintext:
		out = tamper(out)
	}
	return out, nil
}

// tamper changes the first hex digit of every tar.xz line.
func tamper(signed []byte) []byte {
	lines := bytes.SplitAfter(signed, []byte("\n"))
	for i, l := range lines {
		if bytes.HasSuffix(bytes.TrimRight(l, "\r\n"), []byte(".tar.xz")) && len(l) > 64 {
			nl := slices.Clone(l)
			if nl[0] == '0' {
				nl[0] = '1'
			} else {
				nl[0] = '0'
			}
			lines[i] = nl
		}
	}
	return bytes.Join(lines, nil)
}

// clearsign signs plain, reusing an earlier signature of the same text so
// that an unchanged file keeps its bytes and its ETag.
func (s *Server) clearsign(plain []byte, e *openpgp.Entity) ([]byte, error) {
	key := hexSum(plain) + fingerprint(e)
	s.mu.Lock()
	sf, ok := s.signed[key]
	s.mu.Unlock()
	if ok {
		return sf.data, nil
	}
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, e.PrivateKey, nil)
	if err != nil {
		return nil, fmt.Errorf("kernelorgtest: clearsign: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("kernelorgtest: clearsign: %w", err)
	}
	s.mu.Lock()
	s.signed[key] = signedFile{data: out.Bytes()}
	s.mu.Unlock()
	return out.Bytes(), nil
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// compareVersions orders release versions numerically ("6.1" < "6.1.2" < "6.12").
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}
