package kernelorg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/kupdate/kupdate/atomicfile"
	"github.com/kupdate/kupdate/fetch"
)

// rcRecord is what the cache keeps of an rc snapshot's NAR hash
// (<CacheDir>/rc-hashes/linux-<rc>.nar-sha256, one JSON object): the hash
// and what it was computed from. A hash is expensive (the snapshot is a few
// hundred MB) and cannot be checked without computing it again, so it is
// trusted as long as nothing says otherwise; when Nix disagrees with it,
// Recheck computes it again from a fresh download and replaces the record.
// The validators let a later recheck ask git.kernel.org whether the
// snapshot changed instead of downloading it again.
type rcRecord struct {
	Version      string    `json:"version"`
	URL          string    `json:"url"` // a record of another URL (kernelorg.git_url changed) is not used
	Hash         string    `json:"hash"`
	Size         int64     `json:"size"` // bytes of the .tar.gz the hash was computed from
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Computed     time.Time `json:"computed"`
	// Rechecked says the hash was computed from a download made because Nix
	// disagreed with the cached one. If Nix disagrees again, that download
	// already answered the question unless the snapshot changed since: the
	// next recheck is a conditional request, and a 304 confirms the hash.
	Rechecked bool `json:"rechecked,omitempty"`
}

func (r rcRecord) validators() fetch.Validators {
	return fetch.Validators{ETag: r.ETag, LastModified: r.LastModified}
}

// rcCacheFile is where the NAR hash of the rc snapshot of v is kept, ""
// without Options.CacheDir.
func (c *Client) rcCacheFile(v Version) string {
	if c.cacheDir == "" {
		return ""
	}
	return filepath.Join(c.cacheDir, "rc-hashes", "linux-"+v.String()+".nar-sha256")
}

// loadRC returns the record of v kept on disk, if there is one that can be
// used. A file that cannot be read, is damaged, is of another URL or is in
// the format of kupdate before records (a bare hash, with nothing saying
// what it was computed from) is logged and ignored: the snapshot is hashed
// again, once, and the file rewritten.
func (c *Client) loadRC(v Version) (rcRecord, bool) {
	file := c.rcCacheFile(v)
	if file == "" {
		return rcRecord{}, false
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return rcRecord{}, false
	}
	if err != nil {
		c.log.Warn("ignoring an unreadable rc hash cache file; hashing the snapshot again", "file", file, "error", err)
		return rcRecord{}, false
	}
	if validNixHash(string(bytes.TrimSpace(data))) {
		c.log.Info("the rc hash cache file is a bare hash (an older kupdate's) that does not say what it was computed from; hashing the snapshot again", "file", file)
		return rcRecord{}, false
	}
	var r rcRecord
	if err := json.Unmarshal(data, &r); err != nil || !validNixHash(r.Hash) || r.Version != v.String() {
		c.log.Warn("ignoring a corrupt rc hash cache file; hashing the snapshot again", "file", file, "error", recordErr(err, r, v))
		return rcRecord{}, false
	}
	if u := c.SnapshotURL(v); r.URL != u {
		c.log.Info("ignoring an rc hash cached from another URL; hashing the snapshot again", "file", file, "cached", r.URL, "url", u)
		return rcRecord{}, false
	}
	return r, true
}

// recordErr says what is wrong with a record that does not load.
func recordErr(err error, r rcRecord, v Version) error {
	switch {
	case err != nil:
		return err
	case !validNixHash(r.Hash):
		return fmt.Errorf("hash %q is not sha256:<nix32>", r.Hash)
	}
	return fmt.Errorf("the record is of version %q, not %s", r.Version, v)
}

// storeRC keeps r on disk, atomically. Failing to is logged: the hash is
// good, only the next process pays for it.
func (c *Client) storeRC(v Version, r rcRecord) {
	file := c.rcCacheFile(v)
	if file == "" {
		return
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		err = atomicfile.Write(file, append(data, '\n'), 0o644)
	}
	if err != nil {
		c.log.Warn("could not cache the rc hash", "file", file, "error", err)
	}
}

// Recheck is what Client.Recheck found.
type Recheck struct {
	Hash    string // the hash of the snapshot now
	Changed bool   // Hash is not the hash the caller used: use Hash instead
	// NotModified says the hash was confirmed by a 304 to a conditional
	// request: it was rechecked against a fresh download before, and the
	// snapshot has not changed since.
	NotModified bool
	File        string // the cache file now holding Hash ("" without a cache directory)
}

// Recheck computes the NAR hash of the rc snapshot of v again, bypassing
// the caches, for a caller that used the hash used and Nix disagreed with
// it (a fixed-output mismatch, or any evaluation failure of the kernel that
// pins it). The new record replaces the cached one, in memory and on disk,
// so one recheck heals a wrong cached hash for every later cycle.
//
// The download is unconditional, except when the cached record came from an
// earlier recheck and still holds used: that download already gave this
// hash, so a conditional request is enough, and a 304 confirms it without a
// body. A differing hash is logged as a warning naming the cache file.
func (c *Client) Recheck(ctx context.Context, v Version, used string) (Recheck, error) {
	if !v.IsRC() {
		return Recheck{}, fmt.Errorf("kernelorg: Recheck of %s: only an rc's hash is computed and cached; a release's is kernel.org's signed checksum", v)
	}
	res := Recheck{File: c.rcCacheFile(v)}
	var val fetch.Validators
	if r, ok := c.loadRC(v); ok && r.Rechecked && r.Hash == used {
		val = r.validators()
	}
	fresh, err := c.downloadRC(ctx, v, val)
	if err != nil {
		return res, err
	}
	if fresh.Hash == "" { // 304
		res.Hash, res.NotModified = used, true
		c.log.Info("Nix disagreed with the rc hash, which an earlier fresh download gave, and the snapshot has not changed since (304): the evaluation failed for another reason",
			"version", v.String(), "hash", used, "file", res.File)
		return res, nil
	}
	fresh.Rechecked = true
	c.storeRC(v, fresh)
	c.mu.Lock()
	c.rcHashes[v] = fresh.Hash
	c.mu.Unlock()
	res.Hash, res.Changed = fresh.Hash, fresh.Hash != used
	if res.Changed {
		c.log.Warn("the rc hash was wrong: Nix disagreed with it, and a fresh download of the snapshot hashes to another; the cache file is rewritten",
			"version", v.String(), "file", res.File, "wrong", used, "hash", fresh.Hash)
	} else {
		c.log.Info("Nix disagreed with the rc hash, but a fresh download of the snapshot hashes to the same: the evaluation failed for another reason",
			"version", v.String(), "hash", used, "file", res.File)
	}
	return res, nil
}
