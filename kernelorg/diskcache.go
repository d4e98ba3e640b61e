package kernelorg

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A cached copy of a small kernel.org file, kept on disk so that a new
// process (a `kupdate run` from cron) can make the same conditional request
// as a running service and reuse the body on a 304. Nothing in it is
// trusted: releases.json is checked against its digest and parsed again,
// a sha256sums.asc has its signature verified again, and a copy that fails
// either is ignored (the request is then unconditional).
//
// On disk it is one line of JSON (cachedHeader) followed by the body as
// kernel.org sent it: no encoding to undo for a file of megabytes, and
// readable with a pager.
type cachedBody struct {
	cachedHeader
	Body []byte
}

type cachedHeader struct {
	URL          string `json:"url"` // a copy of another URL (kernelorg.url changed) is not used
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	SHA256       string `json:"sha256"` // hex digest of the body, to tell a damaged file
}

func (e *cachedBody) marshal() ([]byte, error) {
	h, err := json.Marshal(e.cachedHeader)
	if err != nil {
		return nil, err
	}
	return append(append(h, '\n'), e.Body...), nil
}

func (e *cachedBody) unmarshal(data []byte) error {
	h, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return errors.New("no header line")
	}
	if err := json.Unmarshal(h, &e.cachedHeader); err != nil {
		return fmt.Errorf("header line: %w", err)
	}
	e.Body = body
	return nil
}

// cacheDirName holds the cached bodies under Options.CacheDir.
const cacheDirName = "http-cache"

// bodyCacheFile is where the copy of a file is kept: "releases.json" or a
// checksum folder ("v6.x").
func (c *Client) bodyCacheFile(name string) string {
	if name != "releases.json" {
		name += "-sha256sums.asc"
	}
	return filepath.Join(c.cacheDir, cacheDirName, name+".entry")
}

// loadBody returns the copy of u kept in file, or nil when there is none
// that can be used. A file that cannot be read or is damaged is logged and
// ignored: it only costs the next request its body.
func (c *Client) loadBody(file, u string) *cachedBody {
	if c.cacheDir == "" {
		return nil
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		c.log.Warn("ignoring an unreadable kernel.org cache file; fetching in full", "file", file, "err", err)
		return nil
	}
	var e cachedBody
	if err := e.unmarshal(data); err != nil {
		c.log.Warn("ignoring a corrupt kernel.org cache file; fetching in full", "file", file, "err", err)
		return nil
	}
	if sum := sha256.Sum256(e.Body); e.SHA256 != hex.EncodeToString(sum[:]) {
		c.log.Warn("ignoring a corrupt kernel.org cache file (its body does not match its digest); fetching in full", "file", file)
		return nil
	}
	if e.URL != u {
		c.log.Info("ignoring a kernel.org cache file of another URL", "file", file, "cached", e.URL, "url", u)
		return nil
	}
	if e.ETag == "" && e.LastModified == "" {
		return nil
	}
	return &e
}

// storeBody keeps body and its validators in file, atomically. Failing to
// is logged: the body is good, only the next process pays for it.
func (c *Client) storeBody(file, u string, val validators, body []byte) {
	if c.cacheDir == "" || val.empty() {
		return
	}
	sum := sha256.Sum256(body)
	e := cachedBody{cachedHeader{URL: u, ETag: val.etag, LastModified: val.lastModified, SHA256: hex.EncodeToString(sum[:])}, body}
	data, err := e.marshal()
	if err == nil {
		err = writeFileAtomic(file, data)
	}
	if err != nil {
		c.log.Warn("could not cache a kernel.org file for the next process", "file", file, "url", u, "err", err)
	}
}
