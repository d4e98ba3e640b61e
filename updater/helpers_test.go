package updater

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/nix-community/go-nix/pkg/nixbase32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// sampleTree is the sample nixpkgs tree of the repository.
const sampleTree = "../testdata/nixpkgs"

var testDay = time.Date(2026, 4, 20, 9, 30, 0, 0, time.UTC)

// copyTree copies the sample tree into a temporary directory.
func copyTree(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "nixpkgs")
	if err := os.CopyFS(dir, os.DirFS(sampleTree)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func loadTree(t testing.TB, dir string) *family.Tree {
	t.Helper()
	// Every family's files, whichever families a test then plans with.
	tr, err := (family.Registry{vanilla.New(nil), hardened.New(nil, nil)}).LoadFS(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	tr.Now = func() time.Time { return testDay }
	return tr
}

// tableSource is kernel.org as the vanilla family sees it: releases.json
// from a table, hashes from a tableHasher.
type tableSource struct {
	*tableHasher
	releases []kernelorg.Release
}

func (s *tableSource) Releases(context.Context) ([]kernelorg.Release, error) { return s.releases, nil }

// kernels is the registry of the tests: the kernel.org kernels of rels
// with hashes from h, and linux-hardened's releases from gh (none when gh
// is nil, as for a tree without hardened kernels).
func kernels(rels []kernelorg.Release, h *tableHasher, gh *ghSim) family.Registry {
	src := &tableSource{tableHasher: h, releases: rels}
	reg := family.Registry{vanilla.New(src)}
	if gh != nil {
		reg = append(reg, hardened.New(gh.source(), src))
	}
	return reg
}

// planWith plans t with the registry of kernels(rels, h, gh).
func planWith(t testing.TB, rels []kernelorg.Release, h *tableHasher, gh *ghSim, tr *family.Tree) *family.Plan {
	t.Helper()
	p, err := (&Planner{Families: kernels(rels, h, gh)}).Plan(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tableHasher answers like kernelorg.Client would for the kernelorgtest
// simulator's files, from a table: versions in notYet have no signed line
// (an rc: no snapshot) yet, versions in fail fail.
type tableHasher struct {
	notYet map[string]bool
	fail   map[string]error
	signed []string // what NewestSigned finds in the signed files (none: ErrNotYet)
	mu     sync.Mutex
	calls  []string
}

func (h *tableHasher) Hash(ctx context.Context, v kernelorg.Version) (string, error) {
	h.mu.Lock()
	h.calls = append(h.calls, v.String())
	h.mu.Unlock()
	switch {
	case h.notYet[v.String()] && v.IsRC():
		return "", fmt.Errorf("linux %s: snapshot: GET https://git.kernel.org/torvalds/t/linux-%s.tar.gz: kernel.org answered 404 Not Found: %w", v, v, kernelorg.ErrNotYet)
	case h.notYet[v.String()]:
		return "", fmt.Errorf("linux-%s.tar.xz: %w", v, kernelorg.ErrNotYet)
	case h.fail[v.String()] != nil:
		return "", h.fail[v.String()]
	case v.IsRC():
		return kernelorgtest.NARHash(v.String()), nil
	default:
		return kernelorgtest.FlatHash(v.String()), nil
	}
}

// NewestSigned answers as kernelorg.Client does from h.signed.
func (h *tableHasher) NewestSigned(ctx context.Context, v kernelorg.Version) (kernelorg.Version, string, error) {
	var best kernelorg.Version
	for _, s := range h.signed {
		w := kernelorg.MustParseVersion(s)
		if w.Series() == v.Series() && w.Compare(v) < 0 && (best.IsZero() || w.Compare(best) > 0) {
			best = w
		}
	}
	if best.IsZero() {
		return best, "", fmt.Errorf("no older release of %s: %w", v.Series(), kernelorg.ErrNotYet)
	}
	return best, kernelorgtest.FlatHash(best.String()), nil
}

func rel(moniker, version string, eol bool) kernelorg.Release {
	v := kernelorg.MustParseVersion(version)
	r := kernelorg.Release{Version: v, Branch: v.Branch(), Moniker: moniker, EOL: eol, LTS: moniker == "longterm", Released: "2026-04-19"}
	if moniker != "mainline" {
		r.ChangeLog = fmt.Sprintf("https://cdn.kernel.org/pub/linux/kernel/v%d.x/ChangeLog-%s", v.Major, v)
	}
	return r
}

// ghSim is a GitHub simulator for the one endpoint and the assets the
// hardened source uses: GET /repos/anthraxx/linux-hardened/releases and
// the release downloads, with patches signed by a key made in the test.
type ghSim struct {
	*httptest.Server
	key *openpgp.Entity

	mu       sync.Mutex
	tags     []string
	badSig   map[string]bool // tag -> its .sig is over other bytes
	badDig   map[string]bool // tag -> the listed digest is wrong
	status   int             // answer the release list with this status
	requests []string
}

func newGHSim(t testing.TB, tags ...string) *ghSim {
	t.Helper()
	key, err := openpgp.NewEntity("linux-hardened test", "", "hardened@example.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	g := &ghSim{key: key, tags: tags, badSig: map[string]bool{}, badDig: map[string]bool{}}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

func hardenedPatchBytes(tag string) []byte {
	return []byte("linux-hardened patch for " + tag + "\n--- a/Makefile\n+++ b/Makefile\n")
}

func (g *ghSim) armoredKey(t testing.TB) []byte {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.key.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

func (g *ghSim) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = append(g.requests, r.Method+" "+r.URL.RequestURI())
	const dl = "/anthraxx/linux-hardened/releases/download/"
	switch {
	case r.URL.Path == "/repos/anthraxx/linux-hardened/releases":
		if g.status != 0 {
			w.WriteHeader(g.status)
			fmt.Fprintf(w, `{"message": "simulated failure"}`)
			return
		}
		type asset struct {
			Name   string `json:"name"`
			URL    string `json:"browser_download_url"`
			Digest string `json:"digest,omitempty"`
		}
		type release struct {
			Tag    string  `json:"tag_name"`
			Draft  bool    `json:"draft"`
			Assets []asset `json:"assets"`
		}
		var out []release
		for i := len(g.tags) - 1; i >= 0; i-- {
			tag := g.tags[i]
			name := "linux-hardened-" + tag + ".patch"
			sum := sha256Hex(hardenedPatchBytes(tag))
			if g.badDig[tag] {
				sum = sha256Hex([]byte("other"))
			}
			base := g.URL + dl + tag + "/"
			out = append(out, release{Tag: tag, Assets: []asset{
				{Name: name, URL: base + name, Digest: "sha256:" + sum},
				{Name: name + ".sig", URL: base + name + ".sig"},
			}})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	case strings.HasPrefix(r.URL.Path, dl):
		tag, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, dl), "/")
		body := hardenedPatchBytes(tag)
		if strings.HasSuffix(name, ".sig") {
			signed := body
			if g.badSig[tag] {
				signed = []byte("something else")
			}
			var sig bytes.Buffer
			if err := openpgp.DetachSign(&sig, g.key, bytes.NewReader(signed), nil); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			body = sig.Bytes()
		}
		w.Write(body)
	default:
		http.NotFound(w, r)
	}
}

func (g *ghSim) source() *hardened.GitHub {
	s := hardened.NewGitHub(g.URL+"/", "kupdate-test")
	s.HTTP = g.Client()
	s.Sleep = func(context.Context, time.Duration) error { return nil } // retries without waiting
	return s
}

func nixHashOf(b []byte) string {
	return strings.TrimPrefix(kernelorgNix(b), "sha256:")
}

func kernelorgNix(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + nixbase32.EncodeToString(sum[:])
}

// testHash is a well-formed hash for changes whose content no test
// checks.
const testHash = "sha256:0h6r5w7755gd8ys18zi9rgw95wrd2yalbq0h88ihv3ggki01z78q"

// initChange is the vanilla init of branch at version, as the planner
// makes it.
func initChange(branch, version string) family.Change {
	return vanillaChange(vanilla.Init, branch, "", version)
}

// bump is the vanilla bump of branch, as the planner makes it.
func bump(branch, from, to string, build ...string) family.Change {
	c := vanillaChange(vanilla.Bump, branch, from, to)
	c.LTS = true
	if build != nil {
		c.Build = build
	}
	return c
}

// vanillaChange is a change of the vanilla family with its key and title.
func vanillaChange(kind family.Kind, branch, from, to string) family.Change {
	attr := kernelfiles.Attr(branch)
	c := family.Change{Kind: kind, Attr: attr, Branch: branch, From: from, To: to, Hash: testHash, Build: []string{attr},
		Key: family.Key{Family: vanilla.Name, Attr: attr, Target: to}}
	c.Title = vanilla.Title(c)
	return c
}
