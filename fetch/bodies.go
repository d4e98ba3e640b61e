package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Bodies keeps, per URL, the last body a server sent with validators, so
// that the next request for the URL is conditional and a 304 is answered
// with the kept body. In memory, and with Disk.Dir on disk too, for the
// next process. Safe for concurrent use; the zero value keeps bodies in
// memory only.
//
// A kept body is trusted no more than a fresh one: the caller reads it as
// it reads a fresh one, and calls Forget when that fails, so the next
// request is unconditional and a bad copy heals by itself.
type Bodies struct {
	Disk Store
	// Name is the file a URL's body is kept in under Disk.Dir; nil: a
	// digest of the URL (the file's first line names the URL).
	Name func(url string) string

	mu     sync.Mutex
	mem    map[string]Body
	looked map[string]bool // the disk was looked at for the URL
}

// GetBody GETs r.URL, conditionally on what kept holds for it (nil keeps
// nothing: unconditionally), and returns the whole body, up to r.Limit:
// the new one after a 200 (kept when it came with validators), the kept
// one after a 304. GetBody sets r.Validators and r.Consume.
func (c *Client) GetBody(ctx context.Context, r Request, kept *Bodies) ([]byte, error) {
	var old Body
	if kept != nil {
		old = kept.get(r.URL)
	}
	var data []byte
	r.Validators = old.Validators
	r.Consume = func(body io.Reader) error {
		var err error
		data, err = io.ReadAll(body)
		return err
	}
	res, err := c.Get(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.NotModified {
		return bytes.Clone(old.Data), nil
	}
	if kept != nil && !res.Validators.IsZero() {
		kept.put(r.URL, Body{res.Validators, bytes.Clone(data)})
	}
	return data, nil
}

// GetJSON is GetBody decoded as JSON into v. A body that does not decode
// is forgotten, so that the next cycle asks for it in full instead of
// being answered 304 with the same bad body; the error names what (e.g.
// "the release list").
func (c *Client) GetJSON(ctx context.Context, r Request, kept *Bodies, what string, v any) error {
	body, err := c.GetBody(ctx, r, kept)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		if kept != nil {
			kept.Forget(r.URL)
		}
		return fmt.Errorf("GET %s: decoding %s: %w", r.URL, what, err)
	}
	return nil
}

// Forget drops what is kept of url: its body turned out bad.
func (k *Bodies) Forget(url string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.mem, url)
	k.Disk.Remove(k.name(url))
}

func (k *Bodies) get(url string) Body {
	k.mu.Lock()
	defer k.mu.Unlock()
	if b, ok := k.mem[url]; ok {
		return b
	}
	if k.looked[url] {
		return Body{}
	}
	if k.looked == nil {
		k.looked = map[string]bool{}
	}
	k.looked[url] = true
	b, ok := k.Disk.Load(k.name(url), url)
	if !ok {
		return Body{}
	}
	k.setMem(url, b)
	return b
}

func (k *Bodies) put(url string, b Body) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setMem(url, b)
	k.Disk.Save(k.name(url), url, b)
}

func (k *Bodies) setMem(url string, b Body) {
	if k.mem == nil {
		k.mem = map[string]Body{}
	}
	k.mem[url] = b
}

func (k *Bodies) name(url string) string {
	if k.Name != nil {
		return k.Name(url)
	}
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:12]) + ".entry"
}
