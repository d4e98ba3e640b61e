// Package srcarchive computes the hash nixpkgs records for a source fetched
// with fetchFromGitHub or fetchFromGitLab: the NAR hash of the tag's tarball
// unpacked as fetchzip unpacks it (its one top-level directory stripped).
// kupdate computes it from the archive bytes, streamed from the forge, so
// a hash it writes is one Nix's own fetcher reproduces.
package srcarchive

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nix-community/go-nix/pkg/nixbase32"

	"github.com/kupdate/kupdate/fetch"
	"github.com/kupdate/kupdate/kernelorg"
)

// Hasher hashes source archives, unpacking each in a scratch directory.
type Hasher struct {
	// TempDir holds the scratch directories; "" means os.TempDir().
	TempDir string
	// MaxUnpacked bounds one unpacked tree, in bytes (file contents plus 512
	// per entry); 0 means DefaultMaxUnpacked. LimitName is the setting that
	// sets it, named in errors.
	MaxUnpacked int64
	LimitName   string
}

// DefaultMaxUnpacked is 8 GiB: a kernel tree unpacks to some 1.5 GiB.
const DefaultMaxUnpacked = 8 << 30

// Hash unpacks the gzipped tar r and returns the SHA-256 of the NAR
// serialisation of its top-level directory. It is called again from the
// start on a retried download (see fetch.Request.Consume).
func (h Hasher) Hash(ctx context.Context, r io.Reader) ([]byte, error) {
	if h.TempDir != "" {
		if err := os.MkdirAll(h.TempDir, 0o755); err != nil {
			return nil, fmt.Errorf("a directory to unpack the archive in: %w", err)
		}
	}
	dir, err := os.MkdirTemp(h.TempDir, "srcarchive-*")
	if err != nil {
		return nil, fmt.Errorf("a directory to unpack the archive in: %w", err)
	}
	defer os.RemoveAll(dir)
	max, name := h.MaxUnpacked, h.LimitName
	if max <= 0 {
		max = DefaultMaxUnpacked
	}
	if name == "" {
		name = "srcarchive.DefaultMaxUnpacked"
	}
	top, err := kernelorg.UnpackTarGz(r, dir, max, name)
	if err != nil {
		return nil, err
	}
	sum, err := kernelorg.NARSHA256(ctx, filepath.Join(dir, top))
	if err != nil {
		return nil, fmt.Errorf("hashing the unpacked archive: %w", err)
	}
	return sum, nil
}

// SRI writes a sha256 digest as nixpkgs' hash attributes take it:
// "sha256-<base64>".
func SRI(sum []byte) string { return "sha256-" + base64.StdEncoding.EncodeToString(sum) }

// Nix32 writes a sha256 digest in Nix's base-32, as older sha256
// attributes hold it.
func Nix32(sum []byte) string { return nixbase32.EncodeToString(sum) }

// Parse reads a sha256 as nixpkgs writes one: SRI ("sha256-<base64>"),
// Nix's base-32 (52 characters, optionally after "sha256:") or hex (64
// digits).
func Parse(s string) ([]byte, error) {
	if b64, ok := strings.CutPrefix(s, "sha256-"); ok {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("hash %q: want sha256- and 44 base64 characters", s)
		}
		return b, nil
	}
	s = strings.TrimPrefix(s, "sha256:")
	switch len(s) {
	case nixbase32.EncodedLen(32):
		b, err := nixbase32.DecodeString(s)
		if err == nil {
			return b, nil
		}
	case 64:
		b, err := hex.DecodeString(s)
		if err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("hash %q: want an SRI sha256 (sha256-…), 52 nix32 or 64 hex characters", s)
}

// Sums remembers the hash of each archive a process has hashed, by URL: a
// tag's archive does not change, and a kernel tree downloaded again every
// cycle would cost hundreds of MB.
type Sums struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Fetch is the hash of the archive at req.URL: the remembered one, or the
// one h computes as c downloads it (req.Limit 0: 1 GiB; Fetch sets
// req.Consume). fresh says it was computed now.
func (s *Sums) Fetch(ctx context.Context, c *fetch.Client, h Hasher, req fetch.Request) (sum []byte, fresh bool, err error) {
	s.mu.Lock()
	sum, ok := s.m[req.URL]
	s.mu.Unlock()
	if ok {
		return sum, false, nil
	}
	if req.Limit <= 0 {
		req.Limit = 1 << 30
	}
	req.Consume = func(body io.Reader) error {
		var err error
		sum, err = h.Hash(ctx, body)
		return err
	}
	if _, err := c.Get(ctx, req); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[req.URL] = sum
	s.mu.Unlock()
	return sum, true, nil
}
