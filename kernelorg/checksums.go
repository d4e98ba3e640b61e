package kernelorg

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/kupdate/kupdate/fetch"
)

// Hash returns the hash nixpkgs pins for v, as "sha256:<nix32>": for a
// release the flat hash of linux-<v>.tar.xz from the signed sha256sums.asc,
// for an rc the NAR hash of the unpacked snapshot. An error wrapping
// ErrNotYet means kernel.org has not published it: sha256sums.asc has no
// line for v, or git.kernel.org answers 404 for v's snapshot. Only a caller
// that knows releases.json lists v may read that as "try again next cycle".
//
// An rc's hash is computed once and cached, in memory and under
// Options.CacheDir; a caller whose evaluation disagrees with it asks
// Recheck.
func (c *Client) Hash(ctx context.Context, v Version) (string, error) {
	if v.IsZero() {
		return "", errors.New("kernelorg: Hash of the zero Version")
	}
	if v.IsRC() {
		return c.snapshotHash(ctx, v)
	}
	return c.releaseHash(ctx, v)
}

// sumsFile is one folder's sha256sums.asc as last verified.
type sumsFile struct {
	mu      sync.Mutex // one fetch per folder at a time
	fetched bool
	loaded  bool              // the copy on disk was looked at
	cycle   int               // the cycle of the last fetch
	err     error             // that fetch's error, returned for the rest of its cycle
	val     fetch.Validators  // of sums
	sums    map[string]string // file name -> hex sha256, from the signed plaintext only
	dups    map[string]bool   // names listed twice with different hashes
}

func checksumsURL(base string, v Version) string {
	return fmt.Sprintf("%s/pub/linux/kernel/v%d.x/sha256sums.asc", base, v.Major)
}

func (c *Client) releaseHash(ctx context.Context, v Version) (string, error) {
	f, u, err := c.signedSums(ctx, v)
	if err != nil {
		return "", err
	}
	defer f.mu.Unlock()
	return f.hash(v, u)
}

// hash is the Nix hash of v's tarball as the signed file at u lists it
// (f.mu held).
func (f *sumsFile) hash(v Version, u string) (string, error) {
	name := "linux-" + v.String() + ".tar.xz"
	if f.dups[name] {
		return "", fmt.Errorf("linux %s: %s lists %s twice with different hashes: refusing both", v, u, name)
	}
	h, ok := f.sums[name]
	if !ok {
		return "", fmt.Errorf("linux %s: %s is not listed in %s: %w", v, name, u, ErrNotYet)
	}
	nh, err := NixHashFromHex(h)
	if err != nil {
		return "", fmt.Errorf("linux %s: %s, line for %s: %w", v, u, name, err)
	}
	return nh, nil
}

// signedSums is the verified sha256sums.asc of v's folder, fetched (or
// revalidated) once per cycle, locked for the caller, and its URL.
func (c *Client) signedSums(ctx context.Context, v Version) (*sumsFile, string, error) {
	folder := fmt.Sprintf("v%d.x", v.Major)
	u := checksumsURL(c.base, v)
	c.mu.Lock()
	f := c.sums[folder]
	if f == nil {
		f = &sumsFile{}
		c.sums[folder] = f
	}
	cycle := c.cycle
	c.mu.Unlock()

	f.mu.Lock()
	if !f.loaded {
		f.loaded = true
		c.loadSums(bodyCacheName(folder), u, f)
	}
	if !f.fetched || f.cycle != cycle {
		err := c.refreshSums(ctx, u, bodyCacheName(folder), f)
		if err != nil && ctx.Err() != nil {
			// The caller gave up: not kernel.org's fault, so not remembered.
			f.mu.Unlock()
			return nil, "", fmt.Errorf("linux %s: %w", v, err)
		}
		f.fetched, f.cycle, f.err = true, cycle, err
	}
	if f.err != nil {
		f.mu.Unlock()
		return nil, "", fmt.Errorf("linux %s: %w", v, f.err)
	}
	return f, u, nil
}

// NewestSigned is the newest point release of v's series older than v
// that the signed sha256sums.asc lists, with its Nix hash: what a branch
// can move to while v waits for its line (kernel.org signs the file
// minutes to hours after a release). ErrNotYet when there is none.
func (c *Client) NewestSigned(ctx context.Context, v Version) (Version, string, error) {
	if v.IsZero() || v.IsRC() {
		return Version{}, "", fmt.Errorf("linux %s: no signed checksums for a release candidate: %w", v, ErrNotYet)
	}
	f, u, err := c.signedSums(ctx, v)
	if err != nil {
		return Version{}, "", err
	}
	defer f.mu.Unlock()
	var best Version
	for name := range f.sums {
		s, ok := strings.CutPrefix(name, "linux-")
		if !ok {
			continue
		}
		s, ok = strings.CutSuffix(s, ".tar.xz")
		if !ok {
			continue
		}
		w, err := ParseVersion(s)
		if err != nil || w.IsRC() || w.Series() != v.Series() || w.Compare(v) >= 0 || f.dups[name] {
			continue
		}
		if best.IsZero() || w.Compare(best) > 0 {
			best = w
		}
	}
	if best.IsZero() {
		return Version{}, "", fmt.Errorf("linux %s: %s lists no older release of %s: %w", v, u, v.Series(), ErrNotYet)
	}
	h, err := f.hash(best, u)
	return best, h, err
}

// loadSums takes the copy of u kept on disk as f's sums, if its signature
// still verifies against the keyring and pinned fingerprint: the file is
// as untrusted as the network.
func (c *Client) loadSums(name, u string, f *sumsFile) {
	e, ok := c.store.Load(name, u)
	if !ok {
		return
	}
	plain, err := c.verifyClearsigned(u, e.Data)
	if err != nil {
		c.log.Warn("ignoring a cached checksum file that does not verify; fetching in full", "file", c.store.File(name), "error", err)
		return
	}
	f.sums, f.dups = parseSums(plain)
	f.val = e.Validators
}

// refreshSums fetches u conditionally. On a 304 f keeps its sums; on a 200
// the new file replaces them only once its signature is verified, and is
// kept under name for the next process.
func (c *Client) refreshSums(ctx context.Context, u, name string, f *sumsFile) error {
	val := f.val
	if f.sums == nil {
		val = fetch.Validators{}
	}
	var data []byte
	res, err := c.get(ctx, u, val, maxChecksumsBytes, readAll(&data))
	if err != nil {
		return err
	}
	if res.NotModified {
		c.log.Debug("checksums not modified", "url", u)
		return nil
	}
	plain, err := c.verifyClearsigned(u, data)
	if err != nil {
		return err
	}
	f.sums, f.dups = parseSums(plain)
	f.val = res.Validators
	c.store.Save(name, u, fetch.Body{Validators: res.Validators, Data: data})
	c.log.Debug("checksums verified", "url", u, "files", len(f.sums))
	return nil
}

// verifyClearsigned checks that data is a clearsigned message made by the
// pinned key, and returns only the signed plaintext: text around the signed
// block is never looked at.
func (c *Client) verifyClearsigned(u string, data []byte) ([]byte, error) {
	block, _ := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: not a clearsigned message (no valid \"BEGIN PGP SIGNED MESSAGE\" block)", u)
	}
	signer, err := block.VerifySignature(c.keyring, nil)
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return nil, fmt.Errorf("%s: signed by a key that is not in the kernel.org keyring (kernelorg.keyring): refusing it", u)
	case err != nil:
		return nil, fmt.Errorf("%s: bad signature: %w: refusing the file", u, err)
	case signer == nil || signer.PrimaryKey == nil:
		return nil, fmt.Errorf("%s: signature verified without a signer: refusing it", u)
	}
	if fp := strings.ToUpper(hex.EncodeToString(signer.PrimaryKey.Fingerprint)); fp != c.fingerprint {
		return nil, fmt.Errorf("%s: signed by key %s, not by the pinned key %s (kernelorg.fingerprint): refusing it", u, fp, c.fingerprint)
	}
	return block.Plaintext, nil
}

// parseSums reads coreutils sha256sum lines ("<64 hex>  <name>", or
// " *<name>" for binary mode). Other lines are ignored: a name is only ever
// looked up by its exact line. A name listed twice with different hashes
// goes into dups.
func parseSums(plain []byte) (sums map[string]string, dups map[string]bool) {
	sums, dups = map[string]string{}, map[string]bool{}
	for line := range bytes.Lines(plain) {
		l := strings.TrimRight(string(line), "\r\n")
		if len(l) < 67 || l[64] != ' ' || (l[65] != ' ' && l[65] != '*') {
			continue
		}
		h, name := l[:64], l[66:]
		if _, err := hex.DecodeString(h); err != nil || strings.ToLower(h) != h {
			continue
		}
		if old, ok := sums[name]; ok && old != h {
			dups[name] = true
		}
		sums[name] = h
	}
	return sums, dups
}
