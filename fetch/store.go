package fetch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/kupdate/kupdate/atomicfile"
)

// Body is a server's answer as kept: its body and the validators it came
// with.
type Body struct {
	Validators
	Data []byte
}

// Store keeps bodies with their validators on disk, one file per name, so
// that a new process (a `kupdate run` from cron) can make the same
// conditional request as a running service and reuse the body on a 304.
// Nothing in a file is trusted beyond its digest: the caller checks a
// loaded body as it checks a fresh one (parses it, verifies its
// signature) and does not use it when that fails.
//
// A file is one line of JSON (the URL, the validators and the body's
// SHA-256) followed by the body as the server sent it: no encoding to undo
// for a file of megabytes, and readable with a pager.
type Store struct {
	Dir    string       // "" keeps nothing
	Server string       // names the server in log lines: "kernel.org"
	Log    *slog.Logger // nil: discard
}

type storedHeader struct {
	URL          string `json:"url"` // a copy of another URL (the configured URL changed) is not used
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	SHA256       string `json:"sha256"` // hex digest of the body, to tell a damaged file
}

// File is where the body named name is kept; "" without a Dir.
func (s Store) File(name string) string {
	if s.Dir == "" {
		return ""
	}
	return filepath.Join(s.Dir, name)
}

// Load returns the body of url kept under name, or false when there is
// none that can be used. A file that cannot be read, is damaged, is of
// another URL or has no validators is ignored (logged, but for a missing
// file): it only costs the next request its body.
func (s Store) Load(name, url string) (Body, bool) {
	file := s.File(name)
	if file == "" {
		return Body{}, false
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return Body{}, false
	}
	if err != nil {
		s.log().Warn("ignoring an unreadable "+s.of()+"cache file; fetching in full", "file", file, "error", err)
		return Body{}, false
	}
	h, body, err := unmarshalStored(data)
	if err != nil {
		s.log().Warn("ignoring a corrupt "+s.of()+"cache file; fetching in full", "file", file, "error", err)
		return Body{}, false
	}
	if sum := sha256.Sum256(body); h.SHA256 != hex.EncodeToString(sum[:]) {
		s.log().Warn("ignoring a corrupt "+s.of()+"cache file (its body does not match its digest); fetching in full", "file", file)
		return Body{}, false
	}
	if h.URL != url {
		s.log().Info("ignoring a "+s.of()+"cache file of another URL", "file", file, "cached", h.URL, "url", url)
		return Body{}, false
	}
	b := Body{Validators{ETag: h.ETag, LastModified: h.LastModified}, body}
	return b, !b.IsZero()
}

// Save keeps b as the body of url under name, atomically. A body without
// validators is not kept (no request could be conditional on it). Failing
// to keep it is logged: the body is good, only the next process pays.
func (s Store) Save(name, url string, b Body) {
	file := s.File(name)
	if file == "" || b.IsZero() {
		return
	}
	sum := sha256.Sum256(b.Data)
	h, err := json.Marshal(storedHeader{URL: url, ETag: b.ETag, LastModified: b.LastModified, SHA256: hex.EncodeToString(sum[:])})
	if err == nil {
		err = atomicfile.Write(file, append(append(h, '\n'), b.Data...), 0o644)
	}
	if err != nil {
		s.log().Warn("could not cache a "+s.of()+"file for the next process", "file", file, "url", url, "error", err)
	}
}

// Remove deletes what is kept under name: a body the caller found bad.
func (s Store) Remove(name string) {
	if file := s.File(name); file != "" {
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log().Warn("could not remove a "+s.of()+"cache file", "file", file, "error", err)
		}
	}
}

func unmarshalStored(data []byte) (storedHeader, []byte, error) {
	var h storedHeader
	line, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return h, nil, errors.New("no header line")
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return h, nil, fmt.Errorf("header line: %w", err)
	}
	return h, body, nil
}

// of is "kernel.org " for log lines, or "" for an unnamed server.
func (s Store) of() string {
	if s.Server == "" {
		return ""
	}
	return s.Server + " "
}

func (s Store) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}
