package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// storageError is an error reading or writing the managed clone itself, as
// opposed to one talking to the remote: the clone is then damaged and is
// replaced, while a remote that is down leaves it as it is.
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// local marks err, if any, as the managed clone's own.
func local(err error) error {
	if err == nil {
		return nil
	}
	return &storageError{err}
}

// isDamage tells whether err means the managed clone cannot be read or
// written. A full disk is not damage: a new clone would not fit either.
func isDamage(err error) bool {
	var se *storageError
	return errors.As(err, &se) && !errors.Is(err, syscall.ENOSPC)
}

// checkFiles finds damage visible in the managed clone's files without
// opening it: what OpenManaged would otherwise trip over on every cycle,
// each check a few bytes read.
func checkFiles(dir string) error {
	head, err := os.ReadFile(filepath.Join(dir, "HEAD"))
	if err != nil {
		return err
	}
	if h := strings.TrimSpace(string(head)); !strings.HasPrefix(h, "ref: refs/") && !plumbing.IsHash(h) {
		return fmt.Errorf("%s is neither a ref nor a commit hash", filepath.Join(dir, "HEAD"))
	}
	for _, d := range []string{"refs/heads", "objects/pack"} {
		p := filepath.Join(dir, filepath.FromSlash(d))
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", p)
		}
	}
	return checkPacks(filepath.Join(dir, "objects", "pack"))
}

// checkPacks checks that every pack has its index and every index its pack,
// and that each pack ends in the checksum its index records: a pack cut
// short or overwritten does not.
func checkPacks(packDir string) error {
	entries, err := os.ReadDir(packDir)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
	}
	for _, e := range entries {
		name := e.Name()
		stem, ext := strings.TrimSuffix(name, filepath.Ext(name)), filepath.Ext(name)
		if !strings.HasPrefix(name, "pack-") || (ext != ".pack" && ext != ".idx") {
			continue
		}
		other := stem + ".idx"
		if ext == ".idx" {
			other = stem + ".pack"
		}
		if !have[other] {
			return fmt.Errorf("%s has no %s", filepath.Join(packDir, name), other)
		}
		if ext == ".pack" {
			if err := checkPackEnd(filepath.Join(packDir, stem)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checksumSize is the length of a SHA-1 pack or index checksum.
const checksumSize = 20

// checkPackEnd compares the checksum at the end of stem.pack with the one
// stem.idx records for it (the idx ends in the pack's checksum, then its
// own).
func checkPackEnd(stem string) error {
	idx, err := tail(stem+".idx", 2*checksumSize)
	if err != nil {
		return err
	}
	pack, err := tail(stem+".pack", checksumSize)
	if err != nil {
		return err
	}
	if !bytes.Equal(idx[:checksumSize], pack) {
		return fmt.Errorf("%s.pack does not end in the checksum its index records: it was cut short or overwritten", stem)
	}
	return nil
}

// tail is the last n bytes of the file at path.
func tail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < n {
		return nil, fmt.Errorf("%s is %d bytes long, too short to be whole", path, fi.Size())
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, fi.Size()-n); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// checkRefs finds damage in what the opened clone points at: every ref and
// every shallow boundary must be a commit it has, and the base's commit must
// have its root tree and, unless it is a shallow boundary, its parents.
//
// (Reading a commit makes go-git map every offset of its pack to a hash, 20
// ms for a nixpkgs-sized pack; the cycle's first read of the base's files
// does it anyway. HasEncodedObject would not, but with ExclusiveAccess it
// reports every packed object missing.)
func (r *Repo) checkRefs(base string) error {
	shallow, err := r.checkShallow()
	if err != nil {
		return err
	}
	refs, err := r.storage.IterReferences() // HEAD included
	if err != nil {
		return fmt.Errorf("listing refs: %w", err)
	}
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.HashReference && !r.hasCommit(ref.Hash()) {
			return fmt.Errorf("%s points at %s, which is not a commit in the clone", ref.Name(), ref.Hash())
		}
		return nil
	})
	if err != nil {
		return err
	}
	ref, err := r.storage.Reference(plumbing.NewBranchReferenceName(base))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil // another base than last time: fetched afresh
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", plumbing.NewBranchReferenceName(base), err)
	}
	c, err := object.GetCommit(r.storage, ref.Hash())
	if err != nil {
		return fmt.Errorf("%s: commit %s: %w", ref.Name(), ref.Hash(), err)
	}
	if _, err := c.Tree(); err != nil {
		return fmt.Errorf("%s: the tree of %s: %w", ref.Name(), ref.Hash(), err)
	}
	if shallow[c.Hash] {
		return nil
	}
	for _, p := range c.ParentHashes {
		if !r.hasCommit(p) {
			return fmt.Errorf("%s: %s lacks its parent %s and is not listed in the shallow file", ref.Name(), c.Hash, p)
		}
	}
	return nil
}

// checkShallow reads the shallow file, which go-git parses leniently (a line
// that is not a hash reads as the zero hash), and checks that every commit
// it lists is here.
func (r *Repo) checkShallow() (map[plumbing.Hash]bool, error) {
	path := filepath.Join(r.dir, "shallow")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	shallow := map[plumbing.Hash]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if !plumbing.IsHash(line) {
			return nil, fmt.Errorf("%s line %d is not a commit hash", path, i+1)
		}
		h := plumbing.NewHash(line)
		if !r.hasCommit(h) {
			return nil, fmt.Errorf("%s line %d: %s is not a commit in the clone", path, i+1, h)
		}
		shallow[h] = true
	}
	return shallow, nil
}

// Names next to the managed clone, all kupdate's: a clone being made, the
// clone being replaced, a damaged clone kept for a look.
const (
	newSuffix    = ".new-"
	oldSuffix    = ".old"
	brokenSuffix = ".broken-"
)

// replaceDamaged clones afresh in place of the damaged managed clone at dir,
// which is moved to dir.broken-<time> rather than deleted, so that what went
// wrong can still be looked at; older such copies are deleted, so the cache
// does not grow. The new clone is made before the damaged one is moved: when
// the remote cannot be reached, the damaged clone stays where it was and the
// next cycle tries again.
func replaceDamaged(ctx context.Context, dir string, damage error, upstream Remote, base string, opts Options) (*Repo, error) {
	aside := dir + brokenSuffix + opts.Now().UTC().Format("20060102T150405Z")
	r, err := cloneManaged(ctx, dir, upstream, base, opts, aside)
	if err != nil {
		return nil, fmt.Errorf("managed clone %s is damaged (%v); cloning it afresh: %w", dir, damage, err)
	}
	opts.Logger.Warn("managed clone damaged; moved it aside and cloned afresh", "dir", dir, "error", damage, "moved_to", aside)
	return r, nil
}

// install moves the new clone tmp to dir. What was at dir is moved to keep,
// after deleting older damaged copies, or, without keep, deleted.
func install(tmp, dir, keep string, log *slog.Logger) error {
	if _, err := os.Stat(dir); err == nil {
		aside := keep
		if keep == "" {
			aside = dir + oldSuffix
			os.RemoveAll(aside)
			defer os.RemoveAll(aside)
		} else {
			removeOurs(dir, brokenSuffix, log)
		}
		if err := os.Rename(dir, aside); err != nil {
			return fmt.Errorf("moving the old clone aside: %w", err)
		}
	}
	return os.Rename(tmp, dir)
}

// removeLeftovers deletes what an interrupted process left behind: a clone
// it was making or replacing next to dir, packs it was writing inside dir.
func removeLeftovers(dir string, log *slog.Logger) {
	removeOurs(dir, newSuffix, log)
	removeOurs(dir, oldSuffix, log)
	packDir := filepath.Join(dir, "objects", "pack")
	tmps, _ := filepath.Glob(filepath.Join(packDir, "tmp_*"))
	for _, p := range tmps {
		if err := os.Remove(p); err == nil {
			log.Info("removed a pack an interrupted fetch left", "path", p)
		}
	}
}

// removeOurs deletes the directories next to dir whose name is dir's and
// then starts with suffix, if they hold kupdate's marker: a directory
// kupdate did not make is never touched.
func removeOurs(dir, suffix string, log *slog.Logger) {
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		return
	}
	prefix := filepath.Base(dir) + suffix
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		p := filepath.Join(filepath.Dir(dir), e.Name())
		if _, err := os.Stat(filepath.Join(p, managedMarker)); err != nil {
			continue
		}
		if err := os.RemoveAll(p); err == nil {
			log.Info("removed a copy of the managed clone", "path", p)
		}
	}
}
